import { z } from 'zod';

/** The login hook's request body (SPEC §5). Bounded everywhere: it comes from the network. */
export const loginInputSchema = z
  .object({
    connector: z.string().min(1).max(64),
    subject: z.string().min(1).max(256),
    email: z.email().max(254),
    name: z.string().min(1).max(256).optional(),
    givenName: z.string().min(1).max(128).optional(),
    familyName: z.string().min(1).max(128).optional(),
    username: z.string().min(1).max(64).optional(),
    groups: z.array(z.string().min(1).max(1024)).max(5000).optional(),
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
