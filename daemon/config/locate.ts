import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The config file the CLI reads: `--config`, else `JITSYNC_CONFIG`, else `./jitsync.yaml`. */
export function configPath(option: string | undefined, env: NodeJS.ProcessEnv): string {
  if (option !== undefined && option !== '') return option;
  const fromEnv = env.JITSYNC_CONFIG;
  return fromEnv !== undefined && fromEnv !== '' ? fromEnv : './jitsync.yaml';
}

/**
 * The installed package's root: the nearest folder above this module with jitsync's
 * package.json (one level up from the sources, two from `dist/`).
 */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'package.json');
    if (existsSync(candidate) && (JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string }).name === 'jitsync') {
      return dir;
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error('jitsync: cannot find its own package.json');
    dir = parent;
  }
}

const root = packageRoot();

export const PACKAGE = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string; version: string };

/** The example config shipped with the package, a working start for `./jitsync.yaml`. */
export const EXAMPLE_CONFIG = join(root, 'jitsync.example.yaml');
