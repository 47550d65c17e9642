import type { Entry } from 'ldapts';

/**
 * ldapts returns a one-valued attribute as a string and a many-valued one as an array, keyed
 * by the server's spelling of the name: read values through these helpers only.
 */

/** Binary attributes that must come back as buffers (Active Directory ids). */
export const BINARY_ATTRIBUTES = ['objectGUID', 'objectSid'];

export function attributeValues(entry: Entry, attribute: string): string[] {
  const wanted = attribute.toLowerCase();
  const key = Object.keys(entry).find((name) => name.toLowerCase() === wanted && name !== 'dn');
  const raw = key === undefined ? undefined : entry[key];
  if (raw === undefined) return [];
  const list: (string | Buffer)[] = Array.isArray(raw) ? raw : [raw];
  return list.map((value) => (typeof value === 'string' ? value : formatBinary(attribute, value)));
}

/** The first non-empty value, or null. */
export function firstValue(entry: Entry, attribute: string): string | null {
  return attributeValues(entry, attribute).find((value) => value !== '') ?? null;
}

/** `objectGUID` in its usual text form (first three fields little-endian); other binaries as hex. */
export function formatBinary(attribute: string, value: Buffer): string {
  if (attribute.toLowerCase() !== 'objectguid' || value.length !== 16) return value.toString('hex');
  const hex = (from: number, to: number, reverse: boolean): string => {
    const part = [...value.subarray(from, to)];
    return Buffer.from(reverse ? part.reverse() : part).toString('hex');
  };
  return [hex(0, 4, true), hex(4, 6, true), hex(6, 8, true), hex(8, 10, false), hex(10, 16, false)].join('-');
}

/** The wire bytes of a GUID in text form, for an `objectGUID` equality filter; null if not a GUID. */
export function guidBytes(text: string): Buffer | null {
  const match = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i.exec(text.trim());
  if (!match) return null;
  const [, a = '', b = '', c = '', d = '', e = ''] = match;
  const little = (hex: string): Buffer => Buffer.from(hex, 'hex').reverse();
  return Buffer.concat([little(a), little(b), little(c), Buffer.from(d + e, 'hex')]);
}
