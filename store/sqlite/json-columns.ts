import type { z } from 'zod';
import { checkWritten, readStoredJson } from '../schemas.js';

/**
 * The JSON columns, read and written with the schema of their field (store/schemas.ts): what the
 * database hands back is checked, never trusted. The other columns are typed and constrained by
 * their table.
 */

/** `json`, stored in `column` (`table.column`) of the row `key`, as `schema` reads it. */
export function readColumn<T>(schema: z.ZodType<T>, json: string, column: string, key: string): T {
  return readStoredJson(schema, json, `column ${column} of ${key}`);
}

/** `value`, checked by `schema` (a `StoreError` naming `what` when it does not fit), as JSON. */
export function writeColumn<T>(schema: z.ZodType<T>, value: T, what: string): string {
  return JSON.stringify(checkWritten(schema, value, what));
}
