import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * Every block marked `<!-- run: … -->` in the README and in the `docs/` pages runs as written, in
 * one bash session (variables carry over, as in the reader's terminal): the README's blocks first,
 * then each page's in the order the README's table of contents lists the pages. They run against
 * the quick-start daemon that the `run: daemon` block starts. Only the config file (its store in a
 * temporary folder, a free port) and the address differ. `run: 201` expects the block's last HTTP
 * status (`curl -i`), `run: exit 3` its exit code.
 */

interface Example {
  expect: { status: number } | { exit: number } | 'daemon';
  code: string;
  /** `file:line`, for failure messages. */
  where: string;
}

interface Page {
  file: string;
  text: string;
}

const EXAMPLE_CONFIG = 'jitsync.example.yaml';

/** The README, then the `docs/` pages its table of contents links, in that order. */
function pages(): Page[] {
  const readme = readFileSync('README.md', 'utf8');
  const linked = [...readme.matchAll(/\]\((docs\/[\w-]+\.md)\)/g)].map((match) => match[1]!);
  const files = ['README.md', ...new Set(linked)];
  const listed = readdirSync('docs').filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`);
  const unlisted = listed.filter((file) => !files.includes(file));
  if (unlisted.length > 0) throw new Error(`the README's table of contents does not link ${unlisted.join(', ')}`);
  return files.map((file) => ({ file, text: readFileSync(file, 'utf8') }));
}

const PAGES = pages();

function runnableExamples(): Example[] {
  const examples: Example[] = [];
  const marker = /<!-- run: (daemon|exit (\d+)|(\d{3})) -->\n```sh\n([\s\S]*?)\n```/g;
  for (const { file, text } of PAGES) {
    for (const match of text.matchAll(marker)) {
      const where = `${file}:${text.slice(0, match.index).split('\n').length}`;
      const code = match[4]!;
      if (match[1] === 'daemon') examples.push({ expect: 'daemon', code, where });
      else if (match[2] !== undefined) examples.push({ expect: { exit: Number(match[2]) }, code, where });
      else examples.push({ expect: { status: Number(match[3]) }, code, where });
    }
  }
  return examples;
}

const examples = runnableExamples();
let dir: string;
let configFile: string;
let daemon: ReturnType<typeof spawn> | undefined;
let address: string;

/** The quick-start config with its state in `dir` and a free port. */
function quickStartConfig(): string {
  return readFileSync(EXAMPLE_CONFIG, 'utf8')
    .replace(/^store: .*$/m, `store: sqlite:${join(dir, 'jitsync.db')}`)
    .replace(/^  listen: .*$/m, '  listen: 127.0.0.1:0')
    .replace(/path: \.\/examples\//, `path: ${resolve('examples')}/`);
}

function asWritten(code: string): string {
  return code.replaceAll(EXAMPLE_CONFIG, configFile).replaceAll('http://127.0.0.1:8787', address);
}

function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ['JITSYNC_HOOK_TOKEN', 'JITSYNC_ADMIN_TOKEN', 'JITSYNC_CONFIG']) delete env[name];
  return env;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jitsync-readme-examples-'));
  configFile = join(dir, 'jitsync.yaml');
  writeFileSync(configFile, quickStartConfig());
  const serves = examples.filter((example) => example.expect === 'daemon');
  if (serves.length !== 1) throw new Error(`expected one \`run: daemon\` block, found ${serves.length}`);
  const serve = serves[0]!;
  address = 'http://127.0.0.1:8787';
  daemon = spawn('bash', ['-c', `exec ${asWritten(serve.code)}`], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'inherit'] });
  address = await new Promise<string>((resolveAddress, reject) => {
    createInterface({ input: daemon!.stdout! }).on('line', (line) => {
      if (line.includes('"jitsync listening"')) resolveAddress((JSON.parse(line) as { address: string }).address);
    });
    daemon!.once('exit', (code) => reject(new Error(`the daemon of ${serve.where} exited (${code}) before it listened`)));
  });
});

