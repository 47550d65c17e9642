import { createHash, timingSafeEqual } from 'node:crypto';

export type TokenKind = 'hook' | 'admin';

/**
 * Bearer token check in constant time: both sides are hashed first, so neither the token's
 * content nor its length shows in the timing.
 */
export function createTokenCheck(tokens: Record<TokenKind, string>) {
  const digests = {
    hook: digest(tokens.hook),
    admin: digest(tokens.admin),
  };
  return (kind: TokenKind, authorization: string | undefined): boolean => {
    // The scheme name is case-insensitive (RFC 9110 §11.1): `bearer` and `BEARER` are Bearer too.
    const match = /^Bearer +(\S+)$/i.exec(authorization ?? '');
    const presented = digest(match?.[1] ?? '');
    // Compare even when the header is malformed, so every path costs the same.
    return timingSafeEqual(presented, digests[kind]) && match !== null;
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
