import type { BulkStrategy } from './records.js';
import type { WriteMode } from './write-guards.js';

export interface ServerInfo {
  /** The server's name and version: `MongoDB 7.0.14`, `FerretDB 2.5.0 (DocumentDB, MongoDB 7.0.77 wire)`. */
  server: string;
  writeMode: WriteMode;
  bulk: BulkStrategy;
}

/** `v2.5.0` → `2.5.0`; anything that is not a version string → null. */
function versionOf(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const match = /^v?(\d+(?:\.\d+)*\S*)$/.exec(value.trim());
  return match?.[1] ?? null;
}

/**
 * What a `buildInfo` answer says about the server, and so which write path the store takes:
 *
 * - FerretDB 1.x answers with `ferretdbVersion` (the embedded build says `unknown`): conditional
 *   writes are not atomic and array fields get no unique index, so `guarded` writes and
 *   insert-first bulk writes.
 * - FerretDB 2.x answers with `ferretdb: { version: "v2.5.0" }`. It always runs on DocumentDB
 *   (PostgreSQL), whose conditional updates are atomic and whose unique indexes hold for arrays:
 *   the `atomic` path, as on MongoDB. Its `version` (7.0.77) is the MongoDB it emulates, not a
 *   MongoDB release, so it is named as FerretDB.
 * - Anything else is MongoDB (or a service that answers as MongoDB, such as Azure Cosmos DB for
 *   MongoDB vCore): `atomic`.
 */
export function describeServer(buildInfo: Record<string, unknown>): ServerInfo {
  const wire = versionOf(buildInfo.version) ?? 'unknown';
  const ferretdb2 = buildInfo.ferretdb;
  if (typeof ferretdb2 === 'object' && ferretdb2 !== null && 'version' in ferretdb2) {
    const version = versionOf(ferretdb2.version) ?? '2.x';
    return { server: `FerretDB ${version} (DocumentDB, MongoDB ${wire} wire)`, writeMode: 'atomic', bulk: 'upserts' };
  }
  if ('ferretdbVersion' in buildInfo) {
    const version = versionOf(buildInfo.ferretdbVersion) ?? '1.x';
    return { server: `FerretDB ${version} (MongoDB ${wire} wire)`, writeMode: 'guarded', bulk: 'insert-first' };
  }
  return { server: `MongoDB ${wire}`, writeMode: 'atomic', bulk: 'upserts' };
}
