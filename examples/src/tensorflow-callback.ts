/**
 * TensorflowCallback in detail: per-batch metrics, early stopping in the same callbacks array,
 * and model.fitDataset. Run: node examples/dist/tensorflow-callback.js
 */
import * as tf from '@tensorflow/tfjs';
import { omega, tensorflowCallback } from 'omega-track';
import { blobClassifier, makeBlobs } from './data/blobs';

async function main(): Promise<void> {
  tf.enableProdMode();
  const om = omega();
  const exp = om.runtime.experiment('tensorflow-callback');
  const { features, labels, classes } = makeBlobs(1200, 11);
  const model = blobClassifier(12, classes, 'categoricalCrossentropy');

  await exp.run(async (e) => {
    // every 10th batch as well as every epoch; stop once val_loss stops improving
    await model.fit(tf.tensor2d(features), tf.oneHot(tf.tensor1d(labels, 'int32'), classes), {
      epochs: 30,
      batchSize: 32,
      validationSplit: 0.25,
      verbose: 0,
      callbacks: [
        tensorflowCallback(e, { updateFreq: 10 }),
        tf.callbacks.earlyStopping({ monitor: 'val_loss', patience: 2 }),
      ],
    });
  });
  const rows = await exp.data({ run: -1, event: 'metric' });
  const epochs = new Set(rows.filter((r) => r.phase === 'epoch').map((r) => r.step)).size;
  const batches = rows.filter((r) => r.phase === 'batch' && r.key === 'loss');
  console.log(
    `fit: ${epochs} epochs tracked (early stopping may end before 30), ${batches.length} batch samples at steps ${batches
      .map((r) => r.step)
      .slice(0, 5)
      .join(', ')}, …`,
  );

  const dataset = tf.data
    .zip({
      xs: tf.data.array(features),
      ys: tf.data.array(labels.map((l) => Array.from({ length: classes }, (_, c) => (c === l ? 1 : 0)))),
    })
    .shuffle(1200, '1')
    .batch(64);
  await exp.run(async (e) => {
    await model.fitDataset(dataset, { epochs: 3, verbose: 0, callbacks: [tensorflowCallback(e)] });
  });
  const last = await exp.summary({ run: -1 });
  console.log('fitDataset run summary:');
  for (const s of last)
    console.log(
      `  ${s.key.padEnd(6)} count ${s.count}  mean ${s.mean.toFixed(4)}  last ${Number(s.last).toFixed(4)}`,
    );
  await om.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
