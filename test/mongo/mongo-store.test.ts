import { MongoClient, type Db } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tupleKey } from '../../store/mongo/documents.js';
import { openMongoStore, type WriteMode } from '../../store/mongo/index.js';
import { AlreadyExistsError, ConflictError, StoreError, type Store } from '../../store/types.js';
import { freshDatabaseUrl } from './databases.js';

/** MongoDB-specific behaviour beyond the shared contract: indexes, retries, crash leftovers. */

const T0 = '2025-03-01T08:00:00.000Z';
const TTL = 60_000;

let admin: MongoClient;
const opened: { store: Store; database: string }[] = [];

async function open(writeMode?: WriteMode): Promise<{ store: Store; db: Db }> {
  const { url, database } = freshDatabaseUrl('mongo_store');
  const store = await openMongoStore(url, writeMode === undefined ? {} : { writeMode });
  opened.push({ store, database });
  return { store, db: admin.db(database) };
}

function newUser(n: number) {
  return {
    id: `user-${n}`,
    username: `person.${n}`,
    email: `person.${n}@example.com`,
    name: `Person ${n}`,
    identities: [{ connector: 'okta-prod', subject: `00u${n}` }],
  };
}

beforeAll(async () => {
  const { url } = freshDatabaseUrl('admin');
  admin = new MongoClient(url, { serverSelectionTimeoutMS: 5_000 });
  await admin.connect();
});

afterAll(async () => {
  for (const { store, database } of opened) {
    await store.close();
    await admin.db(database).dropDatabase();
  }
  await admin.close();
});

