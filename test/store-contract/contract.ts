import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  StoreUnavailableError,
  type Account,
  type AccountChange,
  type AuditEntry,
  type CachedUser,
  type ChangeEvent,
  type Identity,
  type Invitation,
  type Membership,
  type NewUser,
  type PrewarmRun,
  type Store,
  type SyncState,
} from '../../store/types.js';
import { WRITE_METHODS } from '../../store/write-events.js';

/**
 * The store contract: every backend runs this suite through a ten-line test file. Each test gets
 * a fresh, empty store from `open()`. Tests use only the `Store` interface, never a backend's
 * internals, and compare unordered results as sets.
 */

const T0 = '2025-03-01T08:00:00.000Z';
const T1 = '2025-03-01T09:00:00.000Z';
const T2 = '2025-03-01T10:00:00.000Z';

function at(base: string, plusMs: number): string {
  return new Date(Date.parse(base) + plusMs).toISOString();
}

function newUser(n: number, overrides: Partial<NewUser> = {}): NewUser {
  return {
    id: `user-${n}`,
    username: `person.${n}`,
    email: `person.${n}@example.com`,
    name: `Person ${n}`,
    identities: [{ connector: 'okta-prod', subject: `00u${n}` }],
    ...overrides,
  };
}

function m(organization: string, group: string, source: Membership['source'] = 'sync'): Membership {
  return { organization, group, source };
}

const byKey = (a: Membership, b: Membership): number =>
  `${a.organization}/${a.group}`.localeCompare(`${b.organization}/${b.group}`);
const sortedMemberships = (ms: Membership[]): Membership[] => [...ms].sort(byKey);
const sortedIdentities = (ids: Identity[]): Identity[] =>
  [...ids].sort((a, b) => `${a.connector}:${a.subject}`.localeCompare(`${b.connector}:${b.subject}`));

function cachedUser(connector: string, subject: string, overrides: Partial<CachedUser> = {}): CachedUser {
  return {
    connector,
    subject,
    email: `${subject}@example.com`,
    name: `Name ${subject}`,
    groups: ['Engineering', 'ENT_ORGA_ADMINS'],
    nestedGroups: ['Engineering'],
    fetchedAt: T0,
    origin: 'prewarm',
    absentSince: null,
    ...overrides,
  };
}

function syncState(userId: string, connector: string, overrides: Partial<SyncState> = {}): SyncState {
  return {
    userId,
    connector,
    subject: `sub-${userId}`,
    appliedGroups: ['Engineering'],
    lastLoginAt: T0,
    lastReconciledAt: T0,
    lastSeenByPrewarmAt: null,
    status: 'fresh',
    lastError: null,
    ...overrides,
  };
}

/** A full run of `okta-prod` that has just started. */
function prewarmRun(): PrewarmRun {
  return {
    id: 'run-1',
    connector: 'okta-prod',
    mode: 'full',
    state: 'running',
    startedAt: T0,
    finishedAt: null,
    figures: { apiCalls: 0, pages: 0, retries: 0, groups: 0, users: 0, memberships: 0, errors: 0 },
    details: { groupsTotal: null, absentMarked: 0, membershipsRemoved: 0, guard: null, driftSummary: null },
    error: null,
  };
}

function invitation(id: string, email: string, group: string | null = null): Invitation {
  return {
    id,
    organization: 'OrgA',
    email,
    group,
    state: 'pending',
    createdAt: T0,
    acceptedAt: null,
    acceptedBy: null,
  };
}

/** An updater that applies `change` to whatever it reads; its result is the version it read. */
function applying(change: (current: Account) => AccountChange | null) {
  return (current: Account) => ({ change: change(current), result: current.version });
}

async function expectAlreadyExists(promise: Promise<unknown>, key: AlreadyExistsError['key']): Promise<void> {
  const error: unknown = await promise.then(
    () => new Error('expected AlreadyExistsError, but the write succeeded'),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AlreadyExistsError);
  expect(error).toMatchObject({ key });
}

/**
 * Parallel writers in the race tests: enough that, on a server that runs writes concurrently
 * (MongoDB, DocumentDB), losers meet the unique-index races and deadlocks a few writers never hit.
 */
const RACERS = 50;

export interface ContractOptions {
  /**
   * Parallel writers in the races of bulk writes on shared records (default `RACERS`). FerretDB
   * 1.x, the guarded path's test server, stalls with ten or more of them (a bug of its own).
   */
  bulkRacers?: number;
  /**
   * False when updates read and write in two steps (FerretDB 1.x), so that concurrent ones can
   * lose an update: the races of `recordLoginTimes` and of the two sync-state writers are then
   * skipped, as the report shows, since they fail there.
   */
  atomicUpdateOperators?: boolean;
}

