import { afterEach, describe, expect, test } from 'vitest';
import { ConnectorError } from '../../connectors/types.js';
import type { FakeEntra } from '../fakes/entra/fake-entra.js';
import { callOptions, startEntra } from './harness.js';

let fake: FakeEntra | undefined;
afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

/** eve is directly in SRE and Support; SRE sits in Platform, Platform in Engineering. */
function seed(entra: FakeEntra) {
  const d = entra.directory;
  const eve = d.addUser({ userPrincipalName: 'eve@example.com', displayName: 'Eve Example', mail: 'Eve.Example@example.com' });
  const sre = d.addGroup({ displayName: 'SRE', members: [eve.id] });
  const platform = d.addGroup({ displayName: 'Platform', members: [sre.id] });
  d.addGroup({ displayName: 'Engineering', members: [platform.id] });
  d.addGroup({ displayName: 'Support', members: [eve.id] });
  d.addGroup({ displayName: 'Sales' });
  return { eve };
}

describe('entra connector: lookupUser', () => {
  test('returns every group with nesting resolved, and which ones come only through nesting', async () => {
    const started = await startEntra();
    fake = started.fake;
    const { eve } = seed(fake);
    const options = callOptions();

    const result = await started.connector.lookupUser({ subject: eve.id, email: 'eve@example.com' }, options);

    expect(result).not.toBeNull();
    expect(result!.subject).toBe(eve.id);
    expect(result!.email).toBe('Eve.Example@example.com');
    expect(result!.name).toBe('Eve Example');
    expect([...result!.groups].sort()).toEqual(['Engineering', 'Platform', 'SRE', 'Support']);
    expect([...result!.nestedGroups].sort()).toEqual(['Engineering', 'Platform']);
    // The user, the transitive groups and the direct groups: three requests, sent as advanced queries.
    expect(options.stats.apiCalls).toBe(3);
    const casts = fake.graphCalls(`/v1.0/users/${eve.id}/`);
    expect(casts.map((r) => r.path).sort()).toEqual([
      `/v1.0/users/${eve.id}/memberOf/microsoft.graph.group`,
      `/v1.0/users/${eve.id}/transitiveMemberOf/microsoft.graph.group`,
    ]);
    expect(casts.every((r) => r.headers['consistencylevel'] === 'eventual' && r.query.get('$count') === 'true')).toBe(true);
  });

  test('a name held both directly and through nesting is not reported as nested', async () => {
    const started = await startEntra();
    fake = started.fake;
    const { eve } = seed(fake);
    const platform = fake.directory.listGroups().find((g) => g.displayName === 'Platform')!;
    fake.directory.addMember(platform.id, eve.id);

    const result = await started.connector.lookupUser({ subject: eve.id, email: 'eve@example.com' }, callOptions());

    expect([...result!.nestedGroups]).toEqual(['Engineering']);
  });

  test('pages through users in many groups', async () => {
    const started = await startEntra({}, { pageSize: 3 });
    fake = started.fake;
    const user = fake.directory.addUser({ userPrincipalName: 'many@example.com' });
    for (let i = 0; i < 8; i++) fake.directory.addGroup({ displayName: `g${i}`, members: [user.id] });

    const result = await started.connector.lookupUser({ subject: user.id, email: 'many@example.com' }, callOptions());

    expect([...result!.groups].sort()).toEqual(['g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6', 'g7']);
    expect(result!.nestedGroups).toEqual([]);
  });

  test('finds the user by user principal name as well as by object id', async () => {
    const started = await startEntra();
    fake = started.fake;
    const { eve } = seed(fake);

    const result = await started.connector.lookupUser({ subject: 'eve@example.com', email: 'eve@example.com' }, callOptions());

    expect(result?.subject).toBe(eve.id);
    expect(result?.groups).toHaveLength(4);
  });

  test('a user in no group gets an empty list; an unknown subject gets null', async () => {
    const started = await startEntra();
    fake = started.fake;
    const loner = fake.directory.addUser({ userPrincipalName: 'loner@example.com' });

    const lonely = await started.connector.lookupUser({ subject: loner.id, email: 'loner@example.com' }, callOptions());
    const unknown = await started.connector.lookupUser({ subject: 'no-such-id', email: 'x@example.com' }, callOptions());

    expect(lonely).toMatchObject({ subject: loner.id, groups: [], nestedGroups: [] });
    expect(unknown).toBeNull();
  });

  test('when Graph keeps failing the look-up throws: never "no groups"', async () => {
    const started = await startEntra({}, { maxRetries: 1 });
    fake = started.fake;
    const { eve } = seed(fake);
    fake.server.inject({
      match: (r) => r.path.endsWith('/transitiveMemberOf/microsoft.graph.group'),
      times: 2,
      response: { status: 503, headers: { 'retry-after': '0' }, body: { error: { code: 'serviceNotAvailable', message: 'busy' } } },
    });

    const error = await started.connector
      .lookupUser({ subject: eve.id, email: 'eve@example.com' }, callOptions())
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConnectorError);
    expect(error).toMatchObject({ kind: 'unreachable' });
  });
});
