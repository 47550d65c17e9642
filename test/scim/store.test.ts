import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openMongoStore } from '../../store/mongo/index.js';
import type { ScimResource } from '../../store/scim-types.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import { ConflictError, NotFoundError, ScimUniquenessError, type Store } from '../../store/types.js';
import { freshDatabaseUrl } from '../mongo/databases.js';

/** The SCIM resources store part, the same on both backends. */

const T0 = '2026-12-01T08:00:00.000Z';
const T1 = '2026-12-01T09:00:00.000Z';

const dir = mkdtempSync(join(tmpdir(), 'jitsync-scim-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

const backends: Array<[string, () => Promise<Store>]> = [
  ['sqlite', async () => openSqliteStore(join(dir, `scim-${++n}.db`))],
  [
    'mongodb',
    async () => {
      const { url, database } = freshDatabaseUrl('scim');
      const store = await openMongoStore(url);
      return {
        ...store,
        async close() {
          await store.close();
          const admin = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
          try {
            await admin.db(database).dropDatabase();
          } finally {
            await admin.close();
          }
        },
      };
    },
  ],
];

const user = (id: string, userName: string, extra: Record<string, unknown> = {}): ScimResource => ({
  connector: 'idp',
  resourceType: 'User',
  id,
  attributes: { userName, ...extra },
  version: 1,
  created: T0,
  lastModified: T0,
});
const group = (id: string, displayName: string, members: string[]): ScimResource => ({
  connector: 'idp',
  resourceType: 'Group',
  id,
  attributes: { displayName, members: members.map((value) => ({ value })) },
  version: 1,
  created: T0,
  lastModified: T0,
});

describe.each(backends)('SCIM resources on %s', (_name, open) => {
  let store: Store;
  beforeEach(async () => {
    store = await open();
  });
  afterEach(async () => store.close());

  it('keeps a resource as written, extension keys with dots included, and reads it back', async () => {
    const ada = user('u1', 'Ada@Example.com', { 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { department: 'R&D' } });
    await store.createScimResource(ada);
    expect(await store.getScimResource('idp', 'User', 'u1')).toEqual(ada);
    expect(await store.getScimResource('other', 'User', 'u1')).toBeNull();
    expect(await store.listScimResources('idp', 'User')).toEqual([ada]);
    expect(await store.getScimResources('idp', 'User', ['u1', 'missing'])).toEqual([ada]);
    expect(await store.existingScimIds('idp', 'User', ['missing', 'u1', 'u1'])).toEqual(['u1']);
    expect(await store.existingScimIds('idp', 'Group', ['u1'])).toEqual([]);
  });

  it('userName is unique case-insensitively, externalId case-exactly, per connector and type', async () => {
    await store.createScimResource(user('u1', 'ada@example.com', { externalId: 'X1' }));
    await expect(store.createScimResource(user('u2', 'ADA@example.com'))).rejects.toBeInstanceOf(ScimUniquenessError);
    await expect(store.createScimResource(user('u3', 'other@example.com', { externalId: 'X1' }))).rejects.toMatchObject({ attribute: 'externalId' });
    await store.createScimResource(user('u4', 'other@example.com', { externalId: 'x1' }));
    await store.createScimResource({ ...user('u5', 'ada@example.com'), connector: 'second' });
    // A failed create left nothing behind.
    expect((await store.listScimResources('idp', 'User')).map((u) => u.id)).toEqual(['u1', 'u4']);
    expect((await store.findScimResources('idp', 'User', 'name', 'Ada@Example.COM')).map((u) => u.id)).toEqual(['u1']);
    expect((await store.findScimResources('idp', 'User', 'externalId', 'x1')).map((u) => u.id)).toEqual(['u4']);
    expect(await store.findScimResources('idp', 'Group', 'name', 'ada@example.com')).toEqual([]);
  });

  it('updates by compare-and-swap; a name taken by another refuses, a freed one can be taken', async () => {
    await store.createScimResource(user('u1', 'ada@example.com'));
    await store.createScimResource(user('u2', 'grace@example.com'));
    await expect(store.updateScimResource('idp', 'User', 'u2', 1, { userName: 'ada@example.com' }, T1)).rejects.toBeInstanceOf(ScimUniquenessError);
    const renamed = await store.updateScimResource('idp', 'User', 'u1', 1, { userName: 'augusta@example.com' }, T1);
    expect(renamed).toMatchObject({ version: 2, lastModified: T1, created: T0, attributes: { userName: 'augusta@example.com' } });
    // A writer that read version 1 lost the race: refused, and nothing changes.
    await expect(store.updateScimResource('idp', 'User', 'u1', 1, { userName: 'ada@example.com' }, T1)).rejects.toBeInstanceOf(ConflictError);
    expect(await store.getScimResource('idp', 'User', 'u1')).toEqual(renamed);
    await store.updateScimResource('idp', 'User', 'u2', 1, { userName: 'ada@example.com' }, T1);
    await expect(store.updateScimResource('idp', 'User', 'nope', 1, {}, T1)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('indexes group members: the groups of a user follow writes and deletes', async () => {
    await store.createScimResource(group('g1', 'developers', ['u1', 'u2']));
    await store.createScimResource(group('g2', 'admins', ['u1']));
    expect(await store.scimGroupsOfUsers('idp', ['u1', 'u2', 'u9'])).toEqual(
      new Map([
        ['u1', [{ id: 'g1', displayName: 'developers' }, { id: 'g2', displayName: 'admins' }]],
        ['u2', [{ id: 'g1', displayName: 'developers' }]],
        ['u9', []],
      ]),
    );
    const members = async (id: string) => (await store.getScimResource('idp', 'Group', id))!;
    const g1 = await members('g1');
    await store.updateScimResource('idp', 'Group', 'g1', 1, { ...g1.attributes, members: [{ value: 'u2' }] }, T1);
    expect(await store.scimGroupsOfUsers('idp', ['u1'])).toEqual(new Map([['u1', [{ id: 'g2', displayName: 'admins' }]]]));
    // A renamed group is read under its new name (names are remembered per version).
    const g2 = await members('g2');
    await store.updateScimResource('idp', 'Group', 'g2', 1, { ...g2.attributes, displayName: 'Admins' }, T1);
    expect(await store.scimGroupsOfUsers('idp', ['u1'])).toEqual(new Map([['u1', [{ id: 'g2', displayName: 'Admins' }]]]));
    await store.updateScimResource('idp', 'Group', 'g2', 2, { ...g2.attributes, displayName: 'admins' }, T1);
    expect((await store.deleteScimResource('idp', 'Group', 'g2'))?.id).toBe('g2');
    expect(await store.deleteScimResource('idp', 'Group', 'g2')).toBeNull();
    expect(await store.scimGroupsOfUsers('idp', ['u1'])).toEqual(new Map([['u1', []]]));
    // A deleted group's name is free again.
    await store.createScimResource(group('g3', 'admins', []));
  });

  it('of concurrent writers of one version, one wins and the others are refused', async () => {
    await store.createScimResource(group('g1', 'developers', []));
    const members = Array.from({ length: 6 }, (_, i) => `u${i}`);
    const outcomes = await Promise.allSettled(
      members.map((id) => store.updateScimResource('idp', 'Group', 'g1', 1, { displayName: 'developers', members: [{ value: id }] }, T1)),
    );
    const won = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
    expect(won).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(ConflictError);
    const stored = await store.getScimResource('idp', 'Group', 'g1');
    expect(stored).toEqual(won[0]);
    expect(stored?.version).toBe(2);
    const winner = (stored?.attributes.members as Array<{ value: string }>)[0]!.value;
    expect(await store.scimGroupsOfUsers('idp', members)).toEqual(
      new Map(members.map((id) => [id, id === winner ? [{ id: 'g1', displayName: 'developers' }] : []])),
    );
  });
});
