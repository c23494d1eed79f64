import * as tf from '@tensorflow/tfjs';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import type { Omega, TrackingEvent } from 'omega-track';
import {
  TensorflowCallback,
  TrackingInputError,
  autolog,
  omega,
  setDiagWriter,
  tensorflowCallback,
  useTfjs,
} from 'omega-track';
import { FlakyStore } from './helpers/FlakyStore';
import { collectDiag } from './helpers/tmp';

// tfjs prints an 'install tfjs-node' banner unless it knows it runs under test
tf.env().set('IS_TEST', true);

jest.setTimeout(120_000);

function makeModel(seed = 1): LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        units: 8,
        activation: 'relu',
        inputShape: [4],
        kernelInitializer: tf.initializers.glorotUniform({ seed }),
      }),
      tf.layers.dense({
        units: 1,
        activation: 'sigmoid',
        kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }),
      }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  return model;
}

function makeData(n: number): { X: Tensor; y: Tensor } {
  const X = tf.randomUniform([n, 4], -1, 1, 'float32', 42);
  const y = X.sum(1).greater(0).cast('float32').reshape([n, 1]);
  return { X, y };
}

const metricRows = (rows: TrackingEvent[], phase: string): TrackingEvent[] =>
  rows.filter((r) => r.event === 'metric' && r.phase === phase);

