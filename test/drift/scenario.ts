import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

/**
 * A directory (file connectors) and a provisioned state in which every drift kind occurs, built
 * through the real daemon: logins, an admin's manual membership, and pre-warm runs over HTTP.
 *
 * Organizations (from test/support/daemon.ts): OrgA {ENT_ORGA_ADMINS, developers, Team},
 * OrgB {developers, sonar-users}, Sonar (default sonar-users) {my-gitlab-group, my-gitlab-group/sub-group}.
 *
 * - `demo` (exact matching, reset): ada (pending add and a manual membership the reset drops),
 *   grace (gone from the IdP), alan (provisioned, only in the unmatched `team`), newbie (IdP only,
 *   only in `Everyone`), nora (holds `developers` through nesting). IdP groups `team` (case),
 *   `sonar-user` (misspelt) and `Everyone` match nothing.
 * - `gl` (signUp blocked, allowedGroups [my-gitlab-group]): sam (no account), eve (outside the
 *   allowed root); IdP group `acme/developers` (a full path against the app's `developers`).
 * - `old` (never pre-warmed): olga, whose cache entry dates from 2020 and whose last login had to
 *   use it because the IdP was unreachable.
 */
export const DEMO_V1 = {
  groups: [
    { id: 'g1', name: 'ENT_ORGA_ADMINS' },
    { id: 'g2', name: 'developers' },
    { id: 'g3', name: 'team' },
    { id: 'g4', name: 'sonar-user' },
    { id: 'g5', name: 'Everyone' },
  ],
  users: [
    { subject: '00u1ada', email: 'ada@example.com', name: 'Ada Lovelace', groups: ['ENT_ORGA_ADMINS', 'developers'] },
    { subject: '00u2grace', email: 'grace@example.com', name: 'Grace Hopper', groups: ['developers'] },
    { subject: '00u3alan', email: 'alan@example.com', name: 'Alan Turing', groups: ['team'] },
    { subject: '00u7new', email: 'newbie@example.com', name: 'New <Bie> "Quoted", Esq.', groups: ['Everyone'] },
    { subject: '00u8nora', email: 'nora@example.com', name: 'Nora Nested', groups: ['developers'] },
  ],
};

/** Grace has left. */
export const DEMO_V2 = { ...DEMO_V1, users: DEMO_V1.users.filter((u) => u.subject !== '00u2grace') };

export const GITLAB = {
  groups: [
    { id: '1', name: 'my-gitlab-group' },
    { id: '2', name: 'my-gitlab-group/sub-group' },
    { id: '3', name: 'acme/developers' },
  ],
  users: [
    { subject: 'gl-sam', email: 'sam@example.com', name: 'Sam', groups: ['my-gitlab-group/sub-group'] },
    { subject: 'gl-eve', email: 'eve@example.com', name: 'Eve', groups: ['acme/developers'] },
  ],
};

export const OLD_FETCHED_AT = '2020-01-01T00:00:00.000Z';

export const EXTRA_CONNECTORS = `  - { id: gl, type: file, path: ./gitlab.json, provisioning: { signUp: blocked, allowedGroups: [my-gitlab-group] } }
  - { id: old, type: file, path: ./old.json }`;

export interface Scenario {
  d: TestDaemon;
  ids: Record<'ada' | 'grace' | 'alan' | 'nora' | 'olga', string>;
  runs: Record<'demo' | 'gl', string>;
}

