/**
 * Issue 9, points 2 and 6: readers that stay up when a stored row has a time no Date can hold,
 * and summary() computed column by column (count and finite reported apart), giving the same
 * figures as the row path it replaces.
 */
import type { EventLog, MetricSummary, PendingEvent } from '@omega-track/core';
import type { ResolvedQuery } from '@omega-track/core';
import { quantile, startEvent, summarize, summarizeLog } from '@omega-track/core/internal';
import type { Omega } from 'omega-track';
import { TrackingInputError } from 'omega-track';
import { omegaPerTest } from '../helpers/omegaPerTest';

/** The same event log without its columnar reader: what the row fallback runs on. */
function withoutColumns(log: EventLog): EventLog {
  return {
    startRun: (...a) => log.startRun(...a),
    appendEvents: (...a) => log.appendEvents(...a),
    queryEvents: (...a) => log.queryEvents(...a),
    iterateEvents: (...a) => log.iterateEvents(...a),
    latestRun: (...a) => log.latestRun(...a),
    deleteEvents: (...a) => log.deleteEvents(...a),
  };
}

/** A deterministic pseudo-random sequence (no dependence on Math.random in assertions). */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Figures of two summaries equal up to floating-point rounding (values are added in another order). */
function expectSameSummaries(actual: MetricSummary[], expected: MetricSummary[]): void {
  expect(actual.map((s) => [s.run, s.event, s.key, s.count, s.finite])).toEqual(
    expected.map((s) => [s.run, s.event, s.key, s.count, s.finite]),
  );
  actual.forEach((s, i) => {
    const e = expected[i];
    for (const field of ['min', 'p25', 'p50', 'p75', 'max'] as const) expect(s[field]).toBe(e[field]);
    for (const field of ['mean', 'std'] as const)
      if (Number.isNaN(e[field])) expect(s[field]).toBeNaN();
      else expect(s[field]).toBeCloseTo(e[field], 9);
    if (typeof e.last === 'number' && Number.isNaN(e.last)) expect(s.last).toBeNaN();
    else expect(s.last).toBe(e.last);
    expect(s.duration).toBe(e.duration);
  });
}

