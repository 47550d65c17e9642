import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, expect, it } from 'vitest';

/**
 * `npm start` under a process manager: the manager signals npm's process, and the daemon must
 * get the signal too rather than being orphaned, still serving. (`--ignore-scripts` skips the
 * prestart build: `npm test` has built dist/ already.)
 */

let dir: string;
let daemonPids: number[] = [];
afterEach(() => {
  // A failed run must not leave an orphaned daemon behind.
  for (const pid of daemonPids.filter(alive)) process.kill(pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pids whose parent is `pid`, from /proc. */
function childrenOf(pid: number): number[] {
  const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return tasks === '' ? [] : tasks.split(' ').map(Number);
}

it('SIGTERM to `npm start` stops the daemon it started', async () => {
  dir = mkdtempSync(join(tmpdir(), 'jitsync-npm-start-'));
  const example = readFileSync('jitsync.example.yaml', 'utf8')
    .replace(/^  listen: .*$/m, '  listen: 127.0.0.1:0')
    .replace(/^store: .*$/m, `store: sqlite:${join(dir, 'jitsync.db')}`)
    .replace(/path: \.\/examples\//, `path: ${join(process.cwd(), 'examples')}/`);
  const config = join(dir, 'jitsync.yaml');
  writeFileSync(config, example);

  const npm = spawn('npm', ['start', '--ignore-scripts', '--', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
  const listening = new Promise<string>((resolve, reject) => {
    createInterface({ input: npm.stdout }).on('line', (line) => {
      if (line.includes('"jitsync listening"')) resolve((JSON.parse(line) as { address: string }).address);
    });
    void exited.then((code) => reject(new Error(`npm start exited (${code}) before the daemon listened`)));
  });
  const address = await listening;
  expect((await fetch(`${address}/healthz`)).status).toBe(200);

  daemonPids = childrenOf(npm.pid!);
  expect(daemonPids.length).toBeGreaterThan(0);
  npm.kill('SIGTERM');
  expect(await exited).toBe(0);
  for (const pid of daemonPids) await expect.poll(() => alive(pid), { timeout: 10_000 }).toBe(false);
  await expect(fetch(`${address}/healthz`)).rejects.toThrow();
});
