/**
 * The main job (`npm start`): a tracked training run on the embedded store, then a summary.
 * The model here is a small logistic regression trained by gradient descent in plain
 * TypeScript, so the example needs nothing but omega-track.
 */
import { omega } from 'omega-track';

function makeData(n: number, seed = 7): { X: number[][]; y: number[] } {
  let s = seed;
  const rand = (): number => ((s = (s * 16807) % 2147483647) - 1) / 2147483646;
  const X: number[][] = [];
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    const a = rand() * 4 - 2;
    const b = rand() * 4 - 2;
    X.push([a, b]);
    y.push(a + 0.5 * b + (rand() - 0.5) * 0.8 > 0 ? 1 : 0);
  }
  return { X, y };
}

async function main(): Promise<void> {
  const om = omega();
  const exp = om.runtime.experiment('quickstart');
  const { X, y } = makeData(2000);
  const lr = 0.5;
  const epochs = 8;
  const w = [0, 0];
  let bias = 0;
  const run = await exp.run(async (e) => {
    e.logParams({ lr, epochs, samples: X.length, model: 'logistic-regression' });
    for (let epoch = 0; epoch < epochs; epoch++) {
      let loss = 0;
      let correct = 0;
      const grad = [0, 0];
      let gradB = 0;
      for (let i = 0; i < X.length; i++) {
        const z = w[0] * X[i][0] + w[1] * X[i][1] + bias;
        const p = 1 / (1 + Math.exp(-z));
        loss -= y[i] * Math.log(p + 1e-12) + (1 - y[i]) * Math.log(1 - p + 1e-12);
        correct += (p > 0.5 ? 1 : 0) === y[i] ? 1 : 0;
        grad[0] += (p - y[i]) * X[i][0];
        grad[1] += (p - y[i]) * X[i][1];
        gradB += p - y[i];
      }
      w[0] -= (lr * grad[0]) / X.length;
      w[1] -= (lr * grad[1]) / X.length;
      bias -= (lr * gradB) / X.length;
      e.logMetrics({ loss: loss / X.length, acc: correct / X.length }, { step: epoch, phase: 'epoch' });
    }
    e.logArtifact({ weights: w, bias }, 'model');
    return e.currentRun;
  });

  const rows = await exp.data({ run, event: 'metric' });
  const table: Record<number, Record<string, number>> = {};
  for (const r of rows) (table[r.step ?? 0] ??= {})[r.key] = r.value as number;
  console.log(`omega-track quickstart: experiment 'quickstart', run ${run} (${om.store.url})\n`);
  console.log('epoch  loss     acc');
  for (const [epoch, m] of Object.entries(table))
    console.log(`${epoch.padStart(5)}  ${m.loss.toFixed(4)}   ${m.acc.toFixed(4)}`);
  const runs = await exp.runs();
  const last = runs[runs.length - 1];
  console.log(`\nrun ${last.run}: ${last.status} in ${last.duration} ms; ${runs.length} run(s) so far`);
  console.log('restored artifact:', JSON.stringify(await exp.restoreArtifact('model', { run })));
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
