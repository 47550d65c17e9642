import { z } from 'zod';
import * as s from '../../daemon/http/schemas.js';

/**
 * The HTTP API's answers as the tests read them: the daemon's own schemas (`daemon/http/schemas.ts`,
 * the ones the OpenAPI document is made of), so a test's types and the contract cannot differ.
 */
export const answers = {
  error: s.errorBody,
  loginAllowed: s.loginAllowed,
  loginDenied: s.loginDenied,
  user: s.userView,
  users: z.object({ users: z.array(s.userView) }),
  organization: s.organization,
  organizations: z.object({ organizations: z.array(s.organization) }),
  invitation: s.invitation,
  prewarmRun: s.prewarmRun,
  prewarmStarted: z.object({
    runs: z.array(z.object({ id: z.string(), connector: z.string() })),
    skipped: z.array(z.object({ connector: z.string(), reason: z.string() })),
  }),
  drift: s.driftPage,
} as const;

export type ErrorAnswer = z.infer<typeof s.errorBody>;
export type LoginAllowed = z.infer<typeof s.loginAllowed>;
export type LoginDenied = z.infer<typeof s.loginDenied>;
/** Every answer of `POST /v1/logins`: narrow it on `status` or `decision`. */
export type LoginAnswer = LoginAllowed | LoginDenied | ErrorAnswer;
export type UserView = z.infer<typeof s.userView>;
export type Membership = z.infer<typeof s.membership>;
export type OrganizationView = z.infer<typeof s.organization>;
export type InvitationView = z.infer<typeof s.invitation>;
export type PrewarmRunView = z.infer<typeof s.prewarmRun>;
export type DriftPage = z.infer<typeof s.driftPage>;
export type DriftItem = DriftPage['items'][number];
