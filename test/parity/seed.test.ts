/**
 * The omega-ml reference text (shared/seed/) as TypeScript: each snippet in the order the seed
 * gives it, one test, against the embedded SQLite store. Python's `with … as exp:` is
 * `await exp.run(async (exp) => …)`; snake_case names are camelCase.
 *
 * Not translated yet: `om.runtime.model('mymodel').fit(X, Y)` / `.score(X, Y)` — the runtime is
 * issue 10 and `om.runtime.model` does not exist yet. Those lines are marked where they belong.
 */
import type { Experiment, Metadata, OmegaProfilingTracker } from 'omega-track';
import { OmegaSimpleTracker, setDiagWriter } from 'omega-track';
import { collectDiag, sleep } from '../helpers/tmp';
import type { ParityStore } from './parityStore';
import { parityStore } from './parityStore';

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
    await om.models.put({ coef: [0.5, 0.25] }, 'mymodel');

    // "To log metrics and other data"
    await om.runtime.experiment('myexp').run(async (exp) => {
      // om.runtime.model('mymodel').fit(X, Y)    — the runtime (issue 10)
      // om.runtime.model('mymodel').score(X, Y)  — the runtime (issue 10)
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
      for (const run of [1, 2])
        expect(logged.filter(([r]) => r === run)).toEqual([
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
      const rows = await exp.data({ run: 1, event: 'artifact' });
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
