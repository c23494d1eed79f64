import * as tf from '@tensorflow/tfjs';
import type { SweepResult } from 'omega-track';
import { TrackingInputError } from 'omega-track';
import { omegaPerTest } from '../helpers/omegaPerTest';

const { om } = omegaPerTest();

/** A compiled tfjs model: 2 inputs, 1 output, fixed initial weights. */
function tinyModel(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        units: 1,
        inputShape: [2],
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
    ],
  });
  model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
  return model;
}

const X = Array.from({ length: 32 }, (_, i) => [i / 32, (i % 4) / 4]);
const Y = X.map(([a, b]) => [1 + 2 * a - b]);

const paramsOf = (r: SweepResult): string[] => r.trials.map((t) => JSON.stringify(t.params)).sort();

describe('om.runtime.model(m).sweep and gridsearch, local executor (issue 25)', () => {
  beforeAll(() => tf.enableProdMode());

  test('each trial fits a copy of the model with its params as fit options, then scores it, in its child run', async () => {
    await om().models.put(tinyModel(), 'tiny');
    const exp = om().runtime.experiment('model-sweep');
    const result = await exp.run(() =>
      om()
        .runtime.model('tiny')
        .sweep(X, Y, {
          space: { learningRate: [0.05, 0.2], epochs: [1, 2] },
          method: 'grid',
          metric: 'loss',
          goal: 'minimize',
          parallel: 2,
        }),
    );
    expect(result.trials).toHaveLength(4);
    const runs = await exp.runs();
    const children = runs.filter((r) => r.parent === result.run);
    expect(children).toHaveLength(4);
    for (const t of result.trials) {
      const child = children.find((r) => r.run === t.run)!;
      expect(child.status).toBe('STOPPED');
      expect(child.params).toMatchObject(t.params);
      // the fit's epochs (tfjs callback) and the score landed in the trial's run
      expect(child.metrics?.loss.count).toBe(t.params.epochs);
      expect(child.metrics?.score).toBeDefined();
      expect(t.value).toBeCloseTo(child.metrics!.score.last);
      // the fitted copy is kept under its trial's name; the model itself is untouched
      expect(await om().models.metadata(`tiny/sweep-${result.run}/trial-${t.trial}`)).toBeDefined();
    }
    const rows = await exp.data({ run: result.trials[0].run, event: 'task_call' });
    expect(rows.map((r) => r.key)).toEqual(['fit', 'score']);
    expect((rows[0].value as { opts: Record<string, unknown> }).opts).toEqual(result.trials[0].params);
  });

  test('gridsearch gives the same trials as the equivalent sweep', async () => {
    await om().models.put(tinyModel(), 'gs');
    const parameters = { learningRate: [0.01, 0.1], batchSize: [8, 16, 32] };
    const grid = await om()
      .runtime.model('gs')
      .gridsearch(X, Y, { parameters, experiment: 'gs', fit: { epochs: 1 } });
    const sweep = await om()
      .runtime.model('gs')
      .sweep(
        X,
        Y,
        // a tfjs model's score is its loss: gridsearch minimizes it unless told
        { space: parameters, method: 'grid', metric: 'score', goal: 'minimize' },
        {
          experiment: 'gs',
          fit: { epochs: 1 },
        },
      );
    expect(grid.trials).toHaveLength(6);
    expect(paramsOf(grid)).toEqual(paramsOf(sweep));
    const runs = await om().runtime.experiment('gs').runs();
    const [g, s] = [grid.run, sweep.run].map((run) => runs.find((r) => r.run === run)!.params);
    expect(g).toEqual(s);
    expect(g).toMatchObject({ method: 'grid', metric: 'score', goal: 'minimize', maxTrials: 6 });
    // the best is the lowest loss
    expect(grid.best?.value).toBe(Math.min(...grid.trials.map((t) => t.value!)));
  });

  test('a model that is not in om.models, or no X: a TrackingInputError before any run is made', async () => {
    await expect(
      om()
        .runtime.model('nosuch')
        .gridsearch(X, Y, { parameters: { epochs: [1] }, experiment: 'missing' }),
    ).rejects.toThrow(/no entry 'nosuch'/);
    await om().models.put(tinyModel(), 'nox');
    await expect(
      om()
        .runtime.model('nox')
        .sweep(
          undefined as unknown as typeof X,
          Y,
          { space: { epochs: [1] }, method: 'grid', metric: 'score', goal: 'minimize' },
          {
            experiment: 'missing',
          },
        ),
    ).rejects.toThrow(/needs X/);
    expect(await om().runtime.experiment('missing').runs()).toEqual([]);
  });

  test('a model sweep outside any run and without experiment says where it could record', async () => {
    await om().models.put(tinyModel(), 'nowhere');
    await expect(
      om()
        .runtime.model('nowhere')
        .gridsearch(X, Y, { parameters: { epochs: [1] } }),
    ).rejects.toThrow(TrackingInputError);
  });
});
