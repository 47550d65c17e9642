import type { Account, Identity, Invitation, Membership, Organization } from '../../store/types.js';
import { isAllowed } from './match.js';
import { planMemberships, type MembershipPlan, type PlanSettings } from './plan.js';
import type { ProvisioningSettings } from './settings.js';

/** Why a login with known groups is refused. `email_conflict` is answered `409`, the others `403`. */
export type LoginDenial = 'not_in_allowed_groups' | 'email_conflict' | 'user_disabled' | 'signup_blocked';

export type DecisionSettings = PlanSettings & Pick<ProvisioningSettings, 'signUp' | 'allowedGroups' | 'linkByEmail'>;

/** What a login knows once its groups are resolved (docs/behaviour.md, steps 3–7). */
export interface LoginFacts {
  /** The account linked to the login's identity `{connector, subject}`. */
  byIdentity: Account | null;
  /** The account holding the login's email (case-insensitive), when none holds the identity. */
  byEmail: Account | null;
  idpGroups: readonly string[];
  /** The organizations (for drift: at least every one the plan can touch). */
  organizations: readonly Organization[];
  /** Pending invitations for the login's email. */
  invitations: readonly Invitation[];
  settings: DecisionSettings;
}

export type LoginDecision =
  | { outcome: 'deny'; reason: LoginDenial }
  | {
      outcome: 'allow';
      /** The account signing in; null for a first login (the plan is the new account's). */
      account: Account | null;
      /** Found by email: the login links the identity to it. */
      linkIdentity: boolean;
      plan: MembershipPlan;
    };

/**
 * The login's rules after group resolution, as one pure function: the login applies it, and the
 * per-user pending changes and the drift report predict with it, so they cannot disagree.
 * Order matters and is the login's: allowed groups, account look-up (identity, then email; an
 * email held by another account with `linkByEmail` off is a conflict), disabled, sign-up, then
 * the membership plan.
 */
export function decideLogin(facts: LoginFacts): LoginDecision {
  const { settings } = facts;
  if (!isAllowed(facts.idpGroups, settings.allowedGroups)) return deny('not_in_allowed_groups');
  const linkIdentity = facts.byIdentity === null && facts.byEmail !== null;
  if (linkIdentity && !settings.linkByEmail) return deny('email_conflict');
  const account = facts.byIdentity ?? facts.byEmail;
  if (account?.user.disabled) return deny('user_disabled');
  if (!account && settings.signUp === 'blocked') return deny('signup_blocked');
  const plan = planMemberships({
    current: account?.memberships ?? [],
    idpGroups: facts.idpGroups,
    organizations: facts.organizations,
    invitations: facts.invitations,
    settings,
  });
  return { outcome: 'allow', account, linkIdentity, plan };
}

function deny(reason: LoginDenial): LoginDecision {
  return { outcome: 'deny', reason };
}

export interface NextLoginChanges {
  added: Membership[];
  removed: Membership[];
}

/**
 * What the next login of `account` through `identity` changes, by the decision over the cached
 * groups: nothing when the cache has no groups for it (`null`: no entry, or gone from the IdP,
 * which JIT never deprovisions) or when that login would be refused.
 */
export function pendingChanges(input: {
  account: Account;
  identity: Identity;
  idpGroups: readonly string[] | null;
  organizations: readonly Organization[];
  invitations: readonly Invitation[];
  settings: DecisionSettings;
}): NextLoginChanges {
  const { account, identity } = input;
  if (input.idpGroups === null) return { added: [], removed: [] };
  const linked = account.user.identities.some((i) => i.connector === identity.connector && i.subject === identity.subject);
  const decision = decideLogin({
    byIdentity: linked ? account : null,
    byEmail: linked ? null : account,
    idpGroups: input.idpGroups,
    organizations: input.organizations,
    invitations: input.invitations,
    settings: input.settings,
  });
  if (decision.outcome === 'deny') return { added: [], removed: [] };
  return { added: decision.plan.added, removed: decision.plan.removed };
}
