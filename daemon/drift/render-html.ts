import type { DriftPage } from './types.js';
import { DRIFT_KINDS, type DriftItem, type DriftKind } from './types.js';

/** What each kind means, for the cards' tooltips and the page's legend. */
export const KIND_HELP: Record<DriftKind, string> = {
  pending_add: 'memberships the next login adds',
  pending_remove: 'memberships the next login removes (manual ones included, under reset)',
  absent_from_idp: 'provisioned users the IdP no longer has (JIT never removes them)',
  no_organization: 'users who would land in no organization',
  blocked: 'IdP users whom allowed groups or blocked sign-up keep out',
  unmatched_idp_group: 'IdP groups that match no app group (near miss named)',
  orphan_app_group: 'app groups no IdP group feeds',
  stale: 'users whose cache is older than staleAfter, or whose last sync failed',
  nested_or_overage: 'users who hold app groups only through nested groups',
};

const COLUMNS: Array<{ key: string; label: string; value: (item: DriftItem) => string }> = [
  { key: 'kind', label: 'Kind', value: (i) => i.kind },
  { key: 'connector', label: 'Connector', value: (i) => i.connector },
  { key: 'user', label: 'User', value: (i) => i.user?.email ?? i.user?.subject ?? '' },
  { key: 'organization', label: 'Organization', value: (i) => i.organization ?? '' },
  { key: 'group', label: 'Group', value: (i) => i.group ?? '' },
  { key: 'idpGroup', label: 'IdP group', value: (i) => i.idpGroup ?? '' },
  { key: 'source', label: 'Source', value: (i) => i.source ?? '' },
  { key: 'detail', label: 'Detail', value: (i) => i.detail },
];

export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/**
 * One self-contained page (inline CSS and script, no external assets; the script runs under a
 * nonce-based CSP): summary cards with the change since the last pre-warm run, and a table that
 * sorts on a header click and filters by text and kind. Every value is escaped.
 */
