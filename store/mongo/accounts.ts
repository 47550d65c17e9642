import {
  AlreadyExistsError,
  ConflictError,
  NotFoundError,
  StoreError,
  membershipKey,
  type Account,
  type AccountChange,
  type AccountStore,
  type Identity,
  type Membership,
  type NewUser,
} from '../types.js';
import type { Collections } from './collections.js';
import { identityKey, parseAccount, parseIdentityClaim, tupleKey, type AccountDoc } from './documents.js';
import { isDuplicateKeyError } from './errors.js';
import type { WriteGuards } from './write-guards.js';

/** Lost compare-and-swap races tolerated before `updateAccount` gives up with `ConflictError`. */
const MAX_ATTEMPTS = 10;

/**
 * A claim older than this whose account does not hold the identity was left by a writer that
 * died between claiming and writing the account; younger ones belong to a write in flight.
 */
const STALE_CLAIM_MS = 60_000;


function describeIdentity(identity: Identity): string {
  return `${identity.connector}:${identity.subject}`;
}

/** Memberships as a set: a second entry for the same (organization, group) is bad input. */
function checkMemberships(memberships: Membership[]): Membership[] {
  const seen = new Set<string>();
  return memberships.map((m) => {
    const key = membershipKey(m);
    if (seen.has(key)) throw new StoreError(`duplicate membership: ${m.organization}/${m.group}`);
    seen.add(key);
    return { organization: m.organization, group: m.group, source: m.source };
  });
}

function sameMemberships(a: Membership[], b: Membership[]): boolean {
  if (a.length !== b.length) return false;
  const sources = new Map(a.map((m) => [membershipKey(m), m.source]));
  return b.every((m) => sources.get(membershipKey(m)) === m.source);
}

function toDoc(account: Account): AccountDoc {
  const { user } = account;
  return {
    _id: user.id,
    username: user.username,
    email: user.email,
    name: user.name,
    disabled: user.disabled,
    identities: user.identities.map((i) => ({ connector: i.connector, subject: i.subject })),
    identityKeys: user.identities.map(identityKey),
    memberships: account.memberships,
    membershipKeys: account.memberships.map((m) => tupleKey(m.organization, m.group)),
    createdAt: user.createdAt,
    updatedAt: user.updatedAt,
    version: account.version,
  };
}

/** The account after `change`, or null when the change leaves it as it is. */
function applyChange(current: Account, change: AccountChange, now: string): Account | null {
  const known = new Set(current.user.identities.map(identityKey));
  const added: Identity[] = [];
  for (const identity of change.addIdentities ?? []) {
    const key = identityKey(identity);
    if (known.has(key)) continue;
    known.add(key);
    added.push({ connector: identity.connector, subject: identity.subject });
  }
  const name = change.name === undefined ? current.user.name : change.name;
  const disabled = change.disabled ?? current.user.disabled;
  const memberships = change.memberships === undefined ? current.memberships : checkMemberships(change.memberships);

  const unchanged =
    added.length === 0 &&
    name === current.user.name &&
    disabled === current.user.disabled &&
    sameMemberships(current.memberships, memberships);
  if (unchanged) return null;

  return {
    user: {
      ...current.user,
      name,
      disabled,
      identities: [...current.user.identities, ...added],
      updatedAt: now,
    },
    memberships,
    version: current.version + 1,
  };
}

