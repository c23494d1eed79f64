/**
 * Issue 14, point 3: `impliedRun` (omega-ml's `OmegaTrackingProxy(…, implied_run=True)`). With
 * `om.runtime.experiment(name, { impliedRun: false })`, `run(fn)` and `enter()` join the latest run
 * if it is STARTED, start one only when there is none, and stop only a run they started — what a
 * runtime worker does with the client's run. Client and worker are two `om` on one SQLite file.
 */
import type { Omega } from 'omega-track';
import { TrackingInputError } from 'omega-track';
import type { ParityStore } from './parityStore';
import { parityStore } from './parityStore';

describe('impliedRun: false', () => {
  let s: ParityStore;
  let worker: Omega;
  beforeEach(() => {
    s = parityStore();
    worker = s.open();
  });
  afterEach(() => s.close());

  const summary = async (name: string): Promise<Array<[number, string]>> =>
    (await s.om.runtime.experiment(name).runs()).map((r) => [r.run, r.status]);

  test("run(fn) joins the client's STARTED run and leaves it running", async () => {
    const client = s.om.runtime.experiment('job');
    const clientRun = await client.start();
    client.logMetric('client', 1);
    const result = await worker.runtime.experiment('job', { impliedRun: false }).run(async (w) => {
      w.logMetric('worker', 2);
      return w.currentRun;
    });
    expect(result).toBe(clientRun);
    expect(await summary('job')).toEqual([[1, 'STARTED']]);
    client.logMetric('client-after', 3);
    await client.stop();
    const rows = await client.data({ run: 'all', event: 'metric' });
    expect(rows.map((r) => [r.run, r.key])).toEqual([
      [1, 'client'],
      [1, 'worker'],
      [1, 'client-after'],
    ]);
    expect(await summary('job')).toEqual([[1, 'STOPPED']]);
  });

  test('enter() joins the STARTED run; disposing it flushes and does not stop the run', async () => {
    const client = s.om.runtime.experiment('entered');
    await client.start();
    {
      await using w = await worker.runtime.experiment('entered', { impliedRun: false }).enter();
      w.logParam('lr', 0.1);
    }
    expect(await summary('entered')).toEqual([[1, 'STARTED']]);
    // the disposal flushed: the client sees the worker's param at once
    expect((await client.data({ event: 'param' })).map((r) => [r.run, r.key])).toEqual([[1, 'lr']]);
    await client.stop();
  });

  test('with no run, or the latest STOPPED, it starts a run of its own and stops it', async () => {
    const w = worker.runtime.experiment('own', { impliedRun: false });
    await w.run((e) => e.logMetric('m', 1));
    expect(await summary('own')).toEqual([[1, 'STOPPED']]);
    await w.run((e) => e.logMetric('m', 2));
    {
      await using _entered = await w.enter();
    }
    expect(await summary('own')).toEqual([
      [1, 'STOPPED'],
      [2, 'STOPPED'],
      [3, 'STOPPED'],
    ]);
  });

  test('an error in fn leaves a joined run STARTED; a run it started stops as FAILED', async () => {
    const client = s.om.runtime.experiment('errors');
    await client.start();
    const w = worker.runtime.experiment('errors', { impliedRun: false });
    await expect(w.run(() => Promise.reject(new Error('task broke')))).rejects.toThrow('task broke');
    expect(await summary('errors')).toEqual([[1, 'STARTED']]);
    await client.stop();
    await expect(w.run(() => Promise.reject(new Error('again')))).rejects.toThrow('again');
    expect(await summary('errors')).toEqual([
      [1, 'STOPPED'],
      [2, 'FAILED'],
    ]);
    const [stop] = await client.data({ run: 2, event: 'stop' });
    expect(stop.value).toMatchObject({ status: 'FAILED', error: expect.stringContaining('again') });
  });

  test('a run(fn) inside run(fn) joins the enclosing run instead of starting a child run', async () => {
    const w = s.om.runtime.experiment('nested', { impliedRun: false });
    await w.run(async () => {
      await w.run((e) => e.logMetric('inner', 1));
      w.logMetric('outer', 1);
    });
    const rows = await w.data({ run: 'all', event: 'metric' });
    expect(rows.map((r) => [r.run, r.key])).toEqual([
      [1, 'inner'],
      [1, 'outer'],
    ]);
    expect(await summary('nested')).toEqual([[1, 'STOPPED']]);
  });

  test('the default (impliedRun: true) still starts and stops a run of its own', async () => {
    const client = s.om.runtime.experiment('implied');
    await client.start();
    await worker.runtime.experiment('implied').run((e) => e.logMetric('m', 1));
    expect(await summary('implied')).toEqual([
      [1, 'STARTED'],
      [2, 'STOPPED'],
    ]);
    await client.stop();
  });

  test('impliedRun is an option of the handle: never stored with the experiment, and must be a boolean', async () => {
    const w = s.om.runtime.experiment('opts', { impliedRun: false, maxBuffer: 5 });
    expect(w.impliedRun).toBe(false);
    await w.run(() => undefined);
    const config = await s.om.experiments.get('opts');
    expect(config?.options.maxBuffer).toBe(5);
    expect(config?.options).not.toHaveProperty('impliedRun');
    expect(s.om.runtime.experiment('opts').impliedRun).toBe(true);
    expect(() => s.om.runtime.experiment('opts', { impliedRun: 'no' as never })).toThrow(TrackingInputError);
  });
});
