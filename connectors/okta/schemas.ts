import { z } from 'zod';

/**
 * What jitsync reads of Okta's objects, checked on the SDK's deserialised models (it copies the
 * documented attributes and leaves a missing one `undefined`). A page that fails these is a
 * `bad_response`, never an empty list.
 */

/** An instant as the SDK hands it over (a `Date`), or as JSON has it; epoch milliseconds. */
const instant = z
  .union([z.date(), z.iso.datetime({ offset: true })])
  .transform((value) => new Date(value).getTime())
  .refine((time) => !Number.isNaN(time), 'an instant');

export const oktaGroupSchema = z.object({
  id: z.string().min(1),
  /** OKTA_GROUP | APP_GROUP | BUILT_IN; kept open so a new type does not break a sync. */
  type: z.string().min(1),
  profile: z.object({ name: z.string().min(1) }),
  /** When the group's profile last changed (a rename); read by the incremental feed. */
  lastUpdated: instant.optional(),
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

/** A System Log event, as far as the membership feed reads it. */
export const oktaLogEventSchema = z.object({
  eventType: z.string(),
  outcome: z.object({ result: z.string().nullish() }).nullish(),
  target: z
    .array(z.object({ id: z.string().min(1), type: z.string(), alternateId: optionalText, displayName: optionalText }))
    .nullish(),
});

export type OktaLogEventModel = z.infer<typeof oktaLogEventSchema>;
