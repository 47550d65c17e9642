import { z } from 'zod';

/**
 * Query-string parameters. The query parser turns a repeated key into an array, and a plain
 * `z.coerce.number()` reads `limit=1&limit=2` as NaN and `offset=0x10` as 16; these schemas say
 * what is wrong instead. Each carries its OpenAPI schema as metadata, since a preprocessing step
 * has no JSON Schema of its own.
 */

const once = (what: string) => (issue: { input?: unknown }) =>
  Array.isArray(issue.input) ? 'give this parameter once' : what;

/** A whole number written in decimal digits, given once, from `min` to `max`. */
export function queryInteger(min: number, max: number) {
  return z
    .preprocess(
      (value) => (typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value),
      z.number({ error: once('expected a whole number in decimal digits') }).int().min(min).max(max),
    )
    .meta({ type: 'integer', minimum: min, maximum: max });
}

/** A string parameter given once. */
export function queryString(min: number, max: number) {
  return z.string({ error: once('expected a string') }).min(min).max(max);
}

/**
 * A repeatable parameter that also takes comma lists (`kind=a&kind=b,c`), as a list of values.
 * `values` documents the accepted values; unknown ones are refused by the route with a code of
 * their own (e.g. `unknown_connector`), so validation keeps them as strings.
 */
export function queryList(options: { maxItems: number; maxLength: number; values?: readonly string[] }) {
  const item = z.string().max(options.maxLength);
  return z
    .preprocess(
      // Values are taken exactly as written: an empty one (`kind=`) or one with spaces is not a
      // value the document lists, and the route refuses it.
      (value) => (Array.isArray(value) ? value : [value]).flatMap((v) => (typeof v === 'string' ? v.split(',') : [v])),
      z.array(item).max(options.maxItems),
    )
    .meta({
      type: 'array',
      maxItems: options.maxItems,
      items: options.values && options.values.length > 0 ? { type: 'string', enum: [...options.values] } : { type: 'string', maxLength: options.maxLength },
    });
}
