import * as tf from '@tensorflow/tfjs'; // or @tensorflow/tfjs-node
import { TensorflowCallback, autolog, omega } from 'omega-track';

const om = omega();
const exp = om.runtime.experiment('tfjs');
const xs = tf.randomNormal([200, 4]);
const ys = xs.sum(1, true);
const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [4] })] });
model.compile({ optimizer: tf.train.adam(0.1), loss: 'meanSquaredError' });

await exp.run(async () => {
  await model.fit(xs, ys, {
    epochs: 10,
    validationSplit: 0.2,
    verbose: 0,
    callbacks: [new TensorflowCallback(), tf.callbacks.earlyStopping({ patience: 2 })],
  });
});

// or every later fit, without a callback argument
autolog(exp, { updateFreq: 'batch' });
await exp.run(() => model.fit(xs, ys, { epochs: 2, batchSize: 50, verbose: 0 }));
autolog.disable();

const [latest] = await exp.runs({ orderBy: ['attributes.run DESC'], limit: 1 });
console.log(`run ${latest.run}: loss`, latest.metrics?.loss?.last, 'epochs', latest.params?.epochs);
await om.close();
