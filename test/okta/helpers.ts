import { createOktaConnector, oktaConfigSchema } from '../../connectors/okta/index.js';
import type { CallStats, Connector, IdpGroup, IdpUser, IncrementalFeed, UserListing } from '../../connectors/types.js';
import { FakeOkta, type FakeOktaOptions } from '../fakes/okta/index.js';
import type { LoggedRequest } from '../fakes/fake-server.js';

export async function startFakeOkta(options: FakeOktaOptions = {}): Promise<FakeOkta> {
  const fake = new FakeOkta(options);
  await fake.start();
  return fake;
}

/** A connector on the real SDK, configured the way the config file would (schema defaults). */
export function oktaConnectorFor(
  fake: FakeOkta,
  overrides: Record<string, unknown> = {},
): ReturnType<typeof createOktaConnector> {
  const config = oktaConfigSchema.parse({
    id: 'okta-test',
    type: 'okta',
    orgUrl: fake.baseUrl,
    token: fake.token,
    ...overrides,
  });
  return createOktaConnector(config);
}

export function newStats(): CallStats {
  return { apiCalls: 0, pages: 0, retries: 0 };
}

export function callOptions(stats: CallStats = newStats()) {
  return { signal: new AbortController().signal, stats };
}

export async function collect<T>(pages: AsyncIterable<T[]>): Promise<{ items: T[]; pages: number }> {
  const items: T[] = [];
  let count = 0;
  for await (const page of pages) {
    items.push(...page);
    count++;
  }
  return { items, pages: count };
}

export async function allGroups(connector: Connector, stats = newStats()): Promise<IdpGroup[]> {
  return (await collect(connector.listGroups(callOptions(stats)))).items;
}

export async function allMembers(connector: Connector, group: IdpGroup, stats = newStats()): Promise<IdpUser[]> {
  return (await collect(connector.listMembers(group, callOptions(stats)))).items;
}

export const onPath =
  (path: string) =>
  (request: LoggedRequest): boolean =>
    request.path === path;

export const onGroupsList = onPath('/api/v1/groups');
export const onMembersLists = (request: LoggedRequest): boolean => /^\/api\/v1\/groups\/[^/]+\/users$/.test(request.path);
