/**
 * The benchmark directory: a deterministic org with realistic skew. Every process of a run (the
 * fakes, the seeder, the load generator) rebuilds the same org from the same numbers, so nothing
 * large crosses a process boundary.
 *
 * Shape: each user is in 5–30 groups (most near the low end: 5 + 26·r²), drawn from a Zipf
 * distribution (s = 0.7) over the groups, so a handful of groups hold tens of thousands of
 * members and most hold a few hundred.
 */

export interface DirectoryShape {
  users: number;
  groups: number;
}

export interface Directory {
  shape: DirectoryShape;
  /** Group indices of each user, ascending. */
  userGroups: number[][];
  /** Member user indices of each group, ascending. */
  groupMembers: number[][];
  memberships: number;
}

export interface MembershipChange {
  kind: 'add' | 'remove';
  user: number;
  group: number;
}

const ZIPF_S = 0.7;
const MIN_GROUPS = 5;
const MAX_GROUPS = 30;

export const groupName = (g: number): string => `team-${String(g).padStart(4, '0')}`;
export const userEmail = (u: number): string => `user${u}@example.com`;
export const userName = (u: number): string => `User ${u}`;
/** Subject in the file connector (the login benchmark). */
export const fileSubject = (u: number): string => `u${String(u).padStart(6, '0')}`;

/** xorshift32: the same org on every run. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}

function zipfSampler(n: number, random: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let k = 0; k < n; k++) {
    sum += 1 / Math.pow(k + 1, ZIPF_S);
    cdf[k] = sum;
  }
  return () => {
    const target = random() * sum;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

export function buildDirectory(shape: DirectoryShape, seed = 0x2545f491): Directory {
  const random = createRandom(seed);
  const zipf = zipfSampler(shape.groups, random);
  const userGroups: number[][] = [];
  const groupMembers: number[][] = Array.from({ length: shape.groups }, () => []);
  let memberships = 0;
  const wantMax = Math.min(MAX_GROUPS, shape.groups);
  for (let u = 0; u < shape.users; u++) {
    const r = random();
    const count = Math.min(wantMax, MIN_GROUPS + Math.floor(r * r * (MAX_GROUPS - MIN_GROUPS + 1)));
    const set = new Set<number>();
    while (set.size < count) set.add(zipf());
    const groups = [...set].sort((a, b) => a - b);
    userGroups.push(groups);
    for (const g of groups) groupMembers[g]!.push(u);
    memberships += groups.length;
  }
  return { shape, userGroups, groupMembers, memberships };
}

/**
 * `share` of the memberships changed: half removed (random users' random groups), half added
 * (random users into groups drawn with the same skew). Applied to `directory` in place.
 */
export function changeMemberships(directory: Directory, share: number, seed = 0x1234567): MembershipChange[] {
  const random = createRandom(seed);
  const zipf = zipfSampler(directory.shape.groups, random);
  const total = Math.round(directory.memberships * share);
  const changes: MembershipChange[] = [];
  const touched = new Set<string>();
  while (changes.length < total) {
    const user = Math.floor(random() * directory.shape.users);
    const groups = directory.userGroups[user]!;
    if (changes.length % 2 === 0) {
      if (groups.length <= 1) continue;
      const group = groups[Math.floor(random() * groups.length)]!;
      if (touched.has(`${user}:${group}`)) continue;
      touched.add(`${user}:${group}`);
      groups.splice(groups.indexOf(group), 1);
      const members = directory.groupMembers[group]!;
      members.splice(members.indexOf(user), 1);
      changes.push({ kind: 'remove', user, group });
    } else {
      const group = zipf();
      if (groups.includes(group) || touched.has(`${user}:${group}`)) continue;
      touched.add(`${user}:${group}`);
      groups.push(group);
      groups.sort((a, b) => a - b);
      const members = directory.groupMembers[group]!;
      members.splice(lowerBound(members, user), 0, user);
      changes.push({ kind: 'add', user, group });
    }
  }
  let memberships = 0;
  for (const groups of directory.userGroups) memberships += groups.length;
  directory.memberships = memberships;
  return changes;
}

function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Largest groups first: for the report ("a few groups with tens of thousands of members"). */
export function describeSkew(directory: Directory): { largest: number[]; median: number; perUser: { min: number; median: number; max: number } } {
  const sizes = directory.groupMembers.map((m) => m.length).sort((a, b) => b - a);
  const perUser = directory.userGroups.map((g) => g.length).sort((a, b) => a - b);
  return {
    largest: sizes.slice(0, 6),
    median: sizes[Math.floor(sizes.length / 2)] ?? 0,
    perUser: { min: perUser[0] ?? 0, median: perUser[Math.floor(perUser.length / 2)] ?? 0, max: perUser.at(-1) ?? 0 },
  };
}
