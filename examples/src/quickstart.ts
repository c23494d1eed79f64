/**
 * The main job (`npm start`): a small TensorFlow.js classifier trained for a few epochs inside
 * `exp.run(...)`, tracked into the embedded store by TensorflowCallback, then the run's summary.
 */
import * as tf from '@tensorflow/tfjs';
import { TensorflowCallback, omega } from 'omega-track';
import { makeBlobs } from './data/blobs';

async function main(): Promise<void> {
  // silences tfjs's "install tfjs-node" banner; use @tensorflow/tfjs-node for speed where it installs
  tf.enableProdMode();
  const om = omega();
  const exp = om.runtime.experiment('quickstart');

  const { features, labels, classes } = makeBlobs(3000);
  const xs = tf.tensor2d(features);
  const ys = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 16, activation: 'relu', inputShape: [2] }),
      tf.layers.dense({ units: 16, activation: 'relu' }),
      tf.layers.dense({ units: classes, activation: 'softmax' }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });

  const run = await exp.run(async (e) => {
    e.logParam('dataset', 'three gaussian blobs, 3000 samples');
    await model.fit(xs, ys, {
      epochs: 8,
      batchSize: 64,
      validationSplit: 0.2,
      shuffle: true,
      verbose: 0,
      callbacks: [new TensorflowCallback(e, { saveModel: true })],
    });
    return e.currentRun;
  });

  const rows = await exp.data({ run, event: 'metric' });
  const byEpoch = new Map<number, Record<string, number>>();
  for (const r of rows) {
    const epoch = r.step ?? 0;
    byEpoch.set(epoch, { ...byEpoch.get(epoch), [r.key]: r.value as number });
  }
  console.log(`omega-track quickstart: experiment 'quickstart', run ${run} (${om.store.url})\n`);
  const keys = ['loss', 'acc', 'val_loss', 'val_acc'];
  console.log(['epoch', ...keys].map((k) => k.padStart(9)).join(''));
  for (const [epoch, m] of byEpoch)
    console.log([String(epoch), ...keys.map((k) => m[k].toFixed(4))].map((v) => v.padStart(9)).join(''));

  const [info] = (await exp.runs()).filter((r) => r.run === run);
  const restored = (await exp.restoreArtifact('model', { run })) as tf.LayersModel;
  const probe = tf.tensor2d([
    [-1.5, -1],
    [1.5, -1],
    [0, 1.5],
  ]);
  const predicted = Array.from((restored.predict(probe) as tf.Tensor).argMax(1).dataSync());
  console.log(
    `\nrun ${info.run}: ${info.status} in ${info.duration} ms; the saved model, restored, puts the three blob centres in classes ${predicted.join(', ')}`,
  );
  console.log('\nLook at it with the CLI:');
  console.log('  npx omega-track runs quickstart');
  console.log('  npx omega-track summary quickstart --run=-1');
  console.log('  npx omega-track data quickstart --run=-1 --event metric --format csv');
  await om.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
