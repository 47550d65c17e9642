/**
 * Just enough RFC 4514 DN handling to compare DNs and to find an entry by its first RDN.
 * Member values and entry DNs of the same entry may differ in case and spacing.
 */

export interface Ava {
  type: string;
  value: string;
}

/** The RDNs of a DN, values unescaped; `null` when the DN does not parse (or uses `#` BER values). */
export function parseDn(dn: string): Ava[][] | null {
  const rdns: Ava[][] = [];
  let rdn: Ava[] = [];
  let type = '';
  let bytes: number[] = [];
  let inValue = false;
  const finishAva = (): boolean => {
    const cleanType = type.trim();
    if (!inValue || cleanType === '') return false;
    const value = Buffer.from(bytes).toString('utf8').trim();
    if (value.startsWith('#')) return false;
    rdn.push({ type: cleanType, value });
    type = '';
    bytes = [];
    inValue = false;
    return true;
  };
  const text = dn.trim();
  if (text === '') return [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i] ?? '';
    if (!inValue) {
      if (char === '=') inValue = true;
      else if (char === ',' || char === '+' || char === '\\') return null;
      else type += char;
      continue;
    }
    if (char === '\\') {
      const hex = text.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(Number.parseInt(hex, 16));
        i += 2;
      } else {
        const next = text[i + 1];
        if (next === undefined) return null;
        bytes.push(...Buffer.from(next, 'utf8'));
        i += 1;
      }
    } else if (char === ',' || char === ';') {
      if (!finishAva()) return null;
      rdns.push(rdn);
      rdn = [];
    } else if (char === '+') {
      if (!finishAva()) return null;
    } else {
      bytes.push(...Buffer.from(char, 'utf8'));
    }
  }
  if (!finishAva()) return null;
  rdns.push(rdn);
  return rdns;
}

/** A comparison key: types and values lower-cased, spacing and escaping normalised. */
export function dnKey(dn: string): string {
  const rdns = parseDn(dn);
  if (rdns === null) return `raw:${dn.trim().toLowerCase()}`;
  return rdns
    .map((rdn) =>
      rdn
        .map((ava) => `${ava.type.toLowerCase()}=${ava.value.toLowerCase()}`)
        .sort()
        .join('\u0001'),
    )
    .join('\u0000');
}

/** `uniqueMember` values may carry an optional `#'0101'B` unique identifier after the DN. */
export function stripUid(value: string): string {
  return value.replace(/#'[01]*'B$/, '');
}