describe('TensorflowCallback', () => {
  let om: Omega;
  const { X, y } = makeData(100);
  let diag: ReturnType<typeof collectDiag>;
  beforeEach(() => {
    om = omega({ store: 'memory:' });
    diag = collectDiag(setDiagWriter);
  });
  afterEach(async () => {
    diag.restore();
    await om.close();
  });

  test('3 epochs with validation: params once, one metric per log key per epoch, steps 0,1,2', async () => {
    const exp = om.runtime.experiment('fit');
    await exp.run(async () => {
      await makeModel().fit(X, y, {
        epochs: 3,
        batchSize: 25,
        validationSplit: 0.2,
        verbose: 0,
        callbacks: [new TensorflowCallback()],
      });
    });
    const rows = await exp.data();
    const params = rows.filter((r) => r.event === 'param');
    expect(params.map((r) => r.key).sort()).toEqual(
      [
        'batchSize',
        'epochs',
        'layers',
        'loss',
        'metrics',
        'optimizer',
        'optimizerConfig',
        'parameters',
        'samples',
        'steps',
      ].sort(),
    );
    const p = Object.fromEntries(params.map((r) => [r.key, r.value]));
    expect(p).toMatchObject({
      epochs: 3,
      batchSize: 25,
      samples: 80,
      optimizer: 'Adam',
      loss: 'binaryCrossentropy',
      parameters: 4 * 8 + 8 + 8 + 1,
    });
    expect(p.optimizerConfig).toMatchObject({ learningRate: 0.01 });
    expect(p.metrics).toEqual(['loss', 'acc', 'val_loss', 'val_acc']);
    const epochs = metricRows(rows, 'epoch');
    expect(epochs).toHaveLength(3 * 4);
    for (const key of ['loss', 'acc', 'val_loss', 'val_acc'])
      expect(epochs.filter((r) => r.key === key).map((r) => r.step)).toEqual([0, 1, 2]);
    expect(epochs.every((r) => typeof r.value === 'number' && Number.isFinite(r.value))).toBe(true);
    expect(metricRows(rows, 'batch')).toEqual([]);
  });

  test("updateFreq 'batch': steps count batches across epochs, 0..N-1, no repeat; N means every N-th", async () => {
    const exp = om.runtime.experiment('batches');
    await exp.run(async () => {
      await makeModel().fit(X, y, {
        epochs: 3,
        batchSize: 30,
        verbose: 0,
        callbacks: [tensorflowCallback(exp, { updateFreq: 'batch' })],
      });
    });
    const batchLoss = metricRows(await exp.data(), 'batch').filter((r) => r.key === 'loss');
    // 100 samples in batches of 30: 4 batches an epoch, 12 in all
    expect(batchLoss.map((r) => r.step)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    const every = om.runtime.experiment('every5');
    await every.run(async () => {
      await makeModel().fit(X, y, {
        epochs: 3,
        batchSize: 30,
        verbose: 0,
        callbacks: [new TensorflowCallback(every, { updateFreq: 5 })],
      });
    });
    expect(
      metricRows(await every.data(), 'batch')
        .filter((r) => r.key === 'loss')
        .map((r) => r.step),
    ).toEqual([0, 5, 10]);
  });

  test('fitDataset is tracked the same way', async () => {
    const exp = om.runtime.experiment('dataset');
    const ds = tf.data
      .zip({ xs: tf.data.array(X.arraySync() as number[][]), ys: tf.data.array(y.arraySync() as number[][]) })
      .batch(20);
    await exp.run(async () => {
      await makeModel().fitDataset(ds, {
        epochs: 3,
        verbose: 0,
        callbacks: [new TensorflowCallback(undefined, { updateFreq: 'batch' })],
      });
    });
    const rows = await exp.data();
    expect(
      metricRows(rows, 'epoch')
        .filter((r) => r.key === 'loss')
        .map((r) => r.step),
    ).toEqual([0, 1, 2]);
    expect(
      metricRows(rows, 'batch')
        .filter((r) => r.key === 'loss')
        .map((r) => r.step),
    ).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(rows.find((r) => r.key === 'epochs')?.value).toBe(3);
  });

  test.each([
    ['callback first', true],
    ['earlyStopping first', false],
  ])(
    'in one array with tf.callbacks.earlyStopping() (%s): training stops early, its epochs are logged',
    async (_label, first) => {
      const exp = om.runtime.experiment(`early-${String(first)}`);
      let history: tf.History | undefined;
      await exp.run(async () => {
        // an improvement of 10 in loss never happens: stops after patience + 1 epochs
        const stop = tf.callbacks.earlyStopping({ monitor: 'loss', minDelta: 10, patience: 1 });
        const track = new TensorflowCallback();
        history = await makeModel().fit(X, y, {
          epochs: 20,
          batchSize: 50,
          verbose: 0,
          callbacks: first ? [track, stop] : [stop, track],
        });
      });
      expect(history?.epoch).toEqual([0, 1]);
      const loss = metricRows(await exp.data(), 'epoch').filter((r) => r.key === 'loss');
      expect(loss.map((r) => r.step)).toEqual([0, 1]);
    },
  );

  test('a store that fails every write: fit resolves, the handler hears of it, events land once the store works', async () => {
    const store = new FlakyStore();
    const errors: string[] = [];
    const flaky = omega({ store, onError: (error) => errors.push(String((error as Error).message)) });
    const exp = flaky.runtime.experiment('flaky', { flushIntervalMs: 50 });
    await exp.start();
    store.failing = true;
    const history = await makeModel().fit(X, y, {
      epochs: 3,
      batchSize: 25,
      verbose: 0,
      callbacks: [new TensorflowCallback(exp, { saveModel: true })],
    });
    expect(history.epoch).toEqual([0, 1, 2]);
    expect(store.failures).toBeGreaterThan(0);
    expect(errors[0]).toBe('disk I/O error (simulated)');
    store.failing = false;
    await new Promise((r) => setTimeout(r, 200));
    const rows = await exp.data();
    expect(
      metricRows(rows, 'epoch')
        .filter((r) => r.key === 'loss')
        .map((r) => r.step),
    ).toEqual([0, 1, 2]);
    expect(rows.filter((r) => r.event === 'param').length).toBe(10);
    expect(await exp.restoreArtifact('model')).toBeDefined();
    await flaky.close();
  });

  test('without an experiment and outside exp.run it does nothing and says so once', async () => {
    const cb = new TensorflowCallback();
    const model = makeModel();
    await model.fit(X, y, { epochs: 2, verbose: 0, callbacks: [cb] });
    await model.fit(X, y, { epochs: 1, verbose: 0, callbacks: [cb] });
    expect(diag.lines).toEqual([
      'TensorflowCallback: no experiment given and none active (call fit inside exp.run(...)); this training is not tracked',
    ]);
  });

  test('bad options are a TrackingInputError', () => {
    expect(() => new TensorflowCallback(undefined, { updateFreq: 0 })).toThrow(TrackingInputError);
    expect(() => new TensorflowCallback(undefined, { updateFreq: 'step' as 'batch' })).toThrow(
      /updateFreq must be 'epoch', 'batch' or a positive integer/,
    );
  });
});

describe('logSystem', () => {
  test('once tfjs is in use, the system event also holds its version, backend and tf.memory()', async () => {
    const om = omega({ store: 'memory:' });
    useTfjs(tf);
    const kept = tf.ones([10, 10]);
    const exp = om.runtime.experiment('system-tfjs');
    await exp.run((e) => e.logSystem());
    const [row] = await exp.data({ event: 'system' });
    const value = row.value as Record<string, any>;
    // Node's facts are all still there
    expect(value.node).toBe(process.version);
    expect(value.machine.cpu.cores).toBeGreaterThanOrEqual(1);
    expect(value.tfjs.version).toBe(tf.version.tfjs);
    expect(value.tfjs.backend).toBe(tf.getBackend());
    expect(value.tfjs.memory.numTensors).toBeGreaterThanOrEqual(1);
    expect(value.tfjs.memory.numBytes).toBeGreaterThanOrEqual(400);
    kept.dispose();
    await om.close();
  });
});

describe('autolog', () => {
  const { X, y } = makeData(60);
  afterEach(() => autolog.disable());

  test('a fit with no callback argument is tracked; twice is harmless; after disable() it is not', async () => {
    const om = omega({ store: 'memory:' });
    const exp = om.runtime.experiment('auto');
    autolog();
    autolog();
    await exp.run(async () => {
      await makeModel().fit(X, y, { epochs: 2, verbose: 0 });
    });
    expect(
      metricRows(await exp.data({ run: 1 }), 'epoch')
        .filter((r) => r.key === 'loss')
        .map((r) => r.step),
    ).toEqual([0, 1]);
    autolog.disable();
    await exp.run(async () => {
      await makeModel().fit(X, y, { epochs: 2, verbose: 0 });
    });
    expect((await exp.data({ run: 2 })).map((r) => r.event)).toEqual(['start', 'stop']);
    autolog(exp, { updateFreq: 'batch' });
    await exp.start();
    await makeModel().fit(X, y, { epochs: 1, batchSize: 30, verbose: 1 });
    await exp.stop();
    expect(
      metricRows(await exp.data({ run: 3 }), 'batch')
        .filter((r) => r.key === 'loss')
        .map((r) => r.step),
    ).toEqual([0, 1]);
    await om.close();
  });
});

describe('tfjs models in the store', () => {
  test('om.models.put/get and the model artifact give back a model with the same predictions', async () => {
    const om = omega({ store: 'memory:' });
    const model = makeModel(7);
    const { X, y } = makeData(50);
    await model.fit(X, y, { epochs: 2, verbose: 0 });
    const expected = (model.predict(X) as Tensor).dataSync();
    const meta = await om.models.put(model, 'mymodel');
    expect(meta.kind).toBe('tfjs.layers');
    expect(meta.attributes).toMatchObject({ className: 'Sequential', params: 49 });
    const loaded = await om.models.get<LayersModel>('mymodel');
    const exp = om.runtime.experiment('artifact');
    await exp.run((e) => e.logArtifact(model, 'model'));
    const row = (await exp.data({ event: 'artifact' }))[0];
    expect((row.value as { format: string }).format).toBe('model');
    const restored = (await exp.restoreArtifact('model')) as LayersModel;
    for (const m of [loaded, restored]) {
      const got = (m.predict(X) as Tensor).dataSync();
      expect(got.length).toBe(expected.length);
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - expected[i])).toBeLessThan(1e-6);
    }
    expect(await om.models.drop('mymodel')).toBe(true);
    await om.close();
  });
});
