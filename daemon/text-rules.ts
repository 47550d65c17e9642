import { z } from 'zod';

/**
 * One set of rules for the text jitsync stores, wherever it comes from (a login body, the config
 * file, an admin route, a path parameter), so that a name one of them accepts works in all others.
 */

export const MAX_NAME_LENGTH = 256;

const CONTROL = /^[^\u0000-\u001f\u007f]*$/;
// No control characters, and neither first nor last a space.
const NAME = /^[^ \u0000-\u001f\u007f](?:[^\u0000-\u001f\u007f]*[^ \u0000-\u001f\u007f])?$/;

/**
 * Text with no control characters (NUL, terminal escapes) and no lone surrogates, which a store
 * would turn into U+FFFD (so two different subjects could become one). In `u` mode `\p{Cs}`
 * matches only a surrogate that is not half of a pair.
 */
export function storableText(max: number, pattern: RegExp = CONTROL, message = 'must not contain control characters') {
  return z
    .string()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`)
    .regex(pattern, message)
    .refine((text) => !/\p{Cs}/u.test(text), 'must be valid Unicode (no lone surrogates)');
}

/**
 * A group or default-group name: storable, at most 256 characters, neither starting nor ending
 * with a space. One pattern, so that the OpenAPI document states the whole rule.
 */
export const nameRule = storableText(MAX_NAME_LENGTH, NAME, 'must not contain control characters, nor start or end with a space');
