import { existsSync, statSync } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import { all, copyArgs, execForm, parseDockerfile, type Stage } from './dockerfile.js';
import { configPaths, loadDeployConfig, readText, repoRoot, throughMappings, type Mapping } from './support.js';

/**
 * The Dockerfile, read stage by stage (no Docker engine runs here): the base images, how it
 * installs, the user it runs as, its health check, and the config it serves by default, which
 * must load with the project's own loader and name only paths the image holds.
 */

const text = readText(join(repoRoot, 'Dockerfile'));
const stages = parseDockerfile(text);
const final = stages.at(-1)!;

function workdir(stage: Stage): string {
  const dirs = all(stage, 'WORKDIR');
  return dirs.at(-1) ?? '/';
}

/** What the final stage copies from the repository (not from another stage), source → path in the image. */
function copiedFromRepo(stage: Stage): Mapping[] {
  const mappings: Mapping[] = [];
  for (const args of all(stage, 'COPY')) {
    const copy = copyArgs(args);
    if (copy.from !== null) continue;
    const dest = posix.isAbsolute(copy.dest) ? copy.dest : posix.join(workdir(stage), copy.dest);
    for (const source of copy.sources) {
      const target = copy.sources.length > 1 || copy.dest.endsWith('/') ? posix.join(dest, basename(source)) : dest;
      mappings.push({ source: join(repoRoot, source), target });
    }
  }
  return mappings;
}

describe('Dockerfile', () => {
  it('builds and runs on the official Node 24 LTS slim image, in two stages', () => {
    expect(stages.map((s) => [s.image, s.name])).toEqual([
      ['node:24-bookworm-slim', 'build'],
      ['node:24-bookworm-slim', null],
    ]);
  });

  it('installs with npm ci from the committed lockfile, never npm install', () => {
    const build = stages[0]!;
    const runs = build.instructions.filter((i) => i.op === 'RUN' || i.op === 'COPY').map((i) => `${i.op} ${i.args}`);
    const lockfile = runs.findIndex((r) => r.startsWith('COPY') && r.includes('package-lock.json'));
    const ci = runs.findIndex((r) => /^RUN npm ci\b/.test(r));
    expect(lockfile).toBeGreaterThanOrEqual(0);
    expect(ci).toBeGreaterThan(lockfile);
    for (const stage of stages) for (const run of all(stage, 'RUN')) expect(run).not.toMatch(/\bnpm (install|i)\b/);
    // The wrong claim about the registry's optional packages is gone with the workaround.
    expect(text).not.toMatch(/only linux-x64|optional native packages/);
  });

  it('copies only files the repository has', () => {
    for (const mapping of copiedFromRepo(final)) expect(existsSync(mapping.source), mapping.source).toBe(true);
    for (const args of all(stages[0]!, 'COPY')) {
      for (const source of copyArgs(args).sources) expect(existsSync(join(repoRoot, source)), source).toBe(true);
    }
  });

  it('runs as a non-root user that owns the /data volume', () => {
    const user = all(final, 'USER').at(-1);
    expect(user).toBeDefined();
    expect(['root', '0']).not.toContain(user!.split(':')[0]);
    expect(all(final, 'VOLUME').map((v) => execForm(v) ?? v.split(/\s+/)).flat()).toContain('/data');
    expect(all(final, 'RUN').some((r) => new RegExp(`chown ${user}(:\\S+)? /data\\b`).test(r))).toBe(true);
  });

  it('checks health on /readyz through node, with a script the image holds (no curl)', () => {
    const [healthcheck, ...more] = all(final, 'HEALTHCHECK');
    expect(more).toEqual([]);
    const command = /^(?:--\S+\s+)*CMD\s+(\[.*\])$/.exec(healthcheck ?? '')?.[1];
    expect(command, healthcheck).toBeDefined();
    const argv = execForm(command!)!;
    expect(argv[0]).toBe('node');
    const script = throughMappings(argv[1]!, copiedFromRepo(final));
    expect(script?.hostPath).toBe(join(repoRoot, 'deploy', 'healthcheck.mjs'));
    expect(argv[2]).toBe('http://127.0.0.1:8787/readyz');
    // Neither installed nor called in the image that runs.
    for (const { op, args } of final.instructions) expect(`${op} ${args}`).not.toMatch(/\b(curl|wget)\b/);
  });

  it('keeps --v8-pool-size=1 and serves the container config, whose every path the image holds', () => {
    const entrypoint = execForm(all(final, 'ENTRYPOINT').at(-1) ?? '');
    expect(entrypoint).toEqual(['node', '--v8-pool-size=1', 'dist/daemon/cli.js']);
    const cmd = execForm(all(final, 'CMD').at(-1) ?? '');
    expect(cmd?.slice(0, 2)).toEqual(['serve', '--config']);
    const configInImage = cmd![2]!;

    const mappings = copiedFromRepo(final);
    const source = throughMappings(configInImage, mappings);
    expect(source?.hostPath).toBe(join(repoRoot, 'deploy', 'jitsync.container.yaml'));
    const config = loadDeployConfig(source!.hostPath);
    // Reachable through a published port, on the port the health check asks.
    expect(config.server.listen).toEqual({ host: '0.0.0.0', port: 8787 });

    const volumes = all(final, 'VOLUME').flatMap((v) => execForm(v) ?? v.split(/\s+/));
    const paths = configPaths(config);
    expect(paths.map((p) => p.key)).toEqual(['store', 'connectors[0].path']);
    for (const { key, path } of paths) {
      expect(posix.isAbsolute(path), key).toBe(true);
      if (key === 'store') {
        expect(volumes.some((volume) => path.startsWith(`${volume}/`)), `${key}: ${path} is in a volume`).toBe(true);
      } else {
        const held = throughMappings(path, mappings);
        expect(held, `${key}: ${path} is copied into the image`).not.toBeNull();
        expect(statSync(held!.hostPath).isFile()).toBe(true);
      }
    }
  });
});
