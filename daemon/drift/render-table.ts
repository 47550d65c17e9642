import { terminalSafe } from '../terminal-text.js';
import type { DriftPage } from './types.js';
import { DRIFT_KINDS, type DriftItem } from './types.js';

/** Fixed columns; the detail column takes what is left of the width. */
const KIND = 19;
const USER = 20;
const TARGET = 18;
const GAPS = 3;

/**
 * The report as a terminal table, `width` columns at most (80 unless the terminal is wider): one
 * section per connector, long values cut with `…`, then the count per kind.
 */
export function renderTable(page: DriftPage, width = 80): string {
  const detail = Math.max(10, width - KIND - USER - TARGET - GAPS);
  const lines: string[] = [];
  const byConnector = new Map<string, DriftItem[]>();
  for (const item of page.items) {
    const list = byConnector.get(item.connector);
    if (list) list.push(item);
    else byConnector.set(item.connector, [item]);
  }
  const line = (cols: string[]) =>
    [fit(cols[0] ?? '', KIND), fit(cols[1] ?? '', USER), fit(cols[2] ?? '', TARGET), fit(cols[3] ?? '', detail)].join(' ').trimEnd();

  for (const [connector, items] of byConnector) {
    lines.push(fit(`${connector}: ${items.length} item${items.length === 1 ? '' : 's'}`, width));
    lines.push(line(['KIND', 'USER', 'GROUP', 'DETAIL']));
    for (const item of items) lines.push(line([item.kind, userText(item), targetText(item), item.detail]));
    lines.push('');
  }
  if (page.items.length < page.total) lines.push(fit(`(${page.items.length} of ${page.total} items shown)`, width));
  if (page.total === 0) lines.push('No drift: the IdP and the provisioned state agree.');
  lines.push(fit(`Data as of ${page.dataAsOf ?? 'no data yet'}; generated ${page.generatedAt}`, width));
  const counts = DRIFT_KINDS.filter((k) => page.summary[k] > 0).map((k) => `${k} ${page.summary[k]}`);
  if (counts.length > 0) lines.push(...wrap(`Summary: ${counts.join(', ')}`, width));
  return lines.map((l) => l.trimEnd()).join('\n') + '\n';
}

function userText(item: DriftItem): string {
  return item.user?.email ?? item.user?.subject ?? '';
}

function targetText(item: DriftItem): string {
  const appGroup = item.organization !== null && item.group !== null ? `${item.organization}/${item.group}` : '';
  if (item.kind === 'unmatched_idp_group') return item.idpGroup ?? appGroup;
  return appGroup || (item.idpGroup ?? '');
}

/**
 * Pads or cuts to exactly `width` characters (code points), ending a cut value with `…`. Line
 * breaks and tabs become spaces; other control characters are shown escaped (every cell passes
 * here, so no value reaches the terminal raw).
 */
export function fit(text: string, width: number): string {
  const chars = [...terminalSafe(text.replace(/[\r\n\t]+/g, ' '))];
  if (chars.length <= width) return chars.join('') + ' '.repeat(width - chars.length);
  return chars.slice(0, width - 1).join('') + '…';
}

function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let current = '';
  for (const word of text.split(' ')) {
    if (current && current.length + 1 + word.length > width) {
      out.push(current);
      current = `  ${word}`;
    } else current = current ? `${current} ${word}` : word;
  }
  if (current) out.push(current);
  return out.map((l) => fit(l, width).trimEnd());
}
