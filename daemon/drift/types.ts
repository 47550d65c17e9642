import type { MembershipSource } from '../../store/types.js';

/** The drift report's vocabulary (docs/drift.md), shared by the computation, the loader and the renderers. */

export const DRIFT_KINDS = [
  'pending_add',
  'pending_remove',
  'absent_from_idp',
  'no_organization',
  'blocked',
  'unmatched_idp_group',
  'orphan_app_group',
  'stale',
  'nested_or_overage',
] as const;

export type DriftKind = (typeof DRIFT_KINDS)[number];

export function isDriftKind(value: string): value is DriftKind {
  return DRIFT_KINDS.some((kind) => kind === value);
}

/** The user an item concerns: `id` is null for an IdP user who has no account yet. */
export interface DriftUser {
  id: string | null;
  email: string | null;
  subject: string | null;
}

export interface DriftItem {
  kind: DriftKind;
  connector: string;
  user: DriftUser | null;
  organization: string | null;
  group: string | null;
  idpGroup: string | null;
  /** For `pending_add` / `pending_remove`: the membership's source (what the login reports). */
  source: MembershipSource | null;
  /** One short sentence for a human. */
  detail: string;
}

export type DriftSummary = Record<DriftKind, number>;

export interface DriftReport {
  generatedAt: string;
  /** The oldest confirmation time of the cache data the report rests on; null with no data. */
  dataAsOf: string | null;
  summary: DriftSummary;
  items: DriftItem[];
}

export function emptySummary(): DriftSummary {
  return {
    pending_add: 0,
    pending_remove: 0,
    absent_from_idp: 0,
    no_organization: 0,
    blocked: 0,
    unmatched_idp_group: 0,
    orphan_app_group: 0,
    stale: 0,
    nested_or_overage: 0,
  };
}

export function summarize(items: readonly DriftItem[]): DriftSummary {
  const summary = emptySummary();
  for (const item of items) summary[item.kind]++;
  return summary;
}

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


export type DriftFormat = 'json' | 'csv' | 'html';

export interface DriftService {
  /** Throws `400` for an unknown connector, organization or kind, or a bad limit/offset. */
  report(filter?: DriftFilter): Promise<DriftPage>;
  /**
   * The report as the HTTP answer's body. Rendered where the report is made, so that a large
   * page crosses from the background thread as one string, not as thousands of objects.
   */
  rendered(filter: DriftFilter, format: DriftFormat, options: { nonce: string }): Promise<string>;
  /** One connector's summary: what a pre-warm run snapshots. */
  summary(connectorId: string): Promise<DriftSummary>;
}
