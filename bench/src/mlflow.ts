/**
 * bench/mlflow: metrics per second into an MLflow server, three ways, in one run against the same
 * server: through the mlflow provider (log, then flush until the server has them), through one
 * `runs/log-metric` request per metric (what a naive client does), and through back-to-back
 * `log-batch` requests of 1,000 metrics (the most the server can take in).
 *
 * Against MLFLOW_TRACKING_URI when set; else against the MLflow-compatible fake from test/, run
 * in a child process so that it does not share this process's event loop.
 *
 *   npm run build && node bench/dist/mlflow.js [--metrics N]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { omega } from 'omega-track';
import { MlflowClient } from 'omega-track/internal';
import { mlflowBatchRate } from './mlflowCeiling';

const args = process.argv.slice(2);
const METRICS = Number(args[args.indexOf('--metrics') + 1] || 50_000);
const NAIVE = 2_000;

async function startFake(): Promise<{ url: string; child: ChildProcess }> {
  const server = path.join(__dirname, '..', '..', 'test', 'dist', 'mlflow', 'FakeMlflowServer.js');
  const code = `const { FakeMlflowServer } = require(${JSON.stringify(server)});
    const s = new FakeMlflowServer(); s.start().then(() => process.stdout.write(s.url + '\\n'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) =>
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())),
  );
  return { url, child };
}

const now = (): number => performance.now();

async function main(): Promise<void> {
  const real = process.env.MLFLOW_TRACKING_URI;
  const fake = real ? undefined : await startFake();
  const uri = real ?? fake!.url;
  const client = new MlflowClient({ trackingUri: uri });
  const stamp = Date.now();
  const experiment = await client.ensureExperiment(`bench-mlflow-${stamp}`);

  // naive: one request per metric
  const naiveRun = await client.createRun(experiment.experiment_id, 'naive', Date.now(), []);
  let t0 = now();
  for (let i = 0; i < NAIVE; i++)
    await client.logMetric(naiveRun.info.run_id, { key: 'm', value: i, timestamp: Date.now(), step: i });
  const naiveRate = (NAIVE / (now() - t0)) * 1000;

  // the server's ceiling: back-to-back log-batch requests of 1,000 metrics
  const batchRate = await mlflowBatchRate(client, experiment.experiment_id, 'batch', METRICS);

  // the provider: log everything, then flush until the server has it all
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-bench-mlflow-'));
  const om = omega({ store: 'memory:' });
  const exp = om.runtime.experiment(`bench-mlflow-provider-${stamp}`, {
    provider: 'mlflow',
    trackingUri: uri,
    spool: path.join(dir, 'spool.db'),
  });
  await exp.start();
  await exp.flush();
  t0 = now();
  for (let i = 0; i < METRICS; i++) {
    exp.logMetric('m', i, i);
    // a training loop yields between batches; this lets queued batches go out meanwhile
    if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
  }
  await exp.flush();
  const providerRate = (METRICS / (now() - t0)) * 1000;
  await exp.stop();
  const stored = (await exp.data({ event: 'metric' })).length;
  await om.close();
  fs.rmSync(dir, { recursive: true, force: true });
  fake?.child.kill();

  console.log(
    `bench/mlflow — Node ${process.version}, ${os.cpus().length} cores; server: ${real ? client.baseUrl : 'MLflow-compatible fake (test/mlflow), own process'}\n`,
  );
  console.log(
    `one runs/log-metric request per metric: ${Math.round(naiveRate).toLocaleString('en-US')} metrics/s (${NAIVE} requests)`,
  );
  console.log(
    `back-to-back log-batch of 1,000:        ${Math.round(batchRate).toLocaleString('en-US')} metrics/s (${METRICS / 1000} requests)`,
  );
  console.log(
    `through the mlflow provider:            ${Math.round(providerRate).toLocaleString('en-US')} metrics/s (${METRICS.toLocaleString('en-US')} logged, flushed and delivered; ${stored.toLocaleString('en-US')} read back)`,
  );
  console.log(`\nprovider / per-request:  ${(providerRate / naiveRate).toFixed(1)}x (target >= 50x)`);
  console.log(`provider / log-batch:    ${((providerRate / batchRate) * 100).toFixed(0)}% (target >= 80%)`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
