import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  ConnectorError,
  type CallOptions,
  type Connector,
  type ConnectorDeps,
  type IdpGroup,
  type IdpUser,
  type IdpUserGroups,
  type IncrementalFeed,
  type UserListing,
} from '../types.js';
import { PAGE_SIZE, type FileConnectorConfig } from './config.js';
import { parseDirectory, type Directory } from './directory.js';

interface Snapshot {
  directory: Directory;
  /** sha256 of the content: what `changedGroups` compares. */
  hash: string;
  mtimeMs: number;
  size: number;
}

/** How many earlier versions' group ids are kept to report deleted groups. */
const REMEMBERED_VERSIONS = 16;

/**
 * The `file` connector: a JSON directory export on disk. The file is re-read only when its
 * mtime or size changes. A missing, unreadable or invalid file is an error, never an empty
 * directory, so a bad export cannot strip memberships.
 */
export function createFileConnector(
  config: FileConnectorConfig,
  deps: ConnectorDeps,
): Connector & IncrementalFeed & UserListing {
  const path = resolve(deps.baseDir, config.path);
  let current: Snapshot | null = null;
  /** Group ids of versions this instance has read, by content hash, oldest first. */
  const groupIdsByHash = new Map<string, ReadonlySet<string>>();

  const fail = (kind: 'unreachable' | 'bad_response' | 'timeout', message: string, cause?: unknown) =>
    new ConnectorError(kind, config.id, message, { cause });

  async function load(options: CallOptions): Promise<Snapshot> {
    options.signal.throwIfAborted();
    let info: Stats;
    try {
      info = await stat(path);
    } catch (error) {
      throw fail('unreachable', `cannot read ${path} (${errorCode(error)})`, error);
    }
    // A file read is no API call: `apiCalls` stays 0, and only pages are counted.
    if (current && current.mtimeMs === info.mtimeMs && current.size === info.size) return current;

    const timeout = AbortSignal.timeout(config.timeoutMs);
    let content: Buffer;
    try {
      content = await readFile(path, { signal: AbortSignal.any([options.signal, timeout]) });
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason;
      if (timeout.aborted) throw fail('timeout', `reading ${path} took over ${config.timeoutMs} ms`, error);
      throw fail('unreachable', `cannot read ${path} (${errorCode(error)})`, error);
    }

    let document: unknown;
    try {
      document = JSON.parse(content.toString('utf8'));
    } catch (error) {
      throw fail('bad_response', `${path} is not valid JSON (${error instanceof Error ? error.message : String(error)})`, error);
    }
    const parsed = parseDirectory(document);
    if ('problems' in parsed) {
      throw fail('bad_response', `${path} is not a valid directory export: ${parsed.problems.join('; ')}`);
    }

    const hash = createHash('sha256').update(content).digest('hex');
    current = { directory: parsed.directory, hash, mtimeMs: info.mtimeMs, size: info.size };
    remember(hash, parsed.directory.groups);
    return current;
  }

  function remember(hash: string, groups: IdpGroup[]): void {
    groupIdsByHash.delete(hash);
    groupIdsByHash.set(hash, new Set(groups.map((g) => g.id)));
    for (const oldest of groupIdsByHash.keys()) {
      if (groupIdsByHash.size <= REMEMBERED_VERSIONS) break;
      groupIdsByHash.delete(oldest);
    }
  }

  async function* pages<T>(items: readonly T[], options: CallOptions): AsyncGenerator<T[]> {
    for (let start = 0; start < items.length; start += PAGE_SIZE) {
      options.signal.throwIfAborted();
      if (options.stats) options.stats.pages++;
      yield items.slice(start, start + PAGE_SIZE);
    }
  }

  return {
    id: config.id,
    type: 'file',

    async *listGroups(options) {
      const { directory } = await load(options);
      yield* pages(directory.groups.map((g) => ({ id: g.id, name: g.name })), options);
    },

    async *listMembers(group, options) {
      const { directory } = await load(options);
      // A group gone from the file has no members there; pre-warm learns of the deletion from
      // `listGroups` or `changedGroups`.
      const members: IdpUser[] = directory.membersByGroupId.get(group.id) ?? [];
      yield* pages(members.map((u) => ({ subject: u.subject, email: u.email, name: u.name })), options);
    },

    async *listUsers(options) {
      const { directory } = await load(options);
      yield* pages([...directory.usersBySubject.values()].map((u) => ({ subject: u.subject, email: u.email, name: u.name })), options);
    },

    async lookupUser(query, options): Promise<IdpUserGroups | null> {
      const { directory } = await load(options);
      const user = directory.usersBySubject.get(query.subject);
      if (!user) return null;
      return { subject: user.subject, email: user.email, name: user.name, groups: [...user.groups], nestedGroups: [] };
    },

    async startCursor(options) {
      return cursorOf(await load(options));
    },

    async changedGroups(cursor, options) {
      const snapshot = await load(options);
      const since = parseCursor(cursor);
      if (since === null) throw new ConnectorError('cursor_expired', config.id, 'unrecognised cursor: run a full resync');
      if (since.hash === snapshot.hash) return { changed: [], deleted: [], cursor: cursorOf(snapshot) };
      const before = groupIdsByHash.get(since.hash);
      if (!before) {
        // Without the earlier version there is no honest list of deleted groups.
        throw new ConnectorError('cursor_expired', config.id, `${path} changed since a version this process did not read: run a full resync`);
      }
      const now = new Set(snapshot.directory.groups.map((g) => g.id));
      return {
        // Simple and complete: every group is re-listed when the file changed at all.
        changed: snapshot.directory.groups.map((g) => ({ id: g.id, name: g.name })),
        deleted: [...before].filter((id) => !now.has(id)),
        cursor: cursorOf(snapshot),
      };
    },
  };
}

/** `file:v1:<sha256>:<mtimeMs>`: the content decides; the mtime is there for people reading it. */
function cursorOf(snapshot: Snapshot): string {
  return `file:v1:${snapshot.hash}:${snapshot.mtimeMs}`;
}

function parseCursor(cursor: string): { hash: string } | null {
  const match = /^file:v1:([0-9a-f]{64}):[0-9.]+$/.exec(cursor);
  return match?.[1] ? { hash: match[1] } : null;
}

function errorCode(error: unknown): string {
  if (error instanceof Error && 'code' in error && typeof error.code === 'string') return error.code;
  return error instanceof Error ? error.message : String(error);
}