export function createAccountStore(deps: { collections: Collections; guards: WriteGuards; clock?: () => number }): AccountStore {
  const { accounts, identities } = deps.collections;
  const { guards } = deps;
  const clock = deps.clock ?? Date.now;

  async function readOne(filter: Record<string, unknown>): Promise<Account | null> {
    const raw: unknown = await accounts.findOne(filter);
    return raw === null ? null : parseAccount(raw);
  }

  /**
   * Claims `identity` for `userId` (an insert, atomic on every server). Returns true when this
   * call inserted the claim, false when `userId` already held it. Throws `AlreadyExistsError`
   * when another account holds it or is being created with it right now.
   */
  async function claim(identity: Identity, userId: string): Promise<boolean> {
    const key = identityKey(identity);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await identities.insertOne({
          _id: key,
          connector: identity.connector,
          subject: identity.subject,
          userId,
          claimedAt: new Date(clock()),
        });
        return true;
      } catch (error) {
        if (!isDuplicateKeyError(error)) throw error;
      }
      const raw: unknown = await identities.findOne({ _id: key });
      if (raw === null) continue; // released meanwhile
      const holder = parseIdentityClaim(raw);
      if (holder.userId === userId) return false;
      const owner: unknown = await accounts.findOne({ _id: holder.userId, identityKeys: key }, { projection: { _id: 1 } });
      if (owner !== null || clock() - holder.claimedAt.getTime() < STALE_CLAIM_MS) {
        throw new AlreadyExistsError('identity', describeIdentity(identity));
      }
      // Left by a crashed writer: the account it was for never got the identity.
      await identities.deleteOne({ _id: key, userId: holder.userId });
    }
    throw new AlreadyExistsError('identity', describeIdentity(identity));
  }

  async function release(keys: string[], userId: string): Promise<void> {
    if (keys.length > 0) await identities.deleteMany({ _id: { $in: keys }, userId });
  }

  /** Claims every identity; on failure releases the claims this call made and rethrows. */
  async function claimAll(list: Identity[], userId: string): Promise<string[]> {
    const inserted: string[] = [];
    try {
      for (const identity of list) {
        if (await claim(identity, userId)) inserted.push(identityKey(identity));
      }
      return inserted;
    } catch (error) {
      await release(inserted, userId);
      throw error;
    }
  }

  /** Which unique key a failed account insert hit: the server's error does not always say (FerretDB). */
  async function takenKey(doc: AccountDoc): Promise<AlreadyExistsError> {
    if ((await accounts.countDocuments({ _id: doc._id }, { limit: 1 })) > 0) return new AlreadyExistsError('id', doc._id);
    if ((await accounts.countDocuments({ email: doc.email }, { limit: 1 })) > 0) return new AlreadyExistsError('email', doc.email);
    if ((await accounts.countDocuments({ username: doc.username }, { limit: 1 })) > 0) {
      return new AlreadyExistsError('username', doc.username);
    }
    return new AlreadyExistsError('id', doc._id);
  }

  return {
    getAccount: (userId) => readOne({ _id: userId }),
    findAccountByIdentity: (identity) => readOne({ identityKeys: identityKey(identity) }),
    findAccountByEmail: (email) => readOne({ email: email.toLowerCase() }),

    async createAccount(user, memberships, now) {
      const seen = new Set<string>();
      for (const identity of user.identities) {
        const key = identityKey(identity);
        if (seen.has(key)) throw new AlreadyExistsError('identity', describeIdentity(identity));
        seen.add(key);
      }
      const account: Account = {
        user: {
          id: user.id,
          username: user.username,
          email: user.email.toLowerCase(),
          name: user.name,
          disabled: false,
          identities: user.identities.map((i) => ({ connector: i.connector, subject: i.subject })),
          createdAt: now,
          updatedAt: now,
        },
        memberships: checkMemberships(memberships),
        version: 1,
      };
      const doc = toDoc(account);

      // Claims first: the account becomes visible only once its identities are its own.
      const inserted = await claimAll(account.user.identities, user.id);
      try {
        await accounts.insertOne(doc);
      } catch (error) {
        await release(inserted, user.id);
        if (isDuplicateKeyError(error)) throw await takenKey(doc);
        throw error;
      }
      return account;
    },

    async updateAccount(userId, updater, now) {
      const claimed: string[] = [];
      try {
        for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt += 1) {
          const current = await readOne({ _id: userId });
          if (current === null) throw new NotFoundError('user', userId);
          const { change, result } = updater(current);
          const next = change === null ? null : applyChange(current, change, now);
          if (next === null) {
            await release(claimed, userId);
            return { account: current, result, changed: false };
          }

          const known = new Set(current.user.identities.map(identityKey));
          const added = next.user.identities.filter((i) => !known.has(identityKey(i)));
          claimed.push(...(await claimAll(added, userId)));

          const { _id, ...fields } = toDoc(next);
          const written = await guards.withRevision('account', _id, current.version, async () => {
            const outcome = await accounts.updateOne({ _id, version: current.version }, { $set: fields });
            return outcome.matchedCount === 1;
          });
          if (written) {
            const kept = new Set(next.user.identities.map(identityKey));
            const leftover = claimed.filter((key) => !kept.has(key));
            claimed.length = 0;
            // Best effort: a leftover claim of ours is recognised as stale later.
            await release(leftover, userId).catch(() => undefined);
            return { account: next, result, changed: true };
          }
          // Another writer came first: read again and re-run the updater on what it wrote.
        }
        throw new ConflictError(`account ${userId} changed ${MAX_ATTEMPTS} times while being updated; giving up`);
      } catch (error) {
        await release(claimed, userId);
        throw error;
      }
    },

    async listGroupMembers(organization, group) {
      const raw: unknown[] = await accounts
        .find({ membershipKeys: tupleKey(organization, group) }, { projection: { _id: 1 } })
        .sort({ _id: 1 })
        .toArray();
      return raw.map((doc) => {
        const id = typeof doc === 'object' && doc !== null && '_id' in doc ? doc._id : null;
        if (typeof id !== 'string') throw new StoreError('malformed account document: _id is not a string');
        return id;
      });
    },

    countUsers: () => accounts.countDocuments({}),

    async listAccounts({ afterId, limit }) {
      const size = Math.floor(limit);
      // The server reads a limit of 0 as "no limit".
      if (!(size > 0)) return [];
      const filter = afterId === null ? {} : { _id: { $gt: afterId } };
      const raw: unknown[] = await accounts.find(filter).sort({ _id: 1 }).limit(size).toArray();
      return raw.map(parseAccount);
    },
  };
}
