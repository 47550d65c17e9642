import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { Store } from '../store/types.js';
import { createOrganizationsCache } from './organizations-cache.js';

let store: Store | undefined;
afterEach(async () => {
  await store?.close();
  store = undefined;
});

it('reads the store once per ttl, and again at once after invalidate', async () => {
  store = openSqliteStore(':memory:');
  await store.createOrganization({ key: 'OrgA', defaultGroup: 'Members', groups: ['developers'] });
  let now = 0;
  const cache = createOrganizationsCache(store, { ttlMs: 1_000, now: () => now });
  expect((await cache.get()).map((o) => o.key)).toEqual(['OrgA']);

  await store.createOrganization({ key: 'OrgB', defaultGroup: 'Members', groups: [] });
  now = 999;
  expect((await cache.get()).map((o) => o.key)).toEqual(['OrgA']);
  now = 1_000;
  expect((await cache.get()).map((o) => o.key)).toEqual(['OrgA', 'OrgB']);

  await store.addGroup('OrgB', 'sonar-users');
  cache.invalidate();
  expect((await cache.get()).find((o) => o.key === 'OrgB')?.groups).toEqual(['sonar-users']);
});

it('does not keep a failed read: the next call reads the store again, and its answer is kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jitsync-organizations-cache-'));
  const path = join(dir, 'jitsync.db');
  const opened = openSqliteStore(path);
  store = opened;
  await opened.createOrganization({ key: 'OrgA', defaultGroup: 'Members', groups: ['developers'] });
  // The clock never moves: within one ttl only a read that was not kept can reach the store.
  const cache = createOrganizationsCache(opened, { ttlMs: 60_000, now: () => 0 });

  // Another connection to the same file takes the table away, so the store's read fails.
  const other = new Database(path);
  try {
    other.exec('ALTER TABLE organizations RENAME TO organizations_away');
    await expect(cache.get()).rejects.toThrow();
    other.exec('ALTER TABLE organizations_away RENAME TO organizations');

    expect((await cache.get()).map((o) => o.key)).toEqual(['OrgA']);
    // That answer is kept for the ttl: a write the cache is not told of is not seen.
    await opened.createOrganization({ key: 'OrgB', defaultGroup: 'Members', groups: [] });
    expect((await cache.get()).map((o) => o.key)).toEqual(['OrgA']);
  } finally {
    other.close();
    await opened.close();
    store = undefined;
    rmSync(dir, { recursive: true, force: true });
  }
});
