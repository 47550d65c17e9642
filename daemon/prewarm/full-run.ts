import { hasIncrementalFeed, hasUserListing, type Connector } from '../../connectors/types.js';
import type { CachedGroup, Store } from '../../store/types.js';
import type { RunContext, RunOutcome } from './run-types.js';
import { diffFullSnapshot, Snapshot } from './snapshot.js';

export interface FullRunDeps {
  store: Pick<Store, 'listCachedUsers'>;
  clock: () => Date;
}

/**
 * A complete snapshot: every group and its members (and every user, when the IdP lists them),
 * compared with the cache. Reads only; the caller writes the outcome.
 */
export async function fullRun(deps: FullRunDeps, connector: Connector, context: RunContext): Promise<RunOutcome> {
  const { run, call, progress } = context;
  // Taken before reading, so the next incremental run misses nothing that changes meanwhile.
  const cursor = hasIncrementalFeed(connector) ? await connector.startCursor(call) : null;
  const groups = await collect(connector.listGroups(call));
  run.details.groupsTotal = groups.length;
  const snapshot = new Snapshot();
  for (const group of groups) {
    for await (const page of connector.listMembers(group, call)) snapshot.addMembers(group, page);
    run.figures.groups++;
    run.figures.memberships = snapshot.memberships;
    run.figures.users = snapshot.users.size;
    await progress();
  }
  const usersListed = hasUserListing(connector);
  if (usersListed) {
    for await (const page of connector.listUsers(call)) snapshot.addUsers(page);
  }
  run.figures.users = snapshot.users.size;
  const now = deps.clock().toISOString();
  const previous = await deps.store.listCachedUsers(connector.id);
  return {
    changes: diffFullSnapshot(previous, snapshot, { connector: connector.id, now, usersListed }),
    groups: {
      replace: groups.map((g): CachedGroup => ({ connector: connector.id, id: g.id, name: g.name, fetchedAt: now })),
      upsert: [],
      delete: [],
    },
    cursor,
  };
}

async function collect<T>(pages: AsyncIterable<T[]>): Promise<T[]> {
  const items: T[] = [];
  for await (const page of pages) items.push(...page);
  return items;
}
