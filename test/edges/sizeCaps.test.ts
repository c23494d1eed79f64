/**
 * Issue 19, point 6: tag and param values are capped as MLflow caps them (8,000 and 6,000
 * characters; a value that is not a text counts as its JSON text), and a run takes at most
 * MAX_TAGS_PER_RUN distinct tag keys from a handle. Every way of recording one is held to the caps,
 * at the call, with a TrackingInputError that names the cap, and nothing already logged is lost.
 */
import type { TrackingEvent } from '@omega-track/core';
import type { TrackingProvider } from 'omega-track';
import {
  MAX_PARAM_VALUE_LENGTH,
  MAX_TAGS_PER_RUN,
  MAX_TAG_VALUE_LENGTH,
  TrackingInputError,
} from 'omega-track';
import { omegaPerTest } from '../helpers/omegaPerTest';

type Exp = ReturnType<ReturnType<ReturnType<typeof omegaPerTest>['om']>['runtime']['experiment']>;

/** The events of every run as [run, event, key, value]. */
async function events(exp: Exp): Promise<Array<[number, string, string, unknown]>> {
  const rows: TrackingEvent[] = await exp.data({ run: 'all', event: ['tag', 'param', 'metric'] });
  return rows.map((e) => [e.run, e.event, e.key, e.value]);
}

/** Expects `call` to throw a TrackingInputError whose message names `cap`. */
function expectRefused(call: () => unknown, cap: RegExp): void {
  let error: unknown;
  try {
    call();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(TrackingInputError);
  expect((error as Error).message).toMatch(cap);
}

/** `n` keys `k0` … as an object of key → value. */
function keyed(n: number, prefix = 'k', value: unknown = 1): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) out[`${prefix}${i}`] = value;
  return out;
}

