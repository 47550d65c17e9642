import { AsyncLocalStorage } from 'node:async_hooks';
import { z } from 'zod';
import { toConnectorError } from '../errors.js';
import { withRetries } from '../retry.js';
import {
  ConnectorError,
  type CallOptions,
  type CallStats,
  type Connector,
  type ConnectorDefinition,
  type IdpGroup,
  type IdpUser,
  type IdpUserGroups,
  type FeedChanges,
  type MemberChangeFeed,
  type MemberChanges,
  type UserListing,
} from '../types.js';
import { createHermeticClient } from './client.js';
import { oktaConfigSchema, type OktaConnectorConfig } from './config.js';
import { classifyOktaError, httpStatusOf } from './errors.js';
import type { OktaCall } from './executor.js';
import { oktaGroupSchema, oktaLogEventSchema, oktaUserSchema, type OktaGroupModel, type OktaUserModel } from './schemas.js';

export { oktaConfigSchema, type OktaConnectorConfig } from './config.js';

/**
 * Okta through `@okta/okta-sdk-nodejs`: groups (named by `profile.name`), their members, one
 * user's groups, and an incremental feed on `lastUpdated`/`lastMembershipUpdated`. Okta groups
 * are flat, so nothing is ever nested. With `membershipEvents`, the feed also reads the System
 * Log's membership events, so that a group whose only change is its members is not re-listed.
 *
 * Abort and timeouts: the SDK's methods take no AbortSignal, so each SDK call runs inside an
 * `OktaCall` the executor reads, which gives every HTTP request the caller's signal plus
 * `timeoutMs`. What the SDK does not let us cancel: its wait before retrying a 429 (a plain
 * timer; an abort during it takes effect when the retry is sent, which then fails at once).
 */

/**
 * How far behind the org's clock a cursor is set. Covers the time between Okta evaluating a
 * filter and stamping `Date`, the second-granularity of `Date`, and the filter's eventually
 * consistent source (Okta: "typically less than one second"). Overlap only costs re-listing a
 * few groups; a gap would lose changes.
 */
const CURSOR_MARGIN_MS = 60_000;
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
/** `GET /api/v1/users` (search included): Okta's default and maximum page size. */
const USERS_LIMIT = 200;
/** `GET /api/v1/logs`: the maximum page size. */
const LOGS_LIMIT = 1000;
const MEMBERSHIP_EVENTS = 'eventType eq "group.user_membership.add" or eventType eq "group.user_membership.remove"';

export const oktaConnector: ConnectorDefinition<OktaConnectorConfig> = {
  type: 'okta',
  configSchema: oktaConfigSchema,
  create: (config) => createOktaConnector(config),
};

interface SdkCollection {
  nextUri: string | undefined;
  getNextPage(): Promise<unknown[]>;
}

