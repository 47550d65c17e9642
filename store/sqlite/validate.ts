import {
  MEMBERSHIP_SOURCES,
  StoreError,
  membershipKey,
  type Identity,
  type Membership,
  type NewUser,
} from '../types.js';

/** Input checks run before a write, so bad input gets a clear error and changes nothing. */

function nonEmpty(value: unknown, what: string): void {
  if (typeof value !== 'string' || value.length === 0) throw new StoreError(`${what} must be a non-empty string`);
}

export function checkIdentities(identities: Identity[]): void {
  const seen = new Set<string>();
  for (const identity of identities) {
    nonEmpty(identity.connector, 'identity connector');
    nonEmpty(identity.subject, 'identity subject');
    const key = identityValue(identity);
    if (seen.has(key)) throw new StoreError(`identity listed twice: ${key}`);
    seen.add(key);
  }
}

/** A membership set: known sources, at most one membership per (organization, group). */
export function checkMemberships(memberships: Membership[]): void {
  const seen = new Set<string>();
  for (const m of memberships) {
    nonEmpty(m.organization, 'membership organization');
    nonEmpty(m.group, 'membership group');
    if (!MEMBERSHIP_SOURCES.includes(m.source)) {
      throw new StoreError(`unknown membership source: ${String(m.source)}`);
    }
    const key = membershipKey(m);
    if (seen.has(key)) throw new StoreError(`membership listed twice: ${m.organization}/${m.group}`);
    seen.add(key);
  }
}

export function checkNewUser(user: NewUser): void {
  nonEmpty(user.id, 'user id');
  nonEmpty(user.username, 'username');
  nonEmpty(user.email, 'email');
  checkIdentities(user.identities);
}

/** How an identity is named in errors. */
export function identityValue(identity: Identity): string {
  return `${identity.connector}:${identity.subject}`;
}

/** Canonical ISO-8601 UTC with milliseconds, so stored instants compare correctly as text. */
export function canonicalInstant(value: string, what: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new StoreError(`${what} is not an ISO-8601 timestamp: ${value}`);
  return new Date(ms).toISOString();
}
