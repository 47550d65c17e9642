import { SUFFIX } from './slapd.js';

/**
 * The test directory: ten people, a service account for the connector, and groups with
 * nesting two levels deep (engineering → backend → db-team), a cycle (ops ↔ oncall), a name
 * with a space, and a name with filter syntax characters (`a*(b)`) nested in `outer`.
 */

export const SERVICE_DN = `cn=jitsync,ou=services,${SUFFIX}`;
export const SERVICE_PASSWORD = 'service-secret';
/** A second service account that may not read `cn=Monitor`. */
export const BLIND_SERVICE_DN = `cn=no-monitor,ou=services,${SUFFIX}`;

export const PEOPLE = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi', 'ivan', 'judy'];

export const personDn = (uid: string): string => `uid=${uid},ou=people,${SUFFIX}`;
export const groupDn = (cn: string): string => `cn=${cn},ou=groups,${SUFFIX}`;
export const emailOf = (uid: string): string => `${uid}@example.com`;
export const nameOf = (uid: string): string => `${uid[0]?.toUpperCase() ?? ''}${uid.slice(1)} Example`;

function person(uid: string): string {
  return `dn: ${personDn(uid)}
objectClass: inetOrgPerson
uid: ${uid}
cn: ${nameOf(uid)}
sn: Example
mail: ${emailOf(uid)}
`;
}

function group(cn: string, members: string[]): string {
  return `dn: ${groupDn(cn)}
objectClass: groupOfNames
cn: ${cn}
${members.map((dn) => `member: ${dn}`).join('\n')}
`;
}

function service(cn: string): string {
  return `dn: cn=${cn},ou=services,${SUFFIX}
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: ${cn}
userPassword: ${SERVICE_PASSWORD}
`;
}

export const GROUPS = {
  engineering: [personDn('alice'), personDn('bob'), groupDn('backend')],
  backend: [personDn('carol'), groupDn('db-team')],
  'db-team': [personDn('dave')],
  ops: [personDn('erin'), groupDn('oncall')],
  oncall: [personDn('frank'), groupDn('ops')],
  'platform team': [personDn('grace'), personDn('alice')],
  'a*(b)': [personDn('heidi')],
  outer: [groupDn('a*(b)'), personDn('ivan')],
} satisfies Record<string, string[]>;

/** `groupOfUniqueNames`, only seen when `uniqueMember` is a configured member attribute. */
export const LEGACY_GROUP = 'legacy';

export const LDIF = [
  `dn: ${SUFFIX}
objectClass: dcObject
objectClass: organization
dc: example
o: Example
`,
  `dn: ou=people,${SUFFIX}
objectClass: organizationalUnit
ou: people
`,
  `dn: ou=groups,${SUFFIX}
objectClass: organizationalUnit
ou: groups
`,
  `dn: ou=services,${SUFFIX}
objectClass: organizationalUnit
ou: services
`,
  service('jitsync'),
  service('no-monitor'),
  ...PEOPLE.map(person),
  // Groups that name a not-yet-added group as member are fine: slapd does not check member DNs.
  ...Object.entries(GROUPS).map(([cn, members]) => group(cn, members)),
  `dn: ${groupDn(LEGACY_GROUP)}
objectClass: groupOfUniqueNames
cn: ${LEGACY_GROUP}
uniqueMember: ${personDn('judy')}
`,
].join('\n');
