import type { Store } from '../../store/types.js';
import { badRequest } from '../errors.js';
import { assembleDrift } from './assemble.js';
import type { DriftModel } from './model.js';
import type { DriftView } from './drift-view.js';
import { renderCsv } from './render-csv.js';
import { renderHtml } from './render-html.js';
import {
  DRIFT_KINDS,
  emptySummary,
  isDriftKind,
  summarize,
  type DriftFilter,
  type DriftItem,
  type DriftKind,
  type DriftPage,
  type DriftService,
  type DriftSummary,
} from './types.js';

export interface DriftServiceDeps {
  store: Store;
  view: DriftView;
  connectorIds: readonly string[];
  clock?: () => Date;
  /**
   * The reason behind an `absent_from_idp` item when the model's words are not the whole story
   * (a `scim` connector's user: deactivated or deleted by the IdP); null keeps them. Asked only
   * for the items of the page answered.
   */
  explainAbsence?: (connector: string, subject: string) => Promise<string | null>;
}

export const MAX_LIMIT = 100_000;

/** Assembles the report from the drift view's model at the current time, then filters and pages. */
export function createDriftService(deps: DriftServiceDeps): DriftService {
  const { store } = deps;
  const clock = deps.clock ?? (() => new Date());

  async function compute(connectorIds: readonly string[]) {
    const model = await deps.view.current();
    const report = assembleDrift(model, clock(), new Set(connectorIds));
    const states = await Promise.all(connectorIds.map((connector) => store.getConnectorState(connector)));
    return { report, model, states };
  }

  async function previousSummary(states: ReadonlyArray<{ lastRunId: string | null } | null>): Promise<DriftSummary | null> {
    let total: DriftSummary | null = null;
    for (const state of states) {
      if (!state?.lastRunId) continue;
      const run = await store.getPrewarmRun(state.lastRunId);
      const snapshot = run?.state === 'succeeded' ? run.details.driftSummary : null;
      if (!snapshot) continue;
      total ??= emptySummary();
      for (const kind of DRIFT_KINDS) total[kind] += snapshot[kind] ?? 0;
    }
    return total;
  }

  async function report(filter: DriftFilter = {}): Promise<DriftPage> {
    const connectorIds = checkConnectors(filter.connectors, deps.connectorIds);
    const kinds = new Set(filter.kinds && filter.kinds.length > 0 ? filter.kinds : DRIFT_KINDS);
    for (const kind of kinds) {
      if (!isDriftKind(kind)) throw badRequest('invalid_kind', `unknown drift kind "${String(kind)}"`, { known: DRIFT_KINDS });
    }
    const offset = filter.offset ?? 0;
    const limit = filter.limit ?? null;
    if (!Number.isSafeInteger(offset) || offset < 0) throw badRequest('invalid_request', 'offset must be a whole number ≥ 0');
    if (limit !== null && (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_LIMIT)) {
      throw badRequest('invalid_request', `limit must be a whole number from 1 to ${MAX_LIMIT}`);
    }

    const { report, model, states } = await compute(connectorIds);
    const organizations = model.organizations;
    if (filter.organization !== undefined && !organizations.some((o) => o.key === filter.organization)) {
      throw badRequest('unknown_organization', `unknown organization "${filter.organization}"`, {
        known: organizations.map((o) => o.key),
      });
    }
    const keep = itemFilter(filter, kinds, model);
    const items = report.items.filter(keep);
    let previous = filter.organization !== undefined || filter.user !== undefined ? null : await previousSummary(states);
    if (previous) {
      for (const kind of DRIFT_KINDS) if (!kinds.has(kind)) previous[kind] = 0;
    }
    return {
      generatedAt: report.generatedAt,
      dataAsOf: report.dataAsOf,
      summary: summarize(items),
      previousSummary: previous,
      total: items.length,
      items: await explained(items.slice(offset, limit === null ? undefined : offset + limit)),
    };
  }

  async function explained(page: DriftItem[]): Promise<DriftItem[]> {
    const explain = deps.explainAbsence;
    if (!explain) return page;
    return Promise.all(
      page.map(async (item) => {
        if (item.kind !== 'absent_from_idp' || !item.user?.subject || !item.connector) return item;
        const detail = await explain(item.connector, item.user.subject);
        return detail === null ? item : { ...item, detail };
      }),
    );
  }

  return {
    report,

    async rendered(filter, format, options) {
      const page = await report(filter);
      switch (format) {
        case 'json':
          return JSON.stringify(page);
        case 'csv':
          return renderCsv(page.items);
        case 'html':
          return renderHtml(page, { nonce: options.nonce, offset: filter.offset ?? 0 });
      }
    },

    async summary(connectorId) {
      const { report } = await compute(checkConnectors([connectorId], deps.connectorIds));
      return report.summary;
    },
  };
}

function checkConnectors(requested: readonly string[] | undefined, known: readonly string[]): readonly string[] {
  if (!requested || requested.length === 0) return known;
  for (const id of requested) {
    if (!known.includes(id)) throw badRequest('unknown_connector', `unknown connector "${id}"`, { known });
  }
  return [...new Set(requested)];
}

/**
 * Organization: items about that organization, and user items without one (absent, stale, …)
 * of users who hold a membership there. User: by id, email (any case) or subject.
 */
function itemFilter(filter: DriftFilter, kinds: ReadonlySet<DriftKind>, model: DriftModel) {
  const org = filter.organization;
  const user = filter.user?.toLowerCase();
  return (item: DriftItem): boolean => {
    if (!kinds.has(item.kind)) return false;
    if (org !== undefined) {
      const userId = item.user?.id;
      const about = item.organization === org || (item.organization === null && userId != null && model.organizationsByUser.get(userId)?.includes(org) === true);
      if (!about) return false;
    }
    if (user !== undefined) {
      const u = item.user;
      if (!u) return false;
      if (u.id !== filter.user && u.subject !== filter.user && u.email?.toLowerCase() !== user) return false;
    }
    return true;
  };
}
