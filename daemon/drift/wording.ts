import type { Membership, SyncState } from '../../store/types.js';
import type { DecisionSettings, LoginDenial } from '../reconcile/decide-login.js';
import type { NearMiss } from './near-miss.js';

/** The drift report's sentences for humans (`detail`): no rules here, only words. */

export function addDetail(m: Membership): string {
  switch (m.source) {
    case 'sync':
      return 'an IdP group backs it: the next login adds it';
    case 'default':
      return 'joins the organization: the default group follows';
    case 'invitation':
      return 'a pending invitation: the next login accepts it';
    case 'fallback':
      return 'in no organization: the default organization applies';
    case 'manual':
      return 'the next login adds it';
  }
}

export function removeDetail(m: Membership): string {
  switch (m.source) {
    case 'sync':
      return 'no IdP group backs it any more: the next login removes it';
    case 'manual':
      return 'a manual membership the IdP does not back: the reset drops it';
    case 'default':
      return 'no other membership left in the organization: the user leaves it';
    case 'invitation':
    case 'fallback':
      return 'the next login removes it';
  }
}

/** Why the login refuses the user (`blocked`), or null for a refusal the report does not list (`user_disabled`). */
export function blockedDetail(reason: LoginDenial, settings: Pick<DecisionSettings, 'allowedGroups'>): string | null {
  switch (reason) {
    case 'not_in_allowed_groups':
      return `in none of the allowed groups (${settings.allowedGroups.join(', ')}): login refused`;
    case 'signup_blocked':
      return 'no account, and sign-up is blocked: first login refused';
    case 'email_conflict':
      return 'another account holds the email, and linkByEmail is off: login refused (409 email_conflict)';
    case 'user_disabled':
      return null;
  }
}

export function noOrganizationDetail(hasAccount: boolean): string {
  return hasAccount
    ? 'no IdP group matches an app group: after the next login the user is in no organization'
    : 'no IdP group matches an app group: the first login lands in no organization';
}

export function nestedDetail(idpGroup: string): string {
  return `holds ${idpGroup} only through a nested group`;
}

export function absentDetail(absentSince: string): string {
  return `gone from the IdP since ${absentSince}; JIT keeps the account`;
}

export function uncachedDetail(state: SyncState | undefined): string {
  const failed = state ? `; ${syncDetail(state)}` : '';
  return `no cache entry: the next login asks the IdP live${failed}`;
}

export function staleCacheDetail(ageMs: number, staleAfterMs: number): string {
  return `cache confirmed ${formatAge(ageMs)} ago (staleAfter ${formatAge(staleAfterMs)})`;
}

export function syncDetail(state: SyncState): string {
  const what = state.status === 'error' ? 'last sync failed' : 'last login used a stale cache';
  return state.lastError ? `${what}: ${state.lastError}` : what;
}

export function formatAge(ms: number): string {
  const units: Array<[string, number]> = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1_000],
  ];
  for (const [unit, size] of units) if (ms >= size) return `${Math.floor(ms / size)}${unit}`;
  return `${Math.max(0, Math.round(ms))}ms`;
}

export function unmatchedDetail(miss: NearMiss | null): string {
  if (!miss) return 'matches no app group';
  switch (miss.reason) {
    case 'case':
      return `matches no app group; "${miss.name}" differs only in case`;
    case 'path':
      return `matches no app group; "${miss.name}" differs in path (GitLab full path vs name)`;
    case 'edit':
      return `matches no app group; near miss "${miss.name}" (${miss.distance} edit${miss.distance === 1 ? '' : 's'})`;
  }
}

export function orphanDetail(feeding: readonly string[], miss: NearMiss | null): string {
  const wanted = feeding.map((n) => `"${n}"`).join(' or ');
  if (!miss) return `no IdP group ${wanted} feeds it`;
  const why = miss.reason === 'case' ? 'differs in case' : miss.reason === 'path' ? 'differs in path' : `${miss.distance} edit${miss.distance === 1 ? '' : 's'} away`;
  return `no IdP group ${wanted} feeds it; IdP has "${miss.name}" (${why})`;
}

/** Why a `scim` connector's user is absent: the IdP deactivated it, or no pushed user has its subject any more. */
export function scimAbsentDetail(how: 'deactivated' | 'deleted', since: string, subjectAttribute: string): string {
  return how === 'deactivated'
    ? `deactivated by the IdP through SCIM (active: false) at ${since}`
    : `deleted by the IdP through SCIM at ${since} (or pushed again with another ${subjectAttribute})`;
}
