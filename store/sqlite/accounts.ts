import type { Database } from 'better-sqlite3';
import {
  AlreadyExistsError,
  NotFoundError,
  StoreError,
  membershipKey,
  type Account,
  type AccountStore,
  type Identity,
  type Membership,
  type MembershipSource,
  type NewUser,
} from '../types.js';
import type { MethodsOf } from '../every-method.js';
import { translateConstraints } from './errors.js';
import { checkIdentities, checkMemberships, checkNewUser, identityValue } from './validate.js';

interface UserRow {
  id: string;
  username: string;
  email: string;
  name: string | null;
  disabled: number;
  version: number;
  created_at: string;
  updated_at: string;
}

interface MembershipRow {
  organization: string;
  group_name: string;
  source: MembershipSource;
}


export function createAccountQueries(db: Database): MethodsOf<AccountStore> {
  const selectUser = db.prepare<[string], UserRow>('SELECT * FROM users WHERE id = ?');
  const selectUserIdByEmail = db.prepare<[string], string>('SELECT id FROM users WHERE email = ?').pluck();
  const selectIdentityOwner = db
    .prepare<[string, string], string>('SELECT user_id FROM identities WHERE connector = ? AND subject = ?')
    .pluck();
  const selectIdentities = db.prepare<[string], Identity>(
    'SELECT connector, subject FROM identities WHERE user_id = ? ORDER BY rowid',
  );
  const selectMemberships = db.prepare<[string], MembershipRow>(
    'SELECT organization, group_name, source FROM memberships WHERE user_id = ? ORDER BY rowid',
  );
  const insertUser = db.prepare<[string, string, string, string | null, string, string]>(
    `INSERT INTO users (id, username, email, name, disabled, version, created_at, updated_at)
     VALUES (?, ?, ?, ?, 0, 1, ?, ?)`,
  );
  const insertIdentity = db.prepare<[string, string, string]>(
    'INSERT INTO identities (connector, subject, user_id) VALUES (?, ?, ?)',
  );
  const insertMembership = db.prepare<[string, string, string, MembershipSource]>(
    'INSERT INTO memberships (user_id, organization, group_name, source) VALUES (?, ?, ?, ?)',
  );
  const updateMembershipSource = db.prepare<[MembershipSource, string, string, string]>(
    'UPDATE memberships SET source = ? WHERE user_id = ? AND organization = ? AND group_name = ?',
  );
  const deleteMembership = db.prepare<[string, string, string]>(
    'DELETE FROM memberships WHERE user_id = ? AND organization = ? AND group_name = ?',
  );
  const writeUser = db.prepare<[string | null, number, string, string]>(
    'UPDATE users SET name = ?, disabled = ?, version = version + 1, updated_at = ? WHERE id = ?',
  );
  const selectGroupMembers = db
    .prepare<[string, string], string>(
      'SELECT user_id FROM memberships WHERE organization = ? AND group_name = ? ORDER BY user_id',
    )
    .pluck();
  const selectUserCount = db.prepare<[], number>('SELECT count(*) FROM users').pluck();
  const selectUsersAfter = db.prepare<[string, number], UserRow>('SELECT * FROM users WHERE id > ? ORDER BY id LIMIT ?');
  // A page's identities and memberships in one range query each (not three queries per user),
  // in the order `read` gives them.
  const selectIdentitiesInRange = db.prepare<[string, string], Identity & { user_id: string }>(
    'SELECT user_id, connector, subject FROM identities WHERE user_id > ? AND user_id <= ? ORDER BY user_id, rowid',
  );
  const selectMembershipsInRange = db.prepare<[string, string], MembershipRow & { user_id: string }>(
    `SELECT user_id, organization, group_name, source FROM memberships
     WHERE user_id > ? AND user_id <= ? ORDER BY user_id, rowid`,
  );
  const readPage = db.transaction((afterId: string, limit: number): Account[] => {
    const rows = selectUsersAfter.all(afterId, limit);
    const last = rows.at(-1);
    if (last === undefined) return [];
    const accounts = new Map<string, Account>();
    for (const row of rows) accounts.set(row.id, toAccount(row, [], []));
    for (const i of selectIdentitiesInRange.all(afterId, last.id)) {
      accounts.get(i.user_id)?.user.identities.push({ connector: i.connector, subject: i.subject });
    }
    for (const m of selectMembershipsInRange.all(afterId, last.id)) {
      accounts.get(m.user_id)?.memberships.push({ organization: m.organization, group: m.group_name, source: m.source });
    }
    return [...accounts.values()];
  });

  /** Reads outside a transaction; callers wrap it so the three reads see one snapshot. */
  function read(userId: string): Account | null {
    const row = selectUser.get(userId);
    if (row === undefined) return null;
    return toAccount(
      row,
      selectIdentities.all(userId).map((i) => ({ connector: i.connector, subject: i.subject })),
      selectMemberships.all(userId).map((m) => ({ organization: m.organization, group: m.group_name, source: m.source })),
    );
  }

  // A deferred transaction gives the user row, identities and memberships one snapshot even
  // while another process writes the file.
  const readConsistently = db.transaction((userId: string | undefined) =>
    userId === undefined ? null : read(userId),
  );

  function insertMemberships(userId: string, memberships: Membership[]): void {
    for (const m of memberships) insertMembership.run(userId, m.organization, m.group, m.source);
  }

  function linkIdentity(userId: string, identity: Identity): void {
    translateConstraints(() => insertIdentity.run(identity.connector, identity.subject, userId), {
      identity: identityValue(identity),
    });
  }

  /** Writes the membership difference; returns whether anything changed. */
  function replaceMemberships(userId: string, current: Membership[], next: Membership[]): boolean {
    const before = new Map(current.map((m) => [membershipKey(m), m]));
    const after = new Set(next.map(membershipKey));
    let changed = false;
    for (const m of next) {
      const existing = before.get(membershipKey(m));
      if (existing === undefined) {
        insertMembership.run(userId, m.organization, m.group, m.source);
        changed = true;
      } else if (existing.source !== m.source) {
        updateMembershipSource.run(m.source, userId, m.organization, m.group);
        changed = true;
      }
    }
    for (const m of current) {
      if (!after.has(membershipKey(m))) {
        deleteMembership.run(userId, m.organization, m.group);
        changed = true;
      }
    }
    return changed;
  }

  return {
    getAccount: (userId) => readConsistently(userId),

    findAccountByIdentity: (identity) =>
      readConsistently(selectIdentityOwner.get(identity.connector, identity.subject)),

    findAccountByEmail: (email) => readConsistently(selectUserIdByEmail.get(email.toLowerCase())),

    createAccount(user, memberships, now) {
      checkNewUser(user);
      checkMemberships(memberships);
      const email = user.email.toLowerCase();
      const write = db.transaction(() => {
        translateConstraints(() => insertUser.run(user.id, user.username, email, user.name, now, now), {
          id: user.id,
          username: user.username,
          email,
        });
        for (const identity of user.identities) linkIdentity(user.id, identity);
        insertMemberships(user.id, memberships);
        const account = read(user.id);
        if (account === null) throw new StoreError(`account vanished while being created: ${user.id}`);
        return account;
      });
      return write.immediate();
    },

    updateAccount(userId, updater, now) {
      // One IMMEDIATE transaction holds the write lock from the read to the write, so writers
      // (in this process or another on the same file) serialize and no update is lost.
      const apply = db.transaction(() => {
        const current = read(userId);
        if (current === null) throw new NotFoundError('account', userId);
        const { change, result } = updater(current);
        if (change === null) return { account: current, result, changed: false };

        let changed = false;
        const name = change.name === undefined ? current.user.name : change.name;
        const disabled = change.disabled === undefined ? current.user.disabled : change.disabled;
        if (name !== current.user.name || disabled !== current.user.disabled) changed = true;

        if (change.addIdentities !== undefined) {
          checkIdentities(change.addIdentities);
          for (const identity of change.addIdentities) {
            const owner = selectIdentityOwner.get(identity.connector, identity.subject);
            if (owner === userId) continue;
            if (owner !== undefined) throw new AlreadyExistsError('identity', identityValue(identity));
            linkIdentity(userId, identity);
            changed = true;
          }
        }
        if (change.memberships !== undefined) {
          checkMemberships(change.memberships);
          if (replaceMemberships(userId, current.memberships, change.memberships)) changed = true;
        }
        if (!changed) return { account: current, result, changed: false };

        writeUser.run(name, disabled ? 1 : 0, now, userId);
        const account = read(userId);
        if (account === null) throw new StoreError(`account vanished while being updated: ${userId}`);
        return { account, result, changed: true };
      });
      return apply.immediate();
    },

    listGroupMembers: (organization, group) => selectGroupMembers.all(organization, group),

    countUsers: () => selectUserCount.get() ?? 0,
    listAccounts: ({ afterId, limit }) => readPage(afterId ?? '', limit),
  };
}

function toAccount(row: UserRow, identities: Identity[], memberships: Membership[]): Account {
  return {
    user: {
      id: row.id,
      username: row.username,
      email: row.email,
      name: row.name,
      disabled: row.disabled === 1,
      identities,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    },
    memberships,
    version: row.version,
  };
}
