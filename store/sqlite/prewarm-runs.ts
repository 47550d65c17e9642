import type { Database } from 'better-sqlite3';
import type { PrewarmRun, PrewarmRunState } from '../types.js';
import { translateConstraints } from './errors.js';
import { decodeFigures, encodeFigures } from './json-columns.js';

interface PrewarmRunRow {
  id: string;
  connector: string;
  mode: PrewarmRun['mode'];
  state: PrewarmRunState;
  started_at: string;
  finished_at: string | null;
  figures: string;
  error: string | null;
}

export interface PrewarmRunQueries {
  put(run: PrewarmRun): void;
  get(id: string): PrewarmRun | null;
}

export function createPrewarmRunQueries(db: Database): PrewarmRunQueries {
  const upsert = db.prepare<
    [string, string, PrewarmRun['mode'], PrewarmRunState, string, string | null, string, string | null]
  >(
    `INSERT INTO prewarm_runs (id, connector, mode, state, started_at, finished_at, figures, error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET
       connector = excluded.connector, mode = excluded.mode, state = excluded.state,
       started_at = excluded.started_at, finished_at = excluded.finished_at,
       figures = excluded.figures, error = excluded.error`,
  );
  const selectOne = db.prepare<[string], PrewarmRunRow>('SELECT * FROM prewarm_runs WHERE id = ?');

  return {
    put(run) {
      const figures = encodeFigures(run.figures);
      translateConstraints(
        () => upsert.run(run.id, run.connector, run.mode, run.state, run.startedAt, run.finishedAt, figures, run.error),
        {},
      );
    },
    get(id) {
      const row = selectOne.get(id);
      if (row === undefined) return null;
      return {
        id: row.id,
        connector: row.connector,
        mode: row.mode,
        state: row.state,
        startedAt: row.started_at,
        finishedAt: row.finished_at,
        figures: decodeFigures(row.figures, 'prewarm_runs.figures'),
        error: row.error,
      };
    },
  };
}
