// train.mts: a TensorFlow.js classifier trained and tracked, with a system profile of the run
// (compile with tsc, module nodenext, then node train.mjs; or run it with npx tsx train.mts)
import * as tf from '@tensorflow/tfjs'; // or @tensorflow/tfjs-node
import { TensorflowCallback, omega } from 'omega-track';

const om = omega();
// a registered provider's name types the handle: exp.profiler and exp.maxBuffer type-check
const exp = om.runtime.experiment('train', { provider: 'profiling' });
exp.profiler.interval = 1; // seconds between system samples (default 10)

// two noisy classes in the plane, made in code
const features: number[][] = [];
const labels: number[] = [];
for (let i = 0; i < 1000; i++) {
  const label = i % 2;
  features.push([label - 0.5 + Math.sin(i * 12.9898) * 0.9, Math.cos(i * 78.233) * 0.9]);
  labels.push(label);
}
const xs = tf.tensor2d(features);
const ys = tf.tensor2d(labels, [labels.length, 1]);

const model = tf.sequential({
  layers: [
    tf.layers.dense({ units: 8, activation: 'relu', inputShape: [2] }),
    tf.layers.dense({ units: 1, activation: 'sigmoid' }),
  ],
});
model.compile({ optimizer: tf.train.adam(0.05), loss: 'binaryCrossentropy', metrics: ['accuracy'] });

const run = await exp.run(async (e) => {
  await model.fit(xs, ys, {
    epochs: 10,
    batchSize: 32,
    validationSplit: 0.2,
    verbose: 0,
    callbacks: [new TensorflowCallback({ saveModel: true }), tf.callbacks.earlyStopping({ patience: 3 })],
  });
  return e.currentRun;
});

const accuracy = await exp.data({ run, event: 'metric', key: 'val_acc' });
console.log(`run ${run}: val_acc by epoch`, accuracy.map((row) => Number(row.value).toFixed(3)).join(' '));
const profile = await exp.data({ run, event: 'profile', key: 'process_rss' });
console.log(`${profile.length} samples of process_rss`);
const restored = await exp.restoreArtifact<tf.LayersModel>('model', { run });
const [p] = (restored?.predict(tf.tensor2d([[1, 0]])) as tf.Tensor).dataSync();
console.log(`the restored model says ${p > 0.5 ? 'class 1' : 'class 0'} for [1, 0]`);
await om.close();
