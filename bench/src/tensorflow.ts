/**
 * bench/tensorflow: what TensorflowCallback costs a tfjs training run. A small MLP (2 dense
 * layers, 5,000 samples, batch 32, 5 epochs) on the CPU backend, fitted without the callback,
 * with it per epoch, and with it per batch, into the embedded SQLite store. The three are
 * interleaved over several rounds and compared by their medians, so drift of the machine hits
 * all three alike.
 *
 *   npm run build && node bench/dist/tensorflow.js [--rounds N]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { TensorflowCallback, omega } from 'omega-track';

const args = process.argv.slice(2);
const ROUNDS = Number(args[args.indexOf('--rounds') + 1] || 5);
const SAMPLES = 5000;
const FEATURES = 20;

function model(): tf.LayersModel {
  const m = tf.sequential({
    layers: [
      tf.layers.dense({
        units: 64,
        activation: 'relu',
        inputShape: [FEATURES],
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.dense({
        units: 1,
        activation: 'sigmoid',
        kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }),
      }),
    ],
  });
  m.compile({ optimizer: tf.train.sgd(0.05), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
  return m;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  tf.enableProdMode();
  await tf.setBackend('cpu');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-bench-tf-'));
  const om = omega({ store: `sqlite:${path.join(dir, 'omega.db')}` });
  const X = tf.randomUniform([SAMPLES, FEATURES], -1, 1, 'float32', 3);
  const y = X.sum(1).greater(0).cast('float32').reshape([SAMPLES, 1]);
  const exp = om.runtime.experiment('bench-tensorflow');
  const modes = ['none', 'epoch', 'batch'] as const;
  const times: Record<(typeof modes)[number], number[]> = { none: [], epoch: [], batch: [] };
  let events = 0;

  // warm-up: JIT and tfjs kernels
  await model().fit(X, y, { epochs: 1, batchSize: 32, verbose: 0 });
  for (let round = 0; round < ROUNDS; round++) {
    for (const mode of modes) {
      const m = model();
      await exp.start();
      const callbacks = mode === 'none' ? [] : [new TensorflowCallback(exp, { updateFreq: mode })];
      const t0 = performance.now();
      await m.fit(X, y, { epochs: 5, batchSize: 32, shuffle: false, verbose: 0, callbacks });
      times[mode].push(performance.now() - t0);
      await exp.stop();
    }
  }
  events = (await exp.data({ run: 'all', event: 'metric' })).length;

  const base = median(times.none);
  const pct = (mode: 'epoch' | 'batch'): string => (((median(times[mode]) - base) / base) * 100).toFixed(2);
  console.log(
    `bench/tensorflow — Node ${process.version}, tfjs ${tf.version.tfjs} (${tf.getBackend()} backend), ${os.cpus().length} cores`,
  );
  console.log(
    `MLP ${FEATURES}-64-1, ${SAMPLES} samples, batch 32, 5 epochs (785 batches); ${ROUNDS} interleaved rounds, medians\n`,
  );
  for (const mode of modes)
    console.log(
      `${`fit, ${mode === 'none' ? 'no callback (baseline)' : `callback per ${mode}`}`.padEnd(36)} ${median(times[mode]).toFixed(0).padStart(6)} ms   (${times[mode].map((t) => t.toFixed(0)).join(', ')})`,
    );
  console.log(`\noverhead per epoch: ${pct('epoch')}% (target <= 2%)`);
  console.log(`overhead per batch: ${pct('batch')}% (target <= 10%)`);
  console.log(`metric events stored: ${events}`);
  await om.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
