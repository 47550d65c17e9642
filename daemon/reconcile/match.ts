import type { Organization } from '../../store/types.js';
import type { GroupRef, ProvisioningSettings } from './settings.js';

/**
 * Which app groups the user's IdP groups back. Pure.
 *
 * - `exact`: an app group whose name equals an IdP group name, case-sensitively, in every
 *   organization that has one (SonarQube; GitLab groups arrive as full paths).
 * - `mapping`: explicit `idpGroup → organization/group` rules, plus Docker-style
 *   `organization:team` IdP group names.
 *
 * The organization's default group is never a target: it is derived, not synced.
 */
export function matchGroups(
  idpGroups: readonly string[],
  organizations: readonly Organization[],
  settings: Pick<ProvisioningSettings, 'matching' | 'mappings'>,
): GroupRef[] {
  const names = [...new Set(idpGroups)];
  const targets: GroupRef[] = [];

  if (settings.matching === 'exact') {
    // The user's groups against each organization's set: a login costs its own groups, not
    // every app group. Each organization once (keys are unique; a repeated one adds nothing).
    const visited = new Set<string>();
    for (const org of organizations) {
      if (visited.has(org.key)) continue;
      visited.add(org.key);
      const groups = groupSet(org);
      for (const name of names) if (name !== org.defaultGroup && groups.has(name)) targets.push({ organization: org.key, group: name });
    }
    return targets;
  }

  const seen = new Set<string>();
  const byKey = new Map(organizations.map((org) => [org.key, org]));
  const add = (organization: string, group: string) => {
    const org = byKey.get(organization);
    if (!org || group === org.defaultGroup || !groupSet(org).has(group)) return;
    const key = `${organization}\u0000${group}`;
    if (seen.has(key)) return;
    seen.add(key);
    targets.push({ organization, group });
  };

  const held = new Set(names);
  for (const rule of settings.mappings) {
    if (held.has(rule.idpGroup)) add(rule.organization, rule.group);
  }
  for (const name of names) {
    const ref = parseOrganizationTeam(name);
    if (ref) add(ref.organization, ref.group);
  }
  return targets;
}

/**
 * An organization's groups as a set, built once per groups array: organizations are values (the
 * store and the organizations cache hand out fresh objects and never mutate them).
 */
const groupSets = new WeakMap<readonly string[], ReadonlySet<string>>();

function groupSet(org: Organization): ReadonlySet<string> {
  let set = groupSets.get(org.groups);
  if (!set) groupSets.set(org.groups, (set = new Set(org.groups)));
  return set;
}

/** Docker's `organization:team` group naming; `null` for any other name. */
export function parseOrganizationTeam(name: string): GroupRef | null {
  const colon = name.indexOf(':');
  if (colon <= 0 || colon === name.length - 1) return null;
  return { organization: name.slice(0, colon), group: name.slice(colon + 1) };
}

/**
 * Allowed groups (GitLab-style root groups): with none configured everybody may sign in; else the
 * user must be in one of the roots or in a subgroup of one (`root/...`).
 */
export function isAllowed(idpGroups: readonly string[], allowedGroups: readonly string[]): boolean {
  if (allowedGroups.length === 0) return true;
  return idpGroups.some((group) =>
    allowedGroups.some((root) => group === root || group.startsWith(`${root}/`)),
  );
}
