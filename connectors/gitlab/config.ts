import { z } from 'zod';
import { connectorBaseSchema } from '../base-config.js';

/** A GitLab top-level group path: one segment, as GitLab allows in a path. */
const rootGroupPath = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9_.][A-Za-z0-9_.-]*$/, 'a top-level group path such as "my-gitlab-group" (no "/")');

export const gitlabConfigSchema = connectorBaseSchema
  .extend({
    type: z.literal('gitlab'),
    /** Base URL of the GitLab instance (self-managed or gitlab.com), without `/api/v4`. */
    url: z
      .url({ protocol: /^https?$/, error: 'an http(s) URL such as https://gitlab.example.com' })
      .refine((u) => !/\/api\/v4\/?$/.test(u), 'the instance base URL, without /api/v4')
      .default('https://gitlab.com')
      .transform((u) => u.replace(/\/+$/, '')),
    /** Personal, group or project access token with `read_api`; an administrator's for `lookupUser`. */
    token: z.string().min(1, 'a GitLab access token'),
    /**
     * Limit pre-warm to these top-level groups and their subgroups. Needed on gitlab.com, where
     * listing every group the token can see means every public group.
     */
    rootGroups: z
      .array(rootGroupPath)
      .min(1, 'leave rootGroups out to list every group, or name at least one')
      .refine((roots) => new Set(roots.map((r) => r.toLowerCase())).size === roots.length, 'names a group twice')
      .optional(),
    /** Rows per page; GitLab allows at most 100. */
    pageSize: z.number().int().min(1).max(100).default(100),
    /**
     * Pre-warm records who holds a group only through a parent group or a share (`nestedGroups`,
     * the drift report's `nested_or_overage`). `members/all` does not say which rows are
     * inherited, so this costs a direct `members` listing beside each group's `members/all`.
     */
    recordNesting: z.boolean().default(false),
  })
  .strict();

export type GitlabConnectorConfig = z.infer<typeof gitlabConfigSchema>;
