import type { AnyBulkWriteOperation, Collection, Filter, WithoutId } from 'mongodb';
import {
  AlreadyExistsError,
  StoreError,
  type AuditEntry,
  type CachedGroup,
  type CachedUser,
  type ConnectorState,
  type Invitation,
  type PrewarmRun,
  type DirectoryCacheStore,
  type InvitationStore,
  type LoginSyncState,
  type LoginTimes,
  type AuditStore,
  type PrewarmSighting,
  type PrewarmRunStore,
  type SyncState,
  type SyncStateStore,
} from '../types.js';
import type { Collections } from './collections.js';
import {
  parseAudit,
  parseCachedGroup,
  parseCachedUser,
  parseConnectorState,
  parseInvitation,
  parsePrewarmRun,
  parseSyncState,
  tupleKey,
  type CachedGroupDoc,
  type CachedUserDoc,
  type KeyedDoc as Keyed,
  type SyncStateDoc,
} from './documents.js';
import { isDuplicateKeyError } from './errors.js';
import { upsertRetrying } from './retry.js';

/**
 * The parts of the store that are plain records, written whole (last writer wins), field by
 * field (sync state: see `SyncStateStore`) or appended: invitations, the directory cache, sync
 * state, pre-warm runs and the audit log.
 */

/** Upserts per bulk write: bounded so one pre-warm page never builds a huge command. */
const BULK_CHUNK = 1000;

/** Updates per bulk write: FerretDB 1.x never answers an update command of a hundred (98 pass). */
const UPDATE_CHUNK = 50;

function cachedUserDoc(user: CachedUser): CachedUserDoc {
  return {
    _id: tupleKey(user.connector, user.subject),
    connector: user.connector,
    subject: user.subject,
    email: user.email,
    name: user.name,
    groups: [...user.groups],
    nestedGroups: [...user.nestedGroups],
    fetchedAt: user.fetchedAt,
    origin: user.origin,
    absentSince: user.absentSince,
  };
}

/**
 * How cache pages are written. `upserts`: one unordered `bulkWrite` of replace-upserts per chunk
 * (MongoDB). `insert-first`: FerretDB 1.x runs each upsert as a scan of the collection (minutes
 * for one 5,000-user page), so new users go in with one `insertMany` and only the users already
 * cached are replaced one by one.
 */
function cachedGroupDoc(group: CachedGroup): CachedGroupDoc {
  return { _id: tupleKey(group.connector, group.id), connector: group.connector, id: group.id, name: group.name, fetchedAt: group.fetchedAt };
}

/** The login's fields of a sync state document (see `SyncStateStore`), and only those. */
function loginFields(state: LoginSyncState): LoginSyncState {
  return {
    userId: state.userId,
    connector: state.connector,
    subject: state.subject,
    appliedGroups: [...state.appliedGroups],
    lastLoginAt: state.lastLoginAt,
    lastReconciledAt: state.lastReconciledAt,
    status: state.status,
    lastError: state.lastError,
  };
}

function syncStateDoc(state: SyncState): SyncStateDoc {
  return { _id: tupleKey(state.userId, state.connector), ...loginFields(state), lastSeenByPrewarmAt: state.lastSeenByPrewarmAt };
}

export type BulkStrategy = 'upserts' | 'insert-first';


function idsOf(docs: { _id: unknown }[]): Set<unknown> {
  return new Set(docs.map((doc) => doc._id));
}

/**
 * Replaces (or inserts) each document whole, in chunks. `upserts` is one unordered bulk write
 * per chunk; `insert-first` inserts the new ones with one `insertMany` and replaces the others.
 */
