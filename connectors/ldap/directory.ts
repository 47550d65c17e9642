import type { Entry } from 'ldapts';
import { ConnectorError, type IdpGroup, type IdpMember, type IdpUser } from '../types.js';
import type { LdapConnectorConfig } from './config.js';
import { dnKey, parseDn, stripUid } from './dn.js';
import { attributeValues, firstValue } from './entries.js';
import { and, equals, hasMember, hasMemberInChain, hasRdn, idEquals, modifiedSince } from './filters.js';
import type { LdapSession } from './session.js';

/**
 * The directory reads behind the connector, each on an open session: groups, a group's
 * members with nesting expanded client-side (cycles safe), a user's direct and inherited
 * groups, and changed groups for the incremental feed.
 */

/** At most this many values in one `(|...)` filter, so filters stay well under server limits. */
const MAX_FILTER_TERMS = 200;

const SAFE_ATTRIBUTE_TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)$/;
const GENERALIZED_TIME = /^(\d{14})(?:[.,](\d{1,6}))?Z$/;
const EPOCH = '19700101000000Z';

export function isGeneralizedTime(text: string): boolean {
  return GENERALIZED_TIME.test(text);
}

/** A sortable key for a generalized time (`YYYYMMDDHHMMSS[.f]Z`), or null. */
function timeKey(text: string): string | null {
  const match = GENERALIZED_TIME.exec(text);
  return match ? `${match[1] ?? ''}.${(match[2] ?? '').padEnd(6, '0')}` : null;
}

function latest(times: string[]): string | null {
  let best: { text: string; key: string } | null = null;
  for (const text of times) {
    const key = timeKey(text);
    if (key !== null && (best === null || key > best.key)) best = { text, key };
  }
  return best?.text ?? null;
}

function chunks<T>(items: T[], size: number): T[][] {
  const result: T[][] = [];
  for (let i = 0; i < items.length; i += size) result.push(items.slice(i, i + size));
  return result;
}

/** A member DN of a group, nested groups expanded. */
export interface MemberDn {
  dn: string;
  /** Reached only through member groups: the group's own member attribute does not name it. */
  nested: boolean;
}

export interface UserWithGroups {
  user: IdpUser;
  /** Groups whose member attribute names the user. */
  direct: IdpGroup[];
  /** Direct groups and every group above them. */
  all: IdpGroup[];
}

