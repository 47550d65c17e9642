import { existsSync, statSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { configPaths, deployDir, loadDeployConfig, readText, repoRoot, throughMappings, type Mapping } from './support.js';

/**
 * deploy/docker-compose.yml, read with the yaml package (no Docker engine runs here): MongoDB as
 * a single-node replica set that jitsync waits for, health checks on both, and a jitsync config
 * that loads with the project's loader and names only paths its mounts provide.
 */

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[]; interval?: string; timeout?: string; retries?: number; start_period?: string };
  ports?: string[];
}

const compose = parse(readText(join(deployDir, 'docker-compose.yml'))) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
};
const { mongo, jitsync } = compose.services as { mongo: Service; jitsync: Service };

/** `source:target[:ro]`: a named volume (no slash in the source) or a bind mount relative to deploy/. */
function mounts(service: Service): { named: string[]; binds: Mapping[] } {
  const named: string[] = [];
  const binds: Mapping[] = [];
  for (const entry of service.volumes ?? []) {
    const [source, target] = entry.split(':') as [string, string];
    if (/^[\w.-]+$/.test(source)) named.push(source);
    else binds.push({ source: resolve(deployDir, source), target });
  }
  return { named, binds };
}

describe('deploy/docker-compose.yml', () => {
  it('has exactly the mongo and jitsync services, and declares every named volume they use', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['jitsync', 'mongo']);
    const used = [...mounts(mongo).named, ...mounts(jitsync).named];
    expect(used.length).toBeGreaterThan(0);
    expect(Object.keys(compose.volumes ?? {}).sort()).toEqual([...new Set(used)].sort());
  });

  it('runs MongoDB 7 as replica set rs0 with its data and config in volumes', () => {
    expect(mongo.image).toBe('mongo:7');
    expect(mongo.command).toEqual(expect.arrayContaining(['mongod', '--replSet', 'rs0', '--bind_ip_all']));
    const targets = (mongo.volumes ?? []).map((v) => v.split(':')[1]);
    expect(targets).toEqual(expect.arrayContaining(['/data/db', '/data/configdb']));
  });

  it("initiates the replica set in mongo's health check, healthy only once it is the writable primary", () => {
    const check = mongo.healthcheck;
    expect(check?.test[0]).toBe('CMD');
    expect(check?.test[1]).toBe('mongosh');
    const script = check!.test.at(-1)!;
    expect(script).toContain("rs.initiate({ _id: 'rs0', members: [{ _id: 0, host: 'mongo:27017' }] })");
    expect(script).toContain('quit(db.hello().isWritablePrimary ? 0 : 1)');
    // The script must at least be JavaScript (mongosh evaluates it).
    expect(() => new Function('rs', 'db', 'quit', script)).not.toThrow();
    expect(check).toMatchObject({ interval: expect.any(String), timeout: expect.any(String), retries: expect.any(Number) });
  });

  it('starts jitsync from the repository Dockerfile once mongo is healthy, with its own health check', () => {
    expect(jitsync.build).toEqual({ context: '..', dockerfile: 'Dockerfile' });
    expect(existsSync(resolve(deployDir, jitsync.build!.context, jitsync.build!.dockerfile))).toBe(true);
    expect(jitsync.depends_on).toEqual({ mongo: { condition: 'service_healthy' } });
    expect(jitsync.healthcheck?.test).toEqual(['CMD', 'node', '/opt/jitsync/deploy/healthcheck.mjs', 'http://127.0.0.1:8787/readyz']);
    expect(jitsync.ports).toEqual(['127.0.0.1:8787:8787']);
  });

  it('requires both tokens from the environment rather than shipping any', () => {
    expect(jitsync.environment).toEqual({
      JITSYNC_HOOK_TOKEN: expect.stringMatching(/^\$\{JITSYNC_HOOK_TOKEN:\?.+\}$/),
      JITSYNC_ADMIN_TOKEN: expect.stringMatching(/^\$\{JITSYNC_ADMIN_TOKEN:\?.+\}$/),
    });
  });

  it('mounts a jitsync config that loads, points at the replica set, and names only absolute paths inside its mounts', () => {
    expect(jitsync.command?.slice(0, 2)).toEqual(['serve', '--config']);
    const { binds } = mounts(jitsync);
    for (const bind of binds) expect(existsSync(bind.source), bind.source).toBe(true);
    const configFile = throughMappings(jitsync.command![2]!, binds);
    expect(configFile?.hostPath).toBe(join(deployDir, 'jitsync.compose.yaml'));

    const config = loadDeployConfig(configFile!.hostPath);
    expect(config.store).toEqual({ kind: 'mongodb', url: 'mongodb://mongo:27017/jitsync?replicaSet=rs0' });
    expect(config.server.listen).toEqual({ host: '0.0.0.0', port: 8787 });

    const paths = configPaths(config);
    expect(paths.length).toBeGreaterThan(0);
    for (const { key, path } of paths) {
      expect(posix.isAbsolute(path), key).toBe(true);
      const held = throughMappings(path, binds);
      expect(held, `${key}: ${path} is inside a mount`).not.toBeNull();
      expect(statSync(held!.hostPath).isFile(), `${key}: ${held!.hostPath}`).toBe(true);
    }
    // The demo export comes from the repository's examples.
    expect(throughMappings(paths[0]!.path, binds)?.hostPath).toBe(join(repoRoot, 'examples', 'directory.json'));
  });
});
