import { setTimeout as sleep } from 'node:timers/promises';
import { randomUUID } from 'node:crypto';
import type { Connector } from '../../connectors/types.js';
import {
  AlreadyExistsError,
  type Account,
  type Identity,
  type Membership,
  type LoginSyncState,
  type Store,
  type SyncState,
} from '../../store/types.js';
import { AppError, badRequest, conflict } from '../errors.js';
import { decideLogin, type LoginDecision, type LoginDenial } from '../reconcile/decide-login.js';
import { organizationsOf, type MembershipPlan } from '../reconcile/plan.js';
import type { OrganizationsCache } from '../organizations-cache.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';
import { usernameBase, usernameCandidates, type UsernameSource } from '../reconcile/username.js';
import type { LoginInput } from './input.js';
import type { LoginTimesBuffer } from './login-times.js';
import { pushedLogin } from './push-login.js';
import { resolveGroups, type GroupsSource, type ResolveGroupsDeps, type ResolvedGroups } from './resolve-groups.js';

/** The refusals answered `403` with the reason (`email_conflict` is a `409` error instead). */
export type DenyReason = Exclude<LoginDenial, 'email_conflict'> | 'idp_unavailable';

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
  /** Told of each live look-up's outcome (the connector status). */
  onLookup?: ResolveGroupsDeps['onLookup'];
}

export interface LoginService {
  login(input: LoginInput): Promise<LoginResult>;
  /**
   * A SCIM push applied to the account as a login of the cached user would apply it (push
   * provisioning, docs/scim.md): the same decision and writes, audited as `scim:<connector>`
   * with `trigger: "push"`; the sync state keeps its `lastLoginAt`. A subject with no login to
   * apply (no cache entry, absent, no email) or whose login would be refused changes nothing;
   * neither throws.
   */
  provision(request: ProvisionRequest): Promise<void>;
}

export interface ProvisionRequest {
  connector: string;
  subject: string;
}

/** What applying the decision to one version of the account does (the compare-and-swap's result). */
type Step =
  | { denied: LoginDenial }
  | { denied: null; plan: MembershipPlan; nameUpdated: boolean; identityLinked: boolean };

/** One reconciliation of an account: a login's, or a push's (`provision`). */
interface Reconciliation {
  connectorId: string;
  settings: ProvisioningSettings;
  now: Date;
  identity: Identity;
  /** Lower-cased. */
  email: string;
  groups: ResolvedGroups;
  /** The name the account should have; null leaves it as it is. */
  desiredName: string | null;
  /** What a new account is made of. */
  newAccount: { usernameFrom: UsernameSource; name: string | null };
  /** `login`: the sync state's `lastLoginAt` is now; a push keeps the stored one. */
  trigger: 'login' | 'push';
  actor: string;
}

type Reconciled =
  | { denied: LoginDenial }
  | {
      denied: null;
      account: Account;
      created: boolean;
      plan: MembershipPlan;
      nameUpdated: boolean;
      identityLinked: boolean;
    };

