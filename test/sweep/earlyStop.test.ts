import * as tf from '@tensorflow/tfjs';
import { SweepStopped, TensorflowCallback } from 'omega-track';
import { omegaPerTest } from '../helpers/omegaPerTest';

const { om } = omegaPerTest();

describe('sweep early stopping (issue 25)', () => {
  beforeAll(() => tf.enableProdMode());

  test('median stopping: a clearly bad trial gets SweepStopped at its next logMetric and ends STOPPED, tagged', async () => {
    const exp = om().runtime.experiment('median');
    const reached: Record<number, number> = {};
    const caught: unknown[] = [];
    const result = await exp.sweep(
      {
        space: { offset: [0.3, 0.1, 0.4, 0.2, 50] },
        method: 'grid',
        metric: 'loss',
        goal: 'minimize',
        earlyStop: { type: 'median', minSteps: 2, minTrials: 3 },
      },
      async (params, e) => {
        const offset = params.offset as number;
        try {
          for (let step = 0; step < 10; step++) {
            reached[offset] = step;
            e.logMetric('loss', offset + 1 / (step + 1), step);
          }
        } catch (error) {
          caught.push(error);
          throw error;
        }
      },
    );
    // the good trials ran every step; the bad one stopped at its second report
    expect(reached).toEqual({ 0.1: 9, 0.2: 9, 0.3: 9, 0.4: 9, 50: 1 });
    expect(caught).toHaveLength(1);
    expect(caught[0]).toBeInstanceOf(SweepStopped);
    const bad = result.trials.find((t) => t.params.offset === 50)!;
    expect(bad.status).toBe('STOPPED');
    expect(bad.stopped).toMatch(/^median: loss/);
    expect(result.trials.filter((t) => t.stopped !== undefined)).toHaveLength(1);
    const [run] = await exp.runs({ run: bad.run });
    expect(run.status).toBe('STOPPED');
    expect(String(run.tags?.['sweep.stopped'])).toMatch(
      /^median: loss 50\.5 at step 1 is worse than the median/,
    );
    expect(run.metrics?.loss.count).toBe(2);
    // ranked by its value all the same: last, being the worst
    expect(result.trials[result.trials.length - 1].run).toBe(bad.run);
  });

  test('ASHA: at the first rung only the best 1/η go on', async () => {
    const exp = om().runtime.experiment('asha');
    const steps: Record<number, number> = {};
    const result = await exp.sweep(
      {
        space: { q: [1, 2, 3, 4, 5, 6] },
        method: 'grid',
        metric: 'acc',
        goal: 'maximize',
        earlyStop: { type: 'asha', minResource: 2, reductionFactor: 2, maxResource: 8 },
      },
      (params, e) => {
        const q = params.q as number;
        // the later a trial, the better: each new one is in the top half at rung 2...
        for (let step = 0; step < 10; step++) {
          steps[q] = step;
          e.logMetric('acc', q * (step + 1), step);
        }
      },
    );
    // ...but for the first, nobody is stopped
    expect(Object.values(steps)).toEqual([9, 9, 9, 9, 9, 9]);
    expect(result.trials.every((t) => t.stopped === undefined)).toBe(true);
    const worse = await exp.sweep(
      {
        space: { q: [6, 5, 4, 3, 2, 1] },
        method: 'grid',
        metric: 'acc',
        goal: 'maximize',
        earlyStop: { type: 'asha', minResource: 2, reductionFactor: 2, maxResource: 8 },
      },
      (params, e) => {
        for (let step = 0; step < 10; step++) e.logMetric('acc', (params.q as number) * (step + 1), step);
      },
    );
    // each later trial is worse than every earlier one: stopped at rung 2 (step 2), the first not
    const stopped = worse.trials.filter((t) => t.stopped !== undefined);
    expect(stopped.map((t) => t.params.q).sort()).toEqual([1, 2, 3, 4, 5]);
    for (const t of stopped) expect(t.stopped).toMatch(/^asha: acc at rung 2/);
    const runs = await exp.runs({ run: stopped.map((t) => t.run) });
    expect(runs.map((r) => r.metrics?.acc.count)).toEqual([3, 3, 3, 3, 3]);
    expect(worse.best?.params).toEqual({ q: 6 });
  });

  test('a tfjs fit in a stopped trial ends cleanly at the epoch boundary (TensorflowCallback)', async () => {
    const exp = om().runtime.experiment('tfjs');
    const X = tf.tensor2d(Array.from({ length: 64 }, (_, i) => [i / 64, (i % 5) / 5]));
    const Y = tf.tensor2d(Array.from({ length: 64 }, (_, i) => [1 + 2 * (i / 64) - (i % 5) / 5]));
    const epochs: Record<number, number> = {};
    const result = await exp.sweep(
      {
        space: { lr: [0.05, 0.1, 0.2, 40] },
        method: 'grid',
        metric: 'loss',
        goal: 'minimize',
        earlyStop: { type: 'median', minTrials: 3 },
      },
      async (params) => {
        const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [2] })] });
        model.compile({ optimizer: tf.train.sgd(params.lr as number), loss: 'meanSquaredError' });
        const history = await model.fit(X, Y, {
          epochs: 6,
          batchSize: 16,
          callbacks: [new TensorflowCallback()],
        });
        epochs[params.lr as number] = history.epoch.length;
        model.dispose();
      },
    );
    X.dispose();
    Y.dispose();
    // fit returned (no error thrown into it) after the first epoch for the diverging learning rate
    expect(epochs).toEqual({ 0.05: 6, 0.1: 6, 0.2: 6, 40: 1 });
    const bad = result.trials.find((t) => t.params.lr === 40)!;
    expect(bad.status).toBe('STOPPED');
    expect(bad.stopped).toMatch(/^median: loss/);
    const [run] = await exp.runs({ run: bad.run });
    expect(run.status).toBe('STOPPED');
    expect(run.tags?.['sweep.stopped']).toBe(bad.stopped);
    expect(run.metrics?.loss.count).toBe(1);
  });
});