async function replaceAll(collection: Collection<Keyed>, docs: Keyed[], bulk: BulkStrategy): Promise<void> {
  // Last entry wins when a batch names one key twice, as with single puts. In `_id` order: on
  // DocumentDB a bulk write locks its documents in the order given, and two writers that lock
  // shared documents in different orders can wait on each other for good (seen with 20 concurrent
  // pages of 50 overlapping upserts: 18 hung until their sockets timed out).
  const unique = [...new Map(docs.map((doc) => [doc._id, doc])).values()].sort(byId);
  for (let start = 0; start < unique.length; start += BULK_CHUNK) {
    const chunk = unique.slice(start, start + BULK_CHUNK);
    if (bulk === 'upserts') {
      const operations: AnyBulkWriteOperation<Keyed>[] = chunk.map((doc) => ({
        replaceOne: { filter: { _id: doc._id }, replacement: withoutId(doc), upsert: true },
      }));
      // Unordered: the server may apply the upserts in any order; each is independent, and
      // running the chunk again after a lost insert race replaces what the first run wrote.
      await upsertRetrying(() => collection.bulkWrite(operations, { ordered: false }));
      continue;
    }
    const existing = idsOf(await collection.find(idsFilter(chunk), { projection: { _id: 1 } }).toArray());
    const fresh = chunk.filter((doc) => !existing.has(doc._id));
    const replace = chunk.filter((doc) => existing.has(doc._id));
    if (fresh.length > 0) {
      try {
        await collection.insertMany(fresh, { ordered: false });
      } catch (error) {
        // Another writer inserted some of them meanwhile: replace those below instead.
        if (!isDuplicateKeyError(error)) throw error;
        const present = idsOf(await collection.find(idsFilter(fresh), { projection: { _id: 1 } }).toArray());
        replace.push(...fresh.filter((doc) => present.has(doc._id)));
      }
    }
    for (const doc of replace) await collection.replaceOne({ _id: doc._id }, withoutId(doc), { upsert: true });
  }
}

/** Plain string order (not `localeCompare`): the same on every machine. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byId(a: Keyed, b: Keyed): number {
  return compare(a._id, b._id);
}

function idsFilter(docs: Keyed[]): Filter<Keyed> {
  return { _id: { $in: docs.map((doc) => doc._id) } };
}

function withoutId(doc: Keyed): WithoutId<Keyed> {
  const { _id, ...fields } = doc;
  return fields;
}

/** The record parts of the store, each its own interface. */
export type RecordStores = InvitationStore & DirectoryCacheStore & SyncStateStore & PrewarmRunStore & AuditStore;