describe('summary() and readers at the edges', () => {
  const fresh = omegaPerTest();
  let om: Omega;
  beforeEach(() => (om = fresh.om()));

  test('a stored time no Date can hold reads back as an invalid Date; data, runs and summary do not throw', async () => {
    const start = startEvent();
    await om.store.startRun('bad-dt', start);
    const row = (value: unknown, dt: number, event = 'metric'): PendingEvent => ({
      ...start,
      run: 1,
      event,
      key: event === 'stop' ? 'stop' : 'loss',
      value,
      step: null,
      dt,
    });
    // written straight into the store, past the validation of the recording calls
    await om.store.appendEvents('bad-dt', [
      row(1, start.dt + 1),
      row(2, 8.64e15 + 1),
      row(3, 1e300),
      row(4, -8.64e15 - 1),
      row(5, NaN),
      row(6, start.dt + 2),
      row({ status: 'STOPPED' }, 1e300, 'stop'),
    ]);
    // a second run whose start itself has such a time
    await om.store.startRun('bad-dt', { ...start, dt: 1e300 });
    await om.store.appendEvents('bad-dt', [{ ...row(7, start.dt + 3), run: 2 }]);
    const exp = om.runtime.experiment('bad-dt');

    const rows = await exp.data({ run: 'all' });
    expect(rows).toHaveLength(10);
    const invalid = rows.filter((r) => Number.isNaN(r.dt.getTime()));
    expect(invalid.map((r) => r.value)).toEqual([2, 3, 4, 5, { status: 'STOPPED' }, null]);
    // valid times first, in time order; the invalid ones after them, in logging order
    expect(rows.slice(0, 4).map((r) => r.value)).toEqual([null, 1, 6, 7]);
    expect(() => JSON.stringify(rows)).not.toThrow();
    // iterate() gives the same rows, in the same order, none left behind
    const batches: unknown[] = [];
    for await (const batch of exp.iterate({ run: 'all' }, { batchSize: 3 }))
      batches.push(...batch.map((r) => r.value));
    expect(batches).toEqual(rows.map((r) => r.value));
    expect(await exp.data({ run: 1, since: new Date(0) })).toHaveLength(3);

    const runs = await exp.runs();
    expect(runs.map((r) => [r.run, r.status])).toEqual([
      [1, 'STOPPED'],
      [2, expect.stringMatching(/STARTED|CRASHED/)],
    ]);
    // no Invalid Date is handed on to whoever formats runs: the unknown time is undefined
    expect(runs[0].started).toEqual(new Date(start.dt));
    expect(runs[0].stopped).toBeUndefined();
    expect(runs[0].duration).toBeUndefined();
    expect(runs[1].started).toBeUndefined();
    expect(runs[1].duration).toBeUndefined();
    for (const r of runs)
      for (const d of [r.started, r.stopped]) if (d) expect(() => d.toISOString()).not.toThrow();

    const [s1, s2] = await exp.summary({ run: 'all' });
    expect(s1).toMatchObject({
      run: 1,
      key: 'loss',
      count: 6,
      finite: 6,
      min: 1,
      max: 6,
      duration: undefined,
    });
    // the latest by time: invalid times sort last, so the last of them, as data() orders them
    expect(s1.last).toBe(5);
    expect(s2).toMatchObject({ run: 2, count: 1, last: 7 });
    const rowPath = summarize(
      rows.filter((r) => r.event === 'metric'),
      runs,
    );
    expectSameSummaries([s1, s2], rowPath);
  });

  test('count counts every numeric value, finite the ones the statistics use', async () => {
    const exp = om.runtime.experiment('nonfinite');
    await exp.run((e) => {
      for (const v of [NaN, Infinity, -Infinity, 1]) e.logMetric('m', v);
      for (const v of [NaN, Infinity]) e.logMetric('none', v);
      e.logMetric('text', 'not a number');
    });
    const byKey = Object.fromEntries((await exp.summary({ run: 1 })).map((s) => [s.key, s]));
    expect(byKey.m).toMatchObject({ count: 4, finite: 1, mean: 1, std: 0, min: 1, max: 1, p50: 1, last: 1 });
    expect(byKey.none).toMatchObject({ count: 2, finite: 0, last: Infinity });
    for (const field of ['mean', 'std', 'min', 'p25', 'p50', 'p75', 'max'] as const)
      expect(byKey.none[field]).toBeNaN();
    expect(byKey.text).toBeUndefined(); // a key with no numeric value has no statistics
    // the row path (event logs without a columnar reader, e.g. MLflow's) reports the same
    const query: ResolvedQuery = { runs: [1], events: ['metric'] };
    const runs = await exp.runs();
    const rows = await summarizeLog(withoutColumns(om.store), 'nonfinite', query, runs);
    expectSameSummaries(await exp.summary({ run: 1 }), rows);
  });

  test('the columnar summary gives the figures of the row path, for every kind of query', async () => {
    const next = lcg(7);
    const exp = om.runtime.experiment('same');
    const t0 = Date.now() - 100_000;
    for (let run = 1; run <= 3; run++) {
      await exp.run((e) => {
        for (let i = 0; i < 9000; i++) {
          const r = next();
          // repeated values, non-finite ones, and some that are not numbers at all
          const value =
            r < 0.02 ? NaN : r < 0.03 ? -Infinity : r < 0.04 ? 'text' : Math.round(next() * 50) / 5 - 3;
          const key = ['loss', 'acc', 'lr'][i % 3];
          e.logMetric(key, value, { step: i, dt: t0 + Math.floor(i / 2), phase: i % 2 ? 'batch' : 'epoch' });
        }
        e.logEvent('profile', 'cpu_load', 12.5, { step: 1 });
        e.logParam('lr', 0.1);
      });
    }
    const store = om.store;
    const runs = await exp.runs();
    const queries: ResolvedQuery[] = [
      { events: ['metric'] },
      { events: ['metric', 'profile'] },
      { runs: [2], events: ['metric'] },
      { runs: { from: 2, to: 3 }, events: ['metric'], keys: ['acc'] },
      { events: ['metric'], steps: [0, 1, 2, 3, 4, 5, 100, 8999] },
      { events: ['metric'], since: t0 + 1000, end: t0 + 3000 },
      { events: ['metric'], extras: { phase: ['batch'] } },
      { events: ['param'] },
      { events: ['nothing'] },
    ];
    for (const query of queries) {
      const columns = await summarizeLog(store, 'same', query, runs);
      const rows = await summarizeLog(withoutColumns(store), 'same', query, runs);
      expectSameSummaries(columns, rows);
      if (query.events?.[0] === 'metric') expect(columns.length).toBeGreaterThan(0);
    }
    // limit/offset are a window over rows sorted by time: summary takes the row path for them
    const windowed = await exp.summary({ run: 1, limit: 10, offset: 5 });
    expect(windowed.reduce((n, s) => n + s.count, 0)).toBeLessThanOrEqual(10);
  });

  test('quartiles by selection equal those of a full sort, also on inputs that defeat naive pivots', async () => {
    const n = 2001;
    const inputs: Record<string, number[]> = {
      sorted: Array.from({ length: n }, (_, i) => i),
      reversed: Array.from({ length: n }, (_, i) => n - i),
      equal: Array.from({ length: n }, () => 3),
      organPipe: Array.from({ length: n }, (_, i) => Math.min(i, n - i)),
      fewDistinct: Array.from({ length: n }, (_, i) => (i * 7) % 3),
      even: [4, 1, 3, 2],
      single: [42],
      signedZeros: [-0, 0, -0, 0, 1e-300, -1e-300],
      huge: [1.7e308, 1.7e308, -1.7e308, 1.7e308],
    };
    const exp = om.runtime.experiment('quartiles');
    await exp.run((e) => {
      for (const [key, values] of Object.entries(inputs)) values.forEach((v, i) => e.logMetric(key, v, i));
    });
    const byKey = Object.fromEntries((await exp.summary({ run: 1 })).map((s) => [s.key, s]));
    for (const [key, values] of Object.entries(inputs)) {
      const sorted = [...values].sort((a, b) => a - b);
      const quartiles = {
        p25: quantile(sorted, 0.25),
        p50: quantile(sorted, 0.5),
        p75: quantile(sorted, 0.75),
      };
      // == so that -0 and 0 are one value (selection and sorting may meet either first)
      const same = (['p25', 'p50', 'p75'] as const).every((f) => byKey[key][f] == quartiles[f]);
      expect({ key, same }).toEqual({ key, same: true });
      expect(byKey[key].min).toBe(sorted[0]);
      expect(byKey[key].max).toBe(sorted[sorted.length - 1]);
    }
    // values near the largest double do not overflow the mean or the deviation
    expect(byKey.huge.mean / 8.5e307).toBeCloseTo(1, 12);
    expect(byKey.huge.std / 1.7e308).toBeCloseTo(1, 12); // deviations 0.85, 0.85, -2.55, 0.85 (e308)
    expect(byKey.huge.p25 / 8.5e307).toBeCloseTo(1, 12);
  });

  test('last is the latest value by time, ties to the one logged later', async () => {
    const exp = om.runtime.experiment('last');
    const t = Date.now() - 10_000;
    await exp.run((e) => {
      e.logMetric('a', 1, { dt: t + 3 });
      e.logMetric('a', 2, { dt: t + 1 });
      e.logMetric('b', 1, { dt: t + 5 });
      e.logMetric('b', 2, { dt: t + 5 });
    });
    const byKey = Object.fromEntries((await exp.summary({ run: 1 })).map((s) => [s.key, s.last]));
    expect(byKey).toEqual({ a: 1, b: 2 });
  });

  test('queryColumns: typed columns per chunk, filtered, in logging order; no limit/offset', async () => {
    const exp = om.runtime.experiment('columns');
    await exp.run((e) => {
      // 10,000 of each key: more than one chunk's worth each (a chunk holds 4,096 events)
      for (let i = 0; i < 20_000; i++) e.logMetric(i % 2 ? 'loss' : 'acc', i, i);
      e.logEvent('custom', 'note', 'text');
      e.logEvent('custom', 'n', 7);
    });
    const read = async (query: ResolvedQuery) => {
      const out = [];
      for await (const batch of om.store.queryColumns!('columns', query)) out.push(batch);
      return out;
    };
    const loss = await read({ events: ['metric'], keys: ['loss'] });
    expect(loss.length).toBeGreaterThan(1); // one batch per stored chunk
    for (const b of loss) {
      expect(b.values).toBeInstanceOf(Float64Array);
      expect(b.step).toBeInstanceOf(Float64Array);
      expect(b.dt).toBeInstanceOf(Float64Array);
      expect(b.values.length).toBe(b.length);
      expect([...b.key].every((k) => b.names[k] === 'loss')).toBe(true);
      // the last chunk also holds a text value: its mask says which values are numbers
      expect(b.numeric === undefined || b.numeric.every((x) => x === 1)).toBe(true);
    }
    const values = loss.flatMap((b) => [...b.values]);
    expect(values).toEqual(Array.from({ length: 10_000 }, (_, i) => 2 * i + 1));
    const custom = await read({ events: ['custom'] });
    const flat = custom.flatMap((b) => [...b.values].map((v, i) => [b.names[b.key[i]], b.numeric?.[i], v]));
    expect(flat).toEqual([
      ['note', 0, NaN],
      ['n', 1, 7],
    ]);
    await expect(read({ events: ['metric'], limit: 10 })).rejects.toThrow(TrackingInputError);
  });
});
