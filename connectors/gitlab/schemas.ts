import { z } from 'zod';

/**
 * The parts of GitLab REST API v4 answers the connector reads. Objects are not strict: GitLab
 * adds fields between releases, and only these must be there and well-typed.
 */

export const gitlabGroupSchema = z.object({
  id: z.number().int(),
  name: z.string(),
  path: z.string(),
  full_name: z.string(),
  full_path: z.string().min(1),
  parent_id: z.number().int().nullable(),
  web_url: z.string().optional(),
});
export type GitlabGroup = z.infer<typeof gitlabGroupSchema>;

export const gitlabMemberSchema = z.object({
  id: z.number().int(),
  username: z.string(),
  name: z.string().nullable().optional(),
  state: z.string().optional(),
  access_level: z.number().int(),
  /** Shown to administrators (and group owners of enterprise users on gitlab.com). */
  email: z.string().nullable().optional(),
});
export type GitlabMember = z.infer<typeof gitlabMemberSchema>;

export const gitlabUserSchema = z.object({
  id: z.number().int(),
  username: z.string(),
  name: z.string().nullable().optional(),
  state: z.string().optional(),
  /** Administrators see `email`; everyone sees `public_email` (often empty). */
  email: z.string().nullable().optional(),
  public_email: z.string().nullable().optional(),
});
export type GitlabUser = z.infer<typeof gitlabUserSchema>;

export const gitlabMembershipSchema = z.object({
  source_id: z.number().int(),
  /** The group's display name, not its full path. */
  source_name: z.string(),
  source_type: z.enum(['Namespace', 'Project']),
  access_level: z.number().int(),
});
export type GitlabMembership = z.infer<typeof gitlabMembershipSchema>;
