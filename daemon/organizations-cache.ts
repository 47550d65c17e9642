import type { Organization, Store } from '../store/types.js';

export interface OrganizationsCache {
  get(): Promise<Organization[]>;
  /** After an organization or group is created through this process. */
  invalidate(): void;
}

/**
 * The organizations, read from the store at most once per `ttlMs`. Every login plans against
 * them, and reading them all is most of a login's cost (BENCHMARKS.md), while admins change them
 * rarely. Writes through this process invalidate at once; another replica's writes are seen
 * within `ttlMs`.
 */
export function createOrganizationsCache(
  store: Store,
  options: { ttlMs?: number; now?: () => number } = {},
): OrganizationsCache {
  const ttlMs = options.ttlMs ?? 1_000;
  const now = options.now ?? Date.now;
  let cached: { readAt: number; organizations: Promise<Organization[]> } | null = null;
  return {
    get() {
      if (!cached || now() - cached.readAt >= ttlMs) {
        const organizations = store.listOrganizations();
        const entry = { readAt: now(), organizations };
        cached = entry;
        // A failed read is not kept: the next call asks the store again.
        organizations.catch(() => {
          if (cached === entry) cached = null;
        });
      }
      return cached.organizations;
    },
    invalidate() {
      cached = null;
    },
  };
}
