import type { IdpUser } from '../types.js';

type GraphUser = { id: string; mail?: string | null | undefined; displayName?: string | null | undefined };

/** One mapping for every operation, so a person has the same subject, email and name in each. */
export function toIdpUser(user: GraphUser): IdpUser {
  return { subject: user.id, email: user.mail ?? null, name: user.displayName ?? null };
}