/**
 * The login hook (docs/behaviour.md): the I/O around the pure decision
 * (`decideLogin`): store reads, account creation, the compare-and-swap, the records.
 */
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

    const resolution = await resolveGroups(input, {
      store,
      connector,
      settings,
      now,
      liveTimeoutMs: deps.liveTimeoutMs ?? 30_000,
      onLookup: deps.onLookup,
    });
    if (!resolution.ok) return deny('idp_unavailable');
    const groups = resolution.groups;

    const reconciled = await reconcile({
      connectorId: connector.id,
      settings,
      now,
      identity: { connector: connector.id, subject: input.subject },
      email,
      groups,
      desiredName: displayName(input),
      newAccount: { usernameFrom: { ...input, email }, name: displayName(input) },
      trigger: 'login',
      actor: `login:${connector.id}`,
    });
    if (reconciled.denied) return refuse(reconciled.denied, email);
    const { account, created, plan, nameUpdated, identityLinked } = reconciled;

    const user = account.user;
    return {
      decision: 'allow',
      user: { id: user.id, username: user.username, email: user.email, name: user.name, created },
      memberships: account.memberships,
      organizations: organizationsOf(account.memberships),
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

  async function provision(request: ProvisionRequest): Promise<void> {
    const connector = deps.connectors.get(request.connector);
    if (!connector) throw new Error(`unknown connector: ${request.connector}`);
    const identity: Identity = { connector: connector.id, subject: request.subject };
    const entry = await store.getCachedUser(connector.id, request.subject);
    const linkedEmail = entry && entry.email === null ? ((await store.findAccountByIdentity(identity))?.user.email ?? null) : null;
    const pushed = pushedLogin(entry, linkedEmail);
    if (!entry || !pushed) return;

    await reconcile({
      connectorId: connector.id,
      settings: deps.settingsFor(connector.id),
      now: clock(),
      identity,
      email: pushed.email,
      // A pushed connector's login reads its groups from the cache whatever their age.
      groups: { source: 'cache', fetchedAt: entry.fetchedAt, names: entry.groups, nestedGroups: entry.nestedGroups, liveError: null },
      desiredName: null, // see `decisionChanges`: a push never renames
      newAccount: { usernameFrom: { name: pushed.name ?? undefined, email: pushed.email }, name: pushed.name },
      trigger: 'push',
      actor: `scim:${connector.id}`,
    });
  }

  /**
   * Steps 3–8 of docs/behaviour.md once the groups are known: the decision, the account written
   * (created, or changed by compare-and-swap), invitations, audit, sync state.
   */
  async function reconcile(request: Reconciliation): Promise<Reconciled> {
    const { connectorId, settings, now, identity, email, groups, desiredName } = request;
    const at = now.toISOString();

    const [found, organizations, invitations] = await Promise.all([
      findAccounts(identity, email),
      deps.organizations.get(),
      store.pendingInvitations(email),
    ]);
    const decide = (byIdentity: Account | null, byEmail: Account | null): LoginDecision =>
      decideLogin({ byIdentity, byEmail, idpGroups: groups.names, organizations, invitations, settings });
    // An account read again (a lost creation race, the compare-and-swap) is decided again.
    const decideOn = (current: Account) =>
      holdsIdentity(current, identity) ? decide(current, null) : decide(null, current);

    const decision = decide(found.byIdentity, found.byEmail);
    if (decision.outcome === 'deny') return { denied: decision.reason };

    const stepOf = (d: LoginDecision, current: Account) => {
      if (d.outcome === 'deny') return { change: null, result: { denied: d.reason } as Step };
      const { plan } = d;
      const nameUpdated = desiredName !== null && desiredName !== current.user.name;
      const membershipsChanged = plan.added.length > 0 || plan.removed.length > 0;
      const change =
        nameUpdated || d.linkIdentity || membershipsChanged
          ? {
              ...(nameUpdated ? { name: desiredName } : {}),
              ...(d.linkIdentity ? { addIdentities: [identity] } : {}),
              ...(membershipsChanged ? { memberships: plan.memberships } : {}),
            }
          : null;
      return { change, result: { denied: null, plan, nameUpdated, identityLinked: d.linkIdentity } as Step };
    };

    let account = decision.account;
    let first: { change: null; result: Step } | ReturnType<typeof stepOf>;
    let created = false;
    if (account) {
      first = stepOf(decision, account);
    } else {
      // The new account is written with its memberships in one step, so that a failure can never
      // leave an account without them; the invitations and the audit entry follow idempotently.
      ({ account, created } = await createAccount(request, decision.plan.memberships));
      // Created: it holds its plan already, which is what this login added. Lost the race: the
      // winner's account is decided like any other.
      first = created
        ? { change: null, result: { denied: null, plan: decision.plan, nameUpdated: false, identityLinked: false } }
        : stepOf(decideOn(account), account);
    }
    // Most logins change nothing: decided on the account as just read, they need no write
    // transaction. A change goes through the store's compare-and-swap, which decides again.
    const outcome =
      first.change === null
        ? { account, result: first.result, changed: false }
        : await store.updateAccount(account.user.id, (current) => stepOf(decideOn(current), current), at);
    const step = outcome.result;
    if (step.denied) return { denied: step.denied };
    const { plan, nameUpdated, identityLinked } = step;
    const userId = account.user.id;

    const previous = await store.getSyncState(userId, connectorId);
    if (!previous && !created && !identityLinked) await repairUnfinishedFirstLogin(account, request.actor, at);
    if (plan.invitationsAccepted.length > 0) await store.acceptInvitations(plan.invitationsAccepted, userId, at);
    const changed = outcome.changed || created || plan.invitationsAccepted.length > 0;
    if (changed) {
      await store.appendAudit({
        at,
        actor: request.actor,
        action: created ? 'account.created' : 'account.reconciled',
        userId,
        details: {
          added: plan.added,
          removed: plan.removed,
          invitationsAccepted: plan.invitationsAccepted,
          nameUpdated,
          identityLinked,
          groupsSource: groups.source,
          ...(request.trigger === 'push' ? { trigger: 'push' } : {}),
        },
      });
    }

    // Written last: a sync state marks the identity's first login as finished (see
    // `repairUnfinishedFirstLogin`).
    const state: LoginSyncState = {
      userId,
      connector: connectorId,
      subject: identity.subject,
      appliedGroups: groups.names,
      // A push is no login: null keeps the stored time (null for a person who never signed in).
      lastLoginAt: request.trigger === 'login' ? at : null,
      lastReconciledAt: at,
      status: groups.source === 'stale-cache' ? 'stale' : 'fresh',
      lastError: groups.liveError,
    };
    // A state that differs from the stored one only in its times is not written now: a login's
    // times are batched (login-times.ts), so a login that changes nothing makes no write of its
    // own; a push that changes nothing has no time to record.
    const timesOnly = previous !== null && sameButTimes(previous, state);
    if (timesOnly && request.trigger === 'login') deps.loginTimes.note({ userId, connector: connectorId, at });
    else if (!timesOnly || changed) await store.recordLogin(state); // the login's fields only: pre-warm's written meanwhile stay

    return { denied: null, account: outcome.account, created, plan, nameUpdated, identityLinked };
  }

  /** The accounts the decision looks up: by linked identity, else by email. */
  async function findAccounts(identity: Identity, email: string): Promise<{ byIdentity: Account | null; byEmail: Account | null }> {
    const byIdentity = await store.findAccountByIdentity(identity);
    if (byIdentity) return { byIdentity, byEmail: null };
    return { byIdentity: null, byEmail: await store.findAccountByEmail(email) };
  }

  /**
   * The account of a concurrent login that took the identity or email first. On MongoDB (no
   * multi-document transactions) the identity is claimed before the account document is
   * written, so for a few milliseconds the key is taken and its account not yet readable: looked
   * for again, briefly (up to about 300 ms), before the loss is reported.
   */
  async function findWinner(identity: Identity, email: string): Promise<Account | null> {
    for (let pause = 5; ; pause *= 2) {
      const found = await findAccounts(identity, email);
      const account = found.byIdentity ?? found.byEmail;
      if (account || pause > 160) return account;
      await sleep(pause);
    }
  }

  /**
   * An identity linked earlier whose sync state is missing: the login that linked it failed
   * after its account write (issue: a full disk). Invitations repair themselves (they stay
   * pending and this login accepts them); the `account.created` entry is written here unless
   * the audit has one, so a retry never writes it twice.
   */
  async function repairUnfinishedFirstLogin(account: Account, actor: string, at: string): Promise<void> {
    const entries = await store.listAudit({ userId: account.user.id });
    if (entries.some((entry) => entry.action === 'account.created')) return;
    await store.appendAudit({
      at,
      actor,
      action: 'account.created',
      userId: account.user.id,
      details: { memberships: account.memberships, repaired: true },
    });
  }

  /**
   * Creates the account, trying username candidates in turn. A concurrent login of the same person
   * that created it first wins: its account is found and used, so there is only ever one.
   */
  async function createAccount(request: Reconciliation, memberships: Membership[]): Promise<{ account: Account; created: boolean }> {
    const { identity, email, newAccount } = request;
    const candidates = usernameCandidates(usernameBase(newAccount.usernameFrom), random);
    for (const username of candidates) {
      try {
        const account = await store.createAccount(
          { id: randomUUID(), username, email, name: newAccount.name, identities: [identity] },
          memberships,
          request.now.toISOString(),
        );
        return { account, created: true };
      } catch (error) {
        if (!(error instanceof AlreadyExistsError)) throw error;
        if (error.key === 'username') continue;
        const account = await findWinner(identity, email);
        if (account) return { account, created: false };
        throw error;
      }
    }
    throw new AppError(503, 'username_exhausted', 'could not find a free username; try again');
  }

  return { login, provision };
}

