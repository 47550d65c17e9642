/**
 * Usernames for new accounts (Docker-style): derived from the IdP's username, the person's name
 * or the email, then made unique by random digits. Pure: randomness comes in as a function.
 */

export interface UsernameSource {
  username?: string | undefined;
  givenName?: string | undefined;
  familyName?: string | undefined;
  name?: string | undefined;
  email: string;
}

const MAX_LENGTH = 40;

export function usernameBase(source: UsernameSource): string {
  const fromParts =
    source.givenName && source.familyName ? `${source.givenName}.${source.familyName}` : undefined;
  const localPart = source.email.slice(0, source.email.lastIndexOf('@'));
  for (const raw of [source.username, fromParts, source.name, localPart]) {
    const slug = raw ? slugify(raw) : '';
    if (slug) return slug;
  }
  return 'user';
}

/** Candidates in the order to try: the base, then the base with 4 random digits, then 6. */
export function usernameCandidates(base: string, random: () => number, count = 8): string[] {
  const candidates = [base];
  for (let i = 1; i < count; i++) {
    const digits = i <= count / 2 ? 4 : 6;
    const suffix = Math.floor(random() * 10 ** digits)
      .toString()
      .padStart(digits, '0');
    candidates.push(`${base.slice(0, MAX_LENGTH - digits)}${suffix}`);
  }
  return candidates;
}

function slugify(raw: string): string {
  return raw
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '') // accents
    .toLowerCase()
    .replace(/\s+/g, '.')
    .replace(/[^a-z0-9._-]+/g, '')
    .replace(/[._-]{2,}/g, (run) => run[0]!)
    .replace(/^[._-]+|[._-]+$/g, '')
    .slice(0, MAX_LENGTH);
}
