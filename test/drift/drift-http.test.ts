import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_TOKEN, HOOK_TOKEN } from '../support/daemon.js';
import { buildScenario, EXPECTED, EXPECTED_SUMMARY, OLD_FETCHED_AT, rows, type JsonItem, type Scenario } from './scenario.js';

let s: Scenario;
beforeAll(async () => {
  s = await buildScenario();
});
afterAll(async () => s?.d.stop());

async function get(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`${s.d.url}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...headers } });
  return { status: response.status, type: response.headers.get('content-type') ?? '', headers: response.headers, text: await response.text() };
}

async function json(path: string) {
  const answer = await get(path);
  expect(answer.status, answer.text).toBe(200);
  expect(answer.type).toContain('application/json');
  return JSON.parse(answer.text) as {
    generatedAt: string;
    dataAsOf: string | null;
    summary: Record<string, number>;
    previousSummary: Record<string, number> | null;
    total: number;
    items: JsonItem[];
  };
}

describe('GET /v1/drift', () => {
  it('reports every kind of drift as JSON, with users, groups, organizations and a summary', async () => {
    const report = await json('/v1/drift');
    expect(rows(report.items)).toEqual(EXPECTED);
    expect(report.summary).toEqual(EXPECTED_SUMMARY);
    expect(report.total).toBe(EXPECTED.length);
    expect(report.dataAsOf).toBe(OLD_FETCHED_AT);
    expect(Date.parse(report.generatedAt)).not.toBeNaN();

    const byKind = (kind: string) => report.items.filter((i) => i.kind === kind);
    // Users carry id, email and subject; an IdP user without an account has no id.
    expect(byKind('pending_remove')[0]?.user).toEqual({ id: s.ids.ada, email: 'ada@example.com', subject: '00u1ada' });
    expect(byKind('pending_remove')[0]?.detail).toMatch(/manual membership.*reset drops it/);
    expect(byKind('absent_from_idp')[0]?.user).toEqual({ id: s.ids.grace, email: 'grace@example.com', subject: '00u2grace' });
    expect(byKind('no_organization').map((i) => i.user)).toEqual([
      { id: s.ids.alan, email: 'alan@example.com', subject: '00u3alan' },
      { id: null, email: 'newbie@example.com', subject: '00u7new' },
    ]);
    expect(byKind('blocked').map((i) => i.detail)).toEqual([
      'in none of the allowed groups (my-gitlab-group): login refused',
      'no account, and sign-up is blocked: first login refused',
    ]);
    expect(Object.fromEntries(byKind('unmatched_idp_group').map((i) => [i.idpGroup, i.detail]))).toEqual({
      Everyone: 'matches no app group',
      'sonar-user': 'matches no app group; near miss "sonar-users" (1 edit)',
      team: 'matches no app group; "Team" differs only in case',
      'acme/developers': 'matches no app group; "developers" differs in path (GitLab full path vs name)',
    });
    expect(byKind('stale')[0]?.user?.id).toBe(s.ids.olga);
    expect(byKind('stale')[0]?.detail).toMatch(/^cache confirmed \d+d ago \(staleAfter 15m\); last login used a stale cache/);
    expect(byKind('nested_or_overage')[0]?.detail).toBe('holds developers only through a nested group');
  });

  it('filters by connector, organization, kind (repeatable or comma list) and user, and pages', async () => {
    expect(rows((await json('/v1/drift?connector=gl')).items)).toEqual(EXPECTED.filter((r) => r[1] === 'gl'));

    const kinds = await json('/v1/drift?kind=blocked,stale&kind=absent_from_idp');
    expect(rows(kinds.items)).toEqual(EXPECTED.filter((r) => ['blocked', 'stale', 'absent_from_idp'].includes(r[0])));
    expect(kinds.summary).toMatchObject({ blocked: 2, stale: 1, absent_from_idp: 1, pending_add: 0, orphan_app_group: 0 });

    // Organization: items about it, and user items of its members (grace was in OrgA and OrgB).
    const orgB = await json('/v1/drift?organization=OrgB');
    expect(rows(orgB.items)).toEqual(
      EXPECTED.filter((r) => r[3] === 'OrgB' || (r[0] === 'absent_from_idp') || (r[0] === 'stale' && r[2] === 'olga@example.com')),
    );

    for (const user of [s.ids.ada, 'ADA@example.com', '00u1ada']) {
      const ada = await json(`/v1/drift?user=${encodeURIComponent(user)}`);
      expect(rows(ada.items)).toEqual(EXPECTED.filter((r) => r[2] === 'ada@example.com'));
    }

    const page = await json('/v1/drift?limit=5&offset=3');
    expect(page.total).toBe(EXPECTED.length);
    expect(page.summary).toEqual(EXPECTED_SUMMARY);
    expect(rows(page.items)).toEqual(EXPECTED.slice(3, 8));
    const last = await json(`/v1/drift?limit=5&offset=${EXPECTED.length - 2}`);
    expect(rows(last.items)).toEqual(EXPECTED.slice(-2));
  });

  it('answers bad filters with 400 and the API error body, and needs the admin token', async () => {
    const cases: Array<[string, string]> = [
      ['/v1/drift?kind=pending_add,bogus', 'invalid_kind'],
      ['/v1/drift?connector=nope', 'unknown_connector'],
      ['/v1/drift?organization=Nope', 'unknown_organization'],
      ['/v1/drift?limit=0', 'invalid_request'],
      ['/v1/drift?limit=abc', 'invalid_request'],
      ['/v1/drift?offset=-1', 'invalid_request'],
      ['/v1/drift?format=xml', 'invalid_request'],
      ['/v1/drift?colour=red', 'invalid_request'],
    ];
    for (const [path, code] of cases) {
      const answer = await get(path);
      expect(answer.status, path).toBe(400);
      const body = JSON.parse(answer.text);
      expect(body.error.code, path).toBe(code);
      expect(typeof body.error.message).toBe('string');
    }
    expect(JSON.parse((await get('/v1/drift?kind=bogus')).text).error.message).toContain('pending_add');

    expect((await get('/v1/drift', { authorization: `Bearer ${HOOK_TOKEN}` })).status).toBe(401);
    expect((await get('/v1/drift', { authorization: '' })).status).toBe(401);
  });

  it('writes CSV: a header and one properly quoted row per item', async () => {
    for (const path of ['/v1/drift?format=csv', '/v1/drift']) {
      const answer = await get(path, { accept: 'text/csv' });
      expect(answer.status).toBe(200);
      expect(answer.type).toContain('text/csv');
      const lines = answer.text.split('\r\n');
      expect(lines.pop()).toBe('');
      expect(lines[0]).toBe('kind,connector,user_id,user_email,user_subject,organization,group,idp_group,source,detail');
      expect(lines).toHaveLength(EXPECTED.length + 1);
      const parsed = lines.slice(1).map(parseCsvLine);
      expect(parsed.map((f) => [f[0], f[1], f[3] || f[4] || null, f[5] || null, f[6] || null, f[7] || null, f[8] || null])).toEqual(EXPECTED);
    }
    const csv = (await get('/v1/drift?format=csv&kind=pending_remove')).text;
    expect(csv.split('\r\n')[1]).toBe(
      `pending_remove,demo,${s.ids.ada},ada@example.com,00u1ada,OrgA,Team,,manual,a manual membership the IdP does not back: the reset drops it`,
    );
    // A detail with quotes is quoted, its quotes doubled.
    const orphan = (await get('/v1/drift?format=csv&kind=orphan_app_group&connector=demo')).text.split('\r\n')[1];
    expect(orphan).toBe('orphan_app_group,demo,,,,OrgA,Team,team,,"no IdP group ""Team"" feeds it; IdP has ""team"" (differs in case)"');
  });

  it('serves HTML by the Accept header a browser sends, self-contained and locked down', async () => {
    const answer = await get('/v1/drift', { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' });
    expect(answer.status).toBe(200);
    expect(answer.type).toContain('text/html');
    expect(answer.headers.get('content-security-policy')).toMatch(/default-src 'none'; style-src 'nonce-[^']+'; script-src 'nonce-[^']+'/);
    expect(answer.text).not.toMatch(/<(link|img|iframe)\b|\bsrc=|https?:\/\//);
    expect(answer.text).toContain('<td class="c-user" title="id: (no account) · subject: 00u7new">newbie@example.com</td>');
  });

  it('keeps the drift summary of each pre-warm run, and shows the change since then', async () => {
    const demoRun = await s.d.daemon.store.getPrewarmRun(s.runs.demo);
    expect(demoRun?.details.driftSummary).toEqual({
      ...EXPECTED_SUMMARY,
      blocked: 0,
      unmatched_idp_group: 3,
      orphan_app_group: 4,
      stale: 0,
      nested_or_overage: 0,
    });
    const glRun = await s.d.daemon.store.getPrewarmRun(s.runs.gl);
    expect(glRun?.details.driftSummary).toMatchObject({ blocked: 2, unmatched_idp_group: 1, orphan_app_group: 5, pending_add: 0 });

    const before = await json('/v1/drift');
    expect(before.previousSummary).toEqual({ ...EXPECTED_SUMMARY, stale: 0, nested_or_overage: 0 });
    expect((await json('/v1/drift?connector=gl')).previousSummary).toEqual(glRun?.details.driftSummary);
    expect((await json('/v1/drift?user=00u1ada')).previousSummary).toBeNull();

    const html = (await get('/v1/drift?format=html')).text;
    expect(html).toMatch(/data-kind="nested_or_overage"[\s\S]*?<span class="count">2<\/span><span class="change up">\+2 since last run/);
    expect(html).toMatch(/data-kind="blocked"[\s\S]*?<span class="count">2<\/span><span class="change same">no change/);
  });
});

/** RFC 4180, one record per line (no field in these tests spans lines). */
function parseCsvLine(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      for (;;) {
        const quote = line.indexOf('"', i);
        value += line.slice(i, quote);
        if (line[quote + 1] === '"') {
          value += '"';
          i = quote + 2;
        } else {
          i = quote + 2;
          break;
        }
      }
      fields.push(value);
    } else {
      const comma = line.indexOf(',', i);
      const end = comma === -1 ? line.length : comma;
      fields.push(line.slice(i, end));
      i = end + 1;
    }
  }
  return fields;
}

describe('OpenAPI', () => {
  it('documents GET /v1/drift and its query parameters', async () => {
    const doc = JSON.parse((await get('/openapi.json')).text);
    const names = (doc.paths['/v1/drift'].get.parameters as Array<{ name: string }>).map((p) => p.name);
    expect(names).toEqual(expect.arrayContaining(['format', 'connector', 'organization', 'kind', 'user', 'limit', 'offset']));
  });
});
