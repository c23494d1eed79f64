/**
 * The omega-ml reference text (shared/seed/) as TypeScript: each snippet in the order the seed
 * gives it, one test, against the embedded SQLite store. Python's `with … as exp:` is
 * `await exp.run(async (exp) => …)`; snake_case names are camelCase.
 * `mymodel` is a plain linear model stored as JSON, run by a small custom model backend (the seed
 * uses a scikit-learn model; ours has no scikit-learn).
 */
import type { Experiment, Metadata, OmegaProfilingTracker, TaskInput } from 'omega-track';
import { ModelBackend, OmegaSimpleTracker, setDiagWriter } from 'omega-track';
import { collectDiag, sleep } from '../helpers/tmp';
import type { ParityStore } from './parityStore';
import { parityStore } from './parityStore';

/** y = x · coef, fitted by least squares on two features; score = R² (as scikit-learn's regressors). */
class LinearModelBackend extends ModelBackend<{ coef: number[] }> {
  override async fit(X: TaskInput, Y: TaskInput | undefined): Promise<Record<string, unknown>> {
    const x = X.values as number[][];
    const y = Y!.values as number[];
    // the normal equations of two features, solved directly
    const [a, b, c] = [0, 1, 2].map((k) =>
      x.reduce((s, r) => s + (k === 0 ? r[0] * r[0] : k === 1 ? r[0] * r[1] : r[1] * r[1]), 0),
    );
    const [d, e] = [0, 1].map((k) => x.reduce((s, r, i) => s + r[k] * y[i], 0));
    const det = a * c - b * b;
    this.model = { coef: [(d * c - b * e) / det, (a * e - b * d) / det] };
    return { coef: this.model.coef };
  }
  override async score(X: TaskInput, Y: TaskInput | undefined): Promise<number> {
    const x = X.values as number[][];
    const y = Y!.values as number[];
    const mean = y.reduce((s, v) => s + v, 0) / y.length;
    const predicted = x.map((r) => r[0] * this.model.coef[0] + r[1] * this.model.coef[1]);
    const residual = y.reduce((s, v, i) => s + (v - predicted[i]) ** 2, 0);
    const total = y.reduce((s, v) => s + (v - mean) ** 2, 0);
    return 1 - residual / total;
  }
}