export function createDirectory(config: LdapConnectorConfig) {
  const attrs = config.attributes;
  const groupIdAttributes = attrs.groupId === 'dn' ? [] : [attrs.groupId];
  const groupAttributes = [attrs.groupName, ...groupIdAttributes];
  const memberAttributes = attrs.member;
  const userAttributes = [attrs.subject, attrs.email, attrs.name];
  const batch = Math.max(1, Math.min(config.pageSize, MAX_FILTER_TERMS));

  const badEntry = (entry: Entry, missing: string): ConnectorError =>
    new ConnectorError('bad_response', config.id, `entry ${entry.dn} has no ${missing} attribute`);

  function toGroup(entry: Entry): IdpGroup {
    const name = firstValue(entry, attrs.groupName);
    if (name === null) throw badEntry(entry, attrs.groupName);
    const id = attrs.groupId === 'dn' ? entry.dn : firstValue(entry, attrs.groupId);
    if (id === null) throw badEntry(entry, attrs.groupId);
    return { id, name };
  }

  function toUser(entry: Entry): IdpUser {
    const subject = firstValue(entry, attrs.subject);
    if (subject === null) throw badEntry(entry, attrs.subject);
    return { subject, email: firstValue(entry, attrs.email), name: firstValue(entry, attrs.name) };
  }

  function memberDns(entry: Entry): string[] {
    return memberAttributes.flatMap((attribute) => attributeValues(entry, attribute)).map(stripUid);
  }

  function uniqueGroups(entries: Entry[]): Entry[] {
    const seen = new Map<string, Entry>();
    for (const entry of entries) if (!seen.has(dnKey(entry.dn))) seen.set(dnKey(entry.dn), entry);
    return [...seen.values()];
  }

  /**
   * Entries under `base` matching `filter` whose DN is one of `dns`, keyed by `dnKey`. Looks
   * them up in batches by first RDN (one search per batch, not one per DN), then keeps only
   * exact DN matches; a DN whose RDN cannot be put in a filter is read directly.
   */
  async function findByDn(
    session: LdapSession,
    base: string,
    filter: string,
    dns: string[],
    attributes: string[],
  ): Promise<Map<string, Entry>> {
    const wanted = new Set(dns.map(dnKey));
    const found = new Map<string, Entry>();
    const rdnFilters = new Map<string, NonNullable<ReturnType<typeof parseDn>>[number]>();
    const direct: string[] = [];
    for (const dn of dns) {
      const rdn = parseDn(dn)?.[0];
      if (rdn && rdn.length > 0 && rdn.every((ava) => SAFE_ATTRIBUTE_TYPE.test(ava.type))) {
        rdnFilters.set(hasRdn([rdn]), rdn);
      } else {
        direct.push(dn);
      }
    }
    for (const group of chunks([...rdnFilters.values()], batch)) {
      const entries = await session.all(base, {
        filter: and(filter, hasRdn(group)),
        attributes,
        pageSize: config.pageSize,
      });
      for (const entry of entries) {
        const key = dnKey(entry.dn);
        if (wanted.has(key)) found.set(key, entry);
      }
    }
    for (const dn of direct) {
      const entry = await session.read(dn, { filter, attributes });
      if (entry) found.set(dnKey(entry.dn), entry);
    }
    return found;
  }

  async function findGroup(session: LdapSession, id: string, attributes: string[]): Promise<Entry | null> {
    if (attrs.groupId === 'dn') return session.read(id, { filter: config.groupFilter, attributes });
    const entries = await session.all(config.groupBase, {
      filter: and(config.groupFilter, idEquals(attrs.groupId, id)),
      attributes,
      pageSize: config.pageSize,
    });
    if (entries.length > 1) {
      throw new ConnectorError('bad_response', config.id, `${entries.length} groups have ${attrs.groupId} ${id}`);
    }
    return entries[0] ?? null;
  }

  /** Groups that hold any of `start` as a member, transitively; `start` itself excluded. */
  async function ancestors(session: LdapSession, start: Entry[]): Promise<Entry[]> {
    const seen = new Set(start.map((entry) => dnKey(entry.dn)));
    const found: Entry[] = [];
    let frontier = start.map((entry) => entry.dn);
    const perSearch = Math.max(1, Math.floor(batch / memberAttributes.length));
    while (frontier.length > 0) {
      const next: string[] = [];
      for (const part of chunks(frontier, perSearch)) {
        const parents = await session.all(config.groupBase, {
          filter: and(config.groupFilter, hasMember(memberAttributes, part)),
          attributes: groupAttributes,
          pageSize: config.pageSize,
        });
        for (const parent of parents) {
          const key = dnKey(parent.dn);
          if (seen.has(key)) continue;
          seen.add(key);
          found.push(parent);
          next.push(parent.dn);
        }
      }
      frontier = next;
    }
    return found;
  }

  return {
    toGroup,
    toUser,

    /** Pages of groups under `groupBase`. */
    async *groups(session: LdapSession): AsyncGenerator<IdpGroup[]> {
      const pages = session.pages(config.groupBase, {
        filter: config.groupFilter,
        attributes: groupAttributes,
        pageSize: config.pageSize,
      });
      for await (const page of pages) yield page.map(toGroup);
    },

    /**
     * DNs of the group's members that are not groups, nested groups expanded, each saying
     * whether only the expansion reached it; empty when the group no longer exists. A member
     * group seen twice (a cycle) is expanded once.
     */
    async memberDns(session: LdapSession, group: IdpGroup): Promise<MemberDn[]> {
      const root = await findGroup(session, group.id, memberAttributes);
      if (!root) return [];
      const expanded = new Set([dnKey(root.dn)]);
      const others = new Map<string, string>();
      let pending = memberDns(root);
      const direct = new Set(pending.map(dnKey));
      while (pending.length > 0) {
        const fresh = new Map<string, string>();
        for (const dn of pending) {
          const key = dnKey(dn);
          if (!expanded.has(key) && !others.has(key)) fresh.set(key, dn);
        }
        const groups = await findByDn(session, config.groupBase, config.groupFilter, [...fresh.values()], memberAttributes);
        const next: string[] = [];
        for (const [key, dn] of fresh) {
          const nested = groups.get(key);
          if (nested) {
            expanded.add(key);
            next.push(...memberDns(nested));
          } else {
            others.set(key, dn);
          }
        }
        pending = next;
      }
      return [...others].map(([key, dn]) => ({ dn, nested: !direct.has(key) }));
    },

    /** The users among `members` (entries under `userBase` matching `userFilter`), nesting kept. */
    async members(session: LdapSession, members: MemberDn[]): Promise<IdpMember[]> {
      const dns = members.map((member) => member.dn);
      const found = await findByDn(session, config.userBase, config.userFilter, dns, userAttributes);
      const nested = new Set(members.filter((member) => member.nested).map((member) => dnKey(member.dn)));
      return [...found].map(([key, entry]) => ({ ...toUser(entry), nested: nested.has(key) }));
    },

    /** Pages of every user: entries under `userBase` matching `userFilter`. */
    async *allUsers(session: LdapSession): AsyncGenerator<IdpUser[]> {
      const pages = session.pages(config.userBase, {
        filter: config.userFilter,
        attributes: userAttributes,
        pageSize: config.pageSize,
      });
      for await (const page of pages) yield page.map(toUser);
    },

    /** The user by subject, else by email; null when neither matches. Two matches is an error. */
    async findUser(session: LdapSession, query: { subject: string; email: string }): Promise<Entry | null> {
      const search = async (filter: string, what: string): Promise<Entry | null> => {
        const entries = await session.all(config.userBase, {
          filter: and(config.userFilter, filter),
          attributes: userAttributes,
          pageSize: config.pageSize,
        });
        if (entries.length > 1) {
          throw new ConnectorError('bad_response', config.id, `${entries.length} users match ${what}`);
        }
        return entries[0] ?? null;
      };
      const bySubject = query.subject
        ? await search(idEquals(attrs.subject, query.subject), `${attrs.subject} ${query.subject}`)
        : null;
      if (bySubject || !query.email) return bySubject;
      return search(equals(attrs.email, query.email), `${attrs.email} ${query.email}`);
    },

    async groupsOf(session: LdapSession, user: Entry): Promise<{ direct: Entry[]; all: Entry[] }> {
      const direct = await session.all(config.groupBase, {
        filter: and(config.groupFilter, hasMember(memberAttributes, [user.dn])),
        attributes: groupAttributes,
        pageSize: config.pageSize,
      });
      if (config.nesting === 'ad-matching-rule') {
        const chain = await session.all(config.groupBase, {
          filter: inChainGroupsFilter(config, user.dn),
          attributes: groupAttributes,
          pageSize: config.pageSize,
        });
        return { direct, all: uniqueGroups([...direct, ...chain]) };
      }
      return { direct, all: uniqueGroups([...direct, ...(await ancestors(session, direct))]) };
    },

    /**
     * The server's clock as generalized time: Active Directory's root DSE `currentTime`, else
     * OpenLDAP's `cn=Monitor` (when the bind DN may read it); null when neither is offered.
     */
    async serverTime(session: LdapSession): Promise<string | null> {
      const sources = [
        { dn: '', attribute: 'currentTime' },
        { dn: 'cn=Current,cn=Time,cn=Monitor', attribute: 'monitorTimestamp' },
      ];
      for (const source of sources) {
        try {
          const entry = await session.read(source.dn, { attributes: [source.attribute] });
          const time = entry ? firstValue(entry, source.attribute) : null;
          if (time !== null && isGeneralizedTime(time)) return time;
        } catch (error) {
          // Not offered, or not readable by this bind DN: try the next source.
          if (!(error instanceof ConnectorError) || !['auth_failed', 'bad_response', 'invalid_config'].includes(error.kind)) {
            throw error;
          }
        }
      }
      return null;
    },

    /**
     * The newest `modifyTimestamp` among the groups. Used as the cursor when the server's clock
     * cannot be read: every later change is stamped at or after it, so `>=` misses nothing
     * (it may repeat the groups changed in that same second).
     */
    async latestGroupChange(session: LdapSession): Promise<string> {
      const times: string[] = [];
      for await (const page of session.pages(config.groupBase, {
        filter: config.groupFilter,
        attributes: ['modifyTimestamp'],
        pageSize: config.pageSize,
      })) {
        const newest = latest(page.flatMap((entry) => attributeValues(entry, 'modifyTimestamp')));
        if (newest) times.push(newest);
      }
      return latest(times) ?? EPOCH;
    },

    /**
     * Groups with `modifyTimestamp >= cursor`, plus every group above them (a nested group's
     * change changes its parents' expanded members), and the newest stamp seen.
     */
    async changedSince(session: LdapSession, cursor: string): Promise<{ groups: Entry[]; newest: string }> {
      const changed = await session.all(config.groupBase, {
        filter: and(config.groupFilter, modifiedSince(cursor)),
        attributes: [...groupAttributes, 'modifyTimestamp'],
        pageSize: config.pageSize,
      });
      const newest = latest([cursor, ...changed.flatMap((entry) => attributeValues(entry, 'modifyTimestamp'))]) ?? cursor;
      return { groups: uniqueGroups([...changed, ...(await ancestors(session, changed))]), newest };
    },
  };
}

export type Directory = ReturnType<typeof createDirectory>;

/** Active Directory's transitive membership filter for one user DN (not honoured by OpenLDAP). */
export function inChainGroupsFilter(config: Pick<LdapConnectorConfig, 'groupFilter' | 'attributes'>, userDn: string): string {
  const memberAttribute = config.attributes.member[0] ?? 'member';
  return and(config.groupFilter, hasMemberInChain(memberAttribute, userDn));
}
