import type { DriftItem } from './types.js';

export const CSV_COLUMNS = [
  'kind',
  'connector',
  'user_id',
  'user_email',
  'user_subject',
  'organization',
  'group',
  'idp_group',
  'source',
  'detail',
] as const;

function row(item: DriftItem): Array<string | null> {
  return [
    item.kind,
    item.connector,
    item.user?.id ?? null,
    item.user?.email ?? null,
    item.user?.subject ?? null,
    item.organization,
    item.group,
    item.idpGroup,
    item.source,
    item.detail,
  ];
}

/** RFC 4180: a header row, CRLF line ends, fields quoted when they hold `"`, `,`, CR or LF. */
export function renderCsv(items: readonly DriftItem[]): string {
  const lines = [CSV_COLUMNS.join(','), ...items.map((item) => row(item).map(csvField).join(','))];
  return lines.join('\r\n') + '\r\n';
}

/**
 * A spreadsheet runs a cell that starts with `=`, `+`, `-`, `@`, tab or CR as a formula; IdP
 * group and user names are not ours to trust, so such a value gets a leading `'` (OWASP).
 */
export function csvField(value: string | null): string {
  if (value === null) return '';
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