describe('the omega-ml seed, translated', () => {
  let s: ParityStore;
  let diag: ReturnType<typeof collectDiag>;
  beforeEach(() => {
    s = parityStore();
    diag = collectDiag(setDiagWriter);
  });
  afterEach(async () => {
    diag.restore();
    await s.close();
  });

  test('every snippet runs, in order', async () => {
    const om = s.om;
    const X = [
      [1, 2],
      [3, 4],
    ];
    const Y = [1, 0];
    const value = 0.78;
    om.runtime.registerBackend('json', LinearModelBackend);
    await om.models.put({ coef: [0.5, 0.25] }, 'mymodel');

    // "To log metrics and other data"
    await om.runtime.experiment('myexp').run(async (exp) => {
      await om.runtime.model('mymodel').fit(X, Y);
      await om.runtime.model('mymodel').score(X, Y); // automatically log score result
      exp.logMetric('mymetric', value);
      exp.logParam('myparam', value);
      exp.logArtifact(X, 'X');
      exp.logArtifact(Y, 'Y');
      exp.logArtifact(await om.models.metadata('mymodel'), 'mymodel');
    });

    // "To log data and automatically profile system data"
    const profiled = om.runtime.experiment<OmegaProfilingTracker>('myexp', { provider: 'profiling' });
    // the seed's profiler settings (below), so a short run takes samples
    profiled.profiler.interval = 0.05;
    await profiled.run(async (exp) => {
      exp.logMetric('mymetric', value);
      exp.logParam('myparam', value);
      exp.logArtifact(X, 'X');
      exp.logArtifact(Y, 'Y');
      exp.logArtifact(await om.models.metadata('mymodel'), 'mymodel');
      // wait for a first sample (bounded; a count, not a time, is asserted)
      for (let i = 0; i < 400 && exp.profiler.nextStep === 0; i++) await sleep(25);
    });
    // omega-track switches the stored provider (omega-ml kept the first) and says so
    expect(diag.lines).toEqual([expect.stringContaining("switches from provider 'default' to 'profiling'")]);
    // "profiling data contains metrics for cpu, memory and disk use"
    const data = await profiled.data({ event: 'profile' });
    expect(data.length).toBeGreaterThan(0);
    expect(new Set(data.map((r) => r.run))).toEqual(new Set([2]));
    expect(data.map((r) => r.key)).toEqual(expect.arrayContaining(['cpu_load', 'memory_used', 'disk_use']));

    // "To get back experiment data without running an experiment" — recommended way
    {
      const exp = await om.runtime.experiment('myexp').use();
      const expDf = await exp.data();
      // use() joins the latest run if it is STARTED, else starts one (as omega-ml): run 2 was
      // stopped, so this is run 3, and data() gives that run's rows
      expect(exp.currentRun).toBe(3);
      expect(expDf.map((r) => [r.run, r.event])).toEqual([[3, 'start']]);
      await exp.stop();
    }

    // "experiments exist in the models store"
    {
      const exp = await om.models.get<Experiment>('experiments/myexp');
      const expDf = await exp.data();
      // a handle with no current run reads every run
      expect([...new Set(expDf.map((r) => r.run))]).toEqual([1, 2, 3]);
      const logged = expDf.filter((r) => r.event !== 'profile').map((r) => [r.run, r.event, r.key]);
      // run 1 holds the runtime tasks: fit adds task_call, related, task_success; score also the
      // metric `score` (SPEC §7, as omega-ml's tests count them)
      expect(logged.filter(([r]) => r === 1).slice(1, 8)).toEqual([
        [1, 'task_call', 'fit'],
        [1, 'artifact', 'related'],
        [1, 'task_success', 'fit'],
        [1, 'task_call', 'score'],
        [1, 'artifact', 'related'],
        [1, 'metric', 'score'],
        [1, 'task_success', 'score'],
      ]);
      // the score is R² of the fitted model: X, Y fit exactly
      expect(expDf.find((r) => r.event === 'metric' && r.key === 'score')?.value).toBeCloseTo(1);
      for (const run of [1, 2])
        expect(
          logged.filter(
            ([r, e, k]) => r === run && !String(e).startsWith('task_') && k !== 'related' && k !== 'score',
          ),
        ).toEqual([
          [run, 'start', 'start'],
          [run, 'metric', 'mymetric'],
          [run, 'param', 'myparam'],
          [run, 'artifact', 'X'],
          [run, 'artifact', 'Y'],
          [run, 'artifact', 'mymodel'],
          [run, 'stop', 'stop'],
        ]);
    }

    // ExperimentBackend: KIND = 'experiment.tracker'; get(name), put(obj, name, attributes), supports(obj)
    {
      const meta = await om.models.metadata('experiments/myexp');
      expect(meta?.kind).toBe('experiment.tracker');
      const tracker = await om.runtime.experiment('myexp').provider();
      const stored = await om.models.put(tracker, 'experiments/myexp-copy', {
        attributes: { note: 'a copy of the tracker configuration' },
      });
      expect(stored.attributes.note).toBe('a copy of the tracker configuration');
      expect((await om.experiments.get('myexp-copy'))?.provider).toBe('profiling');
      expect(await om.models.list('experiments/*')).toEqual(['experiments/myexp', 'experiments/myexp-copy']);
    }

    // TrackingProvider, "within a model backend … with self.tracking as exp": a runtime worker's
    // handle (impliedRun: false) logs into the client's run while that one is running
    {
      const client = om.runtime.experiment('myexp');
      const clientRun = await client.start();
      const tracking = om.runtime.experiment('myexp', { impliedRun: false });
      await tracking.run((exp) => exp.logMetric('worker_metric', 1));
      expect(await client.status()).toBe('STARTED');
      await client.stop();
      expect((await client.data({ key: 'worker_metric' })).map((r) => r.run)).toEqual([clientRun]);
    }

    // OmegaSimpleTracker: "with om.runtime.experiment(provider='default') as exp"
    // (omega-ml names an unnamed experiment by a random id; in TypeScript an experiment has a name)
    await om.runtime.experiment('default-exp', { provider: 'default' }).run((exp) => {
      exp.logMetric('accuracy', 0.78);
    });
    expect(await om.runtime.experiment('default-exp').provider()).toBeInstanceOf(OmegaSimpleTracker);

    // data(experiment=None, run=None, event=None, step=None, key=None)
    {
      const exp = om.runtime.experiment('default-exp');
      const rows = await exp.data({ experiment: 'myexp', run: 'all', event: 'metric', key: 'mymetric' });
      expect(rows.map((r) => [r.experiment, r.run, r.value])).toEqual([
        ['myexp', 1, value],
        ['myexp', 2, value],
      ]);
    }

    // log_artifact: "exp.log_artifact(mydict, 'somedata'); mydict_ = exp.restore_artifact('somedata')"
    {
      const exp = om.runtime.experiment('myexp');
      const mydict = { a: 1, b: 'two' };
      await exp.run((e) => e.logArtifact(mydict, 'somedata'));
      const mydict_ = await exp.restoreArtifact('somedata');
      expect(mydict_).toEqual(mydict);

      // restore_artifact(value=…): "use to retrieve an artifact from contents of .data()"
      const [row] = await exp.data({ event: 'artifact', key: 'somedata' });
      expect(await exp.restoreArtifact({ value: row.value })).toEqual(mydict);
      expect(await exp.restoreArtifact('somedata', { value: row.value })).toEqual(mydict);
      // (run 1's artifacts without the runtime's `related` ones, which come first)
      const rows = (await exp.data({ run: 1, event: 'artifact' })).filter((r) => r.key !== 'related');
      const restored = await exp.restoreArtifacts(rows);
      expect(restored.slice(0, 2)).toEqual([X, Y]);
      expect((restored[2] as Metadata).name).toBe('mymodel');
    }

    // status / start / stop / use ("reuse the latest run instead of starting a new one")
    {
      const exp = om.runtime.experiment('myexp');
      const run = await exp.start();
      expect(await exp.status()).toBe('STARTED');
      const again = await om.runtime.experiment('myexp').use();
      expect(again.currentRun).toBe(run);
      await exp.stop();
      expect(await exp.status(run)).toBe('STOPPED');
    }

    // OmegaProfilingTracker: exp.profiler.interval, exp.profiler.metrics, exp.max_buffer
    {
      const exp = om.runtime.experiment<OmegaProfilingTracker>('myexp', { provider: 'profiling' });
      exp.profiler.interval = 1.5;
      exp.profiler.metrics = ['cpu', 'memory', 'disk'];
      exp.maxBuffer = 6;
      await exp.run(() => undefined);
      const config = await om.experiments.get('myexp');
      expect(config?.options).toMatchObject({
        maxBuffer: 6,
        profiler: { interval: 1.5, metrics: ['cpu', 'memory', 'disk'] },
      });
    }

    // OmegaTrackingProxy: implied start()/stop(), then explicit
    {
      const score = 0.91;
      await om.runtime.experiment('myexp').run((exp) => exp.logMetric('accuracy', score));
      const exp = om.runtime.experiment('myexp');
      await exp.start();
      exp.logMetric('accuracy', score);
      await exp.stop();
      const runs = await exp.runs();
      const last = runs.slice(-2);
      expect(last.map((r) => r.status)).toEqual(['STOPPED', 'STOPPED']);
      for (const r of last)
        expect((await exp.data({ run: r.run, event: 'metric' })).map((e) => [e.key, e.value])).toEqual([
          ['accuracy', score],
        ]);
    }
  });
});
