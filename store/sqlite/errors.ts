import Database from 'better-sqlite3';
import { AlreadyExistsError, StoreError, type UniqueKey } from '../types.js';

/** Which unique key each SQLite uniqueness constraint enforces, by the columns SQLite names. */
const UNIQUE_KEYS: Record<string, UniqueKey> = {
  'users.id': 'id',
  'users.email': 'email',
  'users.username': 'username',
  'identities.connector, identities.subject': 'identity',
  'organizations.key': 'organization',
  'organization_groups.organization, organization_groups.name': 'group',
  'invitations.id': 'invitation',
};

/** The unique key a failed write violated, or null when the error is something else. */
export function violatedUniqueKey(error: unknown): UniqueKey | null {
  if (!(error instanceof Database.SqliteError)) return null;
  if (error.code !== 'SQLITE_CONSTRAINT_UNIQUE' && error.code !== 'SQLITE_CONSTRAINT_PRIMARYKEY') return null;
  const columns = /constraint failed: (.+)$/.exec(error.message)?.[1];
  return columns === undefined ? null : (UNIQUE_KEYS[columns] ?? null);
}

/**
 * Runs a write and turns SQLite constraint failures into the store's typed errors:
 * a taken unique key becomes `AlreadyExistsError` (with the value from `values`), a failed
 * CHECK becomes a `StoreError` naming the rule.
 */
export function translateConstraints<T>(write: () => T, values: Partial<Record<UniqueKey, string>>): T {
  try {
    return write();
  } catch (error) {
    const key = violatedUniqueKey(error);
    if (key !== null) throw new AlreadyExistsError(key, values[key] ?? '');
    if (error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_CHECK') {
      throw new StoreError(`invalid value: ${error.message}`);
    }
    throw error;
  }
}