/** A refusal as the login answers it: `email_conflict` is an error (`409`), the rest are `403` denials. */
function refuse(reason: LoginDenial, email: string): LoginDenied {
  if (reason === 'email_conflict') {
    throw conflict('email_conflict', `the email ${email} belongs to another account and linkByEmail is off`);
  }
  return deny(reason);
}

function deny(reason: DenyReason): LoginDenied {
  return { decision: 'deny', reason };
}

function displayName(input: LoginInput): string | null {
  if (input.name) return input.name;
  if (input.givenName && input.familyName) return `${input.givenName} ${input.familyName}`;
  return input.givenName ?? input.familyName ?? null;
}

/**
 * True when `next` would change nothing of `stored` but its login times. (Pre-warm's stored
 * pending changes are not the login's to clear: the user view derives them when read.)
 */
function sameButTimes(stored: SyncState, next: LoginSyncState): boolean {
  return (
    stored.subject === next.subject &&
    stored.status === next.status &&
    stored.lastError === next.lastError &&
    stored.appliedGroups.length === next.appliedGroups.length &&
    stored.appliedGroups.every((group, i) => group === next.appliedGroups[i])
  );
}

function holdsIdentity(account: Account, identity: Identity): boolean {
  return account.user.identities.some((i) => i.connector === identity.connector && i.subject === identity.subject);
}
