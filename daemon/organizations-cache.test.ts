import { afterEach, expect, it } from 'vitest';
import { openSqliteStore } from '../store/sqlite/index.js';
import type { Store } from '../store/types.js';
import { createOrganizationsCache } from './organizations-cache.js';

let store: Store;
afterEach(async () => store?.close());

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

it('does not keep a failed read', async () => {
  store = openSqliteStore(':memory:');
  const cache = createOrganizationsCache(store, { ttlMs: 60_000 });
  await store.close();
  await expect(cache.get()).rejects.toThrow();
  store = openSqliteStore(':memory:');
});