export function describeStoreContract(label: string, open: () => Promise<Store>, options: ContractOptions = {}): void {
  const bulkRacers = options.bulkRacers ?? RACERS;
  describe(`store contract: ${label}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await open();
    });

    afterEach(async () => {
      await store.close();
    });

    describe('basics', () => {
      it('answers ping and describes itself', async () => {
        await expect(store.ping()).resolves.toBeUndefined();
        expect(store.describe()).not.toBe('');
        const { server, writeMode } = store.details();
        expect(server).toMatch(/^(SQLite|MongoDB|FerretDB) \S/);
        expect(['transactions', 'atomic', 'guarded']).toContain(writeMode);
      });

      it('takes a write probe, again and again', async () => {
        await expect(store.probeWrite()).resolves.toBeUndefined();
        await expect(store.probeWrite()).resolves.toBeUndefined();
      });

      it('starts empty', async () => {
        expect(await store.countUsers()).toBe(0);
        expect(await store.listOrganizations()).toEqual([]);
        expect(await store.listSyncStates()).toEqual([]);
        expect(await store.listAudit({})).toEqual([]);
      });

      it('rejects reads and writes after close with StoreUnavailableError naming the store (a 503, never a bare 500)', async () => {
        await store.close();
        for (const call of [() => store.ping(), () => store.getAccount('user-1'), () => store.createAccount(newUser(1), [], T0)]) {
          const error: unknown = await call().then(
            () => null,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(StoreUnavailableError);
          expect((error as Error).message).toMatch(/^the (SQLite|MongoDB) store .*cannot be used/);
        }
      });
    });

    describe('accounts', () => {
      it('creates an account with a lower-cased email, version 1 and the given memberships', async () => {
        const created = await store.createAccount(
          newUser(1, { email: 'Ada.Lovelace@Example.COM', name: 'Ada Lovelace' }),
          [m('OrgA', 'Admins'), m('OrgA', 'Members', 'default')],
          T0,
        );
        expect(created).toEqual({
          user: {
            id: 'user-1',
            username: 'person.1',
            email: 'ada.lovelace@example.com',
            name: 'Ada Lovelace',
            disabled: false,
            identities: [{ connector: 'okta-prod', subject: '00u1' }],
            createdAt: T0,
            updatedAt: T0,
          },
          memberships: expect.any(Array),
          version: 1,
        });
        expect(sortedMemberships(created.memberships)).toEqual([m('OrgA', 'Admins'), m('OrgA', 'Members', 'default')]);
        expect(await store.countUsers()).toBe(1);
      });

      it('reads an account back by id, by identity and by email in any case', async () => {
        const created = await store.createAccount(
          newUser(1, {
            email: 'ada@example.com',
            identities: [
              { connector: 'okta-prod', subject: '00uA' },
              { connector: 'entra', subject: 'oid-A' },
            ],
          }),
          [m('OrgA', 'Admins')],
          T0,
        );
        await store.createAccount(newUser(2), [], T0);

        const byId = await store.getAccount('user-1');
        expect(byId).not.toBeNull();
        expect(byId?.user.id).toBe('user-1');
        expect(sortedIdentities(byId?.user.identities ?? [])).toEqual(sortedIdentities(created.user.identities));
        expect(byId?.memberships).toEqual([m('OrgA', 'Admins')]);
        expect(byId?.version).toBe(1);

        expect((await store.findAccountByIdentity({ connector: 'entra', subject: 'oid-A' }))?.user.id).toBe('user-1');
        expect((await store.findAccountByIdentity({ connector: 'okta-prod', subject: '00uA' }))?.user.id).toBe('user-1');
        expect((await store.findAccountByEmail('ADA@Example.com'))?.user.id).toBe('user-1');
        expect((await store.findAccountByEmail('person.2@example.com'))?.user.id).toBe('user-2');
      });

      it('answers null for accounts that do not exist', async () => {
        await store.createAccount(newUser(1), [], T0);
        expect(await store.getAccount('nobody')).toBeNull();
        expect(await store.findAccountByEmail('nobody@example.com')).toBeNull();
        // Same subject under another connector is another identity.
        expect(await store.findAccountByIdentity({ connector: 'entra', subject: '00u1' })).toBeNull();
      });

      it('rejects a taken identity, email (in another case), username or id, naming the key and writing nothing', async () => {
        await store.createAccount(newUser(1, { email: 'ada@example.com' }), [], T0);

        await expectAlreadyExists(
          store.createAccount(
            newUser(2, { identities: [{ connector: 'okta-prod', subject: '00u1' }] }),
            [m('OrgA', 'Admins')],
            T1,
          ),
          'identity',
        );
        await expectAlreadyExists(store.createAccount(newUser(3, { email: 'ADA@example.COM' }), [], T1), 'email');
        await expectAlreadyExists(store.createAccount(newUser(4, { username: 'person.1' }), [], T1), 'username');
        await expectAlreadyExists(store.createAccount(newUser(5, { id: 'user-1' }), [], T1), 'id');

        expect(await store.countUsers()).toBe(1);
        for (const id of ['user-2', 'user-3', 'user-4', 'user-5']) expect(await store.getAccount(id)).toBeNull();
        expect(await store.findAccountByEmail('person.2@example.com')).toBeNull();
        expect(await store.findAccountByIdentity({ connector: 'okta-prod', subject: '00u3' })).toBeNull();
        expect(await store.listGroupMembers('OrgA', 'Admins')).toEqual([]);
      });

      it('lists the members of one group', async () => {
        await store.createAccount(newUser(1), [m('OrgA', 'Admins'), m('OrgA', 'Members', 'default')], T0);
        await store.createAccount(newUser(2), [m('OrgA', 'Members', 'default')], T0);
        await store.createAccount(newUser(3), [m('OrgB', 'Admins')], T0);
        expect(await store.listGroupMembers('OrgA', 'Admins')).toEqual(['user-1']);
        expect([...(await store.listGroupMembers('OrgA', 'Members'))].sort()).toEqual(['user-1', 'user-2']);
        expect(await store.listGroupMembers('OrgA', 'Nobody')).toEqual([]);
      });

      it(`creates exactly one account when ${RACERS} logins of one new person race`, async () => {
        const attempts = Array.from({ length: RACERS }, (_, i) =>
          store.createAccount(
            newUser(100 + i, {
              email: i % 2 === 0 ? 'grace@example.com' : 'Grace@Example.com',
              identities: [{ connector: 'okta-prod', subject: '00uGRACE' }],
            }),
            [m('OrgA', 'Admins')],
            T0,
          ),
        );
        const outcomes = await Promise.allSettled(attempts);
        const winners = outcomes.filter((o) => o.status === 'fulfilled');
        const losers = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason] : []));
        expect(winners).toHaveLength(1);
        expect(losers).toHaveLength(RACERS - 1);
        for (const reason of losers) expect(reason).toBeInstanceOf(AlreadyExistsError);
        expect(await store.countUsers()).toBe(1);
        const account = await store.findAccountByEmail('grace@example.com');
        expect(account?.user.identities).toEqual([{ connector: 'okta-prod', subject: '00uGRACE' }]);
        expect(await store.listGroupMembers('OrgA', 'Admins')).toEqual([account?.user.id]);
      });
    });

    describe('updateAccount', () => {
      it('throws NotFoundError for a missing account without running the updater', async () => {
        let calls = 0;
        const outcome = store.updateAccount(
          'nobody',
          (current) => {
            calls += 1;
            return { change: { name: 'x' }, result: current.version };
          },
          T1,
        );
        await expect(outcome).rejects.toBeInstanceOf(NotFoundError);
        expect(calls).toBe(0);
      });

      it('replaces memberships as a set, adds identities, changes the name and bumps the version once', async () => {
        await store.createAccount(newUser(1), [m('OrgA', 'Admins'), m('OrgA', 'Members', 'default'), m('OrgB', 'Dev')], T0);

        const outcome = await store.updateAccount(
          'user-1',
          (current) => ({
            change: {
              name: 'Ada Byron',
              addIdentities: [{ connector: 'entra', subject: 'oid-1' }],
              // Keeps OrgA/Members, drops OrgA/Admins and OrgB/Dev, adds OrgC/Ops.
              memberships: [m('OrgA', 'Members', 'default'), m('OrgC', 'Ops', 'manual')],
            },
            result: `read version ${current.version}`,
          }),
          T1,
        );

        expect(outcome.changed).toBe(true);
        expect(outcome.result).toBe('read version 1');
        expect(outcome.account.version).toBe(2);
        expect(outcome.account.user.name).toBe('Ada Byron');
        expect(outcome.account.user.updatedAt).toBe(T1);
        expect(outcome.account.user.createdAt).toBe(T0);
        expect(sortedMemberships(outcome.account.memberships)).toEqual([
          m('OrgA', 'Members', 'default'),
          m('OrgC', 'Ops', 'manual'),
        ]);
        expect(sortedIdentities(outcome.account.user.identities)).toEqual([
          { connector: 'entra', subject: 'oid-1' },
          { connector: 'okta-prod', subject: '00u1' },
        ]);

        const stored = await store.getAccount('user-1');
        expect(stored?.version).toBe(2);
        expect(sortedMemberships(stored?.memberships ?? [])).toEqual(sortedMemberships(outcome.account.memberships));
        expect((await store.findAccountByIdentity({ connector: 'entra', subject: 'oid-1' }))?.user.id).toBe('user-1');
        expect(await store.listGroupMembers('OrgA', 'Admins')).toEqual([]);
        expect(await store.listGroupMembers('OrgC', 'Ops')).toEqual(['user-1']);
      });

      it('counts a changed membership source or disabled flag as a change', async () => {
        await store.createAccount(newUser(1), [m('OrgA', 'Admins', 'manual')], T0);
        const source = await store.updateAccount('user-1', applying(() => ({ memberships: [m('OrgA', 'Admins', 'sync')] })), T1);
        expect(source.changed).toBe(true);
        expect(source.account.memberships).toEqual([m('OrgA', 'Admins', 'sync')]);
        expect(source.account.version).toBe(2);

        const disabled = await store.updateAccount('user-1', applying(() => ({ disabled: true })), T2);
        expect(disabled.changed).toBe(true);
        expect(disabled.account.user.disabled).toBe(true);
        expect((await store.getAccount('user-1'))?.user.disabled).toBe(true);
        expect(disabled.account.version).toBe(3);
      });

      it('writes nothing for a null change or a change equal to the current state', async () => {
        await store.createAccount(newUser(1), [m('OrgA', 'Admins'), m('OrgB', 'Dev')], T0);

        const none = await store.updateAccount('user-1', () => ({ change: null, result: 'nothing' }), T1);
        expect(none).toMatchObject({ changed: false, result: 'nothing' });
        expect(none.account.version).toBe(1);

        const same = await store.updateAccount(
          'user-1',
          applying((current) => ({
            name: current.user.name,
            disabled: false,
            addIdentities: current.user.identities,
            memberships: [...current.memberships].reverse(),
          })),
          T2,
        );
        expect(same.changed).toBe(false);
        expect(same.account.version).toBe(1);

        const stored = await store.getAccount('user-1');
        expect(stored?.version).toBe(1);
        expect(stored?.user.updatedAt).toBe(T0);
      });

      it('refuses to link an identity that belongs to another account and applies none of the change', async () => {
        await store.createAccount(newUser(1), [m('OrgA', 'Admins')], T0);
        await store.createAccount(newUser(2), [], T0);
        await expectAlreadyExists(
          store.updateAccount(
            'user-1',
            applying(() => ({
              name: 'Changed',
              memberships: [],
              addIdentities: [{ connector: 'okta-prod', subject: '00u2' }],
            })),
            T1,
          ),
          'identity',
        );
        const stored = await store.getAccount('user-1');
        expect(stored?.version).toBe(1);
        expect(stored?.user.name).toBe('Person 1');
        expect(stored?.memberships).toEqual([m('OrgA', 'Admins')]);
        expect((await store.findAccountByIdentity({ connector: 'okta-prod', subject: '00u2' }))?.user.id).toBe('user-2');
      });

      it('writes nothing when the updater throws', async () => {
        await store.createAccount(newUser(1), [m('OrgA', 'Admins')], T0);
        const failing = store.updateAccount(
          'user-1',
          () => {
            throw new Error('policy refused');
          },
          T1,
        );
        await expect(failing).rejects.toThrow('policy refused');
        expect((await store.getAccount('user-1'))?.version).toBe(1);
      });

      it('applies two concurrent updates of one account exactly once each', async () => {
        await store.createAccount(newUser(1), [m('OrgA', 'Members', 'default')], T0);
        const add = (group: string) =>
          store.updateAccount(
            'user-1',
            applying((current) => ({ memberships: [...current.memberships, m('OrgA', group)] })),
            T1,
          );
        const [first, second] = await Promise.all([add('Admins'), add('Dev')]);

        const stored = await store.getAccount('user-1');
        expect(stored?.version).toBe(3);
        expect(sortedMemberships(stored?.memberships ?? [])).toEqual([
          m('OrgA', 'Admins'),
          m('OrgA', 'Dev'),
          m('OrgA', 'Members', 'default'),
        ]);
        // Each outcome comes from the updater run that was written: it read the version before its own.
        expect([first.account.version, second.account.version].sort()).toEqual([2, 3]);
        expect(first.result).toBe(first.account.version - 1);
        expect(second.result).toBe(second.account.version - 1);
      });

      it(`loses and repeats no update when ${RACERS} writers race on one account`, async () => {
        await store.createAccount(newUser(1), [], T0);
        const writers = Array.from({ length: RACERS }, (_, i) =>
          store.updateAccount(
            'user-1',
            applying((current) => ({ memberships: [...current.memberships, m('OrgA', `G${i}`, 'manual')] })),
            at(T1, i),
          ),
        );
        // A backend may give up with ConflictError when its bounded retries run out; whatever
        // succeeded must then be applied exactly once, and whatever failed not at all.
        const outcomes = await Promise.allSettled(writers);
        const applied = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
        for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toBeInstanceOf(ConflictError);
        expect(applied.length).toBeGreaterThan(0);

        const stored = await store.getAccount('user-1');
        expect(stored?.version).toBe(1 + applied.length);
        expect(sortedMemberships(stored?.memberships ?? [])).toEqual(
          sortedMemberships(applied.map((i) => m('OrgA', `G${i}`, 'manual'))),
        );
        const versions = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.account.version] : []));
        expect(new Set(versions).size).toBe(applied.length);
      });
    });

    describe('organizations', () => {
      const orgA = { key: 'OrgA', defaultGroup: 'Members', groups: ['Admins', 'Dev'] };

      it('creates, reads and lists organizations', async () => {
        expect(await store.createOrganization(orgA)).toEqual(orgA);
        await store.createOrganization({ key: 'OrgB', defaultGroup: 'Users', groups: [] });
        const read = await store.getOrganization('OrgA');
        expect(read?.defaultGroup).toBe('Members');
        expect([...(read?.groups ?? [])].sort()).toEqual(['Admins', 'Dev']);
        expect(await store.getOrganization('OrgZ')).toBeNull();
        const all = await store.listOrganizations();
        expect(all.map((o) => o.key).sort()).toEqual(['OrgA', 'OrgB']);
      });

      it('rejects a taken organization key and keeps the original', async () => {
        await store.createOrganization(orgA);
        await expectAlreadyExists(
          store.createOrganization({ key: 'OrgA', defaultGroup: 'Other', groups: ['X'] }),
          'organization',
        );
        const read = await store.getOrganization('OrgA');
        expect(read?.defaultGroup).toBe('Members');
        expect([...(read?.groups ?? [])].sort()).toEqual(['Admins', 'Dev']);
      });

      it('ensureOrganization creates a missing organization, adds missing groups and never removes', async () => {
        const created = await store.ensureOrganization({ key: 'OrgC', defaultGroup: 'Members', groups: ['Ops'] });
        expect(created).toEqual({ key: 'OrgC', defaultGroup: 'Members', groups: ['Ops'] });

        await store.createOrganization(orgA);
        const ensured = await store.ensureOrganization({ key: 'OrgA', defaultGroup: 'Members', groups: ['Dev', 'Sec'] });
        expect(ensured.defaultGroup).toBe('Members');
        expect([...ensured.groups].sort()).toEqual(['Admins', 'Dev', 'Sec']);
        const read = await store.getOrganization('OrgA');
        expect([...(read?.groups ?? [])].sort()).toEqual(['Admins', 'Dev', 'Sec']);

        const again = await store.ensureOrganization({ key: 'OrgA', defaultGroup: 'Members', groups: [] });
        expect([...again.groups].sort()).toEqual(['Admins', 'Dev', 'Sec']);
      });

      it('addGroup adds a group, and refuses a missing organization or an existing group', async () => {
        await store.createOrganization(orgA);
        const updated = await store.addGroup('OrgA', 'Sec');
        expect([...updated.groups].sort()).toEqual(['Admins', 'Dev', 'Sec']);
        await expect(store.addGroup('OrgZ', 'Sec')).rejects.toBeInstanceOf(NotFoundError);
        await expectAlreadyExists(store.addGroup('OrgA', 'Dev'), 'group');
        expect(await store.getOrganization('OrgZ')).toBeNull();
        expect([...((await store.getOrganization('OrgA'))?.groups ?? [])].sort()).toEqual(['Admins', 'Dev', 'Sec']);
      });
    });

    describe('invitations', () => {
      it('finds pending invitations by email in any case', async () => {
        const created = await store.createInvitation(invitation('inv-1', 'Ada@Example.com', 'Admins'));
        expect(created.email).toBe('ada@example.com');
        await store.createInvitation(invitation('inv-2', 'ada@example.com'));
        await store.createInvitation(invitation('inv-3', 'bob@example.com'));

        const pending = await store.pendingInvitations('ADA@EXAMPLE.COM');
        expect(pending.map((i) => i.id).sort()).toEqual(['inv-1', 'inv-2']);
        expect(pending.find((i) => i.id === 'inv-1')).toEqual({ ...invitation('inv-1', 'ada@example.com', 'Admins') });
        expect(await store.pendingInvitations('carol@example.com')).toEqual([]);
      });

      it('rejects a taken invitation id', async () => {
        await store.createInvitation(invitation('inv-1', 'ada@example.com'));
        await expectAlreadyExists(store.createInvitation(invitation('inv-1', 'bob@example.com')), 'invitation');
        expect(await store.pendingInvitations('bob@example.com')).toEqual([]);
      });

      it('accepts invitations once and ignores repeated or unknown acceptances', async () => {
        await store.createInvitation(invitation('inv-1', 'ada@example.com', 'Admins'));
        await store.createInvitation(invitation('inv-2', 'ada@example.com'));
        await store.acceptInvitations(['inv-1'], 'user-1', T1);
        expect((await store.pendingInvitations('ada@example.com')).map((i) => i.id)).toEqual(['inv-2']);

        await store.acceptInvitations(['inv-1', 'inv-2', 'inv-unknown'], 'user-1', T2);
        await store.acceptInvitations(['inv-1', 'inv-2'], 'user-1', T2);
        expect(await store.pendingInvitations('ada@example.com')).toEqual([]);
      });

      it('lists every pending invitation at once, by email, for drift reports', async () => {
        expect(await store.listPendingInvitations()).toEqual([]);
        await store.createInvitation(invitation('inv-1', 'Carol@Example.com'));
        await store.createInvitation(invitation('inv-2', 'ada@example.com', 'Admins'));
        await store.createInvitation(invitation('inv-3', 'bob@example.com'));
        await store.acceptInvitations(['inv-3'], 'user-1', T1);
        expect(await store.listPendingInvitations()).toEqual([
          invitation('inv-2', 'ada@example.com', 'Admins'),
          invitation('inv-1', 'carol@example.com'),
        ]);
      });
    });

    describe('directory cache', () => {
      it('stores a user and replaces it on the next put', async () => {
        const first = cachedUser('okta-prod', '00u1');
        await store.putCachedUser(first);
        expect(await store.getCachedUser('okta-prod', '00u1')).toEqual(first);
        expect(await store.getCachedUser('entra', '00u1')).toBeNull();

        const second = cachedUser('okta-prod', '00u1', {
          groups: ['Ops'],
          nestedGroups: [],
          fetchedAt: T1,
          origin: 'live',
          absentSince: T1,
          email: null,
          name: null,
        });
        await store.putCachedUser(second);
        expect(await store.getCachedUser('okta-prod', '00u1')).toEqual(second);
        expect(await store.listCachedUsers('okta-prod')).toEqual([second]);
      });

      it('bulk put upserts and listing is per connector', async () => {
        await store.putCachedUser(cachedUser('okta-prod', '00u1'));
        await store.putCachedUsers([
          cachedUser('okta-prod', '00u1', { groups: ['Renamed'], nestedGroups: [], fetchedAt: T1 }),
          cachedUser('okta-prod', '00u2'),
          cachedUser('entra', 'oid-1'),
        ]);
        const okta = await store.listCachedUsers('okta-prod');
        expect(okta.map((u) => u.subject).sort()).toEqual(['00u1', '00u2']);
        expect(okta.find((u) => u.subject === '00u1')).toMatchObject({ groups: ['Renamed'], fetchedAt: T1 });
        expect((await store.listCachedUsers('entra')).map((u) => u.subject)).toEqual(['oid-1']);
        expect(await store.listCachedUsers('gitlab')).toEqual([]);
      });

      it('writes 5,000 users in one bulk put and reads them all back', async () => {
        const users = Array.from({ length: 5000 }, (_, i) =>
          cachedUser('okta-prod', `00u${String(i).padStart(5, '0')}`, { groups: [`G${i % 50}`, 'All'] }),
        );
        await store.putCachedUsers(users);
        const listed = await store.listCachedUsers('okta-prod');
        expect(listed).toHaveLength(5000);
        const bySubject = new Map(listed.map((u) => [u.subject, u]));
        for (const user of users) expect(bySubject.get(user.subject)).toEqual(user);
        expect(await store.getCachedUser('okta-prod', '00u04999')).toEqual(users[4999]);
      });

      it('reads users by subject in bulk, and counts the present users and their memberships', async () => {
        const users = Array.from({ length: 2500 }, (_, i) =>
          cachedUser('okta-prod', `00u${String(i).padStart(5, '0')}`, { groups: i % 2 === 0 ? ['A', 'B'] : ['A'], nestedGroups: [] }),
        );
        await store.putCachedUsers([
          ...users,
          cachedUser('okta-prod', 'gone', { groups: ['A', 'B', 'C'], absentSince: T1 }),
          cachedUser('entra', '00u00001', { groups: ['X', 'Y', 'Z'] }),
        ]);

        // Past one bulk chunk (1,000), with unknown subjects and a subject of another connector.
        const wanted = ['00u00001', '00u02499', 'nobody', ...users.slice(1000, 2200).map((u) => u.subject)];
        const read = await store.getCachedUsers('okta-prod', wanted);
        expect(read.map((u) => u.subject).sort()).toEqual(wanted.filter((s) => s !== 'nobody').sort());
        expect(read.find((u) => u.subject === '00u00001')).toEqual(users[1]);
        expect(await store.getCachedUsers('okta-prod', [])).toEqual([]);

        expect(await store.countCachedMemberships('okta-prod')).toEqual({ users: 2500, memberships: 3750 });
        expect(await store.countCachedMemberships('entra')).toEqual({ users: 1, memberships: 3 });
        expect(await store.countCachedMemberships('gitlab')).toEqual({ users: 0, memberships: 0 });
      });

      it('stores groups per connector and replaces them on the next put', async () => {
        await store.putCachedGroups([
          { connector: 'okta-prod', id: 'g1', name: 'Engineering', fetchedAt: T0 },
          { connector: 'okta-prod', id: 'g2', name: 'Ops', fetchedAt: T0 },
          { connector: 'entra', id: 'g1', name: 'Other', fetchedAt: T0 },
        ]);
        await store.putCachedGroups([{ connector: 'okta-prod', id: 'g1', name: 'Engineering (renamed)', fetchedAt: T1 }]);
        const okta = [...(await store.listCachedGroups('okta-prod'))].sort((a, b) => a.id.localeCompare(b.id));
        expect(okta).toEqual([
          { connector: 'okta-prod', id: 'g1', name: 'Engineering (renamed)', fetchedAt: T1 },
          { connector: 'okta-prod', id: 'g2', name: 'Ops', fetchedAt: T0 },
        ]);
        expect(await store.listCachedGroups('entra')).toEqual([
          { connector: 'entra', id: 'g1', name: 'Other', fetchedAt: T0 },
        ]);
      });

      it("replaces one connector's whole group list, and deletes groups by id", async () => {
        await store.putCachedGroups([
          { connector: 'okta-prod', id: 'g1', name: 'Engineering', fetchedAt: T0 },
          { connector: 'okta-prod', id: 'g2', name: 'Ops', fetchedAt: T0 },
          { connector: 'entra', id: 'g9', name: 'Other', fetchedAt: T0 },
        ]);
        await store.replaceCachedGroups('okta-prod', [
          { connector: 'okta-prod', id: 'g2', name: 'Ops', fetchedAt: T1 },
          { connector: 'okta-prod', id: 'g3', name: 'Sales', fetchedAt: T1 },
        ]);
        const ids = async (connector: string) => (await store.listCachedGroups(connector)).map((g) => g.id).sort();
        expect(await ids('okta-prod')).toEqual(['g2', 'g3']);
        expect(await ids('entra')).toEqual(['g9']);
        await store.deleteCachedGroups('okta-prod', ['g3', 'missing']);
        expect(await ids('okta-prod')).toEqual(['g2']);
        await store.replaceCachedGroups('okta-prod', []);
        expect(await ids('okta-prod')).toEqual([]);
        expect(await ids('entra')).toEqual(['g9']);
      });
    });

    describe('sync state', () => {
      it('pre-warm records its sightings of many states at once, leaving out rows that do not exist', async () => {
        // More than one bulk command's worth on MongoDB.
        const states = Array.from({ length: 60 }, (_, i) => syncState(`user-${i}`, 'okta-prod', { status: 'stale', lastError: 'timeout' }));
        for (const state of states) await store.putSyncState(state);
        const sightings = states.map((state, i) => ({
          userId: state.userId,
          connector: state.connector,
          readLoginAt: state.lastLoginAt,
          seenAt: i === 7 ? null : T2,
        }));
        const missing = { ...sightings[0]!, userId: 'user-missing' };
        const written = await store.recordPrewarmSightings([...sightings, missing]);
        expect(written).toHaveLength(60);
        expect(await store.getSyncState('user-missing', 'okta-prod')).toBeNull();
        expect(await store.listSyncStates('okta-prod')).toHaveLength(60);
        // Seen: fresh, error cleared, seen now. Gone from the IdP: absent, error and time of sight kept.
        const eight = { ...states[8]!, status: 'fresh' as const, lastError: null, lastSeenByPrewarmAt: T2 };
        expect(await store.getSyncState('user-8', 'okta-prod')).toEqual(eight);
        expect(written.find((s) => s.userId === 'user-8')).toEqual(eight);
        expect(await store.getSyncState('user-7', 'okta-prod')).toEqual({ ...states[7]!, status: 'absent' });
        expect(await store.recordPrewarmSightings([])).toEqual([]);
      });

      it("keeps a login's write made between pre-warm's read and its write", async () => {
        await store.putSyncState(syncState('user-1', 'okta-prod', { lastSeenByPrewarmAt: T0 }));
        const read = (await store.getSyncState('user-1', 'okta-prod'))!; // pre-warm reads…
        const login = await store.recordLogin({
          userId: 'user-1',
          connector: 'okta-prod',
          subject: 'sub-user-1',
          appliedGroups: ['Engineering', 'Sales'],
          lastLoginAt: T1,
          lastReconciledAt: T1,
          status: 'stale',
          lastError: 'idp timeout',
        });
        // …then records its sighting of the state as it was.
        await store.recordPrewarmSightings([{ userId: 'user-1', connector: 'okta-prod', readLoginAt: read.lastLoginAt, seenAt: T2 }]);
        const expected: SyncState = { ...login, lastSeenByPrewarmAt: T2 };
        expect(await store.getSyncState('user-1', 'okta-prod')).toEqual(expected);
        expect(expected).toMatchObject({ appliedGroups: ['Engineering', 'Sales'], lastLoginAt: T1, status: 'stale', lastError: 'idp timeout' });
      });

      it("keeps pre-warm's time of sight written between a login's read and its write", async () => {
        await store.putSyncState(syncState('user-1', 'okta-prod', { lastSeenByPrewarmAt: T0 }));
        await store.recordPrewarmSightings([{ userId: 'user-1', connector: 'okta-prod', readLoginAt: T0, seenAt: T1 }]);
        const login = { userId: 'user-1', connector: 'okta-prod', subject: 's', appliedGroups: ['Admins'], lastLoginAt: T2, lastReconciledAt: T2 };
        const written = await store.recordLogin({ ...login, status: 'fresh', lastError: null });
        const expected: SyncState = { ...login, status: 'fresh', lastError: null, lastSeenByPrewarmAt: T1 };
        expect(written).toEqual(expected);
        expect(await store.getSyncState('user-1', 'okta-prod')).toEqual(expected);
      });

      it('creates the state at a first login, never seen by pre-warm', async () => {
        const login = { userId: 'user-1', connector: 'okta-prod', subject: 's', appliedGroups: [], lastLoginAt: T0, lastReconciledAt: T0 };
        const written = await store.recordLogin({ ...login, status: 'fresh', lastError: null });
        expect(written).toEqual({ ...login, status: 'fresh', lastError: null, lastSeenByPrewarmAt: null });
        expect(await store.getSyncState('user-1', 'okta-prod')).toEqual(written);
      });

      it('keeps the stored lastLoginAt when the write brings none (a push provisioning), and creates the row without one', async () => {
        const push = { userId: 'user-1', connector: 'okta-prod', subject: 's', appliedGroups: ['Admins'], lastLoginAt: null, lastReconciledAt: T0 };
        const created = await store.recordLogin({ ...push, status: 'fresh', lastError: null });
        expect(created).toEqual({ ...push, status: 'fresh', lastError: null, lastSeenByPrewarmAt: null });

        await store.recordLogin({ ...push, lastLoginAt: T1, lastReconciledAt: T1, status: 'fresh', lastError: null });
        const written = await store.recordLogin({ ...push, appliedGroups: [], lastReconciledAt: T2, status: 'fresh', lastError: null });
        const expected: SyncState = { ...push, appliedGroups: [], lastLoginAt: T1, lastReconciledAt: T2, status: 'fresh', lastError: null, lastSeenByPrewarmAt: null };
        expect(written).toEqual(expected);
        expect(await store.getSyncState('user-1', 'okta-prod')).toEqual(expected);
      });

      // FerretDB 1.x writes each update as a whole document read before: concurrent field-level
      // writes can undo each other there, as with `$max` below.
      it.skipIf(options.atomicUpdateOperators === false)(`keeps every field of its writer when ${RACERS} logins and pre-warm writes of one state race`, async () => {
        await store.putSyncState(syncState('user-1', 'okta-prod', { lastLoginAt: null, lastSeenByPrewarmAt: null }));
        const logins = Array.from({ length: RACERS }, (_, i) => ({
          userId: 'user-1',
          connector: 'okta-prod',
          subject: 'sub-user-1',
          appliedGroups: [`G${i}`],
          lastLoginAt: at(T1, i),
          lastReconciledAt: at(T1, i),
          // Not what pre-warm writes (`fresh`, no error): its status never outlives a login.
          status: 'stale' as const,
          lastError: 'idp timeout',
        }));
        const outcomes = await Promise.allSettled([
          ...logins.map((login) => store.recordLogin(login)),
          ...Array.from({ length: bulkRacers }, () =>
            store.recordPrewarmSightings([{ userId: 'user-1', connector: 'okta-prod', readLoginAt: null, seenAt: T2 }]),
          ),
        ]);
        expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
        const stored = (await store.getSyncState('user-1', 'okta-prod'))!;
        // Whatever the order: one login's fields whole, and pre-warm's time of sight.
        const winner = logins.find((login) => login.appliedGroups[0] === stored.appliedGroups[0])!;
        expect(stored).toEqual({ ...winner, lastSeenByPrewarmAt: T2 });
      });

      it('stores, replaces and lists sync states, optionally by connector', async () => {
        const a = syncState('user-1', 'okta-prod');
        await store.putSyncState(a);
        expect(await store.getSyncState('user-1', 'okta-prod')).toEqual(a);
        expect(await store.getSyncState('user-1', 'entra')).toBeNull();

        const replaced = syncState('user-1', 'okta-prod', {
          appliedGroups: [],
          status: 'error',
          lastError: 'idp_unavailable',
          lastSeenByPrewarmAt: T2,
        });
        await store.putSyncState(replaced);
        await store.putSyncState(syncState('user-1', 'entra'));
        await store.putSyncState(syncState('user-2', 'okta-prod', { status: 'absent' }));

        expect(await store.getSyncState('user-1', 'okta-prod')).toEqual(replaced);
        const key = (s: SyncState) => `${s.userId}/${s.connector}`;
        expect((await store.listSyncStates()).map(key).sort()).toEqual([
          'user-1/entra',
          'user-1/okta-prod',
          'user-2/okta-prod',
        ]);
        const okta = await store.listSyncStates('okta-prod');
        expect(okta.map(key).sort()).toEqual(['user-1/okta-prod', 'user-2/okta-prod']);
        expect(okta.find((s) => s.userId === 'user-1')).toEqual(replaced);
        expect(await store.listSyncStates('gitlab')).toEqual([]);
      });

      it('records login times on existing states only, never moving them back, touching nothing else', async () => {
        const T1 = '2025-04-01T00:00:00.000Z';
        const T2 = '2025-05-01T00:00:00.000Z';
        const state = syncState('user-1', 'okta-prod', { status: 'stale', lastError: 'timeout', lastReconciledAt: null });
        await store.putSyncState(state);
        await store.recordLoginTimes([
          { userId: 'user-1', connector: 'okta-prod', at: T2 },
          { userId: 'user-9', connector: 'okta-prod', at: T2 },
        ]);
        expect(await store.getSyncState('user-1', 'okta-prod')).toEqual({ ...state, lastLoginAt: T2, lastReconciledAt: T2 });
        expect(await store.getSyncState('user-9', 'okta-prod')).toBeNull();

        await store.recordLoginTimes([{ userId: 'user-1', connector: 'okta-prod', at: T1 }]);
        expect(await store.getSyncState('user-1', 'okta-prod')).toMatchObject({ lastLoginAt: T2, lastReconciledAt: T2 });
        await store.recordLoginTimes([]);
      });
    });

    describe('concurrent record writes', () => {
      it(`stores one of ${RACERS} concurrent puts of one new cache entry and of one new sync state, failing none`, async () => {
        // Several rounds: an upsert loses its insert race (or a deadlock) only now and then.
        const rounds = 4;
        for (let round = 0; round < rounds; round++) {
          const subject = `00uRACE${round}`;
          const users = Array.from({ length: RACERS }, (_, i) => cachedUser('okta-prod', subject, { fetchedAt: at(T0, i) }));
          const states = Array.from({ length: RACERS }, (_, i) => syncState(`user-race-${round}`, 'okta-prod', { lastLoginAt: at(T0, i) }));
          const outcomes = await Promise.allSettled([...users.map((u) => store.putCachedUser(u)), ...states.map((st) => store.putSyncState(st))]);
          expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
          expect(users).toContainEqual(await store.getCachedUser('okta-prod', subject));
          expect(states).toContainEqual(await store.getSyncState(`user-race-${round}`, 'okta-prod'));
        }
        expect(await store.listCachedUsers('okta-prod')).toHaveLength(rounds);
        expect(await store.listSyncStates()).toHaveLength(rounds);
      });

      it(`completes ${bulkRacers} concurrent bulk puts of overlapping pages, each user as one of its writers wrote it`, async () => {
        // Page i: 20 of 24 subjects, starting at a different one, so that pages overlap in crossed order.
        const subject = (n: number) => `00u${String(n % 24).padStart(2, '0')}`;
        const pages = Array.from({ length: bulkRacers }, (_, i) =>
          Array.from({ length: 20 }, (_, j) => cachedUser('okta-prod', subject(j + i * 7), { fetchedAt: at(T0, i) })),
        );
        const outcomes = await Promise.allSettled(pages.map((page) => store.putCachedUsers(page)));
        expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
        const stored = await store.listCachedUsers('okta-prod');
        expect(stored).toHaveLength(24);
        for (const user of stored) {
          const writer = (Date.parse(user.fetchedAt) - Date.parse(T0)) as number;
          expect(pages[writer]?.some((u) => u.subject === user.subject)).toBe(true);
        }
      });

      it.skipIf(options.atomicUpdateOperators === false)(`records ${bulkRacers} concurrent batches of overlapping login times, keeping the latest time of each`, async () => {
        const users = Array.from({ length: 24 }, (_, n) => `user-${n}`);
        for (const u of users) await store.putSyncState(syncState(u, 'okta-prod'));
        const batches = Array.from({ length: bulkRacers }, (_, i) =>
          Array.from({ length: 20 }, (_, j) => ({ userId: users[(j + i * 7) % 24]!, connector: 'okta-prod', at: at(T1, i) })),
        );
        const outcomes = await Promise.allSettled(batches.map((batch) => store.recordLoginTimes(batch)));
        expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
        const latest = new Map<string, string>();
        for (const batch of batches) for (const t of batch) if ((latest.get(t.userId) ?? '') < t.at) latest.set(t.userId, t.at);
        for (const state of await store.listSyncStates('okta-prod')) {
          expect(state.lastLoginAt).toBe(latest.get(state.userId));
        }
      });
    });

    describe('change events', () => {
      let events: ChangeEvent[];
      beforeEach(() => {
        events = [];
        store.onChange((event) => events.push(event));
      });

      /** One write per write method: its setup (not recorded), the write, and the events it must report. */
      interface Case {
        setup?: () => Promise<unknown>;
        write: () => Promise<unknown>;
        events: (result: never) => ChangeEvent[];
      }
      const orgA = { key: 'OrgA', defaultGroup: 'Members', groups: ['Admins'] };
      const group = (connector: string, id: string) => ({ connector, id, name: id, fetchedAt: T0 });
      const login = { userId: 'user-1', connector: 'okta-prod', subject: 's', appliedGroups: ['G'], lastLoginAt: T1, lastReconciledAt: T1, status: 'fresh' as const, lastError: null };
      const run = prewarmRun();
      const scimUser = { connector: 'scim', resourceType: 'User' as const, id: 'r1', attributes: { userName: 'ada' }, version: 1, created: T0, lastModified: T0 };
      const none = () => [];
      const other = () => [{ kind: 'other' as const }];
      const cases: Record<string, Case> = {
        probeWrite: { write: () => store.probeWrite(), events: none },
        createAccount: {
          write: () => store.createAccount(newUser(1), [m('OrgA', 'Admins')], T0),
          events: (account: Account) => [{ kind: 'account', account }],
        },
        updateAccount: {
          setup: () => store.createAccount(newUser(1), [], T0),
          write: () => store.updateAccount('user-1', applying(() => ({ disabled: true })), T1),
          events: (outcome: { account: Account }) => [{ kind: 'account', account: outcome.account }],
        },
        createOrganization: { write: () => store.createOrganization(orgA), events: other },
        ensureOrganization: { write: () => store.ensureOrganization(orgA), events: other },
        addGroup: { setup: () => store.createOrganization(orgA), write: () => store.addGroup('OrgA', 'Dev'), events: other },
        createInvitation: { write: () => store.createInvitation(invitation('inv-1', 'ada@example.com')), events: other },
        acceptInvitations: {
          setup: () => store.createInvitation(invitation('inv-1', 'ada@example.com')),
          write: () => store.acceptInvitations(['inv-1'], 'user-1', T1),
          events: other,
        },
        putCachedUser: {
          write: () => store.putCachedUser(cachedUser('okta-prod', '00u1')),
          events: () => [{ kind: 'cached-users', users: [cachedUser('okta-prod', '00u1')] }],
        },
        putCachedUsers: {
          write: () => store.putCachedUsers([cachedUser('okta-prod', '00u1'), cachedUser('okta-prod', '00u2')]),
          events: () => [{ kind: 'cached-users', users: [cachedUser('okta-prod', '00u1'), cachedUser('okta-prod', '00u2')] }],
        },
        putCachedGroups: {
          write: () => store.putCachedGroups([group('okta-prod', 'g1'), group('entra', 'g2'), group('okta-prod', 'g3')]),
          events: () => [
            { kind: 'connector', connector: 'okta-prod' },
            { kind: 'connector', connector: 'entra' },
          ],
        },
        replaceCachedGroups: {
          write: () => store.replaceCachedGroups('okta-prod', [group('okta-prod', 'g1')]),
          events: () => [{ kind: 'connector', connector: 'okta-prod' }],
        },
        deleteCachedGroups: {
          setup: () => store.putCachedGroups([group('okta-prod', 'g1')]),
          write: () => store.deleteCachedGroups('okta-prod', ['g1']),
          events: () => [{ kind: 'connector', connector: 'okta-prod' }],
        },
        putSyncState: {
          write: () => store.putSyncState(syncState('user-1', 'okta-prod')),
          events: () => [{ kind: 'sync-state', state: syncState('user-1', 'okta-prod') }],
        },
        recordLogin: {
          setup: () => store.putSyncState(syncState('user-1', 'okta-prod', { lastSeenByPrewarmAt: T0 })),
          write: () => store.recordLogin(login),
          events: () => [{ kind: 'sync-state', state: { ...login, lastSeenByPrewarmAt: T0 } }],
        },
        recordLoginTimes: {
          setup: () => store.putSyncState(syncState('user-1', 'okta-prod')),
          write: () => store.recordLoginTimes([{ userId: 'user-1', connector: 'okta-prod', at: T2 }]),
          events: none,
        },
        recordPrewarmSightings: {
          setup: () => store.putSyncState(syncState('user-1', 'okta-prod', { status: 'stale', lastError: 'timeout' })),
          write: () =>
            store.recordPrewarmSightings([
              { userId: 'user-1', connector: 'okta-prod', readLoginAt: T0, seenAt: T2 },
              { userId: 'user-9', connector: 'okta-prod', readLoginAt: T0, seenAt: T2 },
            ]),
          events: () => [{ kind: 'sync-state', state: syncState('user-1', 'okta-prod', { lastSeenByPrewarmAt: T2 }) }],
        },
        acquireLease: { write: () => store.acquireLease('prewarm:okta', 'a', 60_000, T0), events: none },
        releaseLease: { setup: () => store.acquireLease('prewarm:okta', 'a', 60_000, T0), write: () => store.releaseLease('prewarm:okta', 'a'), events: none },
        putPrewarmRun: { write: () => store.putPrewarmRun(run), events: none },
        putConnectorState: {
          write: () => store.putConnectorState({ connector: 'entra', cursor: null, lastCompleteRunAt: T0, lastRunId: null }),
          events: () => [{ kind: 'connector', connector: 'entra' }],
        },
        appendAudit: { write: () => store.appendAudit({ at: T0, actor: 'cli', action: 'x', userId: null, details: {} }), events: none },
        createScimResource: { write: () => store.createScimResource(scimUser), events: none },
        updateScimResource: {
          setup: () => store.createScimResource(scimUser),
          write: () => store.updateScimResource('scim', 'User', 'r1', 1, { userName: 'ada2' }, T1),
          events: none,
        },
        deleteScimResource: { setup: () => store.createScimResource(scimUser), write: () => store.deleteScimResource('scim', 'User', 'r1'), events: none },
      };

      it('has a case below for every method that writes', () => {
        expect(Object.keys(cases).sort()).toEqual([...WRITE_METHODS].sort());
      });

      for (const [name, { setup, write, events: expected }] of Object.entries(cases)) {
        it(`reports ${name} once it committed`, async () => {
          await setup?.();
          events.length = 0;
          const result = await write();
          // Reported before the write's promise settled: a report asked for next sees it.
          expect(events).toEqual(expected(result as never));
        });
      }

      it('reports nothing for reads, and nothing for a write that changes nothing', async () => {
        await store.createAccount(newUser(1), [], T0);
        events.length = 0;
        await store.getAccount('user-1');
        await store.listAccounts({ afterId: null, limit: 10 });
        await store.listSyncStates();
        await store.listCachedUsers('okta-prod');
        await store.updateAccount('user-1', () => ({ change: null, result: null }), T1);
        expect(events).toEqual([]);
      });

      it('reports a failed write as other (the drift model rebuilds), a failed silent write as nothing', async () => {
        await store.createAccount(newUser(1), [], T0);
        events.length = 0;
        await expect(store.createAccount(newUser(1), [], T0)).rejects.toBeInstanceOf(AlreadyExistsError);
        await expect(store.updateAccount('nobody', applying(() => ({ disabled: true })), T1)).rejects.toBeInstanceOf(NotFoundError);
        await expect(store.addGroup('NoSuchOrg', 'Dev')).rejects.toBeInstanceOf(NotFoundError);
        expect(events).toEqual([{ kind: 'other' }, { kind: 'other' }, { kind: 'other' }]);
        events.length = 0;
        await expect(store.acquireLease('x', 'a', 0, T0)).rejects.toThrow();
        expect(events).toEqual([]);
      });

      it('tells every listener until it unsubscribes', async () => {
        const second: ChangeEvent[] = [];
        const unsubscribe = store.onChange((event) => second.push(event));
        await store.createOrganization(orgA);
        unsubscribe();
        await store.addGroup('OrgA', 'Dev');
        expect(second).toEqual([{ kind: 'other' }]);
        expect(events).toEqual([{ kind: 'other' }, { kind: 'other' }]);
      });
    });

    describe('leases', () => {
      const TTL = 60_000;

      it('is held by one holder until it expires', async () => {
        expect(await store.acquireLease('prewarm:okta', 'replica-a', TTL, T0)).toBe(true);
        expect(await store.acquireLease('prewarm:okta', 'replica-b', TTL, at(T0, 1_000))).toBe(false);
        // Another lease name is independent.
        expect(await store.acquireLease('prewarm:entra', 'replica-b', TTL, at(T0, 1_000))).toBe(true);
        // After expiry, another holder takes it over, and the former holder is then refused.
        expect(await store.acquireLease('prewarm:okta', 'replica-b', TTL, at(T0, TTL + 1))).toBe(true);
        expect(await store.acquireLease('prewarm:okta', 'replica-a', TTL, at(T0, TTL + 2))).toBe(false);
      });

      it('is renewed by its holder, which extends the expiry', async () => {
        expect(await store.acquireLease('prewarm:okta', 'replica-a', TTL, T0)).toBe(true);
        expect(await store.acquireLease('prewarm:okta', 'replica-a', TTL, at(T0, 50_000))).toBe(true);
        // Past the first expiry but within the renewed one: still held.
        expect(await store.acquireLease('prewarm:okta', 'replica-b', TTL, at(T0, 70_000))).toBe(false);
        expect(await store.acquireLease('prewarm:okta', 'replica-b', TTL, at(T0, 110_001))).toBe(true);
      });

      it('is freed by its holder and only by its holder', async () => {
        expect(await store.acquireLease('prewarm:okta', 'replica-a', TTL, T0)).toBe(true);
        await store.releaseLease('prewarm:okta', 'replica-b');
        expect(await store.acquireLease('prewarm:okta', 'replica-b', TTL, at(T0, 1))).toBe(false);
        await store.releaseLease('prewarm:okta', 'replica-a');
        expect(await store.acquireLease('prewarm:okta', 'replica-b', TTL, at(T0, 2))).toBe(true);
        await store.releaseLease('prewarm:never-taken', 'replica-a');
      });

      it(`goes to exactly one of ${RACERS} concurrent acquirers`, async () => {
        const results = await Promise.all(
          Array.from({ length: RACERS }, (_, i) => store.acquireLease('prewarm:gitlab', `replica-${i}`, TTL, T0)),
        );
        expect(results.filter((won) => won)).toHaveLength(1);
        const winner = `replica-${results.indexOf(true)}`;
        expect(await store.acquireLease('prewarm:gitlab', winner, TTL, at(T0, 1))).toBe(true);
      });
    });

    describe('pre-warm runs', () => {
      it('stores a run and replaces it when it finishes', async () => {
        const running = prewarmRun();
        await store.putPrewarmRun(running);
        expect(await store.getPrewarmRun('run-1')).toEqual(running);
        expect(await store.getPrewarmRun('run-2')).toBeNull();

        const failed: PrewarmRun = {
          ...running,
          state: 'failed',
          finishedAt: T1,
          figures: { apiCalls: 120, pages: 118, retries: 3, groups: 40, users: 2000, memberships: 9000, errors: 1 },
          details: {
            groupsTotal: 40,
            absentMarked: 300,
            membershipsRemoved: 1200,
            guard: { reason: 'would mark 15% of users absent', share: 0.15, limit: 0.1 },
            driftSummary: null,
          },
          error: 'rate limited',
        };
        await store.putPrewarmRun(failed);
        expect(await store.getPrewarmRun('run-1')).toEqual(failed);
      });

      it('keeps one connector state per connector, replaced on put', async () => {
        expect(await store.getConnectorState('entra')).toBeNull();
        const first = { connector: 'entra', cursor: 'https://graph/delta?token=1', lastCompleteRunAt: T0, lastRunId: 'run-1' };
        await store.putConnectorState(first);
        await store.putConnectorState({ connector: 'okta', cursor: null, lastCompleteRunAt: null, lastRunId: null });
        expect(await store.getConnectorState('entra')).toEqual(first);
        const second = { ...first, cursor: null, lastRunId: 'run-2' };
        await store.putConnectorState(second);
        expect(await store.getConnectorState('entra')).toEqual(second);
        expect(await store.getConnectorState('okta')).toEqual({
          connector: 'okta',
          cursor: null,
          lastCompleteRunAt: null,
          lastRunId: null,
        });
      });

      it("keeps a run's drift summary snapshot", async () => {
        const run: PrewarmRun = {
          id: 'run-7',
          connector: 'demo',
          mode: 'incremental',
          state: 'succeeded',
          startedAt: T0,
          finishedAt: T1,
          figures: { apiCalls: 1, pages: 1, retries: 0, groups: 2, users: 3, memberships: 4, errors: 0 },
          details: {
            groupsTotal: 2,
            absentMarked: 0,
            membershipsRemoved: 0,
            guard: null,
            driftSummary: { pending_add: 3, pending_remove: 0, stale: 12 },
          },
          error: null,
        };
        await store.putPrewarmRun(run);
        expect(await store.getPrewarmRun('run-7')).toEqual(run);
      });
    });

    describe('listing accounts', () => {
      it('pages through every account in id order, with memberships', async () => {
        for (const n of [3, 1, 5, 2, 4]) {
          await store.createAccount(newUser(n), [m('OrgA', `G${n}`)], T0);
        }
        const first = await store.listAccounts({ afterId: null, limit: 2 });
        expect(first.map((a) => a.user.id)).toEqual([newUser(1).id, newUser(2).id]);
        expect(first[0]!.memberships).toEqual([m('OrgA', 'G1')]);
        const second = await store.listAccounts({ afterId: first[1]!.user.id, limit: 2 });
        const third = await store.listAccounts({ afterId: second[1]!.user.id, limit: 2 });
        expect([...second, ...third].map((a) => a.user.id)).toEqual([newUser(3).id, newUser(4).id, newUser(5).id]);
        expect(await store.listAccounts({ afterId: third[0]!.user.id, limit: 2 })).toEqual([]);
      });
    });

    describe('audit', () => {
      const entry = (n: number, userId: string | null): AuditEntry => ({
        at: at(T0, n * 1000),
        actor: userId === null ? 'prewarm:okta-prod' : 'login:okta-prod',
        action: `action-${n}`,
        userId,
        details: { n, added: [{ organization: 'OrgA', group: `G${n}` }], note: null },
      });

      it('lists entries newest first, filtered by user and limited', async () => {
        await store.appendAudit(entry(1, 'user-1'));
        await store.appendAudit(entry(2, null));
        await store.appendAudit(entry(3, 'user-2'));
        await store.appendAudit(entry(4, 'user-1'));

        expect(await store.listAudit({})).toEqual([entry(4, 'user-1'), entry(3, 'user-2'), entry(2, null), entry(1, 'user-1')]);
        expect(await store.listAudit({ userId: 'user-1' })).toEqual([entry(4, 'user-1'), entry(1, 'user-1')]);
        expect(await store.listAudit({ limit: 2 })).toEqual([entry(4, 'user-1'), entry(3, 'user-2')]);
        expect(await store.listAudit({ userId: 'user-1', limit: 1 })).toEqual([entry(4, 'user-1')]);
        expect(await store.listAudit({ userId: 'user-9' })).toEqual([]);
      });
    });
  });
}