export function renderHtml(page: DriftPage, options: { nonce: string; offset: number }): string {
  const e = escapeHtml;
  const cards = DRIFT_KINDS.map((kind) => {
    const count = page.summary[kind];
    const before = page.previousSummary?.[kind];
    const change =
      before === undefined
        ? 'no earlier run'
        : count === before
          ? 'no change'
          : `${count > before ? '+' : '−'}${Math.abs(count - before)} since last run`;
    const trend = before === undefined || count === before ? 'same' : count > before ? 'up' : 'down';
    return `<button type="button" class="card${count > 0 ? ' some' : ''}" data-kind="${kind}" title="${e(KIND_HELP[kind])}">
  <span class="kind">${kind.replaceAll('_', '_<wbr>')}</span><span class="count">${count}</span><span class="change ${trend}">${e(change)}</span>
</button>`;
  }).join('\n');

  const rows = page.items
    .map((item) => {
      const cells = COLUMNS.map((c) => {
        const text = c.value(item);
        const title = c.key === 'user' && item.user ? ` title="${e(`id: ${item.user.id ?? '(no account)'} · subject: ${item.user.subject ?? ''}`)}"` : '';
        return c.key === 'kind'
          ? `<td><span class="badge k-${item.kind}">${e(text)}</span></td>`
          : `<td class="c-${c.key}"${title}>${e(text)}</td>`;
      }).join('');
      return `<tr data-kind="${item.kind}">${cells}</tr>`;
    })
    .join('\n');

  const headers = COLUMNS.map((c) => `<th scope="col" aria-sort="none"><button type="button" data-key="${c.key}">${e(c.label)}</button></th>`).join('');
  const options_ = DRIFT_KINDS.map((k) => `<option value="${k}">${k} (${page.summary[k]})</option>`).join('');
  const first = page.items.length === 0 ? 0 : options.offset + 1;
  const paged =
    page.items.length < page.total
      ? `<p class="note">This page shows items ${first}–${options.offset + page.items.length} of ${page.total}; use <code>limit</code> and <code>offset</code> for the rest.</p>`
      : '';

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>jitsync drift report</title>
<style nonce="${options.nonce}">
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #f6f8fa; --accent: #0969da; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: #fff; }
header, main { max-width: 1440px; margin: 0 auto; padding: 16px 24px; }
header { border-bottom: 1px solid var(--line); }
h1 { font-size: 20px; margin: 0 0 4px; }
.meta { color: var(--muted); margin: 0; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 10px; margin: 8px 0 16px; }
.card { display: flex; flex-direction: column; align-items: flex-start; gap: 2px; padding: 10px 12px; border: 1px solid var(--line);
  border-radius: 8px; background: var(--bg); font: inherit; color: inherit; text-align: left; cursor: pointer; }
.card:hover, .card.active { border-color: var(--accent); box-shadow: 0 0 0 1px var(--accent) inset; }
.card .kind { font-size: 12px; color: var(--muted); font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }
.card .count { font-size: 24px; font-weight: 600; }
.card:not(.some) .count { color: var(--muted); }
.change { font-size: 12px; color: var(--muted); }
.change.up { color: #cf222e; } .change.down { color: #1a7f37; }
.controls { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; margin-bottom: 8px; }
.controls input { flex: 1 1 280px; max-width: 420px; padding: 6px 10px; font: inherit; border: 1px solid var(--line); border-radius: 6px; }
.controls select { padding: 6px 8px; font: inherit; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
#shown { color: var(--muted); }
.note { color: var(--muted); }
table { width: 100%; border-collapse: collapse; }
th { position: sticky; top: 0; background: var(--bg); border-bottom: 1px solid var(--line); text-align: left; padding: 0; white-space: nowrap; }
th button { all: unset; display: block; padding: 8px; cursor: pointer; font-weight: 600; }
th button:focus-visible { outline: 2px solid var(--accent); }
th[aria-sort="ascending"] button::after { content: " ▲"; font-size: 10px; }
th[aria-sort="descending"] button::after { content: " ▼"; font-size: 10px; }
td { padding: 6px 8px; border-bottom: 1px solid #eef1f4; vertical-align: top; white-space: nowrap; }
tbody tr:nth-child(even) { background: #fafbfc; }
td.c-detail { color: var(--muted); min-width: 280px; white-space: normal; }
.badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font: 12px ui-monospace, SFMono-Regular, Menlo, monospace; background: #eaeef2; white-space: nowrap; }
.k-pending_add { background: #dafbe1; } .k-pending_remove { background: #ffebe9; } .k-absent_from_idp { background: #fff1e5; }
.k-no_organization { background: #fff8c5; } .k-blocked { background: #ffebe9; } .k-stale { background: #fbefff; }
.k-unmatched_idp_group, .k-orphan_app_group { background: #ddf4ff; } .k-nested_or_overage { background: #eaeef2; }
.empty { padding: 24px 8px; color: var(--muted); }
</style>
</head>
<body>
<header>
  <h1>Drift report</h1>
  <p class="meta">Generated <time>${e(page.generatedAt)}</time> · IdP data as of <time>${e(page.dataAsOf ?? 'no data yet')}</time> · ${page.total} item${page.total === 1 ? '' : 's'}</p>
</header>
<main>
  <section class="cards" aria-label="Summary by kind">
${cards}
  </section>
  <div class="controls">
    <input id="filter" type="search" placeholder="Filter: user, group, organization, detail…" aria-label="Filter rows">
    <select id="kind" aria-label="Kind"><option value="">All kinds</option>${options_}</select>
    <span id="shown" aria-live="polite">${page.items.length} of ${page.items.length} rows</span>
  </div>
  ${paged}
  <table id="drift">
    <thead><tr>${headers}</tr></thead>
    <tbody>
${rows}
    </tbody>
  </table>
  ${page.items.length === 0 ? '<p class="empty">No drift: the IdP and the provisioned state agree.</p>' : ''}
</main>
<script nonce="${options.nonce}">
(function () {
  var table = document.getElementById('drift');
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var filter = document.getElementById('filter');
  var kind = document.getElementById('kind');
  var shown = document.getElementById('shown');
  var cards = Array.prototype.slice.call(document.querySelectorAll('.card'));
  function apply() {
    var q = filter.value.trim().toLowerCase();
    var k = kind.value;
    var n = 0;
    rows.forEach(function (row) {
      var ok = (!k || row.getAttribute('data-kind') === k) && (!q || row.textContent.toLowerCase().indexOf(q) !== -1);
      row.hidden = !ok;
      if (ok) n++;
    });
    shown.textContent = n + ' of ' + rows.length + ' rows';
    cards.forEach(function (card) { card.classList.toggle('active', card.getAttribute('data-kind') === k); });
  }
  filter.addEventListener('input', apply);
  kind.addEventListener('change', apply);
  cards.forEach(function (card) {
    card.addEventListener('click', function () {
      var k = card.getAttribute('data-kind');
      kind.value = kind.value === k ? '' : k;
      apply();
    });
  });
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  headers.forEach(function (th, column) {
    th.querySelector('button').addEventListener('click', function () {
      var ascending = th.getAttribute('aria-sort') !== 'ascending';
      headers.forEach(function (other) { other.setAttribute('aria-sort', 'none'); });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      rows.sort(function (a, b) {
        var x = a.cells[column].textContent, y = b.cells[column].textContent;
        var c = x.localeCompare(y, undefined, { numeric: true, sensitivity: 'base' });
        return ascending ? c : -c;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
})();
</script>
</body>
</html>
`;
}
