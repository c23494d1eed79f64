/**
 * The runtime: a model in om.models fitted, scored and used for predictions as runtime tasks,
 * tracked into the experiment of the enclosing `exp.run(...)`. Runs in-process by default; with
 * OMEGA_RUNTIME=redis://127.0.0.1:6379 and `omega-track worker --require
 * ./examples/dist/runtime/linearRegression.js` running, the same code runs on the worker.
 */
import { omega } from 'omega-track';
import { LinearRegression, register } from './runtime/linearRegression';

async function main(): Promise<void> {
  const om = omega();
  register(om.registry, om);
  await om.models.put(new LinearRegression(), 'house-prices');
  // y = 3·x1 − 2·x2 + 1, with a little noise
  const X = Array.from({ length: 200 }, (_, i) => [Math.sin(i), Math.cos(i * 0.7)]);
  const Y = X.map(([a, b]) => 3 * a - 2 * b + 1 + (Math.random() - 0.5) * 0.01);

  const exp = om.runtime.experiment('runtime-example');
  const model = om.runtime.model('house-prices');
  const run = await exp.run(async (e) => {
    await model.fit(X, Y, { epochs: 300, lr: 0.1 });
    const r2 = await model.score(X, Y);
    console.log(`R² on the training data: ${Number(r2).toFixed(4)}`);
    console.log('prediction for [0.5, 0.5]:', await model.predict([[0.5, 0.5]]));
    return e.currentRun;
  });
  const events = await exp.data({ run });
  console.log(
    `run ${run}: ${events.map((e) => (e.event === 'metric' ? `${e.event}:${e.key}` : e.event)).join(', ')}`,
  );
  await om.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
