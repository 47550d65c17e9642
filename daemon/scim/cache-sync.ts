import { setImmediate as nextTurn } from 'node:timers/promises';
import type { ScimResource } from '../../store/scim-types.js';
import type { CachedUser, Store } from '../../store/types.js';
import { displayNameOf, emailOf, isActive, stringAttribute } from './resources.js';

/**
 * Pushed resources → the directory cache, as the connector's users and groups (what pre-warm
 * fills for a pulling connector): a user's groups are the `displayName`s of the groups whose
 * members hold its SCIM id; the cache subject is its `subjectAttribute`. A deactivated or
 * deleted user's entry is marked absent.
 */

export interface ScimConnectorSettings {
  id: string;
  subjectAttribute: 'externalId' | 'userName';
  onDeprovision: 'disable' | 'remove-memberships';
  /** Pushed changes are applied to accounts at once (docs/scim.md, Push provisioning). */
  provisionOnPush: boolean;
}

export function subjectOf(settings: ScimConnectorSettings, attributes: Record<string, unknown>): string | null {
  return stringAttribute(attributes, settings.subjectAttribute);
}

/** The cache entry a pushed user implies, or null when it has no subject (nothing to log in as). */
export function cachedUserOf(
  settings: ScimConnectorSettings,
  user: ScimResource,
  groups: string[],
  previous: CachedUser | null,
  now: string,
): CachedUser | null {
  const subject = subjectOf(settings, user.attributes);
  if (subject === null) return null;
  const active = isActive(user.attributes);
  return {
    connector: settings.id,
    subject,
    email: emailOf(user.attributes),
    name: displayNameOf(user.attributes),
    groups: [...new Set(groups)].sort(),
    nestedGroups: [],
    fetchedAt: now,
    // Pushed data is what pre-warm would have brought: the cache's `origin` has no third value.
    origin: 'prewarm',
    absentSince: active ? null : (previous?.absentSince ?? now),
  };
}

export interface CacheSync {
  /**
   * Rewrites the cache entries of these SCIM users (their groups read from the membership index);
   * returns the subjects of the entries written.
   */
  users(userIds: Iterable<string>, now: string): Promise<string[]>;
  /** The same for one user just written, as written (not read again). */
  user(user: ScimResource, now: string): Promise<string[]>;
  /** Marks a subject's entry absent (the user was deleted, or its subject changed). */
  absent(subject: string, now: string): Promise<void>;
  /** A group's name in the cache, or its removal. */
  group(group: ScimResource | { id: string; deleted: true }, now: string): Promise<void>;
}

/** Users whose cache entries are rewritten in one step (a few milliseconds on SQLite). */
const USERS_PER_SLICE = 100;

export function createCacheSync(store: Store, settings: ScimConnectorSettings): CacheSync {
  const connector = settings.id;

  /** Writes the entries of these users (a slice); returns their subjects. */
  async function write(users: ScimResource[], now: string): Promise<string[]> {
    // Only a deactivated user's entry keeps something of the previous one (since when it is absent).
    const inactive = users.flatMap((u) => (isActive(u.attributes) ? [] : (subjectOf(settings, u.attributes) ?? [])));
    const previous = new Map(inactive.length === 0 ? [] : (await store.getCachedUsers(connector, inactive)).map((c) => [c.subject, c]));
    const groupsOf = await store.scimGroupsOfUsers(connector, users.map((u) => u.id));
    const entries: CachedUser[] = [];
    for (const user of users) {
      const groups = (groupsOf.get(user.id) ?? []).map((g) => g.displayName);
      const subject = subjectOf(settings, user.attributes);
      const entry = cachedUserOf(settings, user, groups, subject ? (previous.get(subject) ?? null) : null, now);
      if (entry) entries.push(entry);
    }
    if (entries.length > 0) await store.putCachedUsers(entries);
    return entries.map((entry) => entry.subject);
  }

  return {
    async users(userIds, now) {
      const ids = [...new Set(userIds)];
      const written: string[] = [];
      // In slices, each its own few reads and one write, with a turn of the event loop between
      // them: a 1,000-member PATCH runs on the thread that answers logins.
      for (let start = 0; start < ids.length; start += USERS_PER_SLICE) {
        if (start > 0) await nextTurn();
        written.push(...(await write(await store.getScimResources(connector, 'User', ids.slice(start, start + USERS_PER_SLICE)), now)));
      }
      return written;
    },
    user: (user, now) => write([user], now),
    async absent(subject, now) {
      const previous = await store.getCachedUser(connector, subject);
      if (!previous || previous.absentSince) return;
      await store.putCachedUsers([{ ...previous, absentSince: now, fetchedAt: now }]);
    },
    async group(group, now) {
      if ('deleted' in group) {
        await store.deleteCachedGroups(connector, [group.id]);
        return;
      }
      const name = stringAttribute(group.attributes, 'displayName') ?? group.id;
      await store.putCachedGroups([{ connector, id: group.id, name, fetchedAt: now }]);
    },
  };
}
