/**
 * Names the app group an unmatched IdP group was probably meant to feed: a case-only difference,
 * a GitLab full path against a plain name (`top/sub` vs `sub`), or a small edit distance (≤ 2).
 * Pure. Built once per report, so each look-up costs about the same however many names there are
 * (a deletion index instead of comparing every pair).
 */

export type NearMissReason = 'case' | 'path' | 'edit';

export interface NearMiss {
  /** The expected IdP group name (an app group name, a mapping's `idpGroup`, or `org:team`). */
  name: string;
  reason: NearMissReason;
  distance: number;
}

export interface NearMissIndex {
  find(idpGroup: string): NearMiss | null;
}

const MAX_DISTANCE = 2;
/** Longer names are compared by case and path only: their deletion variants grow quadratically. */
const MAX_EDIT_LENGTH = 64;

export function createNearMissIndex(expectedNames: Iterable<string>): NearMissIndex {
  const names = [...new Set(expectedNames)].sort();
  const byLower = new Map<string, string>();
  const byLastSegment = new Map<string, string>();
  const byDeletion = new Map<string, string[]>();
  for (const name of names) {
    const lower = name.toLowerCase();
    if (!byLower.has(lower)) byLower.set(lower, name);
    const last = lastSegment(name);
    if (last !== name && !byLastSegment.has(last)) byLastSegment.set(last, name);
    if (lower.length <= MAX_EDIT_LENGTH) {
      for (const variant of deletions(lower, MAX_DISTANCE)) {
        const list = byDeletion.get(variant);
        if (list) list.push(name);
        else byDeletion.set(variant, [name]);
      }
    }
  }
  const exact = new Set(names);

  return {
    find(idpGroup) {
      const lower = idpGroup.toLowerCase();
      const sameCase = byLower.get(lower);
      if (sameCase !== undefined && sameCase !== idpGroup) return { name: sameCase, reason: 'case', distance: 0 };

      // GitLab: the IdP sends the full path where the app group has the plain name, or the reverse.
      const last = lastSegment(idpGroup);
      if (last !== idpGroup && exact.has(last)) return { name: last, reason: 'path', distance: 0 };
      const longer = byLastSegment.get(idpGroup);
      if (longer !== undefined) return { name: longer, reason: 'path', distance: 0 };

      if (lower.length > MAX_EDIT_LENGTH) return null;
      let best: NearMiss | null = null;
      for (const variant of deletions(lower, MAX_DISTANCE)) {
        for (const candidate of byDeletion.get(variant) ?? []) {
          if (candidate === idpGroup) continue;
          const distance = editDistance(lower, candidate.toLowerCase(), MAX_DISTANCE);
          if (distance > MAX_DISTANCE) continue;
          if (!best || distance < best.distance || (distance === best.distance && candidate < best.name)) {
            best = { name: candidate, reason: 'edit', distance };
          }
        }
      }
      return best;
    },
  };
}

function lastSegment(name: string): string {
  const slash = name.lastIndexOf('/');
  return slash >= 0 && slash < name.length - 1 ? name.slice(slash + 1) : name;
}

/** Every string obtained by deleting up to `max` characters (the word itself included). */
function deletions(word: string, max: number): Set<string> {
  const out = new Set<string>([word]);
  let frontier = [word];
  for (let round = 0; round < max; round++) {
    const next: string[] = [];
    for (const w of frontier) {
      for (let i = 0; i < w.length; i++) {
        const shorter = w.slice(0, i) + w.slice(i + 1);
        if (!out.has(shorter)) {
          out.add(shorter);
          next.push(shorter);
        }
      }
    }
    frontier = next;
  }
  return out;
}

/**
 * Levenshtein distance (insert, delete, substitute; an adjacent swap counts 2), stopping early
 * once it must exceed `max` (then any value above `max` is returned).
 */
export function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const value = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
      current.push(value);
      if (value < rowMin) rowMin = value;
    }
    if (rowMin > max) return max + 1;
    previous = current;
  }
  return previous[b.length] ?? max + 1;
}
