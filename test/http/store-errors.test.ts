import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startDaemon, type TestDaemon } from '../support/daemon.js';

/**
 * Store failures answer as one table says (daemon/errors.ts), over real HTTP on a real SQLite
 * file: never a bare `500`, and never read as an IdP outage. (`503 store_busy` with `Retry-After`
 * is held by store-lock.test.ts.)
 */

let d: TestDaemon;
afterEach(async () => d?.stop());

const ADA = { subject: '00u1ada', email: 'ada@example.com', name: 'Ada Lovelace' };

/**
 * Another connection points a table at a page the file does not have: SQLite then answers
 * SQLITE_CORRUPT ("malformed database schema") to every statement, as for a damaged file.
 * Returns the repair.
 */
function corrupt(path: string, table: string): () => void {
  const other = new Database(path);
  other.unsafeMode(true);
  const rootpage = other.prepare<[string], number>('SELECT rootpage FROM sqlite_master WHERE name = ?').pluck().get(table);
  const version = () => other.pragma('schema_version', { simple: true }) as number;
  const point = (page: number) => {
    other.pragma('writable_schema = ON');
    other.prepare('UPDATE sqlite_master SET rootpage = ? WHERE name = ?').run(page, table);
    other.pragma('writable_schema = OFF');
    // A new schema version makes every connection read the schema again.
    other.pragma(`schema_version = ${version() + 1}`);
  };
  point(1_000_000);
  return () => {
    point(rootpage!);
    other.close();
  };
}

describe('store failures over HTTP', () => {
  it('a damaged store answers 503 store_unavailable, inside the live look-up too (not idp_unavailable); /readyz names its error until it is repaired', async () => {
    d = await startDaemon();
    const repair = corrupt(join(d.dir, 'jitsync.db'), 'cached_users');
    try {
      // No token groups: the login reads the directory cache first, and that read fails.
      const login = await d.login(ADA);
      expect(login.status).toBe(503);
      expect(login.body.error).toEqual({ code: 'store_unavailable', message: 'the store cannot be read or written; see the daemon log' });

      const ready = await d.call('GET', '/readyz', undefined, null);
      expect(ready.status).toBe(503);
      expect(ready.body).toMatchObject({ status: 'unavailable', reason: 'store_unavailable' });
      expect(ready.body.message).toContain(`the SQLite store ${join(d.dir, 'jitsync.db')} cannot be used`);
      expect(ready.body.message).toContain('SQLITE_CORRUPT');
    } finally {
      repair();
    }
    expect((await d.call('GET', '/readyz', undefined, null)).status).toBe(200);
    expect((await d.login(ADA)).status).toBe(200);
  });

  it('an identity another writer links first, between the login\'s read and its write, answers 409 conflict, not 500', async () => {
    d = await startDaemon({ extra: '  - { id: partner, type: file, path: ./directory.json }' });
    const ada = await d.login({ ...ADA, groups: ['developers'] });
    expect(ada.status).toBe(200);
    const grace = await d.login({ subject: '00u2grace', email: 'grace@example.com', groups: ['developers'] });
    expect(grace.status).toBe(200);

    // Ada's first login through `partner` links that identity to her account by email; the
    // trigger plays a concurrent writer that links it to Grace just before.
    const db = new Database(join(d.dir, 'jitsync.db'));
    try {
      db.exec(`CREATE TRIGGER steal_identity BEFORE INSERT ON identities WHEN NEW.connector = 'partner' AND NEW.user_id <> '${grace.body.user.id}'
        BEGIN INSERT INTO identities (connector, subject, user_id) VALUES (NEW.connector, NEW.subject, '${grace.body.user.id}'); END`);
      const raced = await d.login({ ...ADA, connector: 'partner', groups: ['developers'] });
      expect(raced.status).toBe(409);
      expect(raced.body.error.code).toBe('conflict');
      db.exec('DROP TRIGGER steal_identity');
    } finally {
      db.close();
    }
    const linked = await d.login({ ...ADA, connector: 'partner', groups: ['developers'] });
    expect(linked.status).toBe(200);
    expect(linked.body.changes.identityLinked).toBe(true);
  });
});
