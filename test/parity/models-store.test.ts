/**
 * Issue 14, point 1: experiments live in the models store. `om.models.get('experiments/<name>')`
 * gives the experiment's handle, `om.models.put(provider or handle, 'experiments/<name>')` stores
 * its configuration (JSON, never code), and metadata, list and drop work on those entries.
 */
import type { Experiment } from 'omega-track';
import {
  OmegaProfilingTracker,
  OmegaSimpleTracker,
  OmegaTrackingProxy,
  TrackingInputError,
} from 'omega-track';
import { EXPERIMENT_KIND } from 'omega-track/internal';
import type { ParityStore } from './parityStore';
import { parityStore } from './parityStore';

describe('experiments in om.models', () => {
  let s: ParityStore;
  beforeEach(() => (s = parityStore()));
  afterEach(() => s.close());

  const logTwoRuns = async (name: string): Promise<void> => {
    const exp = s.om.runtime.experiment(name);
    await exp.run(async (e) => e.logMetric('acc', 0.5, 1));
    await exp.run(async (e) => e.logMetric('acc', 0.7, 2));
  };

  test("om.models.get('experiments/<name>') is the experiment's handle: data() gives its events", async () => {
    await logTwoRuns('myexp');
    const exp = await s.om.models.get<Experiment>('experiments/myexp');
    expect(exp).toBeInstanceOf(OmegaTrackingProxy);
    expect(exp.experiment).toBe('myexp');
    expect(await exp.provider()).toBeInstanceOf(OmegaSimpleTracker);
    // a handle without a current run reads every run, as om.runtime.experiment(name) does
    const rows = await exp.data({ event: 'metric' });
    expect(rows.map((r) => [r.run, r.key, r.value])).toEqual([
      [1, 'acc', 0.5],
      [2, 'acc', 0.7],
    ]);
    // it records like any handle: a third run
    await exp.run(async (e) => e.logMetric('acc', 0.9, 3));
    expect((await s.om.runtime.experiment('myexp').runs()).map((r) => r.run)).toEqual([1, 2, 3]);
  });

  test('the handle from another client of the same store reads the same experiment', async () => {
    await logTwoRuns('shared');
    const other = s.open();
    const exp = await other.models.get<Experiment>('experiments/shared');
    expect((await exp.data({ run: -1 })).filter((r) => r.event === 'metric')).toHaveLength(1);
  });

  test('an experiment name with a slash is found under experiments/<a>/<b>', async () => {
    await logTwoRuns('myapp/regmodel');
    const exp = await s.om.models.get<Experiment>('experiments/myapp/regmodel');
    expect(exp.experiment).toBe('myapp/regmodel');
    expect(await exp.data({ event: 'metric' })).toHaveLength(2);
  });

  test('put(provider, experiments/<name>) stores its configuration as JSON, and a handle of that name uses it', async () => {
    const source = s.om.runtime.experiment<OmegaProfilingTracker>('source', { provider: 'profiling' });
    source.profiler.interval = 2.5;
    source.maxBuffer = 4;
    const provider = await source.provider();
    const meta = await s.om.models.put(provider, 'experiments/copy');
    expect(meta.name).toBe('experiments/copy');
    expect(meta.kind).toBe(EXPERIMENT_KIND);
    const entry = await s.om.store.getEntry('models', 'experiments/copy');
    // JSON data only: what is stored survives a JSON round trip unchanged (no code, no class)
    expect(JSON.parse(JSON.stringify(entry?.attributes))).toEqual(entry?.attributes);
    const config = await s.om.experiments.get('copy');
    expect(config?.provider).toBe('profiling');
    expect(config?.options).toMatchObject({ maxBuffer: 4, profiler: { interval: 2.5 } });
    expect(config?.dataset).toBe('.experiments/copy');
    // the configuration is what a later handle of that name runs with
    const copy = await s.om.models.get<Experiment<OmegaProfilingTracker>>('experiments/copy');
    const copied = (await copy.provider()) as OmegaProfilingTracker;
    expect(copied).toBeInstanceOf(OmegaProfilingTracker);
    expect(copied.profiler.interval).toBe(2.5);
    expect(copied.maxBuffer).toBe(4);
    expect(await s.om.experiments.list()).toEqual(['copy', 'source']);
  });

  test('put(handle, <name>) stores under experiments/<name> and keeps attributes given with it', async () => {
    const exp = s.om.runtime.experiment('handle-exp', { maxBuffer: 7 });
    const meta = await s.om.models.put(exp, 'saved', { attributes: { owner: 'team-a' } });
    expect(meta.name).toBe('experiments/saved');
    expect((await s.om.experiments.get('saved'))?.options).toMatchObject({ maxBuffer: 7 });
    // settings saved later (exp.maxBuffer = …, persisted at start) keep the attributes
    const saved = await s.om.models.get<Experiment<OmegaSimpleTracker>>('experiments/saved');
    saved.maxBuffer = 9;
    await saved.run(() => undefined);
    const after = await s.om.models.metadata('experiments/saved');
    expect(after?.attributes.owner).toBe('team-a');
    expect((after?.attributes.tracking as { options: Record<string, unknown> }).options.maxBuffer).toBe(9);
  });

  test('a provider whose class is not registered, or an invalid experiment name, is refused', async () => {
    class Unregistered extends OmegaSimpleTracker {}
    const provider = await s.om.runtime.experiment('plain').provider();
    const stray = new Unregistered('stray', {
      store: s.om.store,
      models: s.om.models,
      datasets: s.om.datasets,
      options: {},
    });
    await expect(s.om.models.put(stray, 'experiments/stray')).rejects.toThrow(TrackingInputError);
    await expect(s.om.models.put(stray, 'experiments/stray')).rejects.toThrow(/not registered/);
    await stray.shutdown();
    await expect(s.om.models.put(provider, 'experiments/../x')).rejects.toThrow(TrackingInputError);
    expect(await s.om.models.list('experiments/')).toEqual(['experiments/plain']);
  });

  test('metadata and list show experiment entries', async () => {
    await logTwoRuns('listed');
    await s.om.models.put({ weights: [1, 2] }, 'mymodel');
    const meta = await s.om.models.metadata('experiments/listed');
    expect(meta?.kind).toBe(EXPERIMENT_KIND);
    expect((meta?.attributes.tracking as { provider: string }).provider).toBe('default');
    expect(await s.om.models.list()).toEqual(['experiments/listed', 'mymodel']);
    expect(await s.om.models.list('experiments/')).toEqual(['experiments/listed']);
  });

  test('drop needs { force: true } and then deletes the experiment with its events', async () => {
    await logTwoRuns('dropme');
    await expect(s.om.models.drop('experiments/dropme')).rejects.toThrow(TrackingInputError);
    // nothing went
    expect(await s.om.models.metadata('experiments/dropme')).toBeDefined();
    expect(await s.om.runtime.experiment('dropme').data({ event: 'metric' })).toHaveLength(2);
    expect(await s.om.models.drop('experiments/dropme', { force: true })).toBe(true);
    expect(await s.om.models.metadata('experiments/dropme')).toBeUndefined();
    expect(await s.om.experiments.list()).toEqual([]);
    expect(await s.om.store.latestRun('dropme')).toBeUndefined();
    expect(await s.om.models.drop('experiments/dropme', { force: true })).toBe(false);
  });

  test('other content cannot replace an experiment entry (its events would be orphaned)', async () => {
    await logTwoRuns('kept');
    await expect(s.om.models.put({ a: 1 }, 'experiments/kept')).rejects.toThrow(TrackingInputError);
    expect((await s.om.models.metadata('experiments/kept'))?.kind).toBe(EXPERIMENT_KIND);
  });

  test('a plain model entry under experiments/ is still read by its own backend, and is no experiment', async () => {
    await s.om.models.put({ a: 1 }, 'experiments/notes');
    expect(await s.om.models.get('experiments/notes')).toEqual({ a: 1 });
    expect(await s.om.experiments.list()).toEqual([]);
    expect(await s.om.models.drop('experiments/notes')).toBe(true);
  });
});
