/**
 * Issue 9, point 5: options as the first argument of `new TensorflowCallback(...)`,
 * `tensorflowCallback(...)` and `autolog(...)` — natural in plain JavaScript — work like
 * `(undefined, options)`; anything that is neither an experiment nor options is refused at once.
 */
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
} from 'omega-track';
import { collectDiag } from '../helpers/tmp';

// tfjs prints an 'install tfjs-node' banner unless it knows it runs under test
tf.env().set('IS_TEST', true);

jest.setTimeout(120_000);

function tinyModel(): LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        units: 1,
        inputShape: [2],
        activation: 'sigmoid',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
      }),
    ],
  });
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'binaryCrossentropy' });
  return model;
}

const X: Tensor = tf.tensor2d([0, 0, 0, 1, 1, 0, 1, 1, 0.5, 0.5, 0.2, 0.9], [6, 2]);
const Y: Tensor = tf.tensor2d([0, 0, 0, 1, 1, 0], [6, 1]);

/** Epochs 2, batch size 2 over 6 samples: 3 batches an epoch, 6 in all. */
const FIT = { epochs: 2, batchSize: 2, verbose: 0 as const };

const batchSteps = (rows: TrackingEvent[]): number[] =>
  rows.filter((r) => r.event === 'metric' && r.key === 'loss' && r.phase === 'batch').map((r) => r.step!);

describe('TensorflowCallback: options as the first argument', () => {
  let om: Omega;
  let diag: ReturnType<typeof collectDiag>;
  beforeEach(() => {
    om = omega({ store: 'memory:' });
    diag = collectDiag(setDiagWriter);
  });
  afterEach(async () => {
    autolog.disable();
    diag.restore();
    await om.close();
  });

  test('new TensorflowCallback({ updateFreq: "batch", saveModel: true }) tracks the active run', async () => {
    const exp = om.runtime.experiment('options-first');
    const model = tinyModel();
    await exp.run(async () => {
      await model.fit(X, Y, {
        ...FIT,
        callbacks: [new TensorflowCallback({ updateFreq: 'batch', saveModel: true })],
      });
    });
    const rows = await exp.data({ run: 1 });
    expect(batchSteps(rows)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(rows.filter((r) => r.event === 'metric' && r.phase === 'epoch').map((r) => r.step)).toEqual([
      0, 1,
    ]);
    expect(rows.filter((r) => r.event === 'param').map((r) => r.key)).toContain('epochs');
    expect(rows.filter((r) => r.event === 'artifact').map((r) => r.key)).toEqual(['model']);
    expect(diag.lines.join('\n')).not.toMatch(/not tracked/);
  });

  test('it is the same as new TensorflowCallback(undefined, options) and as (exp, options)', async () => {
    const exp = om.runtime.experiment('same-forms');
    for (const make of [
      () => new TensorflowCallback({ updateFreq: 'batch' }),
      () => new TensorflowCallback(undefined, { updateFreq: 'batch' }),
      () => new TensorflowCallback(exp, { updateFreq: 'batch' }),
      () => tensorflowCallback({ updateFreq: 'batch' }),
    ])
      await exp.run(async () => {
        await tinyModel().fit(X, Y, { ...FIT, callbacks: [make()] });
      });
    for (const run of [1, 2, 3, 4]) expect(batchSteps(await exp.data({ run }))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('autolog({ updateFreq: "batch" }) takes options first as well', async () => {
    const exp = om.runtime.experiment('autolog-options');
    autolog({ updateFreq: 'batch' });
    await exp.run(async () => {
      await tinyModel().fit(X, Y, FIT);
    });
    expect(batchSteps(await exp.data({ run: 1 }))).toEqual([0, 1, 2, 3, 4, 5]);
  });

  test('what is neither an experiment nor options is a TrackingInputError at the call', () => {
    const exp = om.runtime.experiment('refused');
    const bad: Array<() => unknown> = [
      () => new TensorflowCallback('refused' as never),
      () => new TensorflowCallback(5 as never),
      () => new TensorflowCallback(true as never),
      () => new TensorflowCallback([] as never),
      () => new TensorflowCallback(new Map() as never),
      () => new TensorflowCallback({ experiment: 'refused' } as never), // not an option
      () => new TensorflowCallback({ updateFreq: 'batch' } as never, { saveModel: true }), // options twice
      () => new TensorflowCallback(exp, 'batch' as never),
      () => new TensorflowCallback(exp, { saveModel: 'yes' as never }),
      () => new TensorflowCallback({ flushTimeoutMs: -1 }),
      () => new TensorflowCallback({ updateFreq: 0 }),
      () => tensorflowCallback('refused' as never),
      () => tensorflowCallback({ updatefreq: 'batch' } as never),
      () => autolog('refused' as never),
      () => autolog({ savemodel: true } as never),
    ];
    for (const call of bad) expect(call).toThrow(TrackingInputError);
    expect(() => new TensorflowCallback('refused' as never)).toThrow(/om\.runtime\.experiment\('refused'\)/);
    expect(() => new TensorflowCallback({ updatefreq: 'batch' } as never)).toThrow(
      /unknown option 'updatefreq'/,
    );
    // a refused autolog call leaves autolog as it was
    expect(autolog.enabled()).toBe(false);
  });
});
