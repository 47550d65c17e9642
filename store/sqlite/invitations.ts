import type { Database } from 'better-sqlite3';
import type { MethodsOf } from '../every-method.js';
import { StoreError, type Invitation, type InvitationState, type InvitationStore } from '../types.js';
import { translateConstraints } from './errors.js';

interface InvitationRow {
  id: string;
  organization: string;
  email: string;
  group_name: string | null;
  state: InvitationState;
  created_at: string;
  accepted_at: string | null;
  accepted_by: string | null;
}


function fromRow(row: InvitationRow): Invitation {
  return {
    id: row.id,
    organization: row.organization,
    email: row.email,
    group: row.group_name,
    state: row.state,
    createdAt: row.created_at,
    acceptedAt: row.accepted_at,
    acceptedBy: row.accepted_by,
  };
}

export function createInvitationQueries(db: Database): MethodsOf<InvitationStore> {
  const insert = db.prepare<[string, string, string, string | null, InvitationState, string, string | null, string | null]>(
    `INSERT INTO invitations (id, organization, email, group_name, state, created_at, accepted_at, accepted_by)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const selectOne = db.prepare<[string], InvitationRow>('SELECT * FROM invitations WHERE id = ?');
  const selectPending = db.prepare<[string], InvitationRow>(
    `SELECT * FROM invitations WHERE email = ? AND state = 'pending' ORDER BY created_at, id`,
  );
  const selectAllPending = db.prepare<[], InvitationRow>(
    `SELECT * FROM invitations WHERE state = 'pending' ORDER BY email, created_at, id`,
  );
  const markAccepted = db.prepare<[string, string, string]>(
    `UPDATE invitations SET state = 'accepted', accepted_at = ?, accepted_by = ?
     WHERE id = ? AND state = 'pending'`,
  );

  const create = db.transaction((invitation: Invitation): Invitation => {
    translateConstraints(
      () =>
        insert.run(
          invitation.id,
          invitation.organization,
          invitation.email.toLowerCase(),
          invitation.group,
          invitation.state,
          invitation.createdAt,
          invitation.acceptedAt,
          invitation.acceptedBy,
        ),
      { invitation: invitation.id },
    );
    const row = selectOne.get(invitation.id);
    if (row === undefined) throw new StoreError(`invitation vanished while being created: ${invitation.id}`);
    return fromRow(row);
  });
  const accept = db.transaction((ids: string[], userId: string, now: string) => {
    for (const id of ids) markAccepted.run(now, userId, id);
  });

  return {
    createInvitation(invitation) {
      for (const field of ['id', 'organization', 'email'] as const) {
        if (typeof invitation[field] !== 'string' || invitation[field].length === 0) {
          throw new StoreError(`invitation ${field} must be a non-empty string`);
        }
      }
      return create.immediate(invitation);
    },
    pendingInvitations: (email) => selectPending.all(email.toLowerCase()).map(fromRow),
    listPendingInvitations: () => selectAllPending.all().map(fromRow),
    acceptInvitations: (ids, userId, now) => accept.immediate(ids, userId, now),
  };
}
