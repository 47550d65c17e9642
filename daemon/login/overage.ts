/**
 * Entra's group-overage signals. Past 200 groups in a JWT (150 in SAML) the token carries no
 * `groups` claim but one of these markers instead; reading that as "no groups" would strip every
 * membership, so the login layer resolves the full list through the connector's `lookupUser`.
 */

/** The SAML attribute that replaces the groups claim on overage: a Graph link to the user's groups. */
export const SAML_GROUPS_LINK_CLAIM = 'http://schemas.microsoft.com/claims/groups.link';

/**
 * True when the token's claims say the groups list was left out: `_claim_names.groups` (JWT
 * distributed claim), `hasgroups: true` (implicit-flow JWT) or the SAML groups link.
 */
export function tokenSignalsOverage(claims: Record<string, unknown>): boolean {
  const claimNames = claims['_claim_names'];
  if (typeof claimNames === 'object' && claimNames !== null && Object.hasOwn(claimNames, 'groups')) return true;
  const hasGroups = claims['hasgroups'];
  if (hasGroups === true || hasGroups === 'true') return true;
  const link = claims[SAML_GROUPS_LINK_CLAIM];
  return typeof link === 'string' ? link.length > 0 : Array.isArray(link) && link.length > 0;
}
