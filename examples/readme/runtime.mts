import * as tf from '@tensorflow/tfjs';
import { omega } from 'omega-track';

const om = omega(); // OMEGA_RUNTIME=redis://… sends the tasks to workers instead
const X = tf.randomNormal([100, 4]).arraySync() as number[][];
const Y = X.map((row) => [row[0] + 2 * row[1] - row[3]]);

const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [4] })] });
model.compile({ optimizer: 'sgd', loss: 'meanSquaredError', metrics: ['mae'] });
await om.models.put(model, 'mymodel'); // compiled state, weights and optimizer are kept

await om.runtime.experiment('myexp').run(async (exp) => {
  const history = await om.runtime.model('mymodel').fit(X, Y, { epochs: 5, batchSize: 32 });
  const score = await om.runtime.model('mymodel').score(X, Y); // { loss, mae }; metric `score` = loss
  const yhat = await om.runtime.model('mymodel').predict<number[][]>(X); // nested arrays
  exp.logMetric('mymetric', 0.78);
  console.log(history.epochs, score, yhat.length);
});
await om.close();
