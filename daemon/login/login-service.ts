import { randomUUID } from 'node:crypto';
import type { Connector } from '../../connectors/types.js';
import {
  AlreadyExistsError,
  type Account,
  type Identity,
  type Membership,
  type Store,
  type SyncState,
} from '../../store/types.js';
import { AppError, badRequest, conflict } from '../errors.js';
import { isAllowed } from '../reconcile/match.js';
import { organizationsOf, planMemberships, type MembershipPlan } from '../reconcile/plan.js';
import type { OrganizationsCache } from '../organizations-cache.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';
import { usernameBase, usernameCandidates } from '../reconcile/username.js';
import type { LoginInput } from './input.js';
import type { LoginTimesBuffer } from './login-times.js';
import { resolveGroups, type GroupsSource } from './resolve-groups.js';

export type DenyReason = 'signup_blocked' | 'not_in_allowed_groups' | 'idp_unavailable' | 'user_disabled';

export interface LoginAllowed {
  decision: 'allow';
  user: { id: string; username: string; email: string; name: string | null; created: boolean };
  memberships: Membership[];
  organizations: string[];
  changes: {
    added: Membership[];
    removed: Membership[];
    invitationsAccepted: string[];
    nameUpdated: boolean;
    identityLinked: boolean;
  };
  groups: { source: GroupsSource; fetchedAt: string; ageSeconds: number; names: string[] };
}

export interface LoginDenied {
  decision: 'deny';
  reason: DenyReason;
}

export type LoginResult = LoginAllowed | LoginDenied;

export interface LoginServiceDeps {
  store: Store;
  organizations: OrganizationsCache;
  connectors: ReadonlyMap<string, Connector>;
  settingsFor(connectorId: string): ProvisioningSettings;
  /** Where the times of logins that change nothing else wait for their batched write. */
  loginTimes: LoginTimesBuffer;
  clock?: () => Date;
  random?: () => number;
  liveTimeoutMs?: number;
}

export interface LoginService {
  login(input: LoginInput): Promise<LoginResult>;
}

