import type { Database } from 'better-sqlite3';
import type { MethodsOf } from '../every-method.js';
import type { PrewarmRun, PrewarmRunState, PrewarmRunStore } from '../types.js';
import { translateConstraints } from './errors.js';
import { prewarmFiguresSchema, prewarmRunDetailsSchema } from '../schemas.js';
import { readColumn, writeColumn } from './json-columns.js';

interface PrewarmRunRow {
  id: string;
  connector: string;
  mode: PrewarmRun['mode'];
  state: PrewarmRunState;
  started_at: string;
  finished_at: string | null;
  figures: string;
  details: string;
  error: string | null;
}

interface ConnectorStateRow {
  connector: string;
  cursor: string | null;
  last_complete_run_at: string | null;
  last_run_id: string | null;
}


export function createPrewarmRunQueries(db: Database): MethodsOf<PrewarmRunStore> {
  const upsert = db.prepare<
    [string, string, PrewarmRun['mode'], PrewarmRunState, string, string | null, string, string, string | null]
  >(
    `INSERT INTO prewarm_runs (id, connector, mode, state, started_at, finished_at, figures, details, error)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET
       connector = excluded.connector, mode = excluded.mode, state = excluded.state,
       started_at = excluded.started_at, finished_at = excluded.finished_at,
       figures = excluded.figures, details = excluded.details, error = excluded.error`,
  );
  const selectOne = db.prepare<[string], PrewarmRunRow>('SELECT * FROM prewarm_runs WHERE id = ?');
  const selectState = db.prepare<[string], ConnectorStateRow>('SELECT * FROM connector_states WHERE connector = ?');
  const upsertState = db.prepare<[string, string | null, string | null, string | null]>(
    `INSERT INTO connector_states (connector, cursor, last_complete_run_at, last_run_id) VALUES (?, ?, ?, ?)
     ON CONFLICT (connector) DO UPDATE SET cursor = excluded.cursor,
       last_complete_run_at = excluded.last_complete_run_at, last_run_id = excluded.last_run_id`,
  );

  return {
    putPrewarmRun(run) {
      const figures = writeColumn(prewarmFiguresSchema, run.figures, 'pre-warm figures');
      const details = writeColumn(prewarmRunDetailsSchema, run.details, 'pre-warm run details');
      translateConstraints(
        () =>
          upsert.run(run.id, run.connector, run.mode, run.state, run.startedAt, run.finishedAt, figures, details, run.error),
        {},
      );
    },
    getPrewarmRun(id) {
      const row = selectOne.get(id);
      if (row === undefined) return null;
      return {
        id: row.id,
        connector: row.connector,
        mode: row.mode,
        state: row.state,
        startedAt: row.started_at,
        finishedAt: row.finished_at,
        figures: readColumn(prewarmFiguresSchema, row.figures, 'prewarm_runs.figures', row.id),
        details: readColumn(prewarmRunDetailsSchema, row.details, 'prewarm_runs.details', row.id),
        error: row.error,
      };
    },
    getConnectorState(connector) {
      const row = selectState.get(connector);
      if (row === undefined) return null;
      return {
        connector: row.connector,
        cursor: row.cursor,
        lastCompleteRunAt: row.last_complete_run_at,
        lastRunId: row.last_run_id,
      };
    },
    putConnectorState(state) {
      upsertState.run(state.connector, state.cursor, state.lastCompleteRunAt, state.lastRunId);
    },
  };
}
