import { FilterParser } from 'ldapts';
import { z } from 'zod';
import { connectorBaseSchema } from '../base-config.js';

/** An attribute description (`mail`, `member;range=0-*`) or an OID: it goes into filters unescaped. */
const attributeName = z
  .string()
  .regex(/^(?:[A-Za-z][A-Za-z0-9-]*|\d+(?:\.\d+)+)(?:;[A-Za-z0-9=*-]+)*$/, 'an LDAP attribute name');

/** A configured filter is trusted text, but it must parse, so a typo fails at load time. */
const filterText = z.string().superRefine((text, ctx) => {
  try {
    FilterParser.parseString(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not an LDAP filter: ${error instanceof Error ? error.message : String(error)}` });
  }
});

const dnText = z.string().trim().min(1, 'a DN');

export const ldapAttributesSchema = z
  .object({
    /** The user's SSO subject: `entryUUID` on OpenLDAP, `objectGUID` on Active Directory. */
    subject: attributeName.default('entryUUID'),
    email: attributeName.default('mail'),
    name: attributeName.default('cn'),
    /** What matching uses as the group's name. */
    groupName: attributeName.default('cn'),
    /** The group's stable id: an attribute (`entryUUID`, `objectGUID`) or `dn`. */
    groupId: z.union([z.literal('dn'), attributeName]).default('entryUUID'),
    /** Member attribute(s) of a group: `member`, or e.g. `[member, uniqueMember]`. */
    member: z
      .union([attributeName, z.array(attributeName).min(1)])
      .default('member')
      .transform((value) => (Array.isArray(value) ? value : [value])),
  })
  .strict();

export const ldapConfigSchema = connectorBaseSchema
  .extend({
    type: z.literal('ldap'),
    url: z.string().regex(/^ldaps?:\/\/[^/\s]+\/?$/i, 'ldap://host[:port] or ldaps://host[:port]'),
    bindDN: dnText,
    bindPassword: z.string().min(1),
    userBase: dnText,
    groupBase: dnText,
    userFilter: filterText.default('(objectClass=inetOrgPerson)'),
    groupFilter: filterText.default('(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))'),
    attributes: ldapAttributesSchema.prefault({}),
    /** Entries per page of the simple paged-results control; also the batch size of DN look-ups. */
    pageSize: z.number().int().min(1).max(10_000).default(500),
    /**
     * How nested groups are resolved at look-up: `client` walks `member` links (any server);
     * `ad-matching-rule` asks Active Directory with LDAP_MATCHING_RULE_IN_CHAIN.
     */
    nesting: z.enum(['client', 'ad-matching-rule']).default('client'),
    tls: z
      .object({
        /** PEM file of the CA that signed the server certificate; relative to the config file. */
        caFile: z.string().min(1).optional(),
        rejectUnauthorized: z.boolean().default(true),
        /** Upgrade an `ldap://` connection with StartTLS before binding. */
        startTls: z.boolean().default(false),
      })
      .strict()
      .optional(),
  })
  .strict()
  .superRefine((config, ctx) => {
    if (config.tls?.startTls && /^ldaps:/i.test(config.url)) {
      ctx.addIssue({ code: 'custom', path: ['tls', 'startTls'], message: 'StartTLS needs an ldap:// url' });
    }
  });

export type LdapConnectorConfig = z.infer<typeof ldapConfigSchema>;
