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
  // profile: true also sends system metrics (MLflow's "System metrics" tab). The profiler samples
  // every 10 s by default; this short run asks for a sample every 0.25 s so that it takes a few.
  const exp = om.runtime.experiment('omega-track-mlflow-example', {
    provider: 'mlflow',
    profile: true,
    profiler: { interval: 0.25 },
  });
  await exp.run(async (e) => {
    e.logParams({ lr: 0.01, optimizer: 'adam' });
    for (let epoch = 0; epoch < 5; epoch++) {
      e.logMetrics({ loss: 1 / (epoch + 1), acc: 1 - 1 / (epoch + 2) }, epoch);
      await new Promise((r) => setTimeout(r, 300));
    }
    // a JSON artifact: read back by restoreArtifact, and a file notes.json in MLflow's UI
    e.logArtifact({ note: 'anything JSON, bytes, typed arrays or a tfjs model' }, 'notes');
  });
  const [run] = (await exp.runs()).slice(-1);
  console.log(`run ${run.run}: ${run.status}; metrics in MLflow:`);
  for (const s of await exp.summary({ run: run.run }))
    console.log(`  ${s.key}: last ${String(s.last)}, mean ${s.mean.toFixed(3)}`);
  console.log('system metrics in MLflow (profiler samples):');
  const shown: Record<string, [string, number]> = {
    cpu_load: ['%', 1],
    memory_used: ['MB', 1e-6],
    process_rss: ['MB', 1e-6],
  };
  for (const s of await exp.summary({ run: run.run, event: 'profile' })) {
    const unit = shown[s.key];
    if (unit) console.log(`  ${s.key}: ${s.count} samples, mean ${(s.mean * unit[1]).toFixed(1)} ${unit[0]}`);
  }
  console.log(`artifact 'notes': ${JSON.stringify(await exp.restoreArtifact('notes', { run: run.run }))}`);
  await om.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
