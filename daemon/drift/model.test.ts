import { describe, expect, it } from 'vitest';
import type { Account, CachedUser, Membership, Organization } from '../../store/types.js';
import { DEFAULT_SETTINGS } from '../reconcile/settings.js';
import { assembleDrift, computeDrift } from './assemble.js';
import { buildDriftModel, updateCacheEntries, updateDriftModel, type DriftInput } from './model.js';

/**
 * The model kept between reports, updated one account or cache entry at a time, must give the
 * report a build from scratch gives, under both look-up rules (`linkByEmail` on: an email links;
 * off: an email held by another account is the login's `email_conflict`).
 */

const NOW = new Date('2025-06-01T12:00:00.000Z');
const AT = '2025-06-01T11:59:00.000Z';
const ORGS: Organization[] = [{ key: 'OrgA', defaultGroup: 'Members', groups: ['admins', 'devs'] }];
const SUBJECTS = ['s-ada', 's-bob', 's-cy'];
const EMAILS = ['ada@example.com', 'bob@example.com', 'cy@example.com'];

function entry(subject: string, email: string, groups: string[]): CachedUser {
  return { connector: 'idp', subject, email, name: null, groups, nestedGroups: [], fetchedAt: AT, origin: 'prewarm', absentSince: null };
}

function account(id: string, email: string, subjects: string[], memberships: Membership[]): Account {
  return {
    user: {
      id,
      username: id,
      email,
      name: null,
      disabled: false,
      identities: subjects.map((subject) => ({ connector: 'idp', subject })),
      createdAt: AT,
      updatedAt: AT,
    },
    memberships,
    version: 1,
  };
}

describe.each([true, false])('the drift model with linkByEmail %s', (linkByEmail) => {
  it('updated account by account and entry by entry, equals a report built from scratch', async () => {
    let seed = 11;
    const random = () => (seed = (seed * 48271) % 2147483647) / 2147483647;
    const pick = <T>(items: readonly T[]) => items[Math.floor(random() * items.length)]!;
    const settings = { ...DEFAULT_SETTINGS, linkByEmail };
    const cache = new Map(SUBJECTS.map((s, i) => [s, entry(s, EMAILS[i]!, ['admins'])]));
    const accounts = new Map<string, Account>();
    const input = (): DriftInput => ({
      connectors: [{ connector: 'idp', settings, cachedUsers: [...cache.values()], cachedGroups: [], state: null }],
      accounts: [...accounts.values()],
      syncStates: [],
      organizations: ORGS,
      invitationsByEmail: new Map(),
      now: NOW,
    });

    let model = buildDriftModel(input());
    let rebuilds = 0;
    for (let step = 0; step < 60; step++) {
      let folded: boolean;
      if (random() < 0.6) {
        // An account written: created (by email, under a subject the cache may not have) or changed.
        const i = Math.floor(random() * 3);
        const id = `u${i}`;
        const subjects = random() < 0.5 ? [SUBJECTS[i]!] : [`other-${i}`];
        const memberships: Membership[] = random() < 0.5 ? [{ organization: 'OrgA', group: pick(['admins', 'devs']), source: 'sync' }] : [];
        const next = account(id, EMAILS[i]!, accounts.get(id)?.user.identities.map((x) => x.subject) ?? subjects, memberships);
        accounts.set(id, next);
        folded = await updateDriftModel(model, next, async (_connector, subject) => cache.get(subject) ?? null);
      } else {
        const subject = pick(SUBJECTS);
        const written = { ...cache.get(subject)!, groups: random() < 0.5 ? ['admins'] : ['devs', 'admins'] };
        cache.set(subject, written);
        folded = await updateCacheEntries(model, { connector: 'idp', cachedGroups: [], state: null }, [written], async (id) => accounts.get(id) ?? null);
      }
      if (!folded) {
        rebuilds++;
        model = buildDriftModel(input());
      }
      expect(assembleDrift(model, NOW), `step ${step}`).toEqual(computeDrift(input()));
    }
    // Most writes fold in; a rebuild is the exception (an entry changing hands).
    expect(rebuilds).toBeLessThan(30);
  });
});

describe('an email held by another account, with linkByEmail off', () => {
  it('becomes blocked (email_conflict) when that account is written, without a rebuild', async () => {
    const settings = { ...DEFAULT_SETTINGS, linkByEmail: false };
    const cached = entry('s-ada', 'ada@example.com', ['admins']);
    const base: DriftInput = {
      connectors: [{ connector: 'idp', settings, cachedUsers: [cached], cachedGroups: [], state: null }],
      accounts: [],
      syncStates: [],
      organizations: ORGS,
      invitationsByEmail: new Map(),
      now: NOW,
    };
    const model = buildDriftModel(base);
    expect(assembleDrift(model, NOW).items.map((i) => i.kind)).toEqual([]);
    const holder = account('u-other', 'ada@example.com', ['someone-else'], []);
    expect(await updateDriftModel(model, holder, async () => cached)).toBe(true);
    expect(assembleDrift(model, NOW).items.filter((i) => i.user?.subject === 's-ada').map((i) => [i.kind, i.user?.id])).toEqual([
      ['blocked', null],
    ]);
    expect(assembleDrift(model, NOW)).toEqual(computeDrift({ ...base, accounts: [holder] }));
  });
});
