import { TrackingInputError } from '../errors/TrackingInputError';

/** One element of a parsed pattern: a literal character, `?`, `*`, or a `[…]` set. */
type PatternToken =
  | { type: 'literal'; char: string }
  | { type: 'any' }
  | { type: 'star' }
  | { type: 'set'; negated: boolean; chars: Set<string>; ranges: Array<[number, number]> };

/** A name pattern of `om.models.list` / `om.datasets.list`, parsed once and matched in JS. */
export interface NamePattern {
  /** Whether the pattern holds a wildcard (`*`, `?` or a closed `[…]`); without one it is a plain name or prefix. */
  readonly wildcard: boolean;
  /** The literal characters before the first wildcard: every name the pattern matches starts with them. */
  readonly prefix: string;
  /** Whether `name` matches the whole pattern. */
  matches(name: string): boolean;
}

/**
 * Parses an fnmatch-style pattern as omega-ml's `list(pattern)` takes it: `*` matches any run of
 * characters (`/` and a leading `.` included), `?` one character, `[abc]` / `[a-z]` one of the set,
 * `[!abc]` one not in it; `[*]` matches a literal `*`, and a `[` without its `]` is a literal `[`.
 * Matching is case-sensitive and works on characters (code points), so `?` matches `🚀`.
 */
export function parseNamePattern(pattern: string): NamePattern {
  if (typeof pattern !== 'string')
    throw new TrackingInputError(`a name pattern must be a string, got ${typeof pattern}`);
  const tokens = tokenize(Array.from(pattern));
  const first = tokens.findIndex((t) => t.type !== 'literal');
  const literals = first < 0 ? tokens : tokens.slice(0, first);
  const prefix = literals.map((t) => (t as { char: string }).char).join('');
  return {
    wildcard: first >= 0,
    prefix,
    matches: (name) => matchTokens(tokens, Array.from(name)),
  };
}

function tokenize(chars: string[]): PatternToken[] {
  const tokens: PatternToken[] = [];
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i];
    if (c === '*') {
      // consecutive stars match what one star matches
      if (tokens[tokens.length - 1]?.type !== 'star') tokens.push({ type: 'star' });
    } else if (c === '?') tokens.push({ type: 'any' });
    else if (c === '[') {
      const set = parseSet(chars, i + 1);
      if (set) {
        tokens.push(set.token);
        i = set.end;
      } else tokens.push({ type: 'literal', char: c });
    } else tokens.push({ type: 'literal', char: c });
  }
  return tokens;
}

/** A `[…]` set starting after its `[` at `start`; undefined when it has no closing `]`. */
function parseSet(chars: string[], start: number): { token: PatternToken; end: number } | undefined {
  let i = start;
  const negated = chars[i] === '!';
  if (negated) i++;
  // a `]` right after `[` or `[!` is a member, not the end (as in fnmatch)
  const body = i;
  while (i < chars.length && (chars[i] !== ']' || i === body)) i++;
  if (i >= chars.length) return undefined;
  const members = chars.slice(body, i);
  const token: PatternToken = { type: 'set', negated, chars: new Set(), ranges: [] };
  for (let j = 0; j < members.length; j++) {
    if (j + 2 < members.length && members[j + 1] === '-') {
      const from = members[j].codePointAt(0) as number;
      const to = members[j + 2].codePointAt(0) as number;
      // a reversed range such as [z-a] matches nothing (fnmatch's behaviour)
      if (from <= to) token.ranges.push([from, to]);
      j += 2;
    } else token.chars.add(members[j]);
  }
  return { token, end: i };
}

function matchOne(token: PatternToken, char: string): boolean {
  switch (token.type) {
    case 'literal':
      return token.char === char;
    case 'any':
      return true;
    case 'set': {
      const code = char.codePointAt(0) as number;
      const inSet = token.chars.has(char) || token.ranges.some(([from, to]) => code >= from && code <= to);
      return inSet !== token.negated;
    }
    case 'star':
      return false;
  }
}

/**
 * Whole-name match with one backtracking point, the last `*`: at most names × tokens steps, so a
 * pattern such as `*a*a*a*b` cannot make listing slow the way a backtracking RegExp would.
 */
function matchTokens(tokens: PatternToken[], name: string[]): boolean {
  let t = 0;
  let n = 0;
  let starAt = -1;
  let starName = 0;
  while (n < name.length) {
    const token = tokens[t];
    if (token !== undefined && token.type === 'star') {
      starAt = t++;
      starName = n;
    } else if (token !== undefined && matchOne(token, name[n])) {
      t++;
      n++;
    } else if (starAt >= 0) {
      // let the last star take one more character and try again from there
      t = starAt + 1;
      n = ++starName;
    } else return false;
  }
  while (tokens[t]?.type === 'star') t++;
  return t === tokens.length;
}
