import type { Collection, Db, Document, IndexDescription } from 'mongodb';
import { StoreError } from '../types.js';
import type {
  AccountDoc,
  AuditDoc,
  ConnectorStateDoc,
  IdentityClaimDoc,
  InvitationDoc,
  LeaseDoc,
  OrganizationDoc,
  KeyedDoc,
  PrewarmRunDoc,
} from './documents.js';
import type { WriteGuardDoc } from './write-guards.js';

export interface Collections {
  accounts: Collection<AccountDoc>;
  identities: Collection<IdentityClaimDoc>;
  organizations: Collection<OrganizationDoc>;
  invitations: Collection<InvitationDoc>;
  /** Written whole through `replaceAll` (records.ts), which needs only a string `_id`. */
  cachedUsers: Collection<KeyedDoc>;
  cachedGroups: Collection<KeyedDoc>;
  syncStates: Collection<KeyedDoc>;
  leases: Collection<LeaseDoc>;
  prewarmRuns: Collection<PrewarmRunDoc>;
  connectorStates: Collection<ConnectorStateDoc>;
  audit: Collection<AuditDoc>;
  writeGuards: Collection<WriteGuardDoc>;
}

export function collectionsOf(db: Db): Collections {
  return {
    accounts: db.collection<AccountDoc>('accounts'),
    identities: db.collection<IdentityClaimDoc>('identities'),
    organizations: db.collection<OrganizationDoc>('organizations'),
    invitations: db.collection<InvitationDoc>('invitations'),
    cachedUsers: db.collection<KeyedDoc>('cached_users'),
    cachedGroups: db.collection<KeyedDoc>('cached_groups'),
    syncStates: db.collection<KeyedDoc>('sync_states'),
    leases: db.collection<LeaseDoc>('leases'),
    prewarmRuns: db.collection<PrewarmRunDoc>('prewarm_runs'),
    connectorStates: db.collection<ConnectorStateDoc>('connector_states'),
    audit: db.collection<AuditDoc>('audit'),
    writeGuards: db.collection<WriteGuardDoc>('write_guards'),
  };
}

/**
 * Creates the indexes the store relies on (idempotent: run at every start).
 *
 * Identity uniqueness lives in the `identities` collection (one claim document per
 * connector+subject, `_id` unique) rather than in a unique multikey index on the accounts'
 * embedded identities: such an index lets one document hold the same identity twice, and
 * FerretDB 1.x does not enforce unique indexes on array fields at all. The accounts keep a
 * plain multikey index on `identityKeys` so a login is still one read.
 *
 * No TTL index on leases: FerretDB 1.x rejects `expireAfterSeconds`, and an expired lease is
 * taken over in place (leases are few and reused by name).
 */
export async function ensureIndexes(c: Collections): Promise<void> {
  // One index per command: FerretDB 1.24 drops the connection (a panic) when one createIndexes
  // command names several indexes that all exist already, as on every restart.
  await Promise.all([
    createEach(c.accounts, [
      { key: { email: 1 }, name: 'email_unique', unique: true },
      { key: { username: 1 }, name: 'username_unique', unique: true },
      { key: { identityKeys: 1 }, name: 'identity_keys' },
      { key: { membershipKeys: 1 }, name: 'membership_keys' },
    ]),
    createEach(c.identities, [{ key: { connector: 1, subject: 1 }, name: 'identity_unique', unique: true }]),
    createEach(c.invitations, [{ key: { email: 1, state: 1 }, name: 'email_state' }]),
    createEach(c.cachedUsers, [{ key: { connector: 1, subject: 1 }, name: 'connector_subject', unique: true }]),
    createEach(c.cachedGroups, [{ key: { connector: 1, id: 1 }, name: 'connector_id', unique: true }]),
    createEach(c.syncStates, [
      { key: { userId: 1, connector: 1 }, name: 'user_connector', unique: true },
      { key: { connector: 1, userId: 1 }, name: 'connector_user' },
    ]),
    createEach(c.leases, [{ key: { expiresAt: 1 }, name: 'expires_at' }]),
    createEach(c.prewarmRuns, [{ key: { connector: 1, startedAt: -1 }, name: 'connector_started' }]),
    createEach(c.audit, [
      { key: { userId: 1, at: -1 }, name: 'user_time' },
      { key: { at: -1 }, name: 'time' },
    ]),
  ]);
}

async function createEach<T extends Document>(collection: Collection<T>, indexes: IndexDescription[]): Promise<void> {
  for (const { key, ...options } of indexes) {
    try {
      await collection.createIndex(key, options);
    } catch (error) {
      if (options.unique !== true) throw error;
      throw (await duplicatesError(collection, options.name ?? JSON.stringify(key), Object.keys(key))) ?? error;
    }
  }
}

/** Groups of documents named in a `StoreError` about data that breaks a unique index. */
const DUPLICATES_SHOWN = 5;

/**
 * Why a unique index cannot be created, when the data already holds duplicates: the servers say
 * it in their own ways (MongoDB E11000 with one key; DocumentDB `InternalError` "could not create
 * exclusion constraint" with none; FerretDB 1.x a SQLite constraint), so the duplicates are looked
 * up. Null when there are none (the failure was something else).
 */
async function duplicatesError<T extends Document>(collection: Collection<T>, index: string, fields: string[]): Promise<StoreError | null> {
  // k0, k1…: a field path may hold dots, which a $group key may not. Counts only: FerretDB 1.x
  // has no $push; the documents are found afterwards.
  const keyOf = Object.fromEntries(fields.map((field, i) => [`k${i}`, `$${field}`]));
  const groups = await collection
    .aggregate<{ _id: Record<string, unknown>; count: number }>([
      { $group: { _id: keyOf, count: { $sum: 1 } } },
      { $match: { count: { $gt: 1 } } },
      { $sort: { count: -1 } },
      { $limit: DUPLICATES_SHOWN },
    ])
    .toArray()
    .catch(() => []);
  if (groups.length === 0) return null;
  const shown: string[] = [];
  for (const group of groups) {
    const filter = Object.fromEntries(fields.map((field, i) => [field, group._id[`k${i}`] ?? null]));
    const docs = await collection.find(filter as never, { projection: { _id: 1 } }).sort({ _id: 1 }).limit(3).toArray();
    const ids = docs.map((doc) => JSON.stringify(doc._id));
    const value = fields.map((field) => `${field} ${JSON.stringify(filter[field])}`).join(', ');
    shown.push(`${value} (${group.count} documents: ${ids.join(', ')}${group.count > ids.length ? ', …' : ''})`);
  }
  const more = groups.length === DUPLICATES_SHOWN ? ' (and maybe more)' : '';
  return new StoreError(
    `the unique index ${index} of the ${collection.collectionName} collection cannot be created: documents share a key: ` +
      `${shown.join('; ')}${more}. Resolve the duplicates, then start again`,
  );
}
