/**
 * The same tracking calls, recorded in an MLflow tracking server. Needs MLFLOW_TRACKING_URI
 * (e.g. http://127.0.0.1:5000 of `mlflow server`); without it, it says so and does nothing.
 * Run: MLFLOW_TRACKING_URI=http://127.0.0.1:5000 node examples/dist/mlflow.js
 */
import { omega } from 'omega-track';

async function main(): Promise<void> {
  if (!process.env.MLFLOW_TRACKING_URI) {
    console.log(
      'examples/mlflow: MLFLOW_TRACKING_URI is not set; start `mlflow server` and set it to run this example.',
    );
    return;
  }
  const om = omega();
  // profile: true also sends system metrics (MLflow's "System metrics" tab)
  const exp = om.runtime.experiment('omega-track-mlflow-example', { provider: 'mlflow', profile: true });
  await exp.run(async (e) => {
    e.logParams({ lr: 0.01, optimizer: 'adam' });
    for (let epoch = 0; epoch < 5; epoch++) {
      e.logMetrics({ loss: 1 / (epoch + 1), acc: 1 - 1 / (epoch + 2) }, epoch);
      await new Promise((r) => setTimeout(r, 100));
    }
    e.logArtifact({ note: 'anything JSON, bytes, typed arrays or a tfjs model' }, 'notes');
  });
  const [run] = (await exp.runs()).slice(-1);
  console.log(`run ${run.run}: ${run.status}; metrics in MLflow:`);
  for (const s of await exp.summary({ run: run.run }))
    console.log(`  ${s.key}: last ${String(s.last)}, mean ${s.mean.toFixed(3)}`);
  await om.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
