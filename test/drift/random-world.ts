/**
 * Random worlds for the agreement property (`agreement-property.test.ts`): one world per file
 * connector, with its own provisioning settings, organizations, directory, accounts, manual
 * memberships, invitations and disabled users. Every name carries the world's prefix, so worlds
 * sharing one daemon never touch each other's organizations, groups or emails.
 */

/** mulberry32: small, seeded, reproducible. */
export function createRandom(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number) => Math.floor(next() * max);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)]!;
  const chance = (p: number) => next() < p;
  const some = <T>(items: readonly T[], max: number): T[] => {
    const pool = [...items];
    const out: T[] = [];
    for (let n = int(max + 1); n > 0 && pool.length > 0; n--) out.push(pool.splice(int(pool.length), 1)[0]!);
    return out;
  };
  return { next, int, pick, chance, some };
}

export type Random = ReturnType<typeof createRandom>;

export interface WorldOrganization {
  key: string;
  defaultGroup: string;
  groups: string[];
}

export interface DirectoryUser {
  subject: string;
  email: string;
  name: string;
  groups: string[];
}

export interface World {
  /** The connector id, also the prefix of every name in the world. */
  id: string;
  /** The connector's `provisioning` block (YAML flow mapping) during the test's logins. */
  provisioning: Record<string, unknown>;
  organizations: WorldOrganization[];
  directory: { groups: Array<{ id: string; name: string }>; users: DirectoryUser[] };
  /** Logins made before the world's settings apply (sign-up open, linking on): they create the accounts. */
  accounts: Array<{ subject: string; email: string; groups: string[]; disabled: boolean }>;
  /** Manual memberships added by an admin: account (by subject) and group. */
  manual: Array<{ subject: string; organization: string; group: string }>;
  invitations: Array<{ email: string; organization: string; group?: string }>;
}

export function randomWorld(random: Random, id: string): World {
  const { int, pick, chance, some } = random;
  const name = (part: string) => `${id}.${part}`;
  const pool = ['dev', 'ops', 'admins', 'qa', 'root', 'root/sub'].map(name);

  const organizations: WorldOrganization[] = [];
  for (let i = 0, n = 1 + int(3); i < n; i++) {
    // A default group may share its name with an IdP group (as Sonar's `sonar-users`): never synced.
    const defaultGroup = chance(0.75) ? 'Members' : pick(pool);
    const groups = some(pool, 4).filter((g) => g !== defaultGroup);
    organizations.push({ key: `${id}-O${i}`, defaultGroup, groups });
  }
  const anyGroup = () => {
    const org = pick(organizations);
    return { organization: org.key, group: org.groups.length > 0 && chance(0.85) ? pick(org.groups) : org.defaultGroup };
  };

  const matching = pick(['exact', 'mapping'] as const);
  const mappings = matching === 'mapping' ? Array.from({ length: int(4) }, () => ({ idpGroup: pick(pool), ...anyGroup() })) : [];
  // IdP names: the pool (exact matches), `organization:team` names (Docker), and noise.
  const idpNames = [
    ...pool,
    ...organizations.flatMap((org) => [...org.groups, org.defaultGroup].map((g) => `${org.key}:${g}`)),
    name('Noise'),
  ];

  const provisioning: Record<string, unknown> = {
    matching,
    mappings,
    membership: pick(['reset', 'managed', 'additive']),
    protectedGroups: chance(0.3) ? [anyGroup()] : [],
    linkByEmail: chance(0.5),
    signUp: chance(0.25) ? 'blocked' : 'allowed',
    allowedGroups: chance(0.3) ? [name('root')] : [],
    defaultOrganization: chance(0.3)
      ? (() => {
          const target = anyGroup();
          return chance(0.5) ? target : { organization: target.organization };
        })()
      : null,
    // Every user may vanish from a world's directory: the removal guard is not under test here.
    maxRemovalShare: 1,
  };

  const users: DirectoryUser[] = [];
  for (let i = 0, n = 3 + int(5); i < n; i++) {
    const groups = some(idpNames, 3);
    if (chance(0.3)) groups.push(pick([name('root'), name('root/sub')]));
    users.push({ subject: `${id}-u${i}`, email: `u${i}@${id}.test`, name: `User ${i}`, groups: [...new Set(groups)] });
  }
  const directoryGroups = [...new Set(users.flatMap((u) => u.groups))].map((g, i) => ({ id: `${id}-g${i}`, name: g }));

  // Accounts: most directory users signed in before, with token groups that may differ from the
  // directory's now; one account may hold the email of a directory user under another subject
  // (linked by email, or `email_conflict`). Each account is reachable from one directory user.
  const accounts: World['accounts'] = [];
  for (const user of users) {
    if (chance(0.6)) accounts.push({ subject: user.subject, email: user.email, groups: some(idpNames, 3), disabled: chance(0.15) });
  }
  const withoutAccount = users.filter((u) => !accounts.some((a) => a.email === u.email));
  if (withoutAccount.length > 0 && chance(0.6)) {
    const user = pick(withoutAccount);
    accounts.push({ subject: `${id}-ghost`, email: user.email, groups: some(idpNames, 3), disabled: chance(0.15) });
  }

  const manual: World['manual'] = [];
  for (let n = int(3); n > 0 && accounts.length > 0; n--) {
    const org = pick(organizations);
    if (org.groups.length > 0) manual.push({ subject: pick(accounts).subject, organization: org.key, group: pick(org.groups) });
  }
  const invitations: World['invitations'] = [];
  for (let n = int(3); n > 0; n--) {
    const org = pick(organizations);
    const group = org.groups.length > 0 && chance(0.6) ? pick(org.groups) : undefined;
    invitations.push({ email: pick(users).email, organization: org.key, ...(group ? { group } : {}) });
  }

  return { id, provisioning, organizations, directory: { groups: directoryGroups, users }, accounts, manual, invitations };
}

/** The connector entry for `connectors:` (YAML flow style is JSON). */
export function connectorYaml(world: World, provisioning: Record<string, unknown>): string {
  return `  - { id: ${world.id}, type: file, path: ./${world.id}.json, provisioning: ${JSON.stringify(provisioning)} }`;
}

/** Settings under which the accounts are made: the world's plan rules, sign-up open, linking on. */
export function setupProvisioning(world: World): Record<string, unknown> {
  return { ...world.provisioning, signUp: 'allowed', allowedGroups: [], linkByEmail: true };
}
