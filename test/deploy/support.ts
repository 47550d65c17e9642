import { readFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';
import { connectorDefinitions } from '../../connectors/registry.js';
import { loadConfig } from '../../daemon/config/load.js';
import type { JitsyncConfig } from '../../daemon/config/schema.js';

/**
 * Helpers for the deploy tests. No Docker engine or systemd runs here, so what can be checked
 * without one is: the files parse, the configs load with the project's own loader, and every path
 * a config names inside the container or host resolves, through the mounts and copies that put it
 * there, to a file that exists in this repository.
 */

export const repoRoot = resolve('.');
export const deployDir = join(repoRoot, 'deploy');

/** The tokens the deploy configs take from the environment. */
export const DEPLOY_ENV = {
  JITSYNC_HOOK_TOKEN: 'deploy-hook-token-0123456789',
  JITSYNC_ADMIN_TOKEN: 'deploy-admin-token-0123456789',
};

export function loadDeployConfig(path: string): JitsyncConfig {
  return loadConfig(path, { env: DEPLOY_ENV, definitions: connectorDefinitions });
}

/** Every local file path a config names: the SQLite file and each file connector's export. */
export function configPaths(config: JitsyncConfig): { key: string; path: string }[] {
  const paths: { key: string; path: string }[] = [];
  if (config.store.kind === 'sqlite') paths.push({ key: 'store', path: config.store.path });
  config.connectors.forEach((connector, index) => {
    if (connector.type === 'file' && typeof connector.path === 'string') {
      paths.push({ key: `connectors[${index}].path`, path: connector.path });
    }
  });
  return paths;
}

/** Where a path of the target system comes from: a host folder or file mapped onto `target`. */
export interface Mapping {
  /** Absolute, on the host (this repository). */
  source: string;
  /** Absolute, in the container or installed system. */
  target: string;
}

/** The mapping that holds `path`, the deepest first, and the host path it stands for. */
export function throughMappings(path: string, mappings: readonly Mapping[]): { mapping: Mapping; hostPath: string } | null {
  const holding = mappings
    .filter((m) => path === m.target || path.startsWith(m.target.endsWith('/') ? m.target : `${m.target}/`))
    .sort((a, b) => b.target.length - a.target.length);
  const mapping = holding[0];
  if (!mapping) return null;
  return { mapping, hostPath: join(mapping.source, posix.relative(mapping.target, path)) };
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}
