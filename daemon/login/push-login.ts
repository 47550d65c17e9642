import { loginInputSchema } from './input.js';
import type { CachedUser } from '../../store/types.js';
import type { LoginDecision } from '../reconcile/decide-login.js';

/**
 * Push provisioning (docs/scim.md): a pushed user is applied as the login of its cache entry
 * would be. These rules say which login that is, and whether it changes anything; both the
 * background thread's queue and the login thread's apply use them, so they cannot disagree.
 */

export interface PushedLogin {
  subject: string;
  /** Lower-cased. */
  email: string;
  name: string | null;
}

const identitySchema = loginInputSchema.pick({ subject: true, email: true });

/**
 * The login a cache entry stands for, or null when there is none to apply: no entry, an absent
 * one (deprovisioning handles leavers), or no email a login could carry (`linkedEmail`, the
 * email of the account linked to the subject, stands in when the IdP sent none).
 */
export function pushedLogin(entry: CachedUser | null, linkedEmail: string | null): PushedLogin | null {
  if (entry === null || entry.absentSince !== null) return null;
  const email = (entry.email ?? linkedEmail)?.toLowerCase() ?? null;
  if (email === null || !identitySchema.safeParse({ subject: entry.subject, email }).success) return null;
  return { subject: entry.subject, email, name: entry.name };
}

/**
 * Whether applying the decision changes the account: a creation, an identity linked, a membership
 * added or removed, an invitation accepted. A refusal changes nothing (the login would not
 * either). The name is left out: a push never renames an existing account (the app's login may
 * send another name, and the two would undo each other).
 */
export function decisionChanges(decision: LoginDecision): boolean {
  if (decision.outcome === 'deny') return false;
  const { plan } = decision;
  return (
    decision.account === null ||
    decision.linkIdentity ||
    plan.added.length > 0 ||
    plan.removed.length > 0 ||
    plan.invitationsAccepted.length > 0
  );
}
