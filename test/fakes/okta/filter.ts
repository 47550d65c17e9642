/**
 * Okta's filter/search expression language, as far as the fake needs it: `attr op "value"`
 * terms joined with `and`/`or` (and binds tighter) and grouped with parentheses, e.g.
 * `type eq "OKTA_GROUP" and (lastUpdated gt "…" or lastMembershipUpdated gt "…")`.
 * Anything else is a `FilterError`, which the fake answers with a 400 like Okta does.
 */

export type Operator = 'eq' | 'gt' | 'ge' | 'lt' | 'le';

export interface Attribute<T> {
  /** `date` values must be ISO 8601 timestamps and compare as instants. */
  kind: 'string' | 'date';
  operators: readonly Operator[];
  get(item: T): string | undefined;
  /** Okta compares profile strings such as emails without regard to case. */
  caseInsensitive?: boolean;
}

export class FilterError extends Error {
  override name = 'FilterError';
}

type Token = { kind: 'word'; text: string } | { kind: 'string'; text: string } | { kind: '(' | ')' };

const OPERATORS = new Set<string>(['eq', 'gt', 'ge', 'lt', 'le']);
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/;

export function parseFilter<T>(text: string, attributes: Record<string, Attribute<T>>): (item: T) => boolean {
  const tokens = tokenize(text);
  let position = 0;
  const peek = (): Token | undefined => tokens[position];
  const take = (): Token => {
    const token = tokens[position++];
    if (!token) throw new FilterError('unexpected end of expression');
    return token;
  };
  const isWord = (token: Token | undefined, word: string): boolean =>
    token?.kind === 'word' && token.text.toLowerCase() === word;

  const parseOr = (): ((item: T) => boolean) => {
    const terms = [parseAnd()];
    while (isWord(peek(), 'or')) {
      position++;
      terms.push(parseAnd());
    }
    return terms.length === 1 ? terms[0]! : (item) => terms.some((term) => term(item));
  };
  const parseAnd = (): ((item: T) => boolean) => {
    const terms = [parsePrimary()];
    while (isWord(peek(), 'and')) {
      position++;
      terms.push(parsePrimary());
    }
    return terms.length === 1 ? terms[0]! : (item) => terms.every((term) => term(item));
  };
  const parsePrimary = (): ((item: T) => boolean) => {
    const token = take();
    if (token.kind === '(') {
      const inner = parseOr();
      if (take().kind !== ')') throw new FilterError('missing ")"');
      return inner;
    }
    if (token.kind !== 'word') throw new FilterError('expected an attribute name');
    const attribute = attributes[token.text];
    if (!attribute) throw new FilterError(`unsupported attribute "${token.text}"`);
    const operatorToken = take();
    if (operatorToken.kind !== 'word' || !OPERATORS.has(operatorToken.text)) {
      throw new FilterError(`expected an operator after "${token.text}"`);
    }
    const operator = operatorToken.text as Operator;
    if (!attribute.operators.includes(operator)) {
      throw new FilterError(`operator "${operator}" is not supported for "${token.text}"`);
    }
    const valueToken = take();
    if (valueToken.kind !== 'string') throw new FilterError(`expected a quoted value after "${operator}"`);
    return compile(attribute, operator, valueToken.text);
  };

  const predicate = parseOr();
  if (position !== tokens.length) throw new FilterError('unexpected text after the expression');
  return predicate;
}

function compile<T>(attribute: Attribute<T>, operator: Operator, value: string): (item: T) => boolean {
  if (attribute.kind === 'date') {
    if (!ISO_INSTANT.test(value)) throw new FilterError(`"${value}" is not an ISO 8601 timestamp`);
    const wanted = Date.parse(value);
    return (item) => {
      const actual = attribute.get(item);
      if (actual === undefined) return false;
      return compare(Date.parse(actual), wanted, operator);
    };
  }
  const normalise = (s: string) => (attribute.caseInsensitive ? s.toLowerCase() : s);
  const wanted = normalise(value);
  return (item) => {
    const actual = attribute.get(item);
    if (actual === undefined) return false;
    const a = normalise(actual);
    return compare(a < wanted ? -1 : a > wanted ? 1 : 0, 0, operator);
  };
}

function compare(a: number, b: number, operator: Operator): boolean {
  switch (operator) {
    case 'eq':
      return a === b;
    case 'gt':
      return a > b;
    case 'ge':
      return a >= b;
    case 'lt':
      return a < b;
    case 'le':
      return a <= b;
  }
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c });
      i++;
    } else if (c === '"') {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new FilterError('unterminated string');
        const d = text[i]!;
        if (d === '\\') {
          const next = text[i + 1];
          if (next === undefined) throw new FilterError('dangling escape');
          value += next;
          i += 2;
        } else if (d === '"') {
          i++;
          break;
        } else {
          value += d;
          i++;
        }
      }
      tokens.push({ kind: 'string', text: value });
    } else {
      const match = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(text.slice(i));
      if (!match) throw new FilterError(`unexpected character "${c}"`);
      tokens.push({ kind: 'word', text: match[0] });
      i += match[0].length;
    }
  }
  if (tokens.length === 0) throw new FilterError('empty expression');
  return tokens;
}
