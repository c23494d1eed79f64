/**
 * What values a filter compares (issue 19, points 7 and 8): text reads as a number only in
 * decimal syntax, NaN is unequal to every number (`!=` and `NOT IN` agree), number literals that
 * overflow are refused, and times are ms since the epoch or ISO 8601 dates, nothing else.
 */
import type { Omega, RunInfo } from 'omega-track';
import { FilterSyntaxError, TrackingInputError, omega } from 'omega-track';
import { decimalNumber, filterTime, parseRunFilter } from 'omega-track/internal';
import type { Exp } from './helpers';
import { runNumbers } from './helpers';

/** The error `parseRunFilter(text)` throws; fails the test when it parses. */
function filterError(text: string): FilterSyntaxError {
  try {
    parseRunFilter(text);
  } catch (error) {
    return error as FilterSyntaxError;
  }
  throw new Error(`${JSON.stringify(text)} parsed`);
}

/**
 * 1: a one-emoji tag, text params that `Number()` reads as numbers but are not in decimal syntax,
 * a NaN metric; 2: numbers; 3: numbers as decimal text; 4: text that is no number at all.
 */
async function build(exp: Exp): Promise<void> {
  await exp.start({ tags: { t: '😀' } });
  exp.logParams({ p: '0x10', q: 'Infinity', r: 'NaN', s: ' 16', u: '1e999' });
  exp.logMetric('m', NaN);
  await exp.stop();

  await exp.start({ tags: { t: 'ab' } });
  exp.logParams({ p: 16, q: 1.5, r: 0, s: 16, u: 7 });
  exp.logMetric('m', 5);
  await exp.stop();

  await exp.start({ tags: { t: 'x' } });
  exp.logParams({ p: '16', q: '2e3', r: '-0.5', s: '1.6e1', u: '.5' });
  exp.logMetric('m', 4);
  await exp.stop();

  await exp.start({ tags: { t: '👍🏽' } });
  exp.logParams({ p: 'sixteen', q: '', r: 'abc', s: '16 ', u: '+7' });
  exp.logMetric('m', 6);
  await exp.stop();
}

