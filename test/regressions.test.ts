import * as tf from '@tensorflow/tfjs';
import type { OmegaProfilingTracker, OmegaSimpleTracker, TrackingEvent } from 'omega-track';
import { TensorflowCallback, TrackingInputError, autolog, omega, setDiagWriter } from 'omega-track';
import { FlakyStore } from './helpers/FlakyStore';
import { sleep } from './helpers/tmp';

// tfjs prints an 'install tfjs-node' banner unless it knows it runs under test
tf.env().set('IS_TEST', true);

setDiagWriter(() => undefined);

/** Behaviour found in review: each test pins one case that used to go wrong. */
describe('recorded values and ordering', () => {
  test('what is logged is what the value was at the call, also when the caller changes it later', async () => {
    const om = omega({ store: 'memory:' });
    const exp = om.runtime.experiment('snapshot');
    await exp.start();
    const history: number[] = [];
    const config = { layers: [4] };
    for (let epoch = 0; epoch < 3; epoch++) {
      history.push(epoch);
      exp.logEvent('history', 'h', history, epoch);
    }
    exp.logArtifact(config, 'config');
    config.layers.push(8);
    await exp.stop();
    expect((await exp.data({ event: 'history' })).map((r) => r.value)).toEqual([[0], [0, 1], [0, 1, 2]]);
    expect(await exp.restoreArtifact('config')).toEqual({ layers: [4] });
    await om.close();
  });

  test('rows of the same millisecond come back in logging order from data() and iterate(), across flushes', async () => {
    const om = omega({ store: 'memory:' });
    const exp = om.runtime.experiment('ties');
    await exp.start();
    const dt = Date.now() + 1000;
    exp.logMetric('a', 1, { dt });
    await exp.flush();
    exp.logMetric('b', 2, { dt: dt - 500 });
    exp.logMetric('c', 3, { dt });
    await exp.flush();
    exp.logMetric('d', 4, { dt });
    const keys = (rows: TrackingEvent[]): string[] =>
      rows.filter((r) => r.event === 'metric').map((r) => r.key);
    expect(keys(await exp.data())).toEqual(['b', 'a', 'c', 'd']);
    const batches: TrackingEvent[] = [];
    for await (const batch of exp.iterate({}, { batchSize: 1 })) batches.push(...batch);
    expect(keys(batches)).toEqual(['b', 'a', 'c', 'd']);
    await om.close();
  });

  test('values that are not JSON data, and the reserved tag key, are refused at the call', async () => {
    const om = omega({ store: 'memory:' });
    const exp = om.runtime.experiment('values');
    await exp.start();
    expect(() => exp.logEvent('e', 'k', new Map([[1, 2]]))).toThrow(
      /a Map is not JSON data \(log it as an artifact\)/,
    );
    expect(() => exp.logEvent('e', 'k', { a: new Float32Array(2) })).toThrow(TrackingInputError);
    expect(() => exp.logEvent('e', 'k', { '$omega.nonfinite': 'Infinity' })).toThrow(/reserves/);
    exp.logEvent('e', 'k', { when: new Date('2026-01-01T00:00:00Z') });
    expect((await exp.data({ event: 'e' }))[0].value).toEqual({ when: '2026-01-01T00:00:00.000Z' });
    await om.close();
  });

  test('a negative run further back than the first matches nothing; use(n) of a run never started is refused', async () => {
    const om = omega({ store: 'memory:' });
    const exp = om.runtime.experiment('back');
    for (let i = 0; i < 3; i++) await exp.run((e) => e.logMetric('m', i));
    expect(await exp.data({ run: -5 })).toEqual([]);
    expect((await exp.data({ run: -3, event: 'metric' })).map((r) => r.value)).toEqual([0]);
    await expect(exp.use(7)).rejects.toThrow("experiment 'back' has no run 7 (its latest is 3)");
    expect(await exp.start()).toBe(4);
    await om.close();
  });

  test('store prefixes count characters, as names do (emoji included)', async () => {
    const om = omega({ store: 'memory:' });
    await om.models.put({ a: 1 }, '🚀/model');
    await om.models.put({ a: 2 }, 'plain');
    expect(await om.models.list('🚀/')).toEqual(['🚀/model']);
    await om.close();
  });
});

