import { z } from 'zod';

/**
 * The SCIM resources store part: users and groups an IdP pushed to a `scim` connector, kept as
 * the IdP sent them (attributes jitsync does not use included), so that every attribute a SCIM
 * client writes reads back. The directory cache is derived from them by daemon/scim.
 */

export type ScimResourceType = 'User' | 'Group';

export interface ScimResource {
  connector: string;
  resourceType: ScimResourceType;
  /** Ours: assigned at creation, never changes. */
  id: string;
  /** The resource as sent, without `id` and `meta` (ours). */
  attributes: Record<string, unknown>;
  /** Grows by one per write: the resource's ETag. */
  version: number;
  created: string;
  lastModified: string;
}

/** What a stored SCIM document must look like when read back (both backends check it). */
export const scimResourceSchema = z.object({
  connector: z.string().min(1),
  resourceType: z.enum(['User', 'Group']),
  id: z.string().min(1),
  attributes: z.record(z.string(), z.unknown()),
  version: z.number().int().positive(),
  created: z.string(),
  lastModified: z.string(),
});

/** The keys a resource is unique by, within its connector and type. */
export interface ScimKeys {
  /** `userName` (users) or `displayName` (groups), lower-cased: SCIM compares them case-insensitively. */
  name: string;
  /** Case-exact, as RFC 7643 says; null when absent. */
  externalId: string | null;
  /** Group member ids (`members[].value`); empty for users. */
  members: string[];
}

export function scimKeys(resourceType: ScimResourceType, attributes: Record<string, unknown>): ScimKeys {
  const read = (name: string): unknown => {
    const key = Object.keys(attributes).find((k) => k.toLowerCase() === name.toLowerCase());
    return key === undefined ? undefined : attributes[key];
  };
  const name = read(resourceType === 'User' ? 'userName' : 'displayName');
  const externalId = read('externalId');
  const members = resourceType === 'Group' ? read('members') : undefined;
  return {
    name: typeof name === 'string' ? name.toLowerCase() : '',
    externalId: typeof externalId === 'string' ? externalId : null,
    members: Array.isArray(members)
      ? [...new Set(members.flatMap((m) => (isRecord(m) && typeof m.value === 'string' ? [m.value] : [])))]
      : [],
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A group a user belongs to, as the membership index has it. */
export interface ScimGroupRef {
  id: string;
  displayName: string;
}

export interface ScimResourceStore {
  getScimResource(connector: string, resourceType: ScimResourceType, id: string): Promise<ScimResource | null>;
  /** Every resource of a type, in id order. */
  listScimResources(connector: string, resourceType: ScimResourceType): Promise<ScimResource[]>;
  /**
   * The resources whose name (`userName` / `displayName`, compared case-insensitively) or
   * `externalId` (case-exactly) is `value`: an IdP's check before a create, answered by an index.
   */
  findScimResources(connector: string, resourceType: ScimResourceType, key: 'name' | 'externalId', value: string): Promise<ScimResource[]>;
  /** The resources of these ids that exist. */
  getScimResources(connector: string, resourceType: ScimResourceType, ids: readonly string[]): Promise<ScimResource[]>;
  /** Which of these ids exist, without reading the resources (a group PATCH checks 1,000 members). */
  existingScimIds(connector: string, resourceType: ScimResourceType, ids: readonly string[]): Promise<string[]>;
  /** Throws `ScimUniquenessError` (types.ts) when the name or externalId is taken. */
  createScimResource(resource: ScimResource): Promise<ScimResource>;
  /**
   * A compare-and-swap: writes `attributes` as the next version if the stored resource is still
   * at `version`, and returns it. Its arguments are data, so that another thread can ask for it.
   * Throws `NotFoundError`, `ScimUniquenessError`, or `ConflictError` when another write came
   * first (the caller reads again and decides again: two member PATCHes of a group each keep the
   * other's members).
   */
  updateScimResource(
    connector: string,
    resourceType: ScimResourceType,
    id: string,
    version: number,
    attributes: Record<string, unknown>,
    now: string,
  ): Promise<ScimResource>;
  /** Removes the resource; returns it, or null when it did not exist. */
  deleteScimResource(connector: string, resourceType: ScimResourceType, id: string): Promise<ScimResource | null>;
  /** For each user id, the groups whose `members` hold it (sorted by group id; none: an empty list). */
  scimGroupsOfUsers(connector: string, userIds: readonly string[]): Promise<Map<string, ScimGroupRef[]>>;
}

/**
 * Group display names, remembered per version: a group's document holds all its members (1,000s),
 * and a push asks for the groups of every member it touches, so a document is parsed only when
 * its version is new. `read` gives the stored JSON of that version.
 */
export interface GroupNameMemo {
  /** Whether the name of this version is remembered (no read needed). */
  knows(connector: string, id: string, version: number): boolean;
  /** The name of this version; null when `read` finds no document (the group is gone). */
  nameOf(connector: string, id: string, version: number, read: () => string | undefined): string | null;
}

export function groupNameMemo(): GroupNameMemo {
  const memo = new Map<string, { version: number; displayName: string }>();
  const keyOf = (connector: string, id: string) => `${connector}\u0000${id}`;
  return {
    knows: (connector, id, version) => memo.get(keyOf(connector, id))?.version === version,
    nameOf(connector, id, version, read) {
      const key = keyOf(connector, id);
      const known = memo.get(key);
      if (known?.version === version) return known.displayName;
      const json = read();
      if (json === undefined) {
        memo.delete(key);
        return null;
      }
      const displayName = displayNameOf(JSON.parse(json) as Record<string, unknown>) || id;
      memo.set(key, { version, displayName });
      return displayName;
    },
  };
}

/** A group's `displayName` (attribute names are case-insensitive, RFC 7643 §2.1); `''` when it has none. */
export function displayNameOf(attributes: Record<string, unknown>): string {
  const value = Object.entries(attributes).find(([key]) => key.toLowerCase() === 'displayname')?.[1];
  return typeof value === 'string' ? value : '';
}

/** Name of the attribute `ScimKeys.name` holds for a type. */
export function nameAttribute(resourceType: ScimResourceType): 'userName' | 'displayName' {
  return resourceType === 'User' ? 'userName' : 'displayName';
}