describe('filter values (memory: store)', () => {
  let om: Omega;
  let exp: Exp;
  let all: RunInfo[];
  beforeAll(async () => {
    om = omega({ store: 'memory:' });
    exp = om.runtime.experiment('values');
    await build(exp);
    all = await exp.runs();
  });
  afterAll(async () => om.close());

  const found = async (filter: string) => runNumbers(await exp.runs({ filter }));

  test('the experiment is as built', () => {
    expect(all.map((r) => r.run)).toEqual([1, 2, 3, 4]);
    expect(all[0].metrics?.m.last).toBeNaN();
    expect(all.map((r) => r.params?.p)).toEqual(['0x10', 16, '16', 'sixteen']);
  });

  test.each([
    // '_' is one character: an emoji is one, a thumb with its skin tone two
    ["tags.t LIKE '_'", [1, 3]],
    ["tags.t LIKE '__'", [2, 4]],
    ["tags.t ILIKE '_'", [1, 3]],
    // text is a number only in decimal syntax: not '0x10', 'Infinity', 'NaN', ' 16', '' or '1e999'
    ['params.p = 16', [2, 3]],
    ['params.p >= 16', [2, 3]],
    ['params.p IN (16, 17)', [2, 3]],
    ['params.q > 1e308', []],
    ['params.q > 1', [2, 3]],
    ['params.q < 1e308', [2, 3]],
    ['params.r < 1', [2, 3]],
    ['params.s = 16', [2, 3]],
    ['params.u > 1', [2, 4]],
    ['params.u < 1', [3]],
    ['params.u = 7', [2, 4]],
    ["params.p = '0x10'", [1]],
    ["params.q = 'Infinity'", [1]],
    // NaN is unequal to every number: != and NOT IN take it; = < <= > >= IN do not
    ['metrics.m != 5', [1, 3, 4]],
    ['metrics.m NOT IN (5)', [1, 3, 4]],
    ['metrics.m NOT IN (5, 6)', [1, 3]],
    ['metrics.m = 5', [2]],
    ['metrics.m IN (4, 5)', [2, 3]],
    ['metrics.m < 5', [3]],
    ['metrics.m >= 5', [2, 4]],
    ['metrics.m > -1e308', [2, 3, 4]],
    // text that is no number is unequal to a number too
    ['params.p != 16', [1, 4]],
    ['params.p NOT IN (16)', [1, 4]],
  ])('%s', async (filter, expected) => {
    expect(await found(filter)).toEqual(expected);
  });

  test('!= and NOT IN of one value agree on every field, NaN and text that is no number included', async () => {
    const literals = ['5', '16', '0', '-0.5', '1.5', "'16'", "'0x10'", "'Infinity'", "'NaN'", "'😀'"];
    for (const field of ['metrics.m', 'params.p', 'params.q', 'params.r', 'params.s', 'params.u', 'tags.t']) {
      for (const literal of literals) {
        if (field.startsWith('metrics') && literal.startsWith("'")) continue;
        const ne = await found(`${field} != ${literal}`);
        const notIn = await found(`${field} NOT IN (${literal})`);
        const eq = await found(`${field} = ${literal}`);
        expect({ field, literal, ne }).toEqual({ field, literal, ne: notIn });
        // and != is exactly not = (every run has every field)
        expect({ field, literal, ne }).toEqual({
          field,
          literal,
          ne: [1, 2, 3, 4].filter((r) => !eq.includes(r)),
        });
      }
    }
  });

  test.each([
    'metrics.m > 1e999999',
    'metrics.m < -1e999999',
    'params.p IN (1, 2e308)',
    'attributes.start_time > 1e400',
  ])('a number that overflows is a FilterSyntaxError at it: %s', (text) => {
    const error = filterError(text);
    expect(error).toBeInstanceOf(FilterSyntaxError);
    expect(error).toBeInstanceOf(TrackingInputError);
    expect(text.slice(error.position)).toMatch(/^-?\d/);
    expect(error.message).toMatch(/expected a number from -1\.79\d*e\+308 to 1\.79\d*e\+308/);
  });

  test('decimalNumber: decimal syntax only, finite', () => {
    expect(['16', '-0.5', '+7', '.5', '5.', '1e-3', '1.6E1'].map(decimalNumber)).toEqual([
      16, -0.5, 7, 0.5, 5, 0.001, 16,
    ]);
    for (const text of [
      '0x10',
      '0b1',
      'Infinity',
      '-Infinity',
      'NaN',
      '',
      ' ',
      ' 16',
      '16 ',
      '1e999',
      '1,5',
      '1_000',
      '.',
    ])
      expect({ text, n: decimalNumber(text) }).toEqual({ text, n: undefined });
    // a long run of digits followed by a letter is answered at once (no backtracking)
    const started = performance.now();
    expect(decimalNumber(`${'1'.repeat(1_000_000)}x`)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('time attributes: ms since the epoch or an ISO 8601 date, nothing else', () => {
  let om: Omega;
  let exp: Exp;
  let all: RunInfo[];
  beforeAll(async () => {
    om = omega({ store: 'memory:' });
    exp = om.runtime.experiment('times');
    for (let i = 0; i < 3; i++) {
      await exp.start();
      await new Promise((resolve) => setTimeout(resolve, 5));
      await exp.stop();
    }
    all = await exp.runs();
  });
  afterAll(async () => om.close());

  const found = async (filter: string) => runNumbers(await exp.runs({ filter }));

  test('a quoted number of ms compares as the unquoted one', async () => {
    for (const r of all) {
      const t = r.started!.getTime();
      expect(await found(`attributes.start_time >= '${t}'`)).toEqual(
        await found(`attributes.start_time >= ${t}`),
      );
      expect(await found(`attributes.start_time = '${t}'`)).toEqual([r.run]);
      const end = r.stopped!.getTime();
      expect(await found(`attributes.end_time <= '${end}'`)).toEqual(
        runNumbers(all.filter((x) => x.stopped!.getTime() <= end)),
      );
    }
    expect(filterTime('1796630073904')).toBe(1796630073904);
    expect(filterTime('-100000000')).toBe(-100000000);
  });

  test('an ISO date-time with Z or an offset is that instant; a date alone is its midnight UTC', async () => {
    const r = all[1];
    const t = r.started!.getTime();
    // the same instant written in UTC+05:30 and UTC-08:00
    const inZone = (offsetMinutes: number) => {
      const local = new Date(t + offsetMinutes * 60_000).toISOString().slice(0, 23);
      const sign = offsetMinutes < 0 ? '-' : '+';
      const abs = Math.abs(offsetMinutes);
      return `${local}${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
    };
    for (const iso of [r.started!.toISOString(), inZone(330), inZone(-480)]) {
      expect({ iso, runs: await found(`attributes.start_time = '${iso}'`) }).toEqual({ iso, runs: [r.run] });
      expect(filterTime(iso)).toBe(t);
    }
    const day = r.started!.toISOString().slice(0, 10);
    const midnight = Date.parse(`${day}T00:00:00Z`);
    expect(filterTime(day)).toBe(midnight);
    expect(await found(`attributes.start_time >= '${day}'`)).toEqual(
      runNumbers(all.filter((x) => x.started!.getTime() >= midnight)),
    );
    expect(filterTime('2026-12-07')).toBe(Date.UTC(2026, 11, 7));
    expect(filterTime('2026-12-07T10:00:00Z')).toBe(Date.UTC(2026, 11, 7, 10));
    expect(filterTime('2026-12-07T10:00Z')).toBe(Date.UTC(2026, 11, 7, 10));
    expect(filterTime('2026-12-07T10:00:00.25+01:00')).toBe(Date.UTC(2026, 11, 7, 9, 0, 0, 250));
    expect(filterTime('2026-12-07T10:00:00-0130')).toBe(Date.UTC(2026, 11, 7, 11, 30));
    expect(filterTime('2024-02-29')).toBe(Date.UTC(2024, 1, 29));
  });

  test.each([
    '12',
    '2026',
    '20261207',
    'March 7',
    'Tue Dec 08 2026',
    'Tue Dec 08 2026 10:00:00 GMT+0100',
    '2026-12-07T10:00',
    '2026-12-07T10:00:00',
    '2026-12-07 10:00:00Z',
    '2026-02-30',
    '2025-02-29',
    '2026-13-01',
    '2026-12-07T24:00:00Z',
    '2026-12-07T10:60:00Z',
    '2026-12',
    '',
    ' 1796630073904',
    '1796630073904.5',
    'yesterday',
  ])('%j is refused, naming the forms accepted', (value) => {
    expect(filterTime(value)).toBeUndefined();
    const text = `attributes.start_time > '${value}'`;
    const error = filterError(text);
    expect(error).toBeInstanceOf(FilterSyntaxError);
    expect(error).toBeInstanceOf(TrackingInputError);
    expect(error.position).toBe(24);
    expect(error.message).toContain('ms since the epoch or an ISO date');
    expect(error.message).toContain("'1796630073904'");
    expect(error.message).toContain("'2026-12-07'");
    expect(error.message).toContain("'2026-12-07T10:00:00Z'");
    expect(error.message).toMatch(/\+01:00/);
    expect(() => parseRunFilter(`attributes.end_time IN (1, '${value}')`)).toThrow(FilterSyntaxError);
  });
});
