import { z } from 'zod';

/** zod guards for the Microsoft Graph responses the Entra connector reads (unknown keys ignored). */

export const groupSchema = z.object({ id: z.string().min(1), displayName: z.string() });

/** A member of a directoryObject collection (`transitiveMembers`, casts, `getByIds`). */
export const directoryObjectSchema = z.object({
  '@odata.type': z.string(),
  id: z.string().min(1),
  displayName: z.string().nullish(),
  mail: z.string().nullish(),
  userPrincipalName: z.string().nullish(),
});

export const userSchema = z.object({
  id: z.string().min(1),
  displayName: z.string().nullish(),
  mail: z.string().nullish(),
  userPrincipalName: z.string().nullish(),
});

export function collectionSchema<T extends z.ZodType>(item: T) {
  return z.object({ value: z.array(item), '@odata.nextLink': z.url().optional() });
}

/**
 * One object of a `groups/delta` page. A removed group is `{ id, @removed }`; a changed one has
 * `id` and only the changed properties (`displayName` may be absent); a group with many members
 * may appear in several objects, merged by id.
 */
export const deltaGroupSchema = z.object({
  id: z.string().min(1),
  displayName: z.string().nullish(),
  '@removed': z.object({ reason: z.string() }).optional(),
  'members@delta': z
    .array(z.object({ id: z.string(), '@odata.type': z.string().optional(), '@removed': z.object({ reason: z.string() }).optional() }))
    .optional(),
});

export const deltaPageSchema = z
  .object({
    value: z.array(deltaGroupSchema),
    '@odata.nextLink': z.url().optional(),
    '@odata.deltaLink': z.url().optional(),
  })
  .refine((page) => (page['@odata.nextLink'] === undefined) !== (page['@odata.deltaLink'] === undefined), {
    message: 'a delta page must have exactly one of @odata.nextLink and @odata.deltaLink',
  });

export const GRAPH_USER_TYPE = '#microsoft.graph.user';
export const GRAPH_GROUP_TYPE = '#microsoft.graph.group';
