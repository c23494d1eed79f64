/**
 * autolog(): every later model.fit is tracked without touching the training code, into the
 * experiment active in exp.run(...). Run: node examples/dist/autolog.js
 */
import * as tf from '@tensorflow/tfjs';
import { autolog, omega } from 'omega-track';
import { blobClassifier, makeBlobs } from './data/blobs';

/** Training code that knows nothing about tracking. */
async function train(): Promise<void> {
  const { features, labels, classes } = makeBlobs(900, 3);
  const model = blobClassifier(8, classes, 'sparseCategoricalCrossentropy');
  await model.fit(tf.tensor2d(features), tf.tensor1d(labels), { epochs: 4, batchSize: 32, verbose: 0 });
}

async function main(): Promise<void> {
  tf.enableProdMode();
  const om = omega();
  const exp = om.runtime.experiment('autolog');
  autolog();
  await exp.run(() => train());
  autolog.disable();
  await exp.run(() => train());
  const [tracked, untracked] = [
    await exp.data({ run: -2, event: 'metric' }),
    await exp.data({ run: -1, event: 'metric' }),
  ];
  console.log(
    `with autolog: ${tracked.length} metrics (${[...new Set(tracked.map((r) => r.key))].join(', ')}); after autolog.disable(): ${untracked.length}`,
  );
  await om.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
