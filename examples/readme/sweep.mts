import * as tf from '@tensorflow/tfjs';
import { TensorflowCallback, omega } from 'omega-track';

const om = omega();
const X = tf.randomNormal([200, 4]);
const Y = X.matMul(tf.tensor2d([[1], [2], [0], [-1]]));

const exp = om.runtime.experiment('sweeps');
const result = await exp.sweep(
  {
    space: { lr: { min: 1e-3, max: 0.3, scale: 'log' }, units: [4, 16] },
    method: 'tpe', // or 'grid', 'random'
    metric: 'val_loss',
    goal: 'minimize',
    maxTrials: 12,
    parallel: 2,
    earlyStop: { type: 'median', minSteps: 2 },
    seed: 1,
  },
  async (params, trial) => {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({ units: params.units as number, activation: 'relu', inputShape: [4] }),
        tf.layers.dense({ units: 1 }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(params.lr as number), loss: 'meanSquaredError' });
    // val_loss per epoch goes to the trial's run; a stopped trial ends at the epoch boundary
    await model.fit(X, Y, { epochs: 8, validationSplit: 0.2, callbacks: [new TensorflowCallback(trial)] });
  },
);
console.log(result.trials.length, 'trials; best', result.best?.params, 'sweep run', result.run);

// a model of om.models: each trial a fit task (params as fit options) and a score task
const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [4] })] });
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
await om.models.put(model, 'mymodel');
const grid = await om.runtime.model('mymodel').gridsearch(X, Y, {
  parameters: { learningRate: [0.01, 0.1], epochs: [2, 4] },
  experiment: 'sweeps',
  goal: 'minimize',
});
console.log(grid.trials.length, 'grid trials; best', grid.best?.params);
await om.close();
