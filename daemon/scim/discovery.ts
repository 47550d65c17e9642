import { CORE_GROUP, CORE_USER, ENTERPRISE_USER } from './filter.js';

/**
 * The discovery documents (RFC 7644 §4, RFC 7643 §5-7): what this service provider supports and
 * the attributes it declares. Every resource is kept as the IdP sent it, so an attribute outside
 * these schemas is stored and returned too; the declared ones are those a client may rely on.
 */

const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';
const RESOURCE_TYPE_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SERVICE_PROVIDER_CONFIG = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';

/** Largest SCIM request body: a group PATCH adding or removing a few thousand members. */
export const SCIM_BODY_LIMIT = 1024 * 1024;
/** Most resources a list answers at once (`count` is capped to it). */
export const MAX_RESULTS = 1000;

interface AttributeOptions {
  type?: 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime' | 'integer' | 'decimal';
  multiValued?: boolean;
  required?: boolean;
  caseExact?: boolean;
  mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  returned?: 'always' | 'never' | 'default' | 'request';
  uniqueness?: 'none' | 'server' | 'global';
  subAttributes?: Record<string, unknown>[];
  referenceTypes?: string[];
  canonicalValues?: string[];
}

function attribute(name: string, description: string, options: AttributeOptions = {}): Record<string, unknown> {
  return {
    name,
    type: options.type ?? 'string',
    multiValued: options.multiValued ?? false,
    description,
    required: options.required ?? false,
    caseExact: options.caseExact ?? false,
    mutability: options.mutability ?? 'readWrite',
    returned: options.returned ?? 'default',
    uniqueness: options.uniqueness ?? 'none',
    ...(options.subAttributes ? { subAttributes: options.subAttributes } : {}),
    ...(options.referenceTypes ? { referenceTypes: options.referenceTypes } : {}),
    ...(options.canonicalValues ? { canonicalValues: options.canonicalValues } : {}),
  };
}

const multiValuedValue = (what: string, types: string[]) =>
  [
    attribute('value', `The ${what}.`),
    attribute('display', 'A human-readable name.'),
    attribute('type', `The kind of ${what}.`, { canonicalValues: types }),
    attribute('primary', `Whether this is the primary ${what}.`, { type: 'boolean' }),
  ];

const USER_ATTRIBUTES = [
  attribute('userName', 'Unique identifier for the user, as the IdP knows it.', { required: true, uniqueness: 'server' }),
  attribute('name', "The user's name.", {
    type: 'complex',
    subAttributes: [
      attribute('formatted', 'The full name.'),
      attribute('familyName', 'The family name.'),
      attribute('givenName', 'The given name.'),
      attribute('middleName', 'The middle name.'),
      attribute('honorificPrefix', 'The honorific prefix.'),
      attribute('honorificSuffix', 'The honorific suffix.'),
    ],
  }),
  attribute('displayName', 'The name to display.'),
  attribute('nickName', 'The casual name.'),
  attribute('title', "The user's title."),
  attribute('userType', 'The relationship to the organization.'),
  attribute('preferredLanguage', 'The preferred language.'),
  attribute('locale', 'The default location.'),
  attribute('timezone', 'The time zone.'),
  attribute('active', 'Whether the user may sign in: false disables the jitsync account.', { type: 'boolean' }),
  attribute('emails', 'Email addresses.', { type: 'complex', multiValued: true, subAttributes: multiValuedValue('email address', ['work', 'home', 'other']) }),
  attribute('phoneNumbers', 'Phone numbers.', {
    type: 'complex',
    multiValued: true,
    subAttributes: multiValuedValue('phone number', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
  }),
];

const ENTERPRISE_ATTRIBUTES = [
  attribute('employeeNumber', 'The employee number.'),
  attribute('costCenter', 'The cost center.'),
  attribute('organization', 'The organization.'),
  attribute('division', 'The division.'),
  attribute('department', 'The department.'),
  attribute('manager', "The user's manager.", {
    type: 'complex',
    subAttributes: [
      attribute('value', "The manager's id.", { caseExact: true }),
      attribute('$ref', "The manager's URI.", { type: 'reference', referenceTypes: ['User'] }),
      attribute('displayName', "The manager's name.", { mutability: 'readOnly' }),
    ],
  }),
];

const GROUP_ATTRIBUTES = [
  attribute('displayName', 'The group name: what mappings and allowedGroups match.', { required: true, uniqueness: 'server' }),
  attribute('members', 'The members: users (or groups) of this connector, by id.', {
    type: 'complex',
    multiValued: true,
    subAttributes: [
      attribute('value', "The member's id.", { caseExact: true, mutability: 'immutable' }),
      attribute('$ref', "The member's URI.", { type: 'reference', referenceTypes: ['User', 'Group'], mutability: 'immutable' }),
      attribute('type', 'User or Group.', { canonicalValues: ['User', 'Group'], mutability: 'immutable' }),
      attribute('display', "The member's name.", { mutability: 'immutable' }),
    ],
  }),
];

const SCHEMAS = [
  { id: CORE_USER, name: 'User', description: 'User Account', attributes: USER_ATTRIBUTES },
  { id: ENTERPRISE_USER, name: 'EnterpriseUser', description: 'Enterprise User', attributes: ENTERPRISE_ATTRIBUTES },
  { id: CORE_GROUP, name: 'Group', description: 'Group', attributes: GROUP_ATTRIBUTES },
];

export function schemas(baseUrl: string): Record<string, unknown>[] {
  return SCHEMAS.map((schema) => ({
    schemas: [SCHEMA_SCHEMA],
    ...schema,
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` },
  }));
}

export function resourceTypes(baseUrl: string): Record<string, unknown>[] {
  return [
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      schema: CORE_USER,
      schemaExtensions: [{ schema: ENTERPRISE_USER, required: false }],
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/User` },
    },
    {
      schemas: [RESOURCE_TYPE_SCHEMA],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group',
      schema: CORE_GROUP,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/Group` },
    },
  ];
}

export function serviceProviderConfig(baseUrl: string): Record<string, unknown> {
  return {
    schemas: [SERVICE_PROVIDER_CONFIG],
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: SCIM_BODY_LIMIT },
    filter: { supported: true, maxResults: MAX_RESULTS },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'Bearer token',
        description: "The scim connector's token, as Authorization: Bearer <token>",
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}
