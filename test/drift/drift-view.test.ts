import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDriftService } from '../../daemon/drift/drift-service.js';
import type { DriftService } from '../../daemon/drift/types.js';
import { createDriftView } from '../../daemon/drift/drift-view.js';
import { DEFAULT_SETTINGS, type ProvisioningSettings } from '../../daemon/reconcile/settings.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import type { Account, CachedUser, Membership, Store } from '../../store/types.js';
import { applyChangeEvent } from '../../store/write-events.js';

/**
 * The drift view keeps its model between reports and folds in the writes it is told of. Whatever
 * the writes, its report must equal a report computed from scratch over the same store.
 */

const NOW = new Date('2025-06-01T12:00:00.000Z');
const AT = '2025-06-01T11:59:00.000Z';
const SETTINGS: ProvisioningSettings = { ...DEFAULT_SETTINGS, linkByEmail: true };
const GROUPS = ['admins', 'devs', 'ops', 'Team', 'sre'];

let dir: string;
let path: string;
let backend: Store;
let store: Store; // the store whose change feed the view is told of
let drift: DriftService;
let accountReads: number;

/** A report from a new view: the whole store read again. */
async function fromScratch() {
  const fresh = openSqliteStore(path);
  try {
    const view = createDriftView({ store: fresh, connectorIds: ['idp'], settingsFor: () => SETTINGS });
    return await createDriftService({ store: fresh, view, connectorIds: ['idp'], clock: () => NOW }).report();
  } finally {
    await fresh.close();
  }
}

const cached = (subject: string, groups: string[], extra: Partial<CachedUser> = {}): CachedUser => ({
  connector: 'idp',
  subject,
  email: `${subject}@example.com`,
  name: null,
  groups,
  nestedGroups: [],
  fetchedAt: AT,
  origin: 'prewarm',
  absentSince: null,
  ...extra,
});
const sync = (group: string): Membership => ({ organization: 'OrgA', group, source: 'sync' });

/** An account with the IdP identity `subject` (none when null) and the email `<name>@example.com`. */
async function account(id: string, subject: string | null, memberships: Membership[] = [], name = subject): Promise<Account> {
  return store.createAccount(
    { id, username: id, email: `${name}@example.com`, name: null, identities: subject ? [{ connector: 'idp', subject }] : [] },
    memberships,
    AT,
  );
}

async function setMemberships(id: string, memberships: Membership[]): Promise<void> {
  await store.updateAccount(id, () => ({ change: { memberships }, result: null }), AT);
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jitsync-drift-view-'));
  path = join(dir, 'jitsync.db');
  const sqlite = openSqliteStore(path);
  accountReads = 0;
  // The real store, with its full reads counted.
  backend = {
    ...sqlite,
    listAccounts: (page) => {
      accountReads++;
      return sqlite.listAccounts(page);
    },
  };
  await backend.ensureOrganization({ key: 'OrgA', defaultGroup: 'Members', groups: ['admins', 'devs', 'Team'] });
  await backend.ensureOrganization({ key: 'OrgB', defaultGroup: 'Members', groups: ['devs', 'ops'] });
  await backend.replaceCachedGroups('idp', GROUPS.map((name) => ({ connector: 'idp', id: name, name, fetchedAt: AT })));
  await backend.putConnectorState({ connector: 'idp', cursor: null, lastCompleteRunAt: AT, lastRunId: null });
  await backend.putCachedUsers([
    cached('ada', ['admins', 'devs']),
    cached('bob', ['ops']),
    cached('cy', ['Team', 'sre']),
    cached('dee', ['sre']),
    cached('eve', ['devs'], { absentSince: AT }),
    cached('fay', ['team']),
    cached('gus', ['admins']),
  ]);
  const view = createDriftView({ store: backend, connectorIds: ['idp'], settingsFor: () => SETTINGS, pageSize: 3 });
  store = backend;
  store.onChange((event) => applyChangeEvent(view, event));
  drift = createDriftService({ store, view, connectorIds: ['idp'], clock: () => NOW });

  await account('u-ada', 'ada', [sync('admins')]);
  await account('u-bob', 'bob');
  await account('u-eve', 'eve', [sync('devs')]);
  await account('u-old', 'gone'); // an identity with no cache entry
});

