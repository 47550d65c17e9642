import { Filter } from 'ldapts';
import type { Ava } from './dn.js';
import { guidBytes } from './entries.js';

/**
 * Filter builders. Attribute names come from validated config; every value goes through
 * `Filter.escape` (RFC 4515), so a `*` or `(` in a name, email or DN is matched literally.
 */

/** OID of Active Directory's LDAP_MATCHING_RULE_IN_CHAIN (transitive `member`). */
export const IN_CHAIN_RULE = '1.2.840.113556.1.4.1941';

export function equals(attribute: string, value: string | Buffer): string {
  return `(${attribute}=${Filter.escape(value)})`;
}

export function and(...parts: string[]): string {
  return parts.length === 1 ? (parts[0] ?? '') : `(&${parts.join('')})`;
}

export function or(parts: string[]): string {
  return parts.length === 1 ? (parts[0] ?? '') : `(|${parts.join('')})`;
}

/** Matches an id attribute; `objectGUID` is binary, so a GUID in text form is sent as its bytes. */
export function idEquals(attribute: string, value: string): string {
  const bytes = attribute.toLowerCase() === 'objectguid' ? guidBytes(value) : null;
  return equals(attribute, bytes ?? value);
}

/** Groups that list any of `dns` under any of the member attributes. */
export function hasMember(memberAttributes: string[], dns: string[]): string {
  return or(memberAttributes.flatMap((attribute) => dns.map((dn) => equals(attribute, dn))));
}

/** Active Directory: groups that hold `dn` directly or through any depth of nesting. */
export function hasMemberInChain(memberAttribute: string, dn: string): string {
  return `(${memberAttribute}:${IN_CHAIN_RULE}:=${Filter.escape(dn)})`;
}

/** Entries named by any of these RDNs (one AVA each, or several for a multi-valued RDN). */
export function hasRdn(rdns: Ava[][]): string {
  return or(rdns.map((rdn) => and(...rdn.map((ava) => equals(ava.type, ava.value)))));
}

export function modifiedSince(generalizedTime: string): string {
  return `(modifyTimestamp>=${Filter.escape(generalizedTime)})`;
}
