import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import type { ScimConnectorSettings } from '../../daemon/scim/cache-sync.js';
import { readPatchRequest } from '../../daemon/scim/patch.js';
import { createScimService } from '../../daemon/scim/scim-service.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { CORE_GROUP, CORE_USER, PATCH_OP } from './support.js';

/**
 * Two replicas of the daemon on one store: each takes its own SCIM writes in turn, but not the
 * other's, so their writes of one group race. A write that lost re-reads the group and applies its
 * PATCH again: no member is lost.
 */

const dir = mkdtempSync(join(tmpdir(), 'jitsync-scim-replicas-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('two replicas PATCHing one group at once lose no member', async () => {
  const settings: ScimConnectorSettings = { id: 'okta', subjectAttribute: 'externalId', onDeprovision: 'disable', provisionOnPush: false };
  const stores = [openSqliteStore(join(dir, 'jitsync.db')), openSqliteStore(join(dir, 'jitsync.db'))];
  try {
    const [a, b] = stores.map((store) => createScimService(store, settings));
    const group = await a!.create('Group', { schemas: [CORE_GROUP], displayName: 'developers' }, '');
    const users = [];
    for (let i = 0; i < 20; i++) users.push(await a!.create('User', { schemas: [CORE_USER], userName: `r${i}@example.com`, externalId: `r${i}` }, ''));
    const addMember = (id: string) => readPatchRequest({ schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: id }] }] });
    await Promise.all(users.map((user, i) => (i % 2 === 0 ? a! : b!).patch('Group', group.id, addMember(user.id), null)));
    const stored = await b!.get('Group', group.id);
    expect((stored.attributes.members as Array<{ value: string }>).map((m) => m.value).sort()).toEqual(users.map((u) => u.id).sort());
    expect(stored.version).toBe(users.length + 1);
    const cached = await stores[0]!.getCachedUsers('okta', users.map((_, i) => `r${i}`));
    expect(cached.map((c) => c.groups)).toEqual(Array(users.length).fill(['developers']));
  } finally {
    for (const store of stores) await store.close();
  }
});

it("reads a group under the name another connection gave it", async () => {
  const stores = [openSqliteStore(join(dir, 'rename.db')), openSqliteStore(join(dir, 'rename.db'))];
  try {
    const [a, b] = stores as [(typeof stores)[0], (typeof stores)[0]];
    const at = '2026-12-01T08:00:00.000Z';
    const resource = (id: string, attributes: Record<string, unknown>) => ({ connector: 'okta', id, attributes, version: 1, created: at, lastModified: at });
    await a.createScimResource({ ...resource('u1', { userName: 'ada@example.com' }), resourceType: 'User' });
    await a.createScimResource({ ...resource('g1', { displayName: 'developers', members: [{ value: 'u1' }] }), resourceType: 'Group' });
    expect(await a.scimGroupsOfUsers('okta', ['u1'])).toEqual(new Map([['u1', [{ id: 'g1', displayName: 'developers' }]]]));
    await b.updateScimResource('okta', 'Group', 'g1', 1, { displayName: 'engineers', members: [{ value: 'u1' }] }, at);
    expect(await a.scimGroupsOfUsers('okta', ['u1'])).toEqual(new Map([['u1', [{ id: 'g1', displayName: 'engineers' }]]]));
    // And its own rename, with no read of the version.
    await a.updateScimResource('okta', 'Group', 'g1', 2, { displayName: 'builders', members: [{ value: 'u1' }] }, at);
    expect(await a.scimGroupsOfUsers('okta', ['u1'])).toEqual(new Map([['u1', [{ id: 'g1', displayName: 'builders' }]]]));
  } finally {
    for (const store of stores) await store.close();
  }
});
