import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDriftService } from '../../daemon/drift/drift-service.js';
import { createDriftView } from '../../daemon/drift/drift-view.js';
import { DEFAULT_SETTINGS } from '../../daemon/reconcile/settings.js';
import { openSqliteStore } from '../../store/sqlite/index.js';
import type { Store } from '../../store/types.js';

const NOW = new Date('2025-06-01T12:00:00.000Z');
const AT = '2025-06-01T11:59:00.000Z';

let dir: string;
let store: Store;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'jitsync-drift-service-'));
  store = openSqliteStore(join(dir, 'jitsync.db'));
  await store.ensureOrganization({ key: 'OrgA', defaultGroup: 'Members', groups: ['devs'] });
  await store.replaceCachedGroups('idp', [{ connector: 'idp', id: 'g1', name: 'devs', fetchedAt: AT }]);
  await store.putConnectorState({ connector: 'idp', cursor: null, lastCompleteRunAt: AT, lastRunId: null });
});
afterEach(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

function driftService(pageSize?: number) {
  const view = createDriftView({ store, connectorIds: ['idp'], settingsFor: () => DEFAULT_SETTINGS, ...(pageSize ? { pageSize } : {}) });
  return createDriftService({ store, view, connectorIds: ['idp'], clock: () => NOW });
}

describe('drift service', () => {
  it('pages through every account, and reads invitations for all of them at once', async () => {
    for (let i = 0; i < 7; i++) {
      const subject = `s${i}`;
      await store.createAccount({ id: `u${i}`, username: `u${i}`, email: `u${i}@example.com`, name: null, identities: [{ connector: 'idp', subject }] }, [], AT);
      await store.putCachedUser({ connector: 'idp', subject, email: `u${i}@example.com`, name: null, groups: i % 2 ? ['devs'] : [], nestedGroups: [], fetchedAt: AT, origin: 'prewarm', absentSince: null });
    }
    await store.createInvitation({ id: 'inv', organization: 'OrgA', email: 'U2@example.com', group: null, state: 'pending', createdAt: AT, acceptedAt: null, acceptedBy: null });
    const drift = driftService(2);

    const report = await drift.report();
    // Odd users are in devs: pending add of devs + Members; u2 has an invitation to Members; the rest land nowhere.
    expect(report.summary).toMatchObject({ pending_add: 3 * 2 + 1, no_organization: 3 });
    expect(report.items.filter((i) => i.kind === 'no_organization').map((i) => i.user?.id)).toEqual(['u0', 'u4', 'u6']);
    expect(report.items.filter((i) => i.user?.id === 'u2').map((i) => [i.kind, i.group, i.source])).toEqual([['pending_add', 'Members', 'invitation']]);

    const page = await drift.report({ kinds: ['pending_add'], limit: 2, offset: 6 });
    expect(page.total).toBe(7);
    expect(page.items.map((i) => i.user?.id)).toEqual(['u5']);
    expect(await drift.summary('idp')).toEqual(report.summary);
  });

  it('rejects bad filters before reading anything', async () => {
    const drift = driftService();
    await expect(drift.report({ connectors: ['nope'] })).rejects.toMatchObject({ status: 400, code: 'unknown_connector' });
    await expect(drift.report({ limit: 0 })).rejects.toMatchObject({ status: 400 });
    await expect(drift.report({ offset: -1 })).rejects.toMatchObject({ status: 400 });
    await expect(drift.report({ organization: 'Nope' })).rejects.toMatchObject({ status: 400, code: 'unknown_organization' });
  });
});