describe('the handle and the queue', () => {
  test('settings made right after an unawaited start() are the ones used', async () => {
    const om = omega({ store: 'memory:' });
    const exp = om.runtime.experiment<OmegaSimpleTracker>('race');
    const started = exp.start();
    exp.maxBuffer = 3;
    await started;
    expect(exp.maxBuffer).toBe(3);
    expect(((await exp.provider()) as OmegaSimpleTracker).maxBuffer).toBe(3);
    await om.close();
  });

  test('an unopened handle can be awaited and returned from async functions', async () => {
    const om = omega({ store: 'memory:' });
    const exp = await (async () => om.runtime.experiment('fresh', { recreate: true }))();
    expect(await exp.start()).toBe(1);
    await om.close();
  });

  test('an error handler that throws does not take the process down, and the data still lands', async () => {
    const store = new FlakyStore();
    const om = omega({
      store,
      onError: () => {
        throw new Error('handler failed');
      },
    });
    const exp = om.runtime.experiment('thrower', { flushIntervalMs: 20 });
    await exp.start();
    store.failing = true;
    exp.logMetric('m', 1);
    await exp.flush();
    await sleep(60);
    store.failing = false;
    await sleep(60);
    expect((await exp.data({ event: 'metric' })).map((r) => r.value)).toEqual([1]);
    await om.close();
  });

  test('a model that cannot be saved any more is given up after a few tries; later events are not held up', async () => {
    const errors: string[] = [];
    const om = omega({
      store: 'memory:',
      onError: (e, ctx) => errors.push(`${ctx}: ${(e as Error).message}`),
    });
    const exp = om.runtime.experiment('disposed', { flushIntervalMs: 10 });
    await exp.start();
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [1] })] });
    let calls = 0;
    // what a disposed model does when saved
    model.save = () => {
      calls++;
      return Promise.reject(new Error('model was disposed'));
    };
    exp.logArtifact(model, 'model');
    exp.logMetric('after', 1);
    // retries back off (0.1, 0.2, 0.4, 0.8 s): the fifth try comes after ~1.5 s
    for (let i = 0; i < 250 && !errors.some((e) => e.includes('giving up')); i++) await sleep(20);
    expect(calls).toBeGreaterThanOrEqual(5);
    expect(errors.some((e) => e.includes("giving up an artifact of 'disposed' after 5 attempts"))).toBe(true);
    await exp.stop();
    expect((await exp.data()).map((r) => r.event)).toEqual(['start', 'metric', 'stop']);
    await om.close();
  });
});

describe('profiler steps and the tfjs callback', () => {
  test('profiler steps go on within a run when its runtime restarts, and start at 0 in a new run', async () => {
    const om = omega({ store: 'memory:' });
    const exp = om.runtime.experiment<OmegaProfilingTracker>('steps', {
      provider: 'profiling',
    });
    exp.profiler.interval = 0.1;
    await exp.start();
    await sleep(500);
    await exp.stopRuntime();
    await exp.startRuntime();
    await sleep(500);
    await exp.start(); // a new run while profiling
    await sleep(250);
    await exp.stop();
    const steps = async (run: number): Promise<Array<number | null>> =>
      (await exp.data({ run, event: 'profile', key: 'profile_dt' })).map((r) => r.step);
    const first = await steps(1);
    expect(first).toEqual(Array.from({ length: first.length }, (_, i) => i));
    expect(first.length).toBeGreaterThanOrEqual(3);
    const second = await steps(2);
    expect(second).toEqual(Array.from({ length: second.length }, (_, i) => i));
    await om.close();
  });

  test('autolog with an explicit callback in the same fit records once; bad autolog options fail at the call', async () => {
    const om = omega({ store: 'memory:' });
    const exp = om.runtime.experiment('once');
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    autolog();
    try {
      await exp.run(async (e) => {
        await model.fit(tf.ones([8, 2]), tf.ones([8, 1]), {
          epochs: 2,
          verbose: 0,
          callbacks: [new TensorflowCallback(e)],
        });
      });
      const rows = await exp.data();
      expect(rows.filter((r) => r.key === 'epochs')).toHaveLength(1);
      expect(rows.filter((r) => r.event === 'metric' && r.key === 'loss')).toHaveLength(2);
      await exp.run(() => model.fit(tf.ones([8, 2]), tf.ones([8, 1]), { epochs: 1, verbose: 0 }));
      expect((await exp.data({ run: -1, event: 'metric' })).length).toBe(1);
    } finally {
      autolog.disable();
    }
    expect(() => autolog(undefined, { updateFreq: 'sometimes' as 'batch' })).toThrow(TrackingInputError);
    expect(autolog.enabled()).toBe(false);
    await om.close();
  });

  test('a callback given a handle that is not open yet does not throw into fit', async () => {
    const om = omega({ store: 'memory:' });
    const exp = om.runtime.experiment('not-open', { recreate: true });
    const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    const history = await model.fit(tf.ones([4, 2]), tf.ones([4, 1]), {
      epochs: 1,
      verbose: 0,
      callbacks: [new TensorflowCallback(exp)],
    });
    expect(history.epoch).toEqual([0]);
    await om.close();
  });
});
