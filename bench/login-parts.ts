import { safeEncode } from 'zod';
import { fastSerializerCompiler } from '../daemon/http/fast-serializer.js';
import * as s from '../daemon/http/schemas.js';
import { decideLogin, type DecisionSettings } from '../daemon/reconcile/decide-login.js';
import type { Account, Membership, Organization } from '../store/types.js';
import { appGroupsOf, ORGANIZATIONS } from './config.js';
import { groupName } from './shape.js';

/**
 * Two parts of a login's CPU cost, timed in this process on the login benchmark's shape (2,000
 * IdP groups, every other one an app group of one of 10 organizations; 13 IdP groups per user,
 * `membership: reset`): the pure decision (`decideLogin`), and the writing of an allowed login's
 * answer, by the route's serializer (fast-json-stringify) and by a zod check plus
 * `JSON.stringify` (what every other route does). Each figure is the mean of `rounds` calls, after
 * as many for warm-up; both sides must write the same JSON, or there is no figure.
 */

export interface LoginPartsResult {
  decisionMicros: number;
  answerMicros: { fast: number; zodAndStringify: number };
  rounds: number;
}

const GROUPS = 2_000;
const GROUPS_PER_USER = 13;

export function benchLoginParts(rounds = 200_000): LoginPartsResult {
  const organizations: Organization[] = Array.from({ length: ORGANIZATIONS }, (_, o) => ({
    key: `Org${o}`,
    defaultGroup: 'Members',
    groups: appGroupsOf(o, GROUPS),
  }));
  const settings: DecisionSettings = {
    matching: 'exact',
    mappings: [],
    membership: 'reset',
    protectedGroups: [],
    defaultOrganization: null,
    signUp: 'allowed',
    allowedGroups: [],
    linkByEmail: true,
  };
  // Returning users: each holds what its first login gave it, so the decision changes nothing.
  const users = Array.from({ length: 1_000 }, (_, i) => {
    const idpGroups = Array.from({ length: GROUPS_PER_USER }, (_, k) => groupName((i * 37 + k * 151) % GROUPS));
    const first = decideLogin({ byIdentity: null, byEmail: null, idpGroups, organizations, invitations: [], settings });
    if (first.outcome === 'deny') throw new Error('the benchmark user was refused');
    const account = {
      user: { id: `u${i}`, username: `user${i}`, email: `u${i}@example.com`, name: null, disabled: false, identities: [] },
      memberships: first.plan.memberships,
    } as unknown as Account;
    return { idpGroups, account };
  });
  let sink = 0;
  const decide = (k: number) => {
    const user = users[k % users.length]!;
    const decision = decideLogin({ byIdentity: user.account, byEmail: null, idpGroups: user.idpGroups, organizations, invitations: [], settings });
    if (decision.outcome === 'allow') sink += decision.plan.added.length + 1;
  };

  const memberships: Membership[] = users[0]!.account.memberships;
  const answer = {
    decision: 'allow' as const,
    user: { id: '0b6f3a52-1c9e-4d8f-9f3e-2a4b5c6d7e8f', username: 'ada', email: 'ada@example.com', name: 'Ada Lovelace', created: false },
    memberships,
    organizations: [...new Set(memberships.map((m) => m.organization))],
    changes: { added: [], removed: [], invitationsAccepted: [], nameUpdated: false, identityLinked: false },
    groups: { source: 'cache' as const, fetchedAt: '2026-12-02T10:00:00.000Z', ageSeconds: 12, names: users[0]!.idpGroups },
  };
  const fast = fastSerializerCompiler({ schema: s.loginAllowed });
  const zodAndStringify = (data: typeof answer) => {
    const checked = safeEncode(s.loginAllowed, data);
    if (checked.error) throw checked.error;
    return JSON.stringify(checked.data);
  };
  if (fast(answer) !== zodAndStringify(answer)) throw new Error('the two serializers write different JSON: no figure');

  const micros = (work: (k: number) => unknown): number => {
    for (let k = 0; k < rounds; k++) work(k);
    const started = process.hrtime.bigint();
    for (let k = 0; k < rounds; k++) work(k);
    return Math.round(Number(process.hrtime.bigint() - started) / rounds / 10) / 100;
  };
  const result = {
    decisionMicros: micros(decide),
    answerMicros: { fast: micros(() => (sink += fast(answer).length)), zodAndStringify: micros(() => (sink += zodAndStringify(answer).length)) },
    rounds,
  };
  if (sink === 0) throw new Error('nothing was computed');
  return result;
}