afterAll(async () => {
  if (daemon !== undefined && daemon.exitCode === null) {
    const exited = new Promise((r) => daemon!.once('exit', r));
    daemon.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** Runs the blocks in one bash, each followed by a marker line with its exit code. */
async function runSession(blocks: Example[]): Promise<{ output: string; exit: number }[]> {
  const script = blocks
    .map((block, i) => `${asWritten(block.code)}\necho "@@block ${i} exit $?@@"`)
    .join('\n');
  const shell = spawn('bash', ['-c', script], { cwd: process.cwd(), env: cleanEnv() });
  let stdout = '';
  let stderr = '';
  shell.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  shell.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise((r) => shell.once('close', r));
  const results: { output: string; exit: number }[] = [];
  let rest = stdout;
  for (let i = 0; i < blocks.length; i++) {
    const marker = new RegExp(`@@block ${i} exit (\\d+)@@\\n`).exec(rest);
    if (marker === null) throw new Error(`block ${i} printed no end marker; stderr: ${stderr}`);
    results.push({ output: rest.slice(0, marker.index), exit: Number(marker[1]) });
    rest = rest.slice(marker.index + marker[0].length);
  }
  return results;
}

/** The rows of the route table (docs/api.md): `| \`GET /v1/users?email=…\` |` → GET, /v1/users. */
function documentedRoutes(): RegExpMatchArray[] {
  return PAGES.flatMap(({ text }) => [...text.matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE) (\/[^`?]*)/gm)]);
}

function lastStatus(output: string): number | null {
  const statuses = [...output.matchAll(/^HTTP\/[\d.]+ (\d{3})/gm)];
  return statuses.length === 0 ? null : Number(statuses.at(-1)![1]);
}

describe('README and docs examples', () => {
  it("documents exactly the daemon's routes (its OpenAPI document's operations)", async () => {
    const doc = (await (await fetch(`${address}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((method) => ['get', 'post', 'put', 'patch', 'delete'].includes(method))
        .map((method) => `${method.toUpperCase()} ${path}`),
    );
    const documented = documentedRoutes().map(([, method, path]) => `${method} ${path}`);
    expect(documented.sort()).toEqual(operations.sort());
  });

  it('covers every route of the HTTP API table and every command of the CLI table', () => {
    const code = examples.map((example) => example.code).join('\n');
    const commands = PAGES.flatMap(({ text }) => [...text.matchAll(/^\| `jitsync ([a-z]+(?: [a-z]+)?)/gm)].map((match) => match[1]!));
    expect(commands).toEqual(expect.arrayContaining(['serve', 'login', 'prewarm', 'drift', 'config check']));
    for (const command of [...commands, '--version']) {
      expect(code, `no runnable example of jitsync ${command}`).toContain(`node dist/daemon/cli.js ${command}`);
    }
    const routes = documentedRoutes();
    expect(routes.length).toBeGreaterThan(10);
    for (const [, method, path] of routes) {
      const pattern = path!.replace(/\{[^}]+\}/g, '[^/ \'"?]+').replaceAll('/', '\\/');
      const called = examples.some(
        (example) =>
          new RegExp(`127\\.0\\.0\\.1:8787${pattern}(['"?\\s]|$)`, 'm').test(example.code) &&
          (method === 'GET' || method === 'POST' ? true : example.code.includes(`-X ${method}`)),
      );
      expect(called, `no runnable example of ${method} ${path}`).toBe(true);
    }
  });

  it('each block gives the status or exit code written next to it', { timeout: 120_000 }, async () => {
    const blocks = examples.filter((example) => example.expect !== 'daemon');
    const results = await runSession(blocks);
    blocks.forEach((block, i) => {
      const { output, exit } = results[i]!;
      const where = `${block.where}:\n${block.code}\n--- output:\n${output.slice(0, 2_000)}`;
      const expected = block.expect as { status: number } | { exit: number };
      if ('exit' in expected) expect(exit, where).toBe(expected.exit);
      else expect(lastStatus(output), where).toBe(expected.status);
    });
  });
});