export function createRecordStores(c: Collections, bulk: BulkStrategy): RecordStores {
  return {
    // Invitations
    async createInvitation(invitation: Invitation): Promise<Invitation> {
      const stored: Invitation = { ...invitation, email: invitation.email.toLowerCase() };
      const { id, ...fields } = stored;
      try {
        await c.invitations.insertOne({ _id: id, ...fields });
      } catch (error) {
        if (isDuplicateKeyError(error)) throw new AlreadyExistsError('invitation', id);
        throw error;
      }
      return stored;
    },

    async pendingInvitations(email: string): Promise<Invitation[]> {
      // Every login asks. Sorted here, not by the server: one person has few invitations, and
      // FerretDB 2 serves sorted finds through a much slower cursor path (see BENCHMARKS.md).
      const raw: unknown[] = await c.invitations.find({ email: email.toLowerCase(), state: 'pending' }).toArray();
      return raw.map(parseInvitation).sort((a, b) => compare(a.createdAt, b.createdAt) || compare(a.id, b.id));
    },

    async listPendingInvitations(): Promise<Invitation[]> {
      const raw: unknown[] = await c.invitations.find({ state: 'pending' }).sort({ email: 1, createdAt: 1, _id: 1 }).toArray();
      return raw.map(parseInvitation);
    },

    async acceptInvitations(ids: string[], userId: string, now: string): Promise<void> {
      if (ids.length === 0) return;
      await c.invitations.updateMany(
        { _id: { $in: ids }, state: 'pending' },
        { $set: { state: 'accepted', acceptedAt: now, acceptedBy: userId } },
      );
    },

    // Directory cache
    async getCachedUser(connector: string, subject: string): Promise<CachedUser | null> {
      const raw: unknown = await c.cachedUsers.findOne({ _id: tupleKey(connector, subject) });
      return raw === null ? null : parseCachedUser(raw);
    },

    async putCachedUser(user: CachedUser): Promise<void> {
      await replaceAll(c.cachedUsers, [cachedUserDoc(user)], 'upserts');
    },

    async putCachedUsers(users: CachedUser[]): Promise<void> {
      await replaceAll(c.cachedUsers, users.map(cachedUserDoc), bulk);
    },

    async listCachedUsers(connector: string): Promise<CachedUser[]> {
      const raw: unknown[] = await c.cachedUsers.find({ connector }).sort({ subject: 1 }).toArray();
      return raw.map(parseCachedUser);
    },

    async getCachedUsers(connector: string, subjects: readonly string[]): Promise<CachedUser[]> {
      const out: CachedUser[] = [];
      for (let i = 0; i < subjects.length; i += BULK_CHUNK) {
        const keys = subjects.slice(i, i + BULK_CHUNK).map((subject) => tupleKey(connector, subject));
        const raw: unknown[] = await c.cachedUsers.find({ _id: { $in: keys } }).toArray();
        out.push(...raw.map(parseCachedUser));
      }
      return out;
    },

    /** Counted here from the group lists alone: `$size` in `$group` is not on every MongoDB-wire server. */
    async countCachedMemberships(connector: string): Promise<{ users: number; memberships: number }> {
      const counts = { users: 0, memberships: 0 };
      const cursor = c.cachedUsers.find({ connector, absentSince: null }, { projection: { groups: 1 } });
      for await (const doc of cursor) {
        const groups: unknown = (doc as { groups?: unknown }).groups;
        counts.users++;
        counts.memberships += Array.isArray(groups) ? groups.length : 0;
      }
      return counts;
    },

    async putCachedGroups(groups: CachedGroup[]): Promise<void> {
      await replaceAll(c.cachedGroups, groups.map(cachedGroupDoc), bulk);
    },

    /**
     * Writes the complete list, then deletes the connector's groups it does not name. Two
     * steps, not one transaction: a reader in between sees the new groups plus soon-removed
     * ones, never a partial list.
     */
    async replaceCachedGroups(connector: string, groups: CachedGroup[]): Promise<void> {
      const stray = groups.find((g) => g.connector !== connector);
      if (stray !== undefined) throw new StoreError(`group ${stray.id} belongs to ${stray.connector}, not ${connector}`);
      const docs = groups.map(cachedGroupDoc);
      await replaceAll(c.cachedGroups, docs, bulk);
      await c.cachedGroups.deleteMany({ connector, _id: { $nin: docs.map((doc) => doc._id) } });
    },

    async deleteCachedGroups(connector: string, ids: string[]): Promise<void> {
      if (ids.length === 0) return;
      await c.cachedGroups.deleteMany({ _id: { $in: ids.map((id) => tupleKey(connector, id)) } });
    },

    async listCachedGroups(connector: string): Promise<CachedGroup[]> {
      const raw: unknown[] = await c.cachedGroups.find({ connector }).sort({ id: 1 }).toArray();
      return raw.map(parseCachedGroup);
    },

    // Sync state
    async getSyncState(userId: string, connector: string): Promise<SyncState | null> {
      const raw: unknown = await c.syncStates.findOne({ _id: tupleKey(userId, connector) });
      return raw === null ? null : parseSyncState(raw);
    },

    async putSyncState(state: SyncState): Promise<void> {
      await replaceAll(c.syncStates, [syncStateDoc(state)], 'upserts');
    },

    async recordLogin(state: LoginSyncState): Promise<SyncState> {
      // The login's fields only (see `SyncStateStore`): pre-warm's `lastSeenByPrewarmAt` stays,
      // and so does `lastLoginAt` when the write brings none (a push provisioning is no login).
      const { lastLoginAt, ...fields } = loginFields(state);
      const written: unknown = await upsertRetrying(() =>
        c.syncStates.findOneAndUpdate(
          { _id: tupleKey(state.userId, state.connector) },
          {
            $set: lastLoginAt === null ? fields : { ...fields, lastLoginAt },
            $setOnInsert: lastLoginAt === null ? { lastSeenByPrewarmAt: null, lastLoginAt: null } : { lastSeenByPrewarmAt: null },
            // Pending changes that an older version stored: they are derived when read now.
            $unset: { pendingAdd: '', pendingRemove: '' },
          },
          { upsert: true, returnDocument: 'after' },
        ),
      );
      if (written === null) throw new StoreError(`sync state vanished while being written: ${state.userId}/${state.connector}`);
      return parseSyncState(written);
    },

    async recordPrewarmSightings(sightings: readonly PrewarmSighting[]): Promise<SyncState[]> {
      if (sightings.length === 0) return [];
      // Per row: pre-warm's time of sight, unconditionally; the status only while `lastLoginAt`
      // is still the one pre-warm read (no login since). In key order, as in `replaceAll`. No
      // upserts: a missing state is left out.
      const keyed = sightings.map((sighting) => ({ _id: tupleKey(sighting.userId, sighting.connector), sighting })).sort(byId);
      const operations: AnyBulkWriteOperation<Keyed>[] = [];
      for (const { _id, sighting } of keyed) {
        if (sighting.seenAt !== null) {
          operations.push({ updateOne: { filter: { _id }, update: { $set: { lastSeenByPrewarmAt: sighting.seenAt } } } });
        }
        const status = sighting.seenAt === null ? { status: 'absent' } : { status: 'fresh', lastError: null };
        operations.push({ updateOne: { filter: { _id, lastLoginAt: sighting.readLoginAt }, update: { $set: status } } });
      }
      for (let start = 0; start < operations.length; start += UPDATE_CHUNK) {
        await c.syncStates.bulkWrite(operations.slice(start, start + UPDATE_CHUNK), { ordered: true });
      }
      const written: SyncState[] = [];
      for (let start = 0; start < keyed.length; start += BULK_CHUNK) {
        const ids = keyed.slice(start, start + BULK_CHUNK).map((k) => k._id);
        const raw: unknown[] = await c.syncStates.find({ _id: { $in: ids } }).sort({ _id: 1 }).toArray();
        written.push(...raw.map(parseSyncState));
      }
      return written;
    },

    async recordLoginTimes(times: readonly LoginTimes[]): Promise<void> {
      if (times.length === 0) return;
      // $max: a later time written meanwhile stays; no upsert: a missing state is left out. In
      // key order, as in `replaceAll`, so that two replicas' batches never lock in crossed order.
      const keyed = times.map((t) => ({ _id: tupleKey(t.userId, t.connector), at: t.at })).sort(byId);
      for (let start = 0; start < keyed.length; start += UPDATE_CHUNK) {
        await c.syncStates.bulkWrite(
          keyed.slice(start, start + UPDATE_CHUNK).map(({ _id, at }) => ({
            updateOne: { filter: { _id }, update: { $max: { lastLoginAt: at, lastReconciledAt: at } } },
          })),
          { ordered: false },
        );
      }
    },

    async listSyncStates(connector?: string): Promise<SyncState[]> {
      const filter = connector === undefined ? {} : { connector };
      const raw: unknown[] = await c.syncStates.find(filter).sort({ userId: 1, connector: 1 }).toArray();
      return raw.map(parseSyncState);
    },

    // Pre-warm runs
    async putPrewarmRun(run: PrewarmRun): Promise<void> {
      const { id, ...fields } = run;
      // An upsert takes `_id` from the filter.
      await upsertRetrying(() => c.prewarmRuns.replaceOne({ _id: id }, fields, { upsert: true }));
    },

    async getPrewarmRun(id: string): Promise<PrewarmRun | null> {
      const raw: unknown = await c.prewarmRuns.findOne({ _id: id });
      return raw === null ? null : parsePrewarmRun(raw);
    },

    // Connector state
    async getConnectorState(connector: string): Promise<ConnectorState | null> {
      const raw: unknown = await c.connectorStates.findOne({ _id: connector });
      return raw === null ? null : parseConnectorState(raw);
    },

    async putConnectorState(state: ConnectorState): Promise<void> {
      const { connector, cursor, lastCompleteRunAt, lastRunId } = state;
      await upsertRetrying(() =>
        c.connectorStates.replaceOne({ _id: connector }, { connector, cursor, lastCompleteRunAt, lastRunId }, { upsert: true }),
      );
    },

    // Audit
    async appendAudit(entry: AuditEntry): Promise<void> {
      await c.audit.insertOne({
        at: entry.at,
        actor: entry.actor,
        action: entry.action,
        userId: entry.userId,
        details: entry.details,
      });
    },

    async listAudit(filter: { userId?: string; limit?: number }): Promise<AuditEntry[]> {
      const query = filter.userId === undefined ? {} : { userId: filter.userId };
      // ObjectIds grow with insertion, so `_id` orders entries written in the same millisecond.
      let cursor = c.audit.find(query).sort({ at: -1, _id: -1 });
      if (filter.limit !== undefined) {
        const limit = Math.floor(filter.limit);
        // The server reads a limit of 0 as "no limit".
        if (!(limit > 0)) return [];
        cursor = cursor.limit(limit);
      }
      const raw: unknown[] = await cursor.toArray();
      return raw.map(parseAudit);
    },
  };
}
