import { AlreadyExistsError, ConflictError, NotFoundError, type Organization, type OrganizationStore } from '../types.js';
import type { Collections } from './collections.js';
import { parseOrganization } from './documents.js';
import { isDuplicateKeyError } from './errors.js';
import type { WriteGuards } from './write-guards.js';

const MAX_ATTEMPTS = 10;


function plain(org: Organization): Organization {
  return { key: org.key, defaultGroup: org.defaultGroup, groups: [...org.groups] };
}

/** Groups once each, without the default group (it is derived, never listed). */
function cleanGroups(org: Organization): string[] {
  return [...new Set(org.groups)].filter((group) => group !== org.defaultGroup);
}

export function createOrganizationStore(deps: { collections: Collections; guards: WriteGuards }): OrganizationStore {
  const { organizations } = deps.collections;
  const { guards } = deps;

  async function read(key: string): Promise<(Organization & { rev: number }) | null> {
    const raw: unknown = await organizations.findOne({ _id: key });
    return raw === null ? null : parseOrganization(raw);
  }

  /**
   * Compare-and-swap on the organization's revision: `decide` sees the organization as read and
   * returns the groups to append (empty: nothing to write).
   */
  async function appendGroups(key: string, decide: (current: Organization) => string[]): Promise<Organization> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
      const current = await read(key);
      if (current === null) throw new NotFoundError('organization', key);
      const added = decide(current);
      if (added.length === 0) return plain(current);
      const groups = [...current.groups, ...added];
      const written = await guards.withRevision('organization', key, current.rev, async () => {
        const outcome = await organizations.updateOne({ _id: key, rev: current.rev }, { $set: { groups, rev: current.rev + 1 } });
        return outcome.matchedCount === 1;
      });
      if (written) return { key, defaultGroup: current.defaultGroup, groups };
    }
    throw new ConflictError(`organization ${key} changed ${MAX_ATTEMPTS} times while being updated; giving up`);
  }

  async function insert(org: Organization): Promise<Organization> {
    const groups = cleanGroups(org);
    await organizations.insertOne({ _id: org.key, defaultGroup: org.defaultGroup, groups, rev: 1 });
    return { key: org.key, defaultGroup: org.defaultGroup, groups };
  }

  return {
    async listOrganizations() {
      const raw: unknown[] = await organizations.find({}).sort({ _id: 1 }).toArray();
      return raw.map((doc) => plain(parseOrganization(doc)));
    },

    async getOrganization(key) {
      const org = await read(key);
      return org === null ? null : plain(org);
    },

    async createOrganization(org) {
      try {
        return await insert(org);
      } catch (error) {
        if (isDuplicateKeyError(error)) throw new AlreadyExistsError('organization', org.key);
        throw error;
      }
    },

    async ensureOrganization(org) {
      try {
        return await insert(org);
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const wanted = cleanGroups(org);
      return appendGroups(org.key, (current) =>
        wanted.filter((group) => group !== current.defaultGroup && !current.groups.includes(group)),
      );
    },

    addGroup(organization, group) {
      return appendGroups(organization, (current) => {
        if (group === current.defaultGroup || current.groups.includes(group)) throw new AlreadyExistsError('group', group);
        return [group];
      });
    },
  };
}
