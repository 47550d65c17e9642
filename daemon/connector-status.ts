import type { Logger } from 'pino';
import { ConnectorError, type ConnectorErrorKind, type ConnectorType } from '../connectors/types.js';
import { createLogLimit } from './log-limit.js';

/**
 * What each connector last did: its last success and its last error, from the login's live
 * look-ups and from pre-warm runs, shown by `GET /v1/connectors` and `/readyz`. Each failure is
 * logged, at most one line per connector and kind per `logEveryMs`, with a count of the ones
 * left out since: an IdP that is down for every login shows in the log without flooding it.
 */

export type OutcomeSource = 'login' | 'prewarm';

/** One call's outcome, as plain data: pre-warm's cross from the background thread. */
export type ConnectorOutcome =
  | { connector: string; source: OutcomeSource; at: string; ok: true }
  | { connector: string; source: OutcomeSource; at: string; ok: false; kind: ConnectorErrorKind; message: string };

export interface ConnectorLastError {
  kind: ConnectorErrorKind;
  message: string;
  at: string;
  source: OutcomeSource;
}

export interface ConnectorStatusEntry {
  id: string;
  type: ConnectorType;
  lastSuccessAt: string | null;
  lastError: ConnectorLastError | null;
}

export interface ConnectorStatus {
  record(outcome: ConnectorOutcome): void;
  /** Every configured connector, in configuration order. */
  list(): ConnectorStatusEntry[];
}

/** Where outcomes are reported: the status itself, or a message to the thread that holds it. */
export type ConnectorOutcomeSink = (outcome: ConnectorOutcome) => void;

/** A success of `connector` now. */
export function connectorSucceeded(connector: string, source: OutcomeSource, at = new Date()): ConnectorOutcome {
  return { connector, source, at: at.toISOString(), ok: true };
}

/**
 * The failure `error` stands for, or null when it is not the IdP's: only a `ConnectorError` is
 * (a store failure during a pre-warm run, or a run stopped by shutdown, says nothing of the IdP).
 */
export function connectorFailed(connector: string, source: OutcomeSource, error: ConnectorError, at?: Date): ConnectorOutcome;
export function connectorFailed(connector: string, source: OutcomeSource, error: unknown, at?: Date): ConnectorOutcome | null;
export function connectorFailed(connector: string, source: OutcomeSource, error: unknown, at = new Date()): ConnectorOutcome | null {
  if (!(error instanceof ConnectorError)) return null;
  return { connector, source, at: at.toISOString(), ok: false, kind: error.kind, message: error.message };
}

export function createConnectorStatus(deps: {
  connectors: ReadonlyArray<{ id: string; type: ConnectorType }>;
  logger: Logger;
  /** At most one log line per connector and kind this often (default one minute). */
  logEveryMs?: number;
  clock?: () => number;
}): ConnectorStatus {
  const logEveryMs = deps.logEveryMs ?? 60_000;
  const clock = deps.clock ?? Date.now;
  const entries = new Map<string, ConnectorStatusEntry>(
    deps.connectors.map(({ id, type }) => [id, { id, type, lastSuccessAt: null, lastError: null }]),
  );
  /** By connector and kind. */
  const allowLog = createLogLimit(logEveryMs, clock);

  const log = (outcome: Extract<ConnectorOutcome, { ok: false }>) => {
    const suppressed = allowLog(`${outcome.connector}\u0000${outcome.kind}`);
    if (suppressed === null) return;
    deps.logger.warn(
      { connector: outcome.connector, kind: outcome.kind, source: outcome.source, suppressed },
      `connector ${outcome.connector} failed (${outcome.kind}): ${outcome.message}`,
    );
  };

  return {
    record(outcome) {
      const entry = entries.get(outcome.connector);
      if (!entry) return;
      if (outcome.ok) {
        if (!entry.lastSuccessAt || outcome.at > entry.lastSuccessAt) entry.lastSuccessAt = outcome.at;
        return;
      }
      const { kind, message, at, source } = outcome;
      if (!entry.lastError || at >= entry.lastError.at) entry.lastError = { kind, message, at, source };
      log(outcome);
    },
    list: () => [...entries.values()].map((entry) => ({ ...entry, lastError: entry.lastError && { ...entry.lastError } })),
  };
}