/** Starts a run over HTTP and polls it until it ends. */
export async function prewarm(d: TestDaemon, connector: string): Promise<{ id: string; state: string }> {
  const started = await d.call('POST', '/v1/prewarm', { connector });
  expect(started.status).toBe(202);
  const id: string = started.body.runs[0].id;
  for (;;) {
    const run = await d.call('GET', `/v1/prewarm/${id}`);
    if (run.body.state !== 'running') {
      expect(run.body.state).toBe('succeeded');
      return run.body;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function loginOk(d: TestDaemon, body: Record<string, unknown>): Promise<string> {
  const answer = await d.login(body);
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body.user.id;
}

export async function buildScenario(): Promise<Scenario> {
  const d = await startDaemon({ directory: DEMO_V1, extra: EXTRA_CONNECTORS });
  const write = (file: string, content: unknown) => writeFileSync(join(d.dir, file), JSON.stringify(content));
  write('gitlab.json', GITLAB);

  const ada = await loginOk(d, { subject: '00u1ada', email: 'ada@example.com', groups: ['ENT_ORGA_ADMINS'] });
  const grace = await loginOk(d, { subject: '00u2grace', email: 'grace@example.com' }); // live look-up: cached
  const alan = await loginOk(d, { subject: '00u3alan', email: 'alan@example.com', groups: [] });
  const nora = await loginOk(d, { subject: '00u8nora', email: 'nora@example.com', groups: ['developers'] });
  const manual = await d.call('PUT', `/v1/organizations/OrgA/groups/Team/members/${ada}`);
  expect(manual.status).toBe(200);

  write('directory.json', DEMO_V2);
  const demoRun = await prewarm(d, 'demo');
  const glRun = await prewarm(d, 'gl');

  // The file export has no nesting; Entra and LDAP fill `nestedGroups`. Written as they would.
  const noraEntry = await d.daemon.store.getCachedUser('demo', '00u8nora');
  expect(noraEntry).not.toBeNull();
  if (noraEntry) await d.daemon.store.putCachedUser({ ...noraEntry, nestedGroups: ['developers'] });

  // Olga signs in through `old`; later her cache entry is old and the IdP unreachable.
  const olga = await loginOk(d, { connector: 'old', subject: 'old-olga', email: 'olga@example.com', groups: ['developers'] });
  await d.daemon.store.putCachedUser({
    connector: 'old',
    subject: 'old-olga',
    email: 'olga@example.com',
    name: 'Olga',
    groups: ['developers'],
    nestedGroups: [],
    fetchedAt: OLD_FETCHED_AT,
    origin: 'live',
    absentSince: null,
  });
  const stale = await d.login({ connector: 'old', subject: 'old-olga', email: 'olga@example.com' });
  expect(stale.body.groups.source).toBe('stale-cache');

  return { d, ids: { ada, grace, alan, nora, olga }, runs: { demo: demoRun.id, gl: glRun.id } };
}

type Row = [kind: string, connector: string, user: string | null, organization: string | null, group: string | null, idpGroup: string | null, source: string | null];

/** Every item the scenario's report holds, in report order (user = email, or subject without one). */
export const EXPECTED: Row[] = [
  ['pending_add', 'demo', 'ada@example.com', 'OrgA', 'developers', null, 'sync'],
  ['pending_add', 'demo', 'ada@example.com', 'OrgB', 'Members', null, 'default'],
  ['pending_add', 'demo', 'ada@example.com', 'OrgB', 'developers', null, 'sync'],
  ['pending_remove', 'demo', 'ada@example.com', 'OrgA', 'Team', null, 'manual'],
  ['absent_from_idp', 'demo', 'grace@example.com', null, null, null, null],
  ['no_organization', 'demo', 'alan@example.com', null, null, null, null],
  ['no_organization', 'demo', 'newbie@example.com', null, null, null, null],
  ['blocked', 'gl', 'eve@example.com', null, null, null, null],
  ['blocked', 'gl', 'sam@example.com', null, null, null, null],
  ['unmatched_idp_group', 'demo', null, null, null, 'Everyone', null],
  ['unmatched_idp_group', 'demo', null, 'OrgB', 'sonar-users', 'sonar-user', null],
  ['unmatched_idp_group', 'demo', null, 'OrgA', 'Team', 'team', null],
  ['unmatched_idp_group', 'gl', null, 'OrgA', 'developers', 'acme/developers', null],
  ['orphan_app_group', 'demo', null, 'OrgA', 'Team', 'team', null],
  ['orphan_app_group', 'demo', null, 'OrgB', 'sonar-users', 'sonar-user', null],
  ['orphan_app_group', 'demo', null, 'Sonar', 'my-gitlab-group', null, null],
  ['orphan_app_group', 'demo', null, 'Sonar', 'my-gitlab-group/sub-group', null, null],
  ['orphan_app_group', 'gl', null, 'OrgA', 'ENT_ORGA_ADMINS', null, null],
  ['orphan_app_group', 'gl', null, 'OrgA', 'Team', null, null],
  ['orphan_app_group', 'gl', null, 'OrgA', 'developers', 'acme/developers', null],
  ['orphan_app_group', 'gl', null, 'OrgB', 'developers', 'acme/developers', null],
  ['orphan_app_group', 'gl', null, 'OrgB', 'sonar-users', null, null],
  ['stale', 'old', 'olga@example.com', null, null, null, null],
  ['nested_or_overage', 'demo', 'nora@example.com', 'OrgA', 'developers', 'developers', null],
  ['nested_or_overage', 'demo', 'nora@example.com', 'OrgB', 'developers', 'developers', null],
];

export const EXPECTED_SUMMARY = {
  pending_add: 3,
  pending_remove: 1,
  absent_from_idp: 1,
  no_organization: 2,
  blocked: 2,
  unmatched_idp_group: 4,
  orphan_app_group: 9,
  stale: 1,
  nested_or_overage: 2,
};

export interface JsonItem {
  kind: string;
  connector: string;
  user: { id: string | null; email: string | null; subject: string | null } | null;
  organization: string | null;
  group: string | null;
  idpGroup: string | null;
  source: string | null;
  detail: string;
}

export function rows(items: JsonItem[]): Row[] {
  return items.map((i) => [i.kind, i.connector, i.user ? (i.user.email ?? i.user.subject) : null, i.organization, i.group, i.idpGroup, i.source]);
}