afterEach(async () => {
  await backend.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the drift view', () => {
  it('folds account and sync-state writes in without reading every account again, and agrees with a report from scratch', async () => {
    const first = await drift.report();
    expect(first).toEqual(await fromScratch());
    expect(first.summary.pending_add).toBeGreaterThan(0);
    const readsAfterBuild = accountReads;
    expect(readsAfterBuild).toBeGreaterThan(0);

    // What logins and admins do between two reports.
    await setMemberships('u-ada', [sync('admins'), sync('devs'), { organization: 'OrgA', group: 'Members', source: 'default' }]);
    await account('u-cy', 'cy'); // an IdP-only user's first login
    await account('u-gus', null, [], 'gus'); // linked to the cache entry "gus" by email only
    await store.updateAccount('u-bob', () => ({ change: { disabled: true }, result: null }), AT);
    await store.updateAccount('u-old', () => ({ change: { addIdentities: [{ connector: 'idp', subject: 'dee' }] }, result: null }), AT);
    await store.putSyncState({
      userId: 'u-ada',
      connector: 'idp',
      subject: 'ada',
      appliedGroups: [],
      lastLoginAt: AT,
      lastReconciledAt: AT,
      lastSeenByPrewarmAt: null,
      status: 'error',
      lastError: 'IdP unreachable',
    });

    const second = await drift.report();
    expect(accountReads).toBe(readsAfterBuild); // incremental: no full read
    expect(second).toEqual(await fromScratch());
    expect(second.items.find((i) => i.user?.id === 'u-gus')).toBeDefined();
    expect(second.items.some((i) => i.user?.id === 'u-bob')).toBe(false); // disabled: nothing changes at login
    expect(second.items.find((i) => i.kind === 'stale' && i.user?.id === 'u-ada')?.detail).toMatch(/IdP unreachable/);
  });

  it('folds in what a pre-warm run writes: cache entries, the group list, sync states and the connector state', async () => {
    await drift.report();
    const before = accountReads;
    const LATER = '2025-06-01T11:59:30.000Z';

    // An incremental run: a few entries change, one appears, one goes absent, a group is new.
    await store.putCachedUsers([
      cached('ada', ['admins', 'ops'], { fetchedAt: LATER }),
      cached('bob', ['ops', 'Sre'], { fetchedAt: LATER }),
      cached('dee', [], { fetchedAt: LATER, absentSince: LATER }),
      cached('hal', ['devs', 'platform'], { fetchedAt: LATER }),
    ]);
    await store.putCachedGroups([{ connector: 'idp', id: 'platform', name: 'platform', fetchedAt: LATER }]);
    await store.deleteCachedGroups('idp', ['sre']);
    await store.putSyncState(
      {
        userId: 'u-bob',
        connector: 'idp',
        subject: 'bob',
        appliedGroups: [],
        lastLoginAt: AT,
        lastReconciledAt: AT,
        lastSeenByPrewarmAt: LATER,
        status: 'stale',
        lastError: null,
      },
    );
    await store.putConnectorState({ connector: 'idp', cursor: 'c2', lastCompleteRunAt: LATER, lastRunId: 'r2' });

    const report = await drift.report();
    expect(accountReads).toBe(before); // folded in, not rebuilt
    expect(report).toEqual(await fromScratch());
    expect(report.items.some((i) => i.kind === 'unmatched_idp_group' && i.idpGroup === 'Sre')).toBe(true);
    expect(report.items.some((i) => i.kind === 'pending_add' && i.user?.id === 'u-ada' && i.group === 'ops')).toBe(true);
    expect(report.items.some((i) => i.kind === 'unmatched_idp_group' && i.idpGroup === 'platform')).toBe(true);
  });

  it('rebuilds after a write it cannot fold in (organizations, a cache entry changing hands, a full run) and after another process wrote', async () => {
    await drift.report();
    const reads = () => accountReads;

    let before = reads();
    await store.addGroup('OrgB', 'sre');
    expect(await drift.report()).toEqual(await fromScratch());
    expect(reads()).toBeGreaterThan(before);

    // gus's entry now has u-ada's email: by linkByEmail it changes hands from nobody to u-ada.
    before = reads();
    await store.putCachedUser(cached('gus', ['admins'], { email: 'ada@example.com' }));
    expect(await drift.report()).toEqual(await fromScratch());
    expect(reads()).toBeGreaterThan(before);

    // More entries than a report folds in: a full run's worth.
    const view = createDriftView({ store: backend, connectorIds: ['idp'], settingsFor: () => SETTINGS, maxPendingCacheEntries: 3 });
    const observed = backend;
    observed.onChange((event) => applyChangeEvent(view, event));
    const service = createDriftService({ store: observed, view, connectorIds: ['idp'], clock: () => NOW });
    await service.report();
    before = reads();
    await observed.putCachedUsers(['ada', 'bob', 'cy', 'dee'].map((subject) => cached(subject, ['devs'])));
    expect(await service.report()).toEqual(await fromScratch());
    expect(reads()).toBeGreaterThan(before);

    // Another connection to the same file (another jitsync process): the view cannot see the write, only the token.
    before = reads();
    const other = openSqliteStore(path);
    await other.updateAccount('u-ada', () => ({ change: { memberships: [] }, result: null }), AT);
    await other.close();
    const report = await drift.report();
    expect(reads()).toBeGreaterThan(before);
    expect(report).toEqual(await fromScratch());
    expect(report.items.filter((i) => i.user?.id === 'u-ada' && i.kind === 'pending_add').map((i) => i.group)).toContain('admins');

    // Nothing written since: nothing read.
    before = reads();
    await drift.report();
    expect(reads()).toBe(before);
  });

  it('lets the event loop run between the steps of a long build', async () => {
    // 2,000 entries: several steps of the build. On SQLite every read completes at once, so
    // without steps the whole build would run before any timer or request callback.
    await store.putCachedUsers(Array.from({ length: 2000 }, (_, i) => cached(`bulk-${i}`, ['devs'])));
    let turns = 0;
    const counting = setInterval(() => turns++, 0);
    try {
      const report = await drift.report();
      expect(turns).toBeGreaterThan(1);
      expect(report).toEqual(await fromScratch());
    } finally {
      clearInterval(counting);
    }
  });

  it('stays exact over many random writes, folded in the background as they pile up', async () => {
    const view = createDriftView({ store: backend, connectorIds: ['idp'], settingsFor: () => SETTINGS, absorbEvery: 5 });
    const observed = backend;
    observed.onChange((event) => applyChangeEvent(view, event));
    const service = createDriftService({ store: observed, view, connectorIds: ['idp'], clock: () => NOW });
    await service.report();
    const options: Membership[] = [sync('admins'), sync('devs'), sync('Team'), { organization: 'OrgB', group: 'ops', source: 'manual' }];
    let seed = 7;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 12; i++) {
        const id = ['u-ada', 'u-bob', 'u-eve', 'u-old'][Math.floor(random() * 4)]!;
        await observed.updateAccount(id, () => ({ change: { memberships: options.filter(() => random() < 0.5) }, result: null }), AT);
        // And pre-warm rewriting entries, as an incremental run does.
        const subject = ['ada', 'bob', 'cy', 'eve', 'new'][Math.floor(random() * 5)]!;
        const absent = random() < 0.2 ? AT : null;
        await observed.putCachedUsers([cached(subject, GROUPS.filter(() => random() < 0.4), { absentSince: absent })]);
      }
      const before = accountReads;
      expect(await service.report()).toEqual(await fromScratch());
      expect(accountReads).toBe(before);
    }
  });
});
