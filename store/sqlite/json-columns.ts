import {
  MEMBERSHIP_SOURCES,
  StoreError,
  type Membership,
  type MembershipSource,
  type PrewarmFigures,
  type PrewarmRunDetails,
} from '../types.js';

/** Decoders for the JSON columns: what the database hands back is checked, never trusted. */

function parse(text: string, column: string): unknown {
  try {
    const value: unknown = JSON.parse(text);
    return value;
  } catch {
    throw new StoreError(`column ${column} holds invalid JSON`);
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSource(value: unknown): value is MembershipSource {
  return MEMBERSHIP_SOURCES.some((source) => source === value);
}

export function decodeStrings(text: string, column: string): string[] {
  const value = parse(text, column);
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string')) {
    throw new StoreError(`column ${column} is not a list of strings`);
  }
  return value;
}

export function encodeStrings(values: string[], what: string): string {
  if (!Array.isArray(values) || !values.every((item) => typeof item === 'string')) {
    throw new StoreError(`${what} must be a list of strings`);
  }
  return JSON.stringify(values);
}

export function decodeMemberships(text: string, column: string): Membership[] {
  const value = parse(text, column);
  if (!Array.isArray(value)) throw new StoreError(`column ${column} is not a list of memberships`);
  return value.map((item) => {
    if (
      !isRecord(item) ||
      typeof item.organization !== 'string' ||
      typeof item.group !== 'string' ||
      !isSource(item.source)
    ) {
      throw new StoreError(`column ${column} holds a malformed membership`);
    }
    return { organization: item.organization, group: item.group, source: item.source };
  });
}

export function encodeMemberships(memberships: Membership[]): string {
  return JSON.stringify(memberships.map((m) => ({ organization: m.organization, group: m.group, source: m.source })));
}

const FIGURE_NAMES = ['apiCalls', 'pages', 'retries', 'groups', 'users', 'memberships', 'errors'] as const;

export function decodeFigures(text: string, column: string): PrewarmFigures {
  const value = parse(text, column);
  if (!isRecord(value)) throw new StoreError(`column ${column} is not an object`);
  const figure = (name: (typeof FIGURE_NAMES)[number]): number => {
    const n = value[name];
    if (typeof n !== 'number') throw new StoreError(`column ${column} lacks the number ${name}`);
    return n;
  };
  return {
    apiCalls: figure('apiCalls'),
    pages: figure('pages'),
    retries: figure('retries'),
    groups: figure('groups'),
    users: figure('users'),
    memberships: figure('memberships'),
    errors: figure('errors'),
  };
}

export function encodeFigures(figures: PrewarmFigures): string {
  for (const name of FIGURE_NAMES) {
    const n: unknown = figures[name];
    if (typeof n !== 'number' || !Number.isFinite(n)) {
      throw new StoreError(`invalid pre-warm figures: ${name} must be a finite number`);
    }
  }
  return JSON.stringify(Object.fromEntries(FIGURE_NAMES.map((name) => [name, figures[name]])));
}

export function encodeRunDetails(details: PrewarmRunDetails): string {
  return JSON.stringify(details);
}

export function decodeDetails(text: string, column: string): Record<string, unknown> {
  const value = parse(text, column);
  if (!isRecord(value)) throw new StoreError(`column ${column} is not an object`);
  return value;
}

export function decodeRunDetails(text: string, column: string): PrewarmRunDetails {
  const value = parse(text, column);
  if (!isRecord(value)) throw new StoreError(`column ${column} is not an object`);
  const { groupsTotal, absentMarked, membershipsRemoved, guard } = value;
  const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n >= 0;
  if (!(groupsTotal === null || isCount(groupsTotal)) || !isCount(absentMarked) || !isCount(membershipsRemoved)) {
    throw new StoreError(`column ${column} has malformed counters`);
  }
  const driftSummary = decodeDriftSummary(value.driftSummary, column, isCount);
  if (guard === null) return { groupsTotal, absentMarked, membershipsRemoved, guard: null, driftSummary };
  if (!isRecord(guard)) throw new StoreError(`column ${column} has a malformed guard`);
  const { reason, share, limit } = guard;
  if (typeof reason !== 'string' || typeof share !== 'number' || typeof limit !== 'number') {
    throw new StoreError(`column ${column} has a malformed guard`);
  }
  return { groupsTotal, absentMarked, membershipsRemoved, guard: { reason, share, limit }, driftSummary };
}

/** Rows written before drift snapshots existed have no `driftSummary`: read as `null`. */
function decodeDriftSummary(
  value: unknown,
  column: string,
  isCount: (n: unknown) => n is number,
): Record<string, number> | null {
  if (value === undefined || value === null) return null;
  if (!isRecord(value)) throw new StoreError(`column ${column} has a malformed drift summary`);
  const summary: Record<string, number> = {};
  for (const [kind, n] of Object.entries(value)) {
    if (!isCount(n)) throw new StoreError(`column ${column} has a malformed drift summary`);
    summary[kind] = n;
  }
  return summary;
}
