import { z } from 'zod';
import { emailAddress, groupName } from '../http/schemas.js';
import { storableText } from '../text-rules.js';

/** The most group names a login may carry. */
export const MAX_TOKEN_GROUPS = 200;

/** The login hook's request body (README: A login hook call). Bounded everywhere: it comes from the network. */
export const loginInputSchema = z
  .object({
    connector: z.string().min(1).max(64),
    subject: storableText(256),
    email: emailAddress,
    name: storableText(256).optional(),
    givenName: storableText(128).optional(),
    familyName: storableText(128).optional(),
    username: storableText(64).optional(),
    /**
     * At most 200 names (Entra ID's own cap before it sends an overage marker instead), each a
     * group name as the admin routes take it: a full list stays well inside the 64 KiB body limit.
     */
    groups: z.array(groupName).max(MAX_TOKEN_GROUPS).optional(),
    /** The token said its group list was cut short (Entra overage): never read it as complete. */
    groupsOverage: z.boolean().optional(),
    /**
     * The token's raw claims, when the app passes them: Entra's overage markers (`_claim_names`,
     * `hasgroups`, the SAML groups link) are read from here as `groupsOverage` is.
     */
    claims: z.record(z.string().max(256), z.unknown()).optional(),
  })
  .strict();

export type LoginInput = z.infer<typeof loginInputSchema>;
