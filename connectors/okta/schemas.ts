import { z } from 'zod';

/**
 * What jitsync reads of Okta's objects, checked on the SDK's deserialised models (it copies the
 * documented attributes and leaves a missing one `undefined`). A page that fails these is a
 * `bad_response`, never an empty list.
 */

export const oktaGroupSchema = z.object({
  id: z.string().min(1),
  /** OKTA_GROUP | APP_GROUP | BUILT_IN; kept open so a new type does not break a sync. */
  type: z.string().min(1),
  profile: z.object({ name: z.string().min(1) }),
});

export type OktaGroupModel = z.infer<typeof oktaGroupSchema>;

const optionalText = z.string().nullish();

export const oktaUserSchema = z.object({
  id: z.string().min(1),
  status: z.string().optional(),
  profile: z.object({
    login: z.string().min(1),
    email: optionalText,
    firstName: optionalText,
    lastName: optionalText,
  }),
});

export type OktaUserModel = z.infer<typeof oktaUserSchema>;
