import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OktaDirectory, SEEDED_AT, type FakeOkta, type OktaUser } from '../fakes/okta/index.js';
import { callOptions, newStats, oktaConnectorFor, startFakeOkta } from './helpers.js';

describe('Okta connector: live look-up of one user', () => {
  let fake: FakeOkta;
  const directory = new OktaDirectory();
  let ada: OktaUser;

  beforeAll(async () => {
    ada = directory.addUser({ login: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', at: SEEDED_AT });
    directory.addUser({ login: 'grace@example.com', firstName: 'Grace', lastName: 'Hopper', at: SEEDED_AT });
    const admins = directory.addGroup({ name: 'ENT_ORGA_ADMINS', at: SEEDED_AT });
    const devs = directory.addGroup({ name: 'developers', at: SEEDED_AT });
    const ad = directory.addGroup({ name: 'AD Engineers', type: 'APP_GROUP', at: SEEDED_AT });
    const everyone = directory.addGroup({ name: 'Everyone', type: 'BUILT_IN', at: SEEDED_AT });
    for (const group of [admins, devs, ad, everyone]) directory.addMember(group.id, ada.id, SEEDED_AT);
    fake = await startFakeOkta({ directory });
  });
  afterAll(() => fake.stop());
  afterEach(() => fake.server.resetLog());

  it('finds the user by subject id with their groups, flat, in two requests', async () => {
    const connector = oktaConnectorFor(fake);
    const stats = newStats();
    const found = await connector.lookupUser({ subject: ada.id, email: 'ada@example.com' }, callOptions(stats));

    expect(found).toEqual({
      subject: ada.id,
      email: 'ada@example.com',
      name: 'Ada Lovelace',
      groups: ['ENT_ORGA_ADMINS', 'developers', 'AD Engineers', 'Everyone'],
      nestedGroups: [],
    });
    expect(fake.server.requests.map((r) => r.path)).toEqual([`/api/v1/users/${ada.id}`, `/api/v1/users/${ada.id}/groups`]);
    expect(stats).toEqual({ apiCalls: 2, pages: 1, retries: 0 });
  });

  it('falls back to the email search when the subject is unknown to Okta', async () => {
    const connector = oktaConnectorFor(fake);
    const found = await connector.lookupUser({ subject: 'saml-nameid-123', email: 'ADA@example.com' }, callOptions());

    expect(found?.subject).toBe(ada.id);
    expect(found?.groups).toContain('ENT_ORGA_ADMINS');
    const search = fake.server.requests.find((r) => r.path === '/api/v1/users');
    expect(search?.query.get('search')).toBe('profile.email eq "ADA@example.com"');
  });

  it('answers null for a user Okta does not know by id or email', async () => {
    const connector = oktaConnectorFor(fake);
    const found = await connector.lookupUser({ subject: '00unknown', email: 'nobody@example.com' }, callOptions());
    expect(found).toBeNull();
    expect(fake.apiCalls()).toBe(2);
  });

  it('escapes the email in the search expression', async () => {
    const connector = oktaConnectorFor(fake);
    const found = await connector.lookupUser({ subject: '00unknown', email: 'x" or profile.email eq "ada@example.com' }, callOptions());
    expect(found).toBeNull();
  });

  it('keeps only the configured group types', async () => {
    const connector = oktaConnectorFor(fake, { groupTypes: ['OKTA_GROUP'] });
    const found = await connector.lookupUser({ subject: ada.id, email: 'ada@example.com' }, callOptions());
    expect(found?.groups).toEqual(['ENT_ORGA_ADMINS', 'developers']);
  });

  it('a user in no group has an empty list, which is an answer, not an error', async () => {
    const connector = oktaConnectorFor(fake);
    const found = await connector.lookupUser({ subject: 'x', email: 'grace@example.com' }, callOptions());
    expect(found).toMatchObject({ email: 'grace@example.com', name: 'Grace Hopper', groups: [] });
  });

  it('throws rather than answering "no groups" when Okta fails', async () => {
    const connector = oktaConnectorFor(fake, { maxRetries: 0 });
    fake.serverErrors(1, { match: (r) => r.path.endsWith('/groups') });
    await expect(connector.lookupUser({ subject: ada.id, email: 'ada@example.com' }, callOptions())).rejects.toMatchObject({
      kind: 'unreachable',
    });
  });
});
