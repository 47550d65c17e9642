import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConnectorError, hasIncrementalFeed, type CallStats, type Connector, type IdpGroup } from '../types.js';
import { fileConnector } from './index.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

const DIRECTORY = {
  groups: [
    { id: 'g1', name: 'ENT_ORGA_ADMINS' },
    { id: 'g2', name: 'developers' },
    { id: 'g3', name: 'Team' },
  ],
  users: [
    { subject: 'u1', email: 'ada@example.com', name: 'Ada Lovelace', groups: ['ENT_ORGA_ADMINS', 'developers'] },
    { subject: 'u2', email: 'grace@example.com', name: 'Grace Hopper', groups: ['developers'] },
    { subject: 'u3', email: null, name: null, groups: [] },
  ],
};

let dir: string;
let file: string;
let stats: CallStats;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jitsync-file-'));
  file = join(dir, 'directory.json');
  stats = { apiCalls: 0, pages: 0, retries: 0 };
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const options = () => ({ signal: new AbortController().signal, stats });

/** Writes the file and moves its mtime, so a rewrite within one clock tick is still seen. */
let tick = 1_700_000_000;
function writeDirectory(content: unknown): void {
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  tick += 10;
  utimesSync(file, tick, tick);
}

function open(entry: Record<string, unknown> = {}): Connector {
  const config = fileConnector.configSchema.parse({ id: 'demo', type: 'file', path: './directory.json', ...entry });
  return fileConnector.create(config, { baseDir: dir });
}

async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[][]> {
  const out: T[][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

async function rejection(promise: Promise<unknown>): Promise<ConnectorError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof ConnectorError)) throw new Error(`expected a ConnectorError, got ${String(error)}`);
  return error;
}

