import { setTimeout as sleep } from 'node:timers/promises';
import { Change, Attribute } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError } from '../../connectors/types.js';
import { BLIND_SERVICE_DN, LDIF, SERVICE_DN, groupDn, personDn } from './fixture.js';
import { makeConnector, signal } from './helpers.js';
import { startSlapd, type Slapd } from './slapd.js';

let slapd: Slapd;

beforeAll(async () => {
  slapd = await startSlapd({ ldif: LDIF, monitorReaders: [SERVICE_DN] });
});

afterAll(async () => {
  await slapd?.stop();
});

async function addMember(group: string, uid: string): Promise<void> {
  const admin = await slapd.admin();
  try {
    await admin.modify(groupDn(group), [
      new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [personDn(uid)] }) }),
    ]);
  } finally {
    await admin.unbind();
  }
}

/**
 * modifyTimestamp has one-second resolution: wait for the server's clock to pass the
 * second of the last write, so a cursor taken now is later than everything before it.
 */
const nextSecond = (): Promise<void> => sleep(1_100);

describe('incremental feed (modifyTimestamp)', () => {
  const opts = () => ({ signal: signal() });

  it('reports exactly the group changed after the cursor, and no deletions', async () => {
    const connector = makeConnector(slapd.url);
    await nextSecond();
    const cursor = await connector.startCursor(opts());
    expect(cursor).toMatch(/^\d{14}(\.\d+)?Z$/);

    const unchanged = await connector.changedGroups(cursor, opts());
    expect(unchanged.changed).toEqual([]);

    await addMember('platform team', 'judy');
    const result = await connector.changedGroups(cursor, opts());
    expect(result.changed.map((group) => group.name)).toEqual(['platform team']);
    expect(result.deleted).toEqual([]);
    expect(result.cursor >= cursor).toBe(true);
  });

  it('reports the parents of a changed nested group, whose expanded members changed too', async () => {
    const connector = makeConnector(slapd.url);
    await nextSecond();
    const cursor = await connector.startCursor(opts());
    await addMember('db-team', 'judy');
    const result = await connector.changedGroups(cursor, opts());
    expect(result.changed.map((group) => group.name).sort()).toEqual(['backend', 'db-team', 'engineering']);
  });

  it('falls back to the newest group stamp when the server clock is not readable, missing nothing', async () => {
    const blind = makeConnector(slapd.url, { bindDN: BLIND_SERVICE_DN });
    await nextSecond();
    const cursor = await blind.startCursor(opts());
    // The newest group stamp is older than the server's clock read by an account that may.
    expect(cursor < (await makeConnector(slapd.url).startCursor(opts()))).toBe(true);
    await addMember('ops', 'judy');
    const result = await blind.changedGroups(cursor, opts());
    // A superset is allowed (groups stamped in the cursor's second); the change is never missed.
    expect(result.changed.map((group) => group.name)).toContain('ops');
    expect(result.changed.map((group) => group.name)).toContain('oncall');
    expect(result.cursor >= cursor).toBe(true);
  });

  it('an unreadable cursor asks for a full resync', async () => {
    const error = await makeConnector(slapd.url)
      .changedGroups('yesterday', opts())
      .then(
        () => null,
        (caught: unknown) => caught,
      );
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error instanceof ConnectorError ? error.kind : '').toBe('cursor_expired');
  });
});
