import type { Account, Invitation, Store } from '../../store/types.js';
import { badRequest } from '../errors.js';
import type { ProvisioningSettings } from '../reconcile/settings.js';
import { computeDrift, type ConnectorDriftData } from './compute.js';
import { DRIFT_KINDS, emptySummary, isDriftKind, summarize, type DriftItem, type DriftKind, type DriftSummary } from './types.js';

export interface DriftFilter {
  /** Connector ids; empty or absent = every connector. */
  connectors?: readonly string[];
  organization?: string;
  /** Kinds; empty or absent = every kind. */
  kinds?: readonly DriftKind[];
  /** A user id, email (any case) or IdP subject. */
  user?: string;
  /** Page size; absent = every item. */
  limit?: number;
  offset?: number;
}

export interface DriftPage {
  generatedAt: string;
  dataAsOf: string | null;
  /** Counts over the whole filtered set, not just this page. */
  summary: DriftSummary;
  /**
   * The summary the latest successful pre-warm run of each included connector stored, summed (kinds
   * outside the filter count 0); null when no such run has one, or when an organization or user
   * filter makes the run-wide figures incomparable.
   */
  previousSummary: DriftSummary | null;
  /** Items in the whole filtered set. */
  total: number;
  items: DriftItem[];
}

export interface DriftServiceDeps {
  store: Store;
  connectorIds: readonly string[];
  settingsFor(connectorId: string): ProvisioningSettings;
  clock?: () => Date;
  /** Accounts read per `listAccounts` call. */
  pageSize?: number;
}

export interface DriftService {
  /** Throws `400` for an unknown connector, organization or kind, or a bad limit/offset. */
  report(filter?: DriftFilter): Promise<DriftPage>;
  /** One connector's summary: what a pre-warm run snapshots. */
  summary(connectorId: string): Promise<DriftSummary>;
}

export const MAX_LIMIT = 100_000;

/** Reads the store, runs the pure `computeDrift`, then filters and pages. */
export function createDriftService(deps: DriftServiceDeps): DriftService {
  const { store } = deps;
  const clock = deps.clock ?? (() => new Date());
  const pageSize = deps.pageSize ?? 1_000;

  async function listAllAccounts(): Promise<Account[]> {
    const accounts: Account[] = [];
    let afterId: string | null = null;
    for (;;) {
      const page = await store.listAccounts({ afterId, limit: pageSize });
      accounts.push(...page);
      const last = page.at(-1);
      if (page.length < pageSize || !last) return accounts;
      afterId = last.user.id;
    }
  }

  async function compute(connectorIds: readonly string[]) {
    const [accounts, syncStates, organizations, invitations, connectors] = await Promise.all([
      listAllAccounts(),
      store.listSyncStates(),
      store.listOrganizations(),
      store.listPendingInvitations(),
      Promise.all(
        connectorIds.map(async (connector): Promise<ConnectorDriftData> => {
          const [cachedUsers, cachedGroups, state] = await Promise.all([
            store.listCachedUsers(connector),
            store.listCachedGroups(connector),
            store.getConnectorState(connector),
          ]);
          return { connector, settings: deps.settingsFor(connector), cachedUsers, cachedGroups, state };
        }),
      ),
    ]);
    const report = computeDrift({
      connectors,
      accounts,
      syncStates,
      organizations,
      invitationsByEmail: groupByEmail(invitations),
      now: clock(),
    });
    return { report, accounts, organizations, states: connectors.map((c) => c.state) };
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

  return {
    async report(filter = {}) {
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

      const { report, accounts, organizations, states } = await compute(connectorIds);
      if (filter.organization !== undefined && !organizations.some((o) => o.key === filter.organization)) {
        throw badRequest('unknown_organization', `unknown organization "${filter.organization}"`, {
          known: organizations.map((o) => o.key),
        });
      }
      const keep = itemFilter(filter, kinds, accounts);
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
        items: items.slice(offset, limit === null ? undefined : offset + limit),
      };
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
function itemFilter(filter: DriftFilter, kinds: ReadonlySet<DriftKind>, accounts: readonly Account[]) {
  const org = filter.organization;
  const members =
    org === undefined
      ? null
      : new Set(accounts.filter((a) => a.memberships.some((m) => m.organization === org)).map((a) => a.user.id));
  const user = filter.user?.toLowerCase();
  return (item: DriftItem): boolean => {
    if (!kinds.has(item.kind)) return false;
    if (org !== undefined) {
      const about = item.organization === org || (item.organization === null && item.user?.id != null && members?.has(item.user.id) === true);
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

function groupByEmail(invitations: readonly Invitation[]): Map<string, Invitation[]> {
  const byEmail = new Map<string, Invitation[]>();
  for (const invitation of invitations) {
    const email = invitation.email.toLowerCase();
    const list = byEmail.get(email);
    if (list) list.push(invitation);
    else byEmail.set(email, [invitation]);
  }
  return byEmail;
}
