import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorError, type IdpUser } from '../../connectors/types.js';
import { LDIF, PEOPLE, SERVICE_DN, emailOf, nameOf } from './fixture.js';
import { collect, makeConnector, newStats, signal } from './helpers.js';
import { startSlapd, SUFFIX, type Slapd } from './slapd.js';

let slapd: Slapd;
/** uid → entryUUID, read from the server: the subject the connector must report. */
const uuid = new Map<string, string>();

beforeAll(async () => {
  slapd = await startSlapd({ ldif: LDIF, monitorReaders: [SERVICE_DN] });
  const admin = await slapd.admin();
  try {
    const { searchEntries } = await admin.search(`ou=people,${SUFFIX}`, {
      filter: '(objectClass=inetOrgPerson)',
      attributes: ['uid', 'entryUUID'],
    });
    for (const entry of searchEntries) uuid.set(String(entry.uid), String(entry.entryUUID));
  } finally {
    await admin.unbind();
  }
});

afterAll(async () => {
  await slapd?.stop();
});

const person = (uid: string): IdpUser => ({ subject: uuid.get(uid) ?? '?', email: emailOf(uid), name: nameOf(uid) });
const bySubject = (a: IdpUser, b: IdpUser): number => a.subject.localeCompare(b.subject);

describe('listUsers', () => {
  it('pages through every user under userBase in one paged search', async () => {
    const stats = newStats();
    const pages = await collect(makeConnector(slapd.url, { pageSize: 3 }).listUsers({ signal: signal(), stats }));

    // judy is in no group (only in a groupOfUniqueNames, not read by default): listed all the same.
    expect(pages.flat().sort(bySubject)).toEqual(PEOPLE.map(person).sort(bySubject));
    expect(pages.map((page) => page.length)).toEqual([3, 3, 3, 1]);
    expect(stats).toEqual({ apiCalls: 1, pages: Math.ceil(PEOPLE.length / 3), retries: 0 });
  });

  it('reports each user exactly as lookupUser does, configured attributes included', async () => {
    for (const overrides of [{}, { attributes: { subject: 'uid', name: 'sn' } }]) {
      const connector = makeConnector(slapd.url, overrides);
      const listed = (await collect(connector.listUsers({ signal: signal() }))).flat();
      expect(listed).toHaveLength(PEOPLE.length);
      for (const user of listed) {
        const found = await connector.lookupUser({ subject: user.subject, email: '' }, { signal: signal() });
        expect(found && { subject: found.subject, email: found.email, name: found.name }).toEqual(user);
      }
    }
  });

  it('keeps to userFilter', async () => {
    const connector = makeConnector(slapd.url, { userFilter: '(&(objectClass=inetOrgPerson)(|(uid=alice)(uid=judy)))' });
    const users = (await collect(connector.listUsers({ signal: signal() }))).flat();
    expect(users.sort(bySubject)).toEqual([person('alice'), person('judy')].sort(bySubject));
  });

  it("an entry without the subject attribute is bad_response, not a user left out", async () => {
    const connector = makeConnector(slapd.url, { attributes: { subject: 'employeeNumber' } });
    const error = await collect(connector.listUsers({ signal: signal() })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind: 'bad_response' });
  });

  // Last: stops the server.
  it('a stopped server is unreachable after the retries, never an empty list', async () => {
    const stats = newStats();
    await slapd.kill();
    const pages: IdpUser[][] = [];
    const error = await (async () => {
      for await (const page of makeConnector(slapd.url, { maxRetries: 1 }).listUsers({ signal: signal(), stats })) pages.push(page);
    })().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind: 'unreachable' });
    expect(pages).toEqual([]);
    expect(stats.retries).toBe(1);
  });
});
