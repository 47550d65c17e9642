import { z } from 'zod';
import { connectorBaseSchema } from '../base-config.js';

/**
 * The `type: entra` entry of `connectors:`. Both URLs must be https: the Graph client only sends
 * its token to https hosts and `@azure/identity` refuses an http authority. They are settable so
 * national clouds (and the local fake in tests) work.
 */

/** An https origin (`scheme://host[:port]`); a trailing slash is dropped, any path refused. */
const httpsOrigin = z
  .url({ protocol: /^https$/, error: 'must be an https URL (the Graph client and @azure/identity refuse http)' })
  .refine((value) => {
    const url = new URL(value);
    return url.pathname === '/' && !url.search && !url.hash && !url.username && !url.password;
  }, 'must be an origin only: scheme, host and optional port, no path or query')
  .transform((value) => new URL(value).origin);

export const entraConfigSchema = connectorBaseSchema
  .extend({
    type: z.literal('entra'),
    /** Directory (tenant) id, or a verified domain such as `contoso.onmicrosoft.com`. */
    tenantId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, 'a tenant GUID or domain name'),
    /** The app registration's application (client) id. */
    clientId: z.guid('must be the application (client) id, a GUID'),
    clientSecret: z.string().min(1, 'must not be empty'),
    authorityHost: httpsOrigin.default('https://login.microsoftonline.com'),
    graphUrl: httpsOrigin.default('https://graph.microsoft.com'),
    /** `$top` for group and member listings; Graph allows at most 999. */
    pageSize: z.number().int().min(1).max(999).default(999),
    /**
     * Pre-warm records who holds a group only through nesting (`nestedGroups`, the drift report's
     * `nested_or_overage`). Costs a direct `members` listing beside each `transitiveMembers` one.
     */
    recordNesting: z.boolean().default(false),
  })
  .strict();

export type EntraConnectorConfig = z.infer<typeof entraConfigSchema>;