describe('file connector', () => {
  it('lists groups and members, and looks users up by subject', async () => {
    writeDirectory(DIRECTORY);
    const connector = open();
    expect(connector.id).toBe('demo');
    expect(connector.type).toBe('file');

    expect(await collect(connector.listGroups(options()))).toEqual([DIRECTORY.groups]);
    expect(await collect(connector.listMembers({ id: 'g2', name: 'developers' }, options()))).toEqual([
      [
        { subject: 'u1', email: 'ada@example.com', name: 'Ada Lovelace' },
        { subject: 'u2', email: 'grace@example.com', name: 'Grace Hopper' },
      ],
    ]);
    expect(await collect(connector.listMembers({ id: 'g3', name: 'Team' }, options()))).toEqual([]);

    expect(await connector.lookupUser({ subject: 'u1', email: 'ada@example.com' }, options())).toEqual({
      subject: 'u1',
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      groups: ['ENT_ORGA_ADMINS', 'developers'],
      nestedGroups: [],
    });
    expect(await connector.lookupUser({ subject: 'u3', email: 'x@example.com' }, options())).toEqual({
      subject: 'u3',
      email: null,
      name: null,
      groups: [],
      nestedGroups: [],
    });
    // By subject only: an email alone does not find Ada.
    expect(await connector.lookupUser({ subject: 'nobody', email: 'ada@example.com' }, options())).toBeNull();
  });

  it('yields pages of at most 500 and counts pages; a file read is no API call', async () => {
    const groups = Array.from({ length: 1_201 }, (_, i) => ({ id: `g${i}`, name: `group-${i}` }));
    const users = Array.from({ length: 1_050 }, (_, i) => ({ subject: `u${i}`, email: `u${i}@example.com`, name: null, groups: ['group-7'] }));
    writeDirectory({ groups, users });
    const connector = open();

    const groupPages = await collect(connector.listGroups(options()));
    expect(groupPages.map((p) => p.length)).toEqual([500, 500, 201]);
    expect(groupPages.flat()).toEqual(groups);

    const memberPages = await collect(connector.listMembers({ id: 'g7', name: 'group-7' }, options()));
    expect(memberPages.map((p) => p.length)).toEqual([500, 500, 50]);
    expect(memberPages.flat().map((u) => u.subject)).toEqual(users.map((u) => u.subject));

    expect(stats).toEqual({ apiCalls: 0, pages: 6, retries: 0 });
  });

  it('re-reads the file when its mtime or size changes, not on every call', async () => {
    writeDirectory(DIRECTORY);
    const connector = open();
    expect(await connector.lookupUser({ subject: 'u1', email: '' }, options())).toMatchObject({ name: 'Ada Lovelace' });

    // New content of the same size under the same mtime: a connector that read the file on every
    // call would see it; this one answers from what it read.
    const { mtime } = statSync(file);
    writeFileSync(file, JSON.stringify(DIRECTORY).replace('Ada Lovelace', 'Ada Lovelacf'));
    utimesSync(file, mtime, mtime);
    expect(await connector.lookupUser({ subject: 'u1', email: '' }, options())).toMatchObject({ name: 'Ada Lovelace' });
    expect((await collect(connector.listGroups(options()))).flat()).toEqual(DIRECTORY.groups);

    writeDirectory({ ...DIRECTORY, users: [{ subject: 'u1', email: 'ada@example.com', name: 'Ada King', groups: ['Team'] }] });
    expect(await connector.lookupUser({ subject: 'u1', email: '' }, options())).toMatchObject({ name: 'Ada King', groups: ['Team'] });
    expect(await connector.lookupUser({ subject: 'u2', email: '' }, options())).toBeNull();
    expect(stats.apiCalls).toBe(0);
  });

  it('resolves a relative path against the config folder', async () => {
    writeDirectory(DIRECTORY);
    const config = fileConnector.configSchema.parse({ id: 'demo', type: 'file', path: 'directory.json' });
    const connector = fileConnector.create(config, { baseDir: dir });
    expect((await collect(connector.listGroups(options()))).flat()).toHaveLength(3);
  });

  it('reads the example directory shipped with the repo', async () => {
    const config = fileConnector.configSchema.parse({ id: 'demo', type: 'file', path: './examples/directory.json' });
    const connector = fileConnector.create(config, { baseDir: repoRoot });
    const names = (await collect(connector.listGroups(options()))).flat().map((g) => g.name);
    expect(names).toEqual(['ENT_ORGA_ADMINS', 'developers', 'sonar-users', 'Team', 'contractors']);
    expect(await connector.lookupUser({ subject: '00u2grace', email: 'grace@example.com' }, options())).toEqual({
      subject: '00u2grace',
      email: 'grace@example.com',
      name: 'Grace Hopper',
      groups: ['developers', 'sonar-users'],
      nestedGroups: [],
    });
    expect(await connector.lookupUser({ subject: '00u4edsger', email: '' }, options())).toMatchObject({ groups: [] });
  });
});