export function createOktaConnector(
  config: OktaConnectorConfig,
): Connector & MemberChangeFeed & UserListing {
  const calls = new AsyncLocalStorage<OktaCall>();
  const client = createHermeticClient(config, calls);
  const policy = { maxRetries: config.maxRetries };
  const wanted = config.groupTypes ? new Set<string>(config.groupTypes) : undefined;

  const newCall = (options: CallOptions): OktaCall => ({
    signal: options.signal,
    timeoutMs: config.timeoutMs,
    stats: options.stats ?? emptyStats(),
  });

  /**
   * Runs one SDK request. The SDK itself retries 429s; 5xx, network errors and timeouts are
   * retried here with backoff. A 429 still failing after the SDK's retries is not retried again.
   */
  async function request<T>(call: OktaCall, options: CallOptions, run: () => Promise<T>): Promise<T> {
    try {
      return await withRetries(policy, { signal: options.signal, stats: call.stats }, async () => {
        try {
          return await calls.run(call, run);
        } catch (error) {
          const mapped = toConnectorError(error, { connector: config.id }, classifyOktaError);
          throw mapped.kind === 'unreachable' || mapped.kind === 'timeout' ? mapped : error;
        }
      });
    } catch (error) {
      if (options.signal.aborted) throw options.signal.reason;
      throw toConnectorError(error, { connector: config.id }, classifyOktaError);
    }
  }

  function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw toConnectorError(parsed.error, { connector: config.id }, classifyOktaError);
    return parsed.data;
  }

  /**
   * Pages of a collection, each validated. Paging by `getNextPage` rather than iterating items:
   * it keeps page boundaries (for `stats.pages`) and an empty page with a `next` link is just
   * `[]`, where item iteration would yield `null`.
   */
  async function* pages<T>(
    call: OktaCall,
    options: CallOptions,
    open: () => Promise<SdkCollection>,
    schema: z.ZodType<T>,
  ): AsyncGenerator<T[]> {
    const collection = await request(call, options, open);
    while (collection.nextUri) {
      const raw = await request(call, options, () => collection.getNextPage());
      call.stats.pages++;
      const items = parse(z.array(schema), raw);
      if (items.length > 0) yield items;
    }
  }

  const groupsPages = (call: OktaCall, options: CallOptions, filter: string | undefined) =>
    pages(
      call,
      options,
      () => client.groupApi.listGroups({ limit: config.pageSize, ...(filter ? { filter } : {}) }),
      oktaGroupSchema,
    );

  async function findUser(call: OktaCall, options: CallOptions, subject: string, email: string) {
    // "." and ".." would be resolved away as path segments and hit another endpoint.
    if (subject !== '.' && subject !== '..') {
      try {
        return parse(oktaUserSchema, await request(call, options, () => client.userApi.getUser({ userId: subject })));
      } catch (error) {
        if (!isNotFound(error)) throw error;
      }
    }
    // Unknown id: the same person by email. Okta does not keep emails unique; with several
    // matches take the one whose login is the email, else give up rather than guess.
    const matches: OktaUserModel[] = [];
    const search = `profile.email eq ${quote(email)}`;
    for await (const page of pages(
      call,
      options,
      () => client.userApi.listUsers({ search, limit: USERS_LIMIT }),
      oktaUserSchema,
    )) {
      matches.push(...page);
    }
    if (matches.length === 1) return matches[0]!;
    return matches.find((u) => u.profile.login.toLowerCase() === email.toLowerCase()) ?? null;
  }

  /**
   * Membership events published in [since, until), oldest first, folded per group into the last
   * word on each user: added (true) or removed (false).
   */
  async function membershipEvents(call: OktaCall, options: CallOptions, since: string, until: string) {
    const byGroup = new Map<string, Map<string, boolean>>();
    for await (const page of pages(
      call,
      options,
      () => client.systemLogApi.listLogEvents({ since, until, filter: MEMBERSHIP_EVENTS, sortOrder: 'ASCENDING', limit: LOGS_LIMIT }),
      oktaLogEventSchema,
    )) {
      for (const event of page) {
        if (event.outcome?.result !== 'SUCCESS') continue;
        const user = event.target?.find((t) => t.type === 'User');
        const group = event.target?.find((t) => t.type === 'UserGroup');
        if (!user || !group) continue;
        let members = byGroup.get(group.id);
        if (!members) byGroup.set(group.id, (members = new Map()));
        members.set(user.id, event.eventType === 'group.user_membership.add');
      }
    }
    return byGroup;
  }

  function cursorAfter(call: OktaCall): string {
    const serverTime = call.earliestServerTime ?? Date.now();
    return new Date(serverTime - CURSOR_MARGIN_MS).toISOString();
  }

  return {
    id: config.id,
    type: 'okta',

    async *listGroups(options) {
      const call = newCall(options);
      for await (const page of groupsPages(call, options, typeFilter(config.groupTypes))) {
        yield page.map(toIdpGroup);
      }
    },

    async *listMembers(group, options) {
      const call = newCall(options);
      for await (const page of pages(
        call,
        options,
        () => client.groupApi.listGroupUsers({ groupId: group.id, limit: config.membersPageSize }),
        oktaUserSchema,
      )) {
        yield page.map(toIdpUser);
      }
    },

    async *listUsers(options) {
      const call = newCall(options);
      // Neither `search` nor `filter`: Okta then lists every user except DEPROVISIONED ones
      // (deactivated, unable to sign in), which is what "still in the IdP" should mean here.
      for await (const page of pages(
        call,
        options,
        () => client.userApi.listUsers({ limit: USERS_LIMIT }),
        oktaUserSchema,
      )) {
        yield page.map(toIdpUser);
      }
    },

    async lookupUser({ subject, email }, options): Promise<IdpUserGroups | null> {
      const call = newCall(options);
      const user = await findUser(call, options, subject, email);
      if (!user) return null;
      const names: string[] = [];
      try {
        for await (const page of pages(
          call,
          options,
          () => client.userApi.listUserGroups({ userId: user.id }),
          oktaGroupSchema,
        )) {
          for (const group of page) if (!wanted || wanted.has(group.type)) names.push(group.profile.name);
        }
      } catch (error) {
        if (isNotFound(error)) return null; // deleted between the two requests
        throw error;
      }
      return { ...toIdpUser(user), groups: [...new Set(names)], nestedGroups: [] };
    },

    async startCursor(options) {
      const call = newCall(options);
      // One small request for the org's clock (its `Date` header): our own clock may be skewed.
      await request(call, options, async () => {
        const collection = await client.groupApi.listGroups({ limit: 1 });
        return collection.getNextPage();
      });
      call.stats.pages++;
      return cursorAfter(call);
    },

    async changedGroups(cursor, options) {
      if (!ISO_INSTANT.test(cursor) || Number.isNaN(Date.parse(cursor))) {
        throw new ConnectorError('cursor_expired', config.id, `"${cursor}" is not a cursor this connector issued`);
      }
      const call = newCall(options);
      const changedSince = `lastUpdated gt ${quote(cursor)} or lastMembershipUpdated gt ${quote(cursor)}`;
      const types = typeFilter(config.groupTypes);
      const filter = types ? `(${types}) and (${changedSince})` : changedSince;
      const groups: OktaGroupModel[] = [];
      for await (const page of groupsPages(call, options, filter)) groups.push(...page);
      // Deleted groups match no filter, and seeing them needs either the previous id list (which
      // the cache has, not us) or the System Log (`group.lifecycle.delete`). The next full run
      // drops them; until then their cached members stay, which is the safe side.
      const next = cursorAfter(call);
      if (!config.membershipEvents) return { changed: groups.map(toIdpGroup), deleted: [], cursor: next };

      // Events up to the group list's own time (`Date` is to the second, hence the second added).
      // The next run's window starts CURSOR_MARGIN_MS earlier, so events near the edge are read
      // twice (replaying them in order gives the same result) and none is skipped.
      const until = new Date((call.earliestServerTime ?? Date.now()) + 1_000).toISOString();
      const events = await membershipEvents(call, options, cursor, until);
      const since = Date.parse(cursor);
      const result: FeedChanges = { changed: [], memberChanges: [], deleted: [], cursor: next };
      for (const group of groups) {
        const members = events.get(group.id);
        // Created or renamed since the cursor, or changed with no event in the log yet: re-listed.
        if (!members || (group.lastUpdated ?? Number.POSITIVE_INFINITY) > since) {
          result.changed.push(toIdpGroup(group));
          continue;
        }
        const change: MemberChanges = { group: toIdpGroup(group), added: [], removed: [] };
        for (const [user, present] of members) (present ? change.added : change.removed).push(user);
        result.memberChanges!.push(change);
      }
      return result;
    },

    async describeUsers(subjects, options) {
      const call = newCall(options);
      const users: IdpUser[] = [];
      for (const subject of subjects) {
        try {
          users.push(toIdpUser(parse(oktaUserSchema, await request(call, options, () => client.userApi.getUser({ userId: subject })))));
        } catch (error) {
          if (!isNotFound(error)) throw error; // deleted since the event: the next full run marks it
        }
      }
      return users;
    },
  };
}

function toIdpGroup(group: OktaGroupModel): IdpGroup {
  return { id: group.id, name: group.profile.name };
}

function toIdpUser(user: OktaUserModel): IdpUser {
  const { email, firstName, lastName } = user.profile;
  const name = [firstName, lastName].filter((part): part is string => Boolean(part)).join(' ');
  return { subject: user.id, email: email || null, name: name || null };
}

/** `type eq "A" or type eq "B"`, or undefined for every type. */
function typeFilter(types: readonly string[] | undefined): string | undefined {
  return types?.map((type) => `type eq ${quote(type)}`).join(' or ');
}

/** A string literal in Okta's filter language. */
function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function isNotFound(error: unknown): boolean {
  return error instanceof ConnectorError && httpStatusOf(error.cause) === 404;
}

function emptyStats(): CallStats {
  return { apiCalls: 0, pages: 0, retries: 0 };
}
