/**
 * LIKE and ILIKE in linear time (issue 19, point 1): `%` any run of characters, `_` one
 * character (a Unicode code point), no backtracking whatever the pattern, patterns capped.
 */
import type { Omega, RunInfo } from 'omega-track';
import { FilterSyntaxError, LIKE_PATTERN_MAX, TrackingInputError, omega } from 'omega-track';
import { compileLike, matchesRunFilter, parseRunFilter } from 'omega-track/internal';
import { pick, runNumbers, seededRandom } from './helpers';

jest.setTimeout(120_000);

/**
 * The reference: the textbook dynamic programme over code points (row by row), obviously
 * right and O(text × pattern). ILIKE: two characters are alike when their lower or upper cases are.
 */
function referenceLike(pattern: string, text: string, caseless: boolean): boolean {
  const p = Array.from(pattern);
  const same = (a: string, b: string) =>
    a === b || (caseless && (a.toLowerCase() === b.toLowerCase() || a.toUpperCase() === b.toUpperCase()));
  // the text as numbers of its distinct characters, and which pattern character takes which
  const distinct = new Map<string, number>();
  const t = Array.from(text, (c) => {
    let id = distinct.get(c);
    if (id === undefined) distinct.set(c, (id = distinct.size));
    return id;
  });
  const takes = p.map((c) => [...distinct.keys()].map((d) => c === '_' || same(c, d)));
  // row[j]: the first i characters of the text match the first j of the pattern
  let row = new Uint8Array(p.length + 1);
  row[0] = 1;
  for (let j = 1; j <= p.length; j++) row[j] = p[j - 1] === '%' && row[j - 1] ? 1 : 0;
  let next = new Uint8Array(p.length + 1);
  const wild = p.map((c) => c === '%');
  for (let i = 1; i <= t.length; i++) {
    const c = t[i - 1];
    next[0] = 0;
    for (let j = 1; j <= p.length; j++)
      next[j] = wild[j - 1] ? next[j - 1] | row[j] : takes[j - 1][c] ? row[j - 1] : 0;
    [row, next] = [next, row];
  }
  return row[p.length] === 1;
}

