import type { GitlabGroup } from './schemas.js';

/**
 * One user's GitLab groups from their direct memberships. Membership inherits downwards: a
 * member of `top` is a member of `top/sub`. `GET /users/:id/memberships` names each direct group
 * by id and display name only, so full paths come from further calls, kept to the fewest:
 *
 * - per direct group not already inside another direct group's subtree: its
 *   `descendant_groups` (one call per 100 descendants), which also yields its own full path
 *   through any child (`top/sub` → `top`);
 * - only for a direct group with no subgroups: `GET /groups/:id` for its full path.
 *
 * Groups are visited by ascending id, so a parent (usually older) is listed before its children
 * and the children's subtrees cost nothing more.
 */

export interface UserGroupSources {
  directGroupIds: number[];
  /** Every descendant of the group; null when the group no longer exists. */
  descendantsOf(groupId: number): Promise<GitlabGroup[] | null>;
  /** The group itself; null when it no longer exists. */
  group(groupId: number): Promise<GitlabGroup | null>;
  /** When set, only these top-level groups and their subgroups count. */
  rootGroups?: string[] | undefined;
}

export async function resolveUserGroups(
  sources: UserGroupSources,
): Promise<{ groups: string[]; nestedGroups: string[] }> {
  const direct = [...new Set(sources.directGroupIds)].sort((a, b) => a - b);
  const paths = new Map<number, string>();
  /** Groups inside a subtree already listed: their own subtrees are listed too. */
  const covered = new Set<number>();

  for (const id of direct) {
    if (covered.has(id)) continue;
    const below = await sources.descendantsOf(id);
    // Deleted since the memberships were read: it grants nothing any more.
    if (below === null) continue;
    let childPath: string | undefined;
    for (const group of below) {
      paths.set(group.id, group.full_path);
      covered.add(group.id);
      if (group.parent_id === id) childPath ??= group.full_path;
    }
    if (childPath !== undefined) {
      paths.set(id, childPath.slice(0, childPath.lastIndexOf('/')));
    } else {
      const self = await sources.group(id);
      if (self) paths.set(id, self.full_path);
    }
  }

  const inScope = scopeFilter(sources.rootGroups);
  const directPaths = new Set(direct.flatMap((id) => paths.get(id) ?? []));
  const groups = [...new Set(paths.values())].filter(inScope).sort();
  return { groups, nestedGroups: groups.filter((path) => !directPaths.has(path)) };
}

/** GitLab paths resolve case-insensitively, so a configured root matches in any case. */
function scopeFilter(rootGroups: string[] | undefined): (path: string) => boolean {
  if (!rootGroups) return () => true;
  const roots = rootGroups.map((r) => r.toLowerCase());
  return (path) => {
    const lower = path.toLowerCase();
    return roots.some((root) => lower === root || lower.startsWith(`${root}/`));
  };
}