describe('file connector errors: never an empty directory', () => {
  it('a missing file is unreachable', async () => {
    const error = await rejection(open().lookupUser({ subject: 'u1', email: '' }, options()));
    expect(error.kind).toBe('unreachable');
    expect(error.connector).toBe('demo');
    expect(error.message).toBe(`demo: cannot read ${file} (ENOENT)`);
    await expect(collect(open().listGroups(options()))).rejects.toMatchObject({ kind: 'unreachable' });
  });

  it('a file that is not JSON is a bad response', async () => {
    writeDirectory('{ "groups": [');
    const error = await rejection(open().lookupUser({ subject: 'u1', email: '' }, options()));
    expect(error.kind).toBe('bad_response');
    expect(error.message).toContain(`${file} is not valid JSON`);
  });

  it('names the bad entry', async () => {
    writeDirectory({
      groups: [{ id: 'g1', name: 'developers' }, { id: 'g2' }],
      users: [{ subject: 'u1', email: 'a@example.com', name: 'A', group: ['developers'] }],
    });
    const error = await rejection(open().lookupUser({ subject: 'u1', email: '' }, options()));
    expect(error.kind).toBe('bad_response');
    expect(error.message).toContain('groups[1].name: Invalid input: expected string, received undefined');
    expect(error.message).toContain('users[0] (u1): Unrecognized key: "group"');
  });

  it('rejects a user naming an unknown group, and duplicate names or subjects', async () => {
    writeDirectory({
      groups: [
        { id: 'g1', name: 'Team' },
        { id: 'g2', name: 'Team' },
      ],
      users: [
        { subject: 'u1', email: 'a@example.com', name: 'A', groups: ['team'] },
        { subject: 'u1', email: 'b@example.com', name: 'B', groups: [] },
      ],
    });
    const error = await rejection(open().lookupUser({ subject: 'u1', email: '' }, options()));
    expect(error.kind).toBe('bad_response');
    expect(error.message).toContain('groups[1]: duplicate group name "Team"');
    expect(error.message).toContain('users[0] (u1): unknown group "team"');
    expect(error.message).toContain('users[1] (u1): duplicate subject');
  });

  it('fails, rather than serving the old or an empty directory, once the file turns bad', async () => {
    writeDirectory(DIRECTORY);
    const connector = open();
    expect(await connector.lookupUser({ subject: 'u1', email: '' }, options())).not.toBeNull();
    writeDirectory('');
    await expect(connector.lookupUser({ subject: 'u1', email: '' }, options())).rejects.toMatchObject({ kind: 'bad_response' });
    rmSync(file);
    await expect(collect(connector.listGroups(options()))).rejects.toMatchObject({ kind: 'unreachable' });
  });

  it('stops at once when the caller aborts', async () => {
    writeDirectory(DIRECTORY);
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    await expect(open().lookupUser({ subject: 'u1', email: '' }, { signal: controller.signal })).rejects.toThrow('shutting down');
  });

  it('rejects a misspelt config key', () => {
    const result = fileConnector.configSchema.safeParse({ id: 'demo', type: 'file', path: 'a.json', pth: 'b.json' });
    expect(result.success).toBe(false);
  });
});

describe('file connector incremental feed', () => {
  function feed() {
    const connector = open();
    if (!hasIncrementalFeed(connector)) throw new Error('the file connector must offer an incremental feed');
    return connector;
  }
  const names = (groups: IdpGroup[]) => groups.map((g) => g.name);

  it('reports nothing while the file is unchanged, even when only touched', async () => {
    writeDirectory(DIRECTORY);
    const connector = feed();
    const cursor = await connector.startCursor(options());
    expect(await connector.changedGroups(cursor, options())).toEqual({ changed: [], deleted: [], cursor });

    writeDirectory(DIRECTORY); // same content, new mtime
    const touched = await connector.changedGroups(cursor, options());
    expect(touched.changed).toEqual([]);
    expect(touched.deleted).toEqual([]);
  });

  it('reports every group as changed, and the deleted ones, after an edit', async () => {
    writeDirectory(DIRECTORY);
    const connector = feed();
    const cursor = await connector.startCursor(options());

    writeDirectory({
      groups: [DIRECTORY.groups[0], { id: 'g9', name: 'sonar-users' }],
      users: [{ subject: 'u1', email: 'ada@example.com', name: 'Ada', groups: ['sonar-users'] }],
    });
    const result = await connector.changedGroups(cursor, options());
    expect(names(result.changed)).toEqual(['ENT_ORGA_ADMINS', 'sonar-users']);
    expect(result.deleted).toEqual(['g2', 'g3']);
    expect(result.cursor).not.toBe(cursor);
    expect(await connector.changedGroups(result.cursor, options())).toEqual({ changed: [], deleted: [], cursor: result.cursor });
  });

  it('asks for a full resync when it cannot tell what changed', async () => {
    writeDirectory(DIRECTORY);
    const cursor = await feed().startCursor(options());
    writeDirectory({ ...DIRECTORY, users: [] });
    // A new process has not seen the earlier version, so it cannot list deleted groups.
    await expect(feed().changedGroups(cursor, options())).rejects.toMatchObject({ kind: 'cursor_expired' });
    await expect(feed().changedGroups('not-a-cursor', options())).rejects.toMatchObject({ kind: 'cursor_expired' });
  });

  it('fails on a bad file rather than reporting no changes', async () => {
    writeDirectory(DIRECTORY);
    const connector = feed();
    const cursor = await connector.startCursor(options());
    writeDirectory('not json');
    await expect(connector.changedGroups(cursor, options())).rejects.toMatchObject({ kind: 'bad_response' });
  });
});
