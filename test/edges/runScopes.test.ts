import { omega } from 'omega-track';
import type { Omega } from '@omega-track/core';
import { sleep } from '../helpers/tmp';

/** Runs on one handle: nested run(fn) are child runs, concurrent run(fn)s each keep their own run. */
describe('runs on one handle', () => {
  let om: Omega;
  beforeEach(() => (om = omega({ store: 'memory:' })));
  afterEach(() => om.close());

  const metricsByRun = async (name: string): Promise<Record<number, string[]>> => {
    const out: Record<number, string[]> = {};
    for (const r of await om.runtime.experiment(name).data({ run: 'all', event: 'metric' }))
      (out[r.run] ??= []).push(r.key);
    return out;
  };

  test('a run(fn) inside another is a child run; the outer run goes on after it and is stopped', async () => {
    const exp = om.runtime.experiment('nested');
    await exp.run(async (o) => {
      o.logMetric('before', 1);
      await exp.run(async (i) => {
        await sleep(5);
        i.logMetric('inner', 1);
        exp.logMetric('inner-outer-handle', 1); // through the outer handle: still the inner run
      });
      o.logMetric('after', 1);
      exp.logMetric('after-handle', 1);
    });
    expect(await metricsByRun('nested')).toEqual({
      1: ['before', 'after', 'after-handle'],
      2: ['inner', 'inner-outer-handle'],
    });
    const runs = await exp.runs();
    expect(runs.map((r) => [r.run, r.status, r.parent])).toEqual([
      [1, 'STOPPED', undefined],
      [2, 'STOPPED', 1],
    ]);
    // the handle's current run is the outer one again
    expect(exp.currentRun).toBe(1);
  });

  test('concurrent run(fn)s each get their own run, across awaits', async () => {
    const exp = om.runtime.experiment('concurrent');
    const work = (tag: string, delay: number) => async (e: typeof exp) => {
      for (let i = 0; i < 5; i++) {
        e.logMetric(tag, i, i);
        await sleep(delay);
        exp.logParam(`${tag}-${i}`, i);
      }
    };
    await Promise.all([exp.run(work('a', 3)), exp.run(work('b', 2)), exp.run(work('c', 1))]);
    const byRun = await metricsByRun('concurrent');
    const keys = Object.values(byRun).map((ks) => [...new Set(ks)]);
    expect(keys.sort()).toEqual([['a'], ['b'], ['c']]);
    for (const run of await exp.runs()) {
      expect(run.status).toBe('STOPPED');
      expect(run.parent).toBeUndefined();
      const params = await exp.data({ run: run.run, event: 'param' });
      const tag = byRun[run.run][0];
      expect(params.map((p) => p.key)).toEqual([0, 1, 2, 3, 4].map((i) => `${tag}-${i}`));
    }
  });

  test('a failing child run is FAILED, its parent goes on and stops normally', async () => {
    const exp = om.runtime.experiment('failing-child');
    await exp.run(async () => {
      await expect(
        exp.run(async () => {
          throw new Error('child broke');
        }),
      ).rejects.toThrow('child broke');
      exp.logMetric('after', 1);
    });
    const runs = await exp.runs();
    expect(runs.map((r) => [r.run, r.status, r.parent])).toEqual([
      [1, 'STOPPED', undefined],
      [2, 'FAILED', 1],
    ]);
    expect(await metricsByRun('failing-child')).toEqual({ 1: ['after'] });
  });
});
