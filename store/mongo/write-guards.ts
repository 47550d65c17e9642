import type { Collection } from 'mongodb';
import { isDuplicateKeyError } from './errors.js';
import { tupleKey } from './documents.js';

/**
 * How the server executes a conditional write such as `updateOne({ _id, version: 3 }, ...)`:
 *
 * - `atomic`: the filter and the write are one atomic step (MongoDB), so the filter alone is a
 *   compare-and-swap.
 * - `guarded`: the server reads, then writes by `_id` in a separate step (FerretDB 1.x), so two
 *   writers can both match the same version and the second silently overwrites the first.
 *   Only inserts are atomic there (a unique `_id`), so each conditional write first inserts a
 *   guard document named after the revision it expects; the writer that inserts it owns that
 *   revision, the others lose the race and re-read.
 */
export type WriteMode = 'atomic' | 'guarded';

export interface WriteGuardDoc {
  _id: string;
  takenAt: Date;
}

/** A guard older than this was left by a writer that died between guard and write. */
const STALE_GUARD_MS = 30_000;

export interface WriteGuards {
  readonly mode: WriteMode;
  /**
   * Runs `write` (a write conditioned on `revision`) as the only writer of that revision of
   * `scope`/`id`. Returns `write`'s answer, or `false` without running it when another writer
   * holds the revision.
   */
  withRevision(scope: string, id: string, revision: number, write: () => Promise<boolean>): Promise<boolean>;
}

export function createWriteGuards(deps: {
  mode: WriteMode;
  guards: Collection<WriteGuardDoc>;
  clock?: () => number;
}): WriteGuards {
  const { mode, guards } = deps;
  const clock = deps.clock ?? Date.now;

  async function take(key: string): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt += 1) {
      try {
        await guards.insertOne({ _id: key, takenAt: new Date(clock()) });
        return true;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const held: unknown = await guards.findOne({ _id: key });
      const takenAt = typeof held === 'object' && held !== null && 'takenAt' in held ? held.takenAt : null;
      if (takenAt instanceof Date && clock() - takenAt.getTime() < STALE_GUARD_MS) return false;
      // Left behind by a crashed writer (or just released): clear it and try once more.
      await guards.deleteOne({ _id: key });
    }
    return false;
  }

  return {
    mode,
    async withRevision(scope, id, revision, write) {
      if (mode === 'atomic') return write();
      const key = tupleKey(scope, id, String(revision));
      if (!(await take(key))) return false;
      try {
        return await write();
      } finally {
        // The revision has moved on (or the write failed): nobody needs this guard any more.
        await guards.deleteOne({ _id: key }).catch(() => undefined);
      }
    },
  };
}
