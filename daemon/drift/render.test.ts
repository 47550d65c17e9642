import { describe, expect, it } from 'vitest';
import type { DriftPage } from './types.js';
import { negotiate } from '../http/routes/drift.js';
import { csvField, renderCsv } from './render-csv.js';
import { escapeHtml, renderHtml } from './render-html.js';
import { fit, renderTable } from './render-table.js';
import { emptySummary, summarize, type DriftItem } from './types.js';

const items: DriftItem[] = [
  {
    kind: 'pending_remove',
    connector: 'okta-prod',
    user: { id: 'u1', email: 'a.very.long.email.address@example.com', subject: '00u1' },
    organization: 'OrgA',
    group: 'a-group-name-that-is-rather-long',
    idpGroup: null,
    source: 'manual',
    detail: 'a manual membership the IdP does not back: the reset drops it',
  },
  {
    kind: 'unmatched_idp_group',
    connector: 'okta-prod',
    user: null,
    organization: null,
    group: null,
    idpGroup: '=HYPERLINK("http://x"),"quoted"\nline <b>',
    source: null,
    detail: 'matches no app group',
  },
];

function page(list: DriftItem[]): DriftPage {
  return {
    generatedAt: '2025-06-01T12:00:00.000Z',
    dataAsOf: '2025-06-01T11:55:00.000Z',
    summary: summarize(list),
    previousSummary: { ...emptySummary(), pending_remove: 3 },
    total: list.length,
    items: list,
  };
}

describe('CSV', () => {
  it('writes a header and one properly quoted row per item', () => {
    const lines = renderCsv(items).split('\r\n');
    expect(lines[0]).toBe('kind,connector,user_id,user_email,user_subject,organization,group,idp_group,source,detail');
    expect(lines[1]).toBe(
      'pending_remove,okta-prod,u1,a.very.long.email.address@example.com,00u1,OrgA,a-group-name-that-is-rather-long,,manual,a manual membership the IdP does not back: the reset drops it',
    );
    expect(renderCsv(items).endsWith('\r\n')).toBe(true);
  });

  it('quotes separators and neutralises spreadsheet formulas', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('=1+2')).toBe("'=1+2");
    expect(csvField('-devs')).toBe("'-devs");
    expect(csvField(null)).toBe('');
    expect(renderCsv(items)).toContain(`"'=HYPERLINK(""http://x""),""quoted""\nline <b>"`);
  });
});

describe('terminal table', () => {
  it('fits 80 columns, cutting long values with …', () => {
    const text = renderTable(page(items));
    for (const line of text.split('\n')) expect([...line].length).toBeLessThanOrEqual(80);
    expect(text).toContain('okta-prod: 2 items');
    expect(text).toContain('a.very.long.email.a…');
    expect(text).toContain('Summary: pending_remove 1, unmatched_idp_group 1');
  });

  it('uses a wider terminal for the detail column', () => {
    const text = renderTable(page(items), 160);
    expect(text).toContain('a manual membership the IdP does not back: the reset drops it');
  });

  it('says so when there is no drift', () => {
    expect(renderTable(page([]))).toContain('No drift');
  });

  it('pads and cuts by characters', () => {
    expect(fit('abc', 5)).toBe('abc  ');
    expect(fit('abcdef', 4)).toBe('abc…');
  });
});

describe('HTML', () => {
  it('escapes every value and carries the nonce on its only script and style', () => {
    const html = renderHtml(page(items), { nonce: 'n0nce', offset: 0 });
    expect(html).not.toContain('<b>');
    expect(html).toContain('line &lt;b&gt;');
    expect(html).toContain('=HYPERLINK(&quot;http://x&quot;)');
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).toContain('<script nonce="n0nce">');
    expect(html).toContain('<style nonce="n0nce">');
    expect(html).not.toMatch(/(src|href)="?https?:/);
    expect(escapeHtml(`<'&">`)).toBe('&lt;&#39;&amp;&quot;&gt;');
  });

  it('shows the change since the previous run on each card', () => {
    const html = renderHtml(page(items), { nonce: 'n', offset: 0 });
    expect(html).toMatch(/data-kind="pending_remove"[\s\S]*?−2 since last run/);
    expect(html).toMatch(/data-kind="unmatched_idp_group"[\s\S]*?\+1 since last run/);
  });
});

describe('content negotiation', () => {
  it('follows the Accept header, by quality then order, JSON by default', () => {
    expect(negotiate(undefined)).toBe('json');
    expect(negotiate('*/*')).toBe('json');
    expect(negotiate('text/csv')).toBe('csv');
    expect(negotiate('text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8')).toBe('html');
    expect(negotiate('application/json;q=0.5, text/csv')).toBe('csv');
    expect(negotiate('image/png')).toBe('json');
  });
});