/** The login hook (README: How a login is reconciled): I/O around the pure rules in `daemon/reconcile`. */
export function createLoginService(deps: LoginServiceDeps): LoginService {
  const clock = deps.clock ?? (() => new Date());
  const random = deps.random ?? Math.random;
  const { store } = deps;

  async function login(input: LoginInput): Promise<LoginResult> {
    const connector = deps.connectors.get(input.connector);
    if (!connector) {
      throw badRequest('unknown_connector', `unknown connector "${input.connector}"`, {
        known: [...deps.connectors.keys()],
      });
    }
    const settings = deps.settingsFor(connector.id);
    const now = clock();
    const email = input.email.toLowerCase();
    const identity: Identity = { connector: connector.id, subject: input.subject };

    const resolution = await resolveGroups(input, {
      store,
      connector,
      settings,
      now,
      liveTimeoutMs: deps.liveTimeoutMs ?? 30_000,
    });
    if (!resolution.ok) return deny('idp_unavailable');
    const groups = resolution.groups;

    if (!isAllowed(groups.names, settings.allowedGroups)) return deny('not_in_allowed_groups');

    const found = await findAccount(identity, email, settings.linkByEmail);
    if (found?.user.disabled) return deny('user_disabled');
    if (!found && settings.signUp === 'blocked') return deny('signup_blocked');

    const [organizations, invitations] = await Promise.all([
      deps.organizations.get(),
      store.pendingInvitations(email),
    ]);
    const planFor = (current: Account['memberships']) =>
      planMemberships({ current, idpGroups: groups.names, organizations, invitations, settings });

    let account = found;
    let created = false;
    let firstPlan: MembershipPlan | null = null;
    if (!account) {
      // The new account is written with its memberships in one step, so that a failure can never
      // leave an account without them; the invitations and the audit entry follow idempotently.
      firstPlan = planFor([]);
      ({ account, created } = await createAccount(input, identity, email, settings.linkByEmail, now, firstPlan.memberships));
    }

    const desiredName = displayName(input);
    const decide = (current: Account) => {
      const plan = planFor(current.memberships);
      const nameUpdated = desiredName !== null && desiredName !== current.user.name;
      const identityLinked = !current.user.identities.some((i) => sameIdentity(i, identity));
      const membershipsChanged = plan.added.length > 0 || plan.removed.length > 0;
      const change =
        nameUpdated || identityLinked || membershipsChanged
          ? {
              ...(nameUpdated ? { name: desiredName } : {}),
              ...(identityLinked ? { addIdentities: [identity] } : {}),
              ...(membershipsChanged ? { memberships: plan.memberships } : {}),
            }
          : null;
      return { change, result: { plan, nameUpdated, identityLinked } };
    };
    // Most logins change nothing: decided on the account as just read, they need no write
    // transaction. A change goes through the store's compare-and-swap, which decides again.
    // An account created just now holds its plan already; the plan is what this login added.
    const unchanged =
      created && firstPlan ? { change: null, result: { plan: firstPlan, nameUpdated: false, identityLinked: false } } : decide(account);
    const outcome =
      unchanged.change === null
        ? { account, result: unchanged.result, changed: false }
        : await store.updateAccount(account.user.id, decide, now.toISOString());
    const { plan, nameUpdated, identityLinked } = outcome.result;
    if (plan.invitationsAccepted.length > 0) {
      await store.acceptInvitations(plan.invitationsAccepted, account.user.id, now.toISOString());
    }

    const previous = await store.getSyncState(account.user.id, connector.id);
    const at = now.toISOString();
    const state: SyncState = {
      userId: account.user.id,
      connector: connector.id,
      subject: input.subject,
      appliedGroups: groups.names,
      lastLoginAt: at,
      lastReconciledAt: at,
      lastSeenByPrewarmAt: previous?.lastSeenByPrewarmAt ?? null,
      pendingAdd: [],
      pendingRemove: [],
      status: groups.source === 'stale-cache' ? 'stale' : 'fresh',
      lastError: groups.liveError,
    };
    // A state that differs from the stored one only in its times is not written now: the times
    // are batched (login-times.ts), so a login that changes nothing makes no write of its own.
    if (previous && sameButTimes(previous, state)) deps.loginTimes.note({ userId: state.userId, connector: state.connector, at });
    else await store.putSyncState(state);
    if (outcome.changed || created || plan.invitationsAccepted.length > 0) {
      await store.appendAudit({
        at: now.toISOString(),
        actor: `login:${connector.id}`,
        action: created ? 'account.created' : 'account.reconciled',
        userId: account.user.id,
        details: {
          added: plan.added,
          removed: plan.removed,
          invitationsAccepted: plan.invitationsAccepted,
          nameUpdated,
          identityLinked,
          groupsSource: groups.source,
        },
      });
    }

    const user = outcome.account.user;
    return {
      decision: 'allow',
      user: { id: user.id, username: user.username, email: user.email, name: user.name, created },
      memberships: outcome.account.memberships,
      organizations: organizationsOf(outcome.account.memberships),
      changes: {
        added: plan.added,
        removed: plan.removed,
        invitationsAccepted: plan.invitationsAccepted,
        nameUpdated: nameUpdated && !created,
        identityLinked: identityLinked && !created,
      },
      groups: {
        source: groups.source,
        fetchedAt: groups.fetchedAt,
        ageSeconds: Math.max(0, Math.round((now.getTime() - Date.parse(groups.fetchedAt)) / 1000)),
        names: groups.names,
      },
    };
  }

  /** Step 4 of the README's login rules: by linked identity, else by email (linking it, unless `linkByEmail` is off). */
  async function findAccount(identity: Identity, email: string, linkByEmail: boolean): Promise<Account | null> {
    const byIdentity = await store.findAccountByIdentity(identity);
    if (byIdentity) return byIdentity;
    const byEmail = await store.findAccountByEmail(email);
    if (byEmail && !linkByEmail) {
      throw conflict('email_conflict', `the email ${email} belongs to another account and linkByEmail is off`);
    }
    return byEmail;
  }

  /**
   * Creates the account, trying username candidates in turn. A concurrent login of the same person
   * that created it first wins: its account is found and used, so there is only ever one.
   */
  async function createAccount(
    input: LoginInput,
    identity: Identity,
    email: string,
    linkByEmail: boolean,
    now: Date,
    memberships: Membership[],
  ): Promise<{ account: Account; created: boolean }> {
    const candidates = usernameCandidates(usernameBase({ ...input, email }), random);
    for (const username of candidates) {
      try {
        const account = await store.createAccount(
          { id: randomUUID(), username, email, name: displayName(input), identities: [identity] },
          memberships,
          now.toISOString(),
        );
        return { account, created: true };
      } catch (error) {
        if (!(error instanceof AlreadyExistsError)) throw error;
        if (error.key === 'username') continue;
        const winner = await findAccount(identity, email, linkByEmail);
        if (winner) return { account: winner, created: false };
        throw error;
      }
    }
    throw new AppError(503, 'username_exhausted', 'could not find a free username; try again');
  }

  return { login };
}

function deny(reason: DenyReason): LoginDenied {
  return { decision: 'deny', reason };
}

function displayName(input: LoginInput): string | null {
  if (input.name) return input.name;
  if (input.givenName && input.familyName) return `${input.givenName} ${input.familyName}`;
  return input.givenName ?? input.familyName ?? null;
}

/** True when `next` would change nothing of `stored` but its login times. */
function sameButTimes(stored: SyncState, next: SyncState): boolean {
  return (
    stored.subject === next.subject &&
    stored.status === next.status &&
    stored.lastError === next.lastError &&
    stored.pendingAdd.length === 0 &&
    stored.pendingRemove.length === 0 &&
    stored.appliedGroups.length === next.appliedGroups.length &&
    stored.appliedGroups.every((group, i) => group === next.appliedGroups[i])
  );
}

function sameIdentity(a: Identity, b: Identity): boolean {
  return a.connector === b.connector && a.subject === b.subject;
}
