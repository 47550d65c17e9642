import { z } from 'zod';
import { connectorBaseSchema } from '../base-config.js';

export const SCIM_MIN_TOKEN_LENGTH = 16;

/**
 * A `connectors:` entry of type `scim`: jitsync as the SCIM 2.0 service provider an IdP (Okta,
 * Entra ID) pushes users and groups to, at `/scim/v2/{id}` with its own bearer `token`.
 */
export const scimConfigSchema = connectorBaseSchema
  .extend({
    type: z.literal('scim'),
    /** The bearer token the IdP presents; visible ASCII, since it travels in a header. */
    token: z
      .string()
      .min(SCIM_MIN_TOKEN_LENGTH, `must be at least ${SCIM_MIN_TOKEN_LENGTH} characters`)
      .regex(/^[\x21-\x7e]*$/, 'must be visible ASCII characters only (no spaces or accents)'),
    /** Which SCIM user attribute is the login's `subject`. */
    subjectAttribute: z.enum(['externalId', 'userName']).default('externalId'),
    /** What a deactivated or deleted SCIM user loses: the account (disabled), or its sync memberships too. */
    onDeprovision: z.enum(['disable', 'remove-memberships']).default('disable'),
    /** Requests a second the IdP may send on average, and in a burst; beyond, `429` with `Retry-After`. */
    rateLimit: z
      .object({
        perSecond: z.number().int().min(1).max(100_000).default(100),
        burst: z.number().int().min(1).max(100_000).default(200),
      })
      .strict()
      .prefault({}),
    /**
     * Pushed changes reach accounts at once, through the login's decision, from a queue on the
     * background thread (docs/scim.md, Push provisioning); false: at the account's next login.
     */
    provisionOnPush: z.boolean().default(false),
    // Pushed data has no pre-warm: a schedule here would be a misunderstanding.
    prewarm: z.undefined({ error: 'a scim connector is fed by the IdP’s pushes and has no pre-warm; remove prewarm' }).optional(),
  })
  .strict();

export type ScimConnectorConfig = z.infer<typeof scimConfigSchema>;