describe('MongoDB store', () => {
  it('creates its indexes at start, including the unique keys', async () => {
    const { db } = await open();
    const indexes = async (name: string) => (await db.collection(name).listIndexes().toArray()).map((i) => i.name);
    const unique = async (name: string) =>
      (await db.collection(name).listIndexes().toArray()).filter((i) => i.unique === true).map((i) => i.name);

    expect(await unique('accounts')).toEqual(expect.arrayContaining(['email_unique', 'username_unique']));
    expect(await indexes('accounts')).toEqual(expect.arrayContaining(['identity_keys', 'membership_keys']));
    expect(await unique('identities')).toEqual(['identity_unique']);
    expect(await unique('sync_states')).toEqual(['user_connector']);
    expect(await unique('cached_users')).toEqual(['connector_subject']);
    expect(await indexes('audit')).toEqual(expect.arrayContaining(['user_time', 'time']));
    expect(await indexes('leases')).toEqual(expect.arrayContaining(['expires_at']));
  });

  it('opens twice on one database (indexes are created idempotently)', async () => {
    const { url } = freshDatabaseUrl('twice');
    const first = await openMongoStore(url);
    const second = await openMongoStore(url);
    await first.createAccount(newUser(1), [], T0);
    expect((await second.getAccount('user-1'))?.user.email).toBe('person.1@example.com');
    await first.close();
    await second.close();
    await admin.db(/\/([^/?]+)(\?|$)/.exec(url)?.[1] ?? '').dropDatabase();
  });

  it('stores one document per account, with its identities and memberships', async () => {
    const { store, db } = await open();
    await store.createAccount(newUser(1), [{ organization: 'OrgA', group: 'Admins', source: 'sync' }], T0);
    expect(await db.collection('accounts').countDocuments({})).toBe(1);
    const doc = await db.collection<{ _id: string }>('accounts').findOne({ _id: 'user-1' });
    expect(doc).toMatchObject({
      identities: [{ connector: 'okta-prod', subject: '00u1' }],
      memberships: [{ organization: 'OrgA', group: 'Admins', source: 'sync' }],
      version: 1,
    });
  });

  it('refuses an identity named twice in one new account and writes nothing', async () => {
    const { store, db } = await open();
    const user = { ...newUser(1), identities: [newUser(1).identities[0]!, newUser(1).identities[0]!] };
    await expect(store.createAccount(user, [], T0)).rejects.toMatchObject({ key: 'identity' });
    expect(await store.countUsers()).toBe(0);
    expect(await db.collection('identities').countDocuments({})).toBe(0);
  });

  it('releases identity claims when the account insert fails', async () => {
    const { store, db } = await open();
    await store.createAccount(newUser(1), [], T0);
    const clash = { ...newUser(2), email: 'PERSON.1@example.com' };
    await expect(store.createAccount(clash, [], T0)).rejects.toMatchObject({ key: 'email' });
    expect(await db.collection('identities').countDocuments({ userId: 'user-2' })).toBe(0);
    // The identity is free for the next account.
    await store.createAccount({ ...newUser(3), identities: newUser(2).identities }, [], T0);
    expect((await store.findAccountByIdentity(newUser(2).identities[0]!))?.user.id).toBe('user-3');
  });

  it('takes over an identity claim left by a crashed writer, but not a fresh one', async () => {
    const { store, db } = await open();
    const claims = db.collection<{ _id: string; connector: string; subject: string; userId: string; claimedAt: Date }>(
      'identities',
    );
    const stale = { connector: 'okta-prod', subject: '00uSTALE' };
    const fresh = { connector: 'okta-prod', subject: '00uFRESH' };
    await claims.insertOne({ _id: tupleKey(stale.connector, stale.subject), ...stale, userId: 'ghost', claimedAt: new Date(Date.now() - 3_600_000) });
    await claims.insertOne({ _id: tupleKey(fresh.connector, fresh.subject), ...fresh, userId: 'in-flight', claimedAt: new Date() });

    await store.createAccount({ ...newUser(1), identities: [stale] }, [], T0);
    expect((await store.findAccountByIdentity(stale))?.user.id).toBe('user-1');

    const refused = store.createAccount({ ...newUser(2), identities: [fresh] }, [], T0);
    await expect(refused).rejects.toBeInstanceOf(AlreadyExistsError);
    expect(await store.getAccount('user-2')).toBeNull();
  });

  it('gives up with ConflictError after a bounded number of lost races, writing nothing', async () => {
    const { store, db } = await open('guarded');
    await store.createAccount(newUser(1), [], T0);
    // Every revision looks taken by a live writer, so each attempt loses.
    const guards = db.collection<{ _id: string; takenAt: Date }>('write_guards');
    await guards.insertOne({ _id: tupleKey('account', 'user-1', '1'), takenAt: new Date() });

    let runs = 0;
    const outcome = store.updateAccount(
      'user-1',
      (current) => {
        runs += 1;
        return { change: { name: 'Changed' }, result: current.version };
      },
      T0,
    );
    await expect(outcome).rejects.toBeInstanceOf(ConflictError);
    expect(runs).toBe(10);
    const stored = await store.getAccount('user-1');
    expect(stored?.version).toBe(1);
    expect(stored?.user.name).toBe('Person 1');
  });

  it('clears a write guard left by a crashed writer', async () => {
    const { store, db } = await open('guarded');
    await store.createAccount(newUser(1), [], T0);
    const guards = db.collection<{ _id: string; takenAt: Date }>('write_guards');
    await guards.insertOne({ _id: tupleKey('account', 'user-1', '1'), takenAt: new Date(Date.now() - 3_600_000) });
    const outcome = await store.updateAccount('user-1', (c) => ({ change: { disabled: true }, result: c.version }), T0);
    expect(outcome.account.version).toBe(2);
    expect(await guards.countDocuments({})).toBe(0);
  });

  // The atomic path (one upsert whose filter matches "expired or mine") is what runs on MongoDB;
  // run one after another, it behaves the same on any MongoDB-wire server.
  for (const mode of ['atomic', 'guarded'] as const) {
    it(`leases (${mode} writes): take, refuse, renew, take over after expiry, release`, async () => {
      const { store } = await open(mode);
      const at = (ms: number) => new Date(Date.parse(T0) + ms).toISOString();
      expect(await store.acquireLease('prewarm:okta', 'a', TTL, T0)).toBe(true);
      expect(await store.acquireLease('prewarm:okta', 'b', TTL, at(1))).toBe(false);
      expect(await store.acquireLease('prewarm:okta', 'a', TTL, at(50_000))).toBe(true);
      expect(await store.acquireLease('prewarm:okta', 'b', TTL, at(100_000))).toBe(false);
      expect(await store.acquireLease('prewarm:okta', 'b', TTL, at(110_000))).toBe(true);
      await store.releaseLease('prewarm:okta', 'a');
      expect(await store.acquireLease('prewarm:okta', 'a', TTL, at(110_001))).toBe(false);
      await store.releaseLease('prewarm:okta', 'b');
      expect(await store.acquireLease('prewarm:okta', 'a', TTL, at(110_002))).toBe(true);
    });
  }

  it('refuses a bad lease TTL or timestamp', async () => {
    const { store } = await open();
    await expect(store.acquireLease('x', 'a', 0, T0)).rejects.toBeInstanceOf(StoreError);
    await expect(store.acquireLease('x', 'a', TTL, 'yesterday')).rejects.toBeInstanceOf(StoreError);
    expect(await store.acquireLease('x', 'b', TTL, T0)).toBe(true);
  });

  it('reports a malformed stored document as a StoreError instead of returning it', async () => {
    const { store, db } = await open();
    await db
      .collection<{ _id: string; username: string; email: string; version: string }>('accounts')
      .insertOne({ _id: 'broken', username: 'x', email: 'x@example.com', version: 'one' });
    await expect(store.getAccount('broken')).rejects.toThrow(/malformed account document "broken" in accounts: user\.disabled: /);
    await db.collection<{ _id: string }>('sync_states').insertOne({
      _id: tupleKey('u1', 'okta'),
      ...{ userId: 'u1', connector: 'okta', subject: 's', appliedGroups: ['a', 7], lastLoginAt: null, lastReconciledAt: null },
      ...{ lastSeenByPrewarmAt: null, status: 'fresh' },
    });
    await expect(store.getSyncState('u1', 'okta')).rejects.toThrow(/malformed sync state document .* in sync_states: appliedGroups\.1: /);
    await expect(store.listSyncStates('okta')).rejects.toBeInstanceOf(StoreError);
  });

  it('reads a sync state an older version stored with pending changes, and the next login drops them', async () => {
    const { store, db } = await open();
    const state = { userId: 'u1', connector: 'okta', subject: 's', appliedGroups: ['a'], lastLoginAt: T0, lastReconciledAt: T0 };
    await db.collection<{ _id: string }>('sync_states').insertOne({
      _id: tupleKey('u1', 'okta'),
      ...state,
      ...{ lastSeenByPrewarmAt: T0, pendingAdd: [{ organization: 'OrgA', group: 'G', source: 'sync' }], pendingRemove: [], status: 'fresh', lastError: null },
    });
    expect(await store.getSyncState('u1', 'okta')).toEqual({ ...state, lastSeenByPrewarmAt: T0, status: 'fresh', lastError: null });
    await store.recordLogin({ ...state, status: 'fresh', lastError: null });
    const stored = await db.collection<{ _id: string }>('sync_states').findOne({ _id: tupleKey('u1', 'okta') });
    expect(stored).not.toHaveProperty('pendingAdd');
    expect(stored).not.toHaveProperty('pendingRemove');
  });

  it('writes cache pages larger than one bulk chunk and replaces users already cached', async () => {
    const { store } = await open();
    const user = (i: number, group: string) => ({
      connector: 'okta-prod',
      subject: `00u${String(i).padStart(4, '0')}`,
      email: null,
      name: null,
      groups: [group],
      nestedGroups: [],
      fetchedAt: T0,
      origin: 'prewarm' as const,
      absentSince: null,
    });
    await store.putCachedUsers(Array.from({ length: 1200 }, (_, i) => user(i, 'Old')));
    await store.putCachedUsers([user(5, 'New'), user(1199, 'New'), user(1500, 'New')]);
    const listed = await store.listCachedUsers('okta-prod');
    expect(listed).toHaveLength(1201);
    expect(listed.filter((u) => u.groups[0] === 'New').map((u) => u.subject)).toEqual(['00u0005', '00u1199', '00u1500']);
  });
});
