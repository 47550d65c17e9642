import { z } from 'zod';
import { connectorBaseSchema } from '../base-config.js';

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

// zod runs refinements after a failed format check too, hence the `URL.canParse` guards.
const isBaseUrl = (url: URL) => url.pathname === '/' && !url.search && !url.hash;

export const oktaGroupTypes = ['OKTA_GROUP', 'APP_GROUP', 'BUILT_IN'] as const;

export const oktaConfigSchema = connectorBaseSchema
  .extend({
    type: z.literal('okta'),
    /** The org's base URL, e.g. https://example.okta.com (no path). */
    orgUrl: z
      .url({ protocol: /^https?$/, error: 'an http(s) URL such as https://example.okta.com' })
      .refine((u) => !URL.canParse(u) || isBaseUrl(new URL(u)), 'the org base URL only, without a path')
      // The API token travels in a header: plain http only to this machine (tests, local proxies).
      .refine(
        (u) => !URL.canParse(u) || new URL(u).protocol === 'https:' || LOOPBACK_HOSTS.has(new URL(u).hostname),
        'https is required except for a loopback address',
      )
      .transform((u) => u.replace(/\/+$/, '')),
    /** An SSWS API token with read access to users and groups. */
    token: z.string().min(1, 'an Okta API token'),
    /** Only groups of these types; all types (the built-in Everyone group too) when absent. */
    groupTypes: z
      .array(z.enum(oktaGroupTypes))
      .min(1, 'leave groupTypes out for every type, or name at least one')
      .refine((types) => new Set(types).size === types.length, 'names a type twice')
      .optional(),
    /** Groups per page; Okta recommends at most 200. */
    pageSize: z.number().int().min(1).max(200).default(200),
    /** Members per page of `/groups/{id}/users`; Okta's default and our ceiling is 1000. */
    membersPageSize: z.number().int().min(1).max(1000).default(1000),
    /**
     * Incremental runs read membership changes from the System Log (the token's admin must be
     * able to read it) instead of re-listing every changed group's members.
     */
    membershipEvents: z.boolean().default(false),
  })
  .strict();

export type OktaConnectorConfig = z.infer<typeof oktaConfigSchema>;