describe('size caps on tags and params', () => {
  const { om } = omegaPerTest();

  test('the caps are exported: 8,000 and 6,000 characters, 1,000 tag keys per run', () => {
    expect(MAX_TAG_VALUE_LENGTH).toBe(8000);
    expect(MAX_PARAM_VALUE_LENGTH).toBe(6000);
    expect(MAX_TAGS_PER_RUN).toBe(1000);
  });

  test('a tag value over 8,000 characters is refused by every way of setting a tag; what was set stays', async () => {
    const exp = om().runtime.experiment('tags');
    await exp.start({ tags: { kept: 'before' } });
    exp.logMetric('m', 1, 0);
    const longest = 'x'.repeat(MAX_TAG_VALUE_LENGTH);
    const over = longest + 'y';
    // text as JSON counts its JSON text: 2,001 items of "abc", → 12,006 characters
    const wideList = Array.from({ length: 2001 }, () => 'abc');
    const cap = /MAX_TAG_VALUE_LENGTH/;
    const provider: TrackingProvider = await exp.provider();
    const calls: Array<() => void> = [
      () => exp.setTag('t', over),
      () => exp.setTags({ fine: 'ok', t: over }),
      () => exp.setTag('t', wideList),
      () => exp.setTag('t', { text: longest }),
      () => exp.logEvent('tag', 't', over),
      () => exp.logEvents('tag', 't', ['ok', over]),
      () => provider.setTag('t', 'z'.repeat(5_000_000)),
    ];
    for (const call of calls) expectRefused(call, cap);
    expect(() => exp.setTag('t', over)).toThrow(`${MAX_TAG_VALUE_LENGTH}`);
    await expect(exp.start({ tags: { t: over } })).rejects.toThrow(cap);
    await expect(exp.run(async () => undefined, { tags: { t: over } })).rejects.toThrow(cap);
    // nothing of the refused calls was written, not even their good halves; the run goes on
    exp.setTag('t', longest);
    // characters, not UTF-16 units: 8,000 emoji are 16,000 units and still 8,000 characters
    exp.setTag('emoji', '😀'.repeat(MAX_TAG_VALUE_LENGTH));
    expectRefused(() => exp.setTag('emoji', '😀'.repeat(MAX_TAG_VALUE_LENGTH + 1)), cap);
    await exp.stop();
    expect(await events(exp)).toEqual([
      [1, 'tag', 'kept', 'before'],
      [1, 'metric', 'm', 1],
      [1, 'tag', 't', longest],
      [1, 'tag', 'emoji', '😀'.repeat(MAX_TAG_VALUE_LENGTH)],
    ]);
    const runs = await exp.runs();
    expect(runs.map((r) => r.run)).toEqual([1]);
    expect(runs[0].tags).toEqual({ kept: 'before', t: longest, emoji: '😀'.repeat(MAX_TAG_VALUE_LENGTH) });
  });

  test('a param value over 6,000 characters (as JSON when it is no text) is refused; logParams all or none', async () => {
    const exp = om().runtime.experiment('params');
    await exp.start();
    exp.logParam('kept', 'before');
    const longest = 'p'.repeat(MAX_PARAM_VALUE_LENGTH);
    const over = longest + 'q';
    const cap = /MAX_PARAM_VALUE_LENGTH/;
    const calls: Array<() => void> = [
      () => exp.logParam('p', over),
      () => exp.logParams({ fine: 1, p: over }),
      () =>
        exp.logParam(
          'p',
          Array.from({ length: 3000 }, (_, i) => i),
        ),
      () => exp.logParam('p', { layers: Array.from({ length: 1500 }, () => 'relu') }),
      () => exp.logEvent('param', 'p', over),
      () => exp.logEvents('param', 'p', [1, over]),
      () => exp.logParam('p', 'z'.repeat(5_000_000)),
    ];
    for (const call of calls) expectRefused(call, cap);
    // within the cap: accepted (the JSON text of this list is 5,996 characters)
    const list = Array.from({ length: 1199 }, () => 1234);
    expect(JSON.stringify(list).length).toBe(5996);
    exp.logParams({ p: longest, list });
    exp.logParam('n', 0.01);
    await exp.stop();
    expect(await events(exp)).toEqual([
      [1, 'param', 'kept', 'before'],
      [1, 'param', 'p', longest],
      [1, 'param', 'list', list],
      [1, 'param', 'n', 0.01],
    ]);
    expect((await exp.runs())[0].params).toEqual({ kept: 'before', p: longest, list, n: 0.01 });
    // events of other names are not capped here
    await exp.start();
    const long = 'u'.repeat(MAX_TAG_VALUE_LENGTH * 2);
    exp.logEvent('mine', 'k', long);
    exp.logEvents('mine', 'k', [long]);
    await exp.stop();
    expect((await exp.data({ event: 'mine' })).map((e) => e.value)).toEqual([long, long]);
  });

  test(`a run takes ${MAX_TAGS_PER_RUN} tag keys from a handle: the next key is refused, setting a known one again is not`, async () => {
    const exp = om().runtime.experiment('many-tags');
    await exp.start({ tags: keyed(10, 'start') });
    exp.setTags(keyed(MAX_TAGS_PER_RUN - 11));
    exp.setTag('last', 'fits');
    const cap = /MAX_TAGS_PER_RUN/;
    const calls: Array<() => void> = [
      () => exp.setTag('one-more', 1),
      () => exp.setTags({ k0: 'again', 'one-more': 1 }),
      () => exp.logEvent('tag', 'one-more', 1),
      () => exp.logEvents('tag', 'one-more', [1]),
    ];
    for (const call of calls) expectRefused(call, cap);
    // the same keys with new values are no new keys
    exp.setTags({ k0: 'again', start0: 'again' });
    exp.setTag('last', 'again');
    exp.logEvent('tag', 'k1', 'again');
    await exp.stop();
    const [run] = await exp.runs();
    expect(Object.keys(run.tags ?? {}).length).toBe(MAX_TAGS_PER_RUN);
    expect(run.tags).toMatchObject({ k0: 'again', k1: 'again', start0: 'again', last: 'again' });
    expect(run.tags).not.toHaveProperty('one-more');
    // the refused calls wrote nothing: every tag event is one of the accepted calls
    const tagEvents = await exp.data({ event: 'tag' });
    expect(tagEvents.length).toBe(MAX_TAGS_PER_RUN + 4);
    expect(tagEvents.some((e) => e.key === 'one-more')).toBe(false);

    // a new run has room for its own tags; so has a child run inside a full one
    await exp.run(
      async () => {
        exp.setTags(keyed(MAX_TAGS_PER_RUN));
        expectRefused(() => exp.setTag('one-more', 1), cap);
        await exp.run(async () => exp.setTags(keyed(MAX_TAGS_PER_RUN, 'child')));
      },
      { name: 'second' },
    );
    const runs = await exp.runs();
    expect(runs.map((r) => [r.run, r.parent, Object.keys(r.tags ?? {}).length])).toEqual([
      [1, undefined, MAX_TAGS_PER_RUN],
      [2, undefined, MAX_TAGS_PER_RUN],
      [3, 2, MAX_TAGS_PER_RUN],
    ]);
  });

  test('more tag keys than the cap at once are refused before a run starts', async () => {
    const exp = om().runtime.experiment('too-many-at-once');
    const cap = /MAX_TAGS_PER_RUN/;
    await expect(exp.start({ tags: keyed(MAX_TAGS_PER_RUN + 1) })).rejects.toThrow(cap);
    await expect(exp.run(async () => undefined, { tags: keyed(MAX_TAGS_PER_RUN + 1) })).rejects.toThrow(cap);
    expect(await exp.runs()).toEqual([]);
    await exp.start();
    expectRefused(() => exp.setTags(keyed(MAX_TAGS_PER_RUN + 1)), cap);
    await exp.stop();
    expect(await exp.data({ event: 'tag' })).toEqual([]);
  });

  test('the count is per handle: another handle joining the run (another process) counts its own keys', async () => {
    const first = om().runtime.experiment('joined');
    await first.start();
    first.setTags(keyed(MAX_TAGS_PER_RUN));
    await first.flush();
    expectRefused(() => first.setTag('more', 1), /MAX_TAGS_PER_RUN/);
    // as `omega-track tag` or a runtime worker would: a handle of its own, joining run 1
    const joiner = om().experiments.createProvider('joined', { provider: 'default', options: {} });
    try {
      await joiner.use(1);
      joiner.setTag('from-elsewhere', 1);
      await joiner.flush();
    } finally {
      await joiner.shutdown();
    }
    await first.stop();
    const [run] = await first.runs();
    expect(Object.keys(run.tags ?? {}).length).toBe(MAX_TAGS_PER_RUN + 1);
  });
});