/** A filter's text for a pattern: quotes doubled, backslashes escaped (the filter's own quoting). */
const quoted = (pattern: string) => `'${pattern.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;

/** A run whose tag t is `text`. */
const runWithTag = (text: string): RunInfo => ({
  run: 1,
  status: 'STOPPED',
  started: undefined,
  stopped: undefined,
  duration: undefined,
  node: undefined,
  userid: undefined,
  tags: { t: text },
});

describe('LIKE and ILIKE agree with a reference matcher, in linear time', () => {
  // letters with case pairs (σ, Σ and ς among them), a one-code-point emoji, a two-code-point one,
  // e and a combining accent, the wildcard characters themselves as text, quotes and a backslash
  const ALPHABET = [
    'a',
    'A',
    'b',
    'B',
    'ä',
    'Ä',
    'σ',
    'Σ',
    'ς',
    '😀',
    '👍🏽',
    'e\u0301',
    '%',
    '_',
    "'",
    '\\',
    ' ',
  ];

  function randomText(random: () => number, length: number): string {
    // a few characters most of the time, so that patterns find what they look for
    const letters = ALPHABET.slice(0, 2 + Math.floor(random() * ALPHABET.length));
    const parts: string[] = [];
    for (let n = 0; n < length;) {
      const c = pick(random, letters);
      parts.push(c);
      n += c.length;
    }
    return parts.join('');
  }

  /** A pattern of at most 200 characters: random, or cut from the text (so that it often matches). */
  function randomPattern(random: () => number, text: string): string {
    const chars = Array.from(text);
    const out: string[] = [];
    const r = random();
    if (r < 0.3) {
      // anything: many %, many _, literal characters
      const length = 1 + Math.floor(random() * 200);
      for (let i = 0; i < length; i++) {
        const x = random();
        out.push(
          x < 0.35
            ? '%'
            : x < 0.55
              ? '_'
              : pick(
                  random,
                  ALPHABET.filter((c) => c !== '%' && c !== '_'),
                ),
        );
      }
    } else if (r < 0.5) {
      // one long stretch of the text (past 32 characters: more than one word of the bit-parallel search)
      const length = 20 + Math.floor(random() * 150);
      const at = Math.floor(random() * Math.max(1, chars.length - length));
      out.push('%');
      for (const c of chars.slice(at, at + length))
        out.push(c === '%' || c === '_' || random() < 0.3 ? '_' : c);
      out.push(random() < 0.7 ? '%' : '');
      if (random() < 0.3 && out.length > 1)
        out[1 + Math.floor(random() * (out.length - 1))] = pick(random, ['b', 'ς']);
    } else {
      // stretches of the text in order, with % between and _ for some characters
      const pieces = 1 + Math.floor(random() * 12);
      let at = random() < 0.5 ? 0 : Math.floor(random() * chars.length);
      if (at > 0) out.push('%');
      for (let k = 0; k < pieces && at < chars.length; k++) {
        const length = 1 + Math.floor(random() * 8);
        for (const c of chars.slice(at, at + length))
          out.push(c === '%' || c === '_' || random() < 0.2 ? '_' : c);
        at += length + Math.floor(random() * (chars.length / pieces));
        if (k < pieces - 1) out.push(random() < 0.8 ? '%' : '%%%');
      }
      if (random() < 0.5) out.push('%');
      // sometimes one character off: a near miss
      if (random() < 0.25 && out.length > 0)
        out[Math.floor(random() * out.length)] = pick(random, ['a', 'Σ', '😀']);
    }
    let pattern = '';
    for (const c of out) {
      if (Array.from(pattern + c).length > 200) break;
      pattern += c;
    }
    return pattern;
  }

  test('300 random patterns of up to 200 characters against texts of up to 100 kB', () => {
    const random = seededRandom(19);
    let matched = 0;
    let total = 0;
    const lengths = [0, 1, 2, 5, 20, 100, 1_000, 10_000, 100_000];
    for (let i = 0; i < 300; i++) {
      // every tenth text long (the reference takes a while on those), the rest short
      const length = i % 10 === 0 ? 100_000 : pick(random, lengths.slice(0, 7));
      const text = randomText(random, length);
      const pattern = randomPattern(random, text);
      const caseless = random() < 0.5;
      expect(Array.from(pattern).length).toBeLessThanOrEqual(200);
      const filter = parseRunFilter(`tags.t ${caseless ? 'ILIKE' : 'LIKE'} ${quoted(pattern)}`);
      const started = performance.now();
      const got = matchesRunFilter(runWithTag(text), filter);
      const took = performance.now() - started;
      // linear: a generous bound (some 100 times what it takes): 50 ms and 20 µs per character
      expect({ pattern, took: took < 50 + 0.02 * text.length }).toEqual({ pattern, took: true });
      total += took;
      const expected = referenceLike(pattern, text, caseless);
      // a failing case names itself
      if (got !== expected)
        expect({ pattern, caseless, text: text.length > 200 ? `${text.slice(0, 200)}…` : text, got }).toEqual(
          {
            pattern,
            caseless,
            text: text.length > 200 ? `${text.slice(0, 200)}…` : text,
            got: expected,
          },
        );
      if (expected) matched++;
    }
    // the cases tell matching from not matching: both happen often
    expect(matched).toBeGreaterThan(60);
    expect(matched).toBeLessThan(240);
    expect(total).toBeLessThan(10_000);
  });

  test('pathological patterns on a long text: all at once, none backtracks', () => {
    const text = 'a'.repeat(100_000);
    const patterns = [
      `${'%'.repeat(40)}x`,
      `%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%a%b`,
      `%${'a_'.repeat(99)}b%`,
      `${'%_'.repeat(99)}b`,
      `%x%y`,
    ];
    for (const caseless of [false, true]) {
      for (const pattern of patterns) {
        const started = performance.now();
        expect(compileLike(pattern, caseless).test(text)).toBe(false);
        expect(performance.now() - started).toBeLessThan(2_000);
      }
    }
    // 5 MB, the size of the tag that held the CLI for over 441 s
    const huge = 'a'.repeat(5_000_000);
    const started = performance.now();
    expect(matchesRunFilter(runWithTag(huge), parseRunFilter("tags.t LIKE '%x%y'"))).toBe(false);
    expect(matchesRunFilter(runWithTag(`${huge}xay`), parseRunFilter("tags.t LIKE '%x%y'"))).toBe(true);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  test("'_' is one character, an emoji too; '%' any run of them, none included", () => {
    const like = (pattern: string, text: string, caseless = false) =>
      matchesRunFilter(
        runWithTag(text),
        parseRunFilter(`tags.t ${caseless ? 'ILIKE' : 'LIKE'} ${quoted(pattern)}`),
      );
    expect(like('_', '😀')).toBe(true);
    expect(like('__', '😀')).toBe(false);
    expect(like('a_b', 'a😀b')).toBe(true);
    expect(like('%_', '😀')).toBe(true);
    expect(like('_%_', '😀')).toBe(false);
    // a skin-toned thumb is two code points
    expect(like('__', '👍🏽')).toBe(true);
    expect(like('%', '')).toBe(true);
    expect(like('%%', '')).toBe(true);
    expect(like('_', '')).toBe(false);
    expect(like('a%', 'a')).toBe(true);
    expect(like('ab%ba', 'aba')).toBe(false);
    expect(like('ab%ba', 'abba')).toBe(true);
    // plain characters stand for themselves: no escape, no regular expression
    expect(like('a.b', 'axb')).toBe(false);
    expect(like('a\\b', 'a\\b')).toBe(true);
    expect(like('(a+)+$', '(a+)+$')).toBe(true);
    expect(like('ΣΑΣ', 'σας', true)).toBe(true);
    expect(like('ΣΑΣ', 'σας')).toBe(false);
    expect(like('%Ä_', 'xä😀', true)).toBe(true);
  });

  test('a pattern of more than LIKE_PATTERN_MAX characters is a FilterSyntaxError at the pattern', () => {
    expect(LIKE_PATTERN_MAX).toBe(500);
    // emoji are one character each: 500 of them are within the cap
    expect(() => parseRunFilter(`tags.t LIKE '${'😀'.repeat(500)}'`)).not.toThrow();
    const text = `tags.t LIKE '${'%'.repeat(501)}'`;
    let error: unknown;
    try {
      parseRunFilter(text);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FilterSyntaxError);
    expect(error).toBeInstanceOf(TrackingInputError);
    expect((error as FilterSyntaxError).position).toBe(12);
    expect((error as Error).message).toMatch(
      /a pattern of at most 500 characters after LIKE, found one of 501/,
    );
    expect(() => compileLike('x'.repeat(501))).toThrow(TrackingInputError);
  });
});

describe("'%%%…%x' over 200 runs (the filter that froze the UI server)", () => {
  let om: Omega;
  let all: RunInfo[];
  let exp: ReturnType<Omega['runtime']['experiment']>;
  beforeAll(async () => {
    om = omega({ store: 'memory:' });
    exp = om.runtime.experiment('pathological');
    for (let i = 1; i <= 200; i++) {
      await exp.start({ name: `run-name-${i}`, tags: { stage: i % 3 ? 'production' : 'dev' } });
      await exp.stop(i % 7 ? {} : { status: 'FAILED' });
    }
    all = await exp.runs();
  });
  afterAll(async () => om.close());

  test.each([28, 32])('%d times %% and an x: answered at once, the same as by hand', async (count) => {
    for (const [field, value] of [
      ['attributes.status', (r: RunInfo) => r.status],
      ['attributes.run_name', (r: RunInfo) => r.name ?? ''],
      ['tags.stage', (r: RunInfo) => String(r.tags?.stage)],
    ] as const) {
      for (const tail of ['x', 'D', 'n-1_']) {
        const filter = `${field} LIKE '${'%'.repeat(count)}${tail}'`;
        const started = performance.now();
        const found = await exp.runs({ filter });
        // the old matcher took 15.9 s for 28 of them; this takes milliseconds
        expect(performance.now() - started).toBeLessThan(2_000);
        const expected = all.filter((r) => referenceLike(`%${tail}`, value(r), false));
        expect({ filter, runs: runNumbers(found) }).toEqual({ filter, runs: runNumbers(expected) });
      }
    }
    expect(
      runNumbers(await exp.runs({ filter: `attributes.status LIKE '${'%'.repeat(count)}D'` })),
    ).toHaveLength(all.filter((r) => r.status === 'FAILED' || r.status === 'STOPPED').length);
  });
});
