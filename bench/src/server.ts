/**
 * bench/server: the team server (issue 22), measured against its baselines in the same run.
 *
 * 1. Ingest: 8 client processes each log N metrics into their own run, until every event is durable
 *    in the server's embedded store — against the same 8 processes writing the embedded store
 *    directly, and (when MLFLOW_TRACKING_URI is set) against back-to-back MLflow `log-batch`.
 * 2. The cost of one `logMetric` call in a client, with the server up and with it down.
 * 3. Live: the time from a metric logged on a client to the server's live view (SSE) saying so.
 *
 *   npm run build && node bench/dist/server.js [--metrics N] [--clients C]
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { omega } from 'omega-track';
import { MlflowClient } from 'omega-track/internal';
import { mlflowBatchRate } from './mlflowCeiling';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const PER_CLIENT = arg('--metrics', 400_000);
const CLIENTS = arg('--clients', 8);
const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'cli', 'dist', 'bin.js');
const CLIENT = path.join(ROOT, 'test', 'fixtures', 'teamClient.js');

const now = (): number => performance.now();
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

/** `omega-track server` on a free port; resolves with its URL once it serves. */
async function startServer(store: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [BIN, 'server', '--port', '0', '--store', store], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(https?:\/\/[^\s]+)/.exec(out);
      if (m) resolve(m[1].replace(/\/$/, ''));
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}) before serving: ${out}`)));
  });
  return { url, child };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Runs CLIENTS burst clients with `env`; resolves with the wall time (ms) until all exited. */
async function clients(env: NodeJS.ProcessEnv): Promise<number> {
  const t0 = now();
  await Promise.all(
    Array.from({ length: CLIENTS }, () => {
      const child = spawn(process.execPath, [CLIENT, 'burst', String(PER_CLIENT), 'bench-server'], {
        env: { ...process.env, ...env },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      return new Promise<void>((resolve, reject) =>
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`a client exited ${code}`)))),
      );
    }),
  );
  return now() - t0;
}

/** Counts the metrics of the bench experiment in `store` (the proof that they are durable). */
async function stored(store: string): Promise<number> {
  const om = omega({ store });
  try {
    const exp = await om.runtime.experiment('bench-server').use(1);
    let n = 0;
    for await (const batch of exp.iterate({ run: 'all', event: 'metric' }, { batchSize: 50_000 }))
      n += batch.length;
    return n;
  } finally {
    await om.close();
  }
}

/** Accepted logMetric calls per second on `exp` (the enqueue only). */
function callRate(exp: { logMetric(key: string, value: number, step: number): void }): number {
  const N = 200_000;
  const t0 = now();
  for (let i = 0; i < N; i++) exp.logMetric('m', i, i);
  return (N / (now() - t0)) * 1000;
}

/** ms from one metric logged on a client to the live view's next message about its experiment. */
async function liveLatency(url: string): Promise<number[]> {
  const om = omega({ store: url });
  const exp = om.runtime.experiment('bench-live');
  await exp.start();
  exp.logMetric('warm', 0);
  await exp.flush();
  const seen: number[] = [];
  const u = new URL('/api/live?experiment=bench-live', url);
  for (let i = 0; i < 5; i++) {
    const latency = await new Promise<number>((resolve, reject) => {
      let t0 = 0;
      const req = http.get(u, (res) => {
        let skippedFirst = false;
        res.on('data', (d: Buffer) => {
          const text = d.toString();
          if (!text.includes('data:')) return;
          // the first message is the state on connecting; log once it came
          if (!skippedFirst) {
            skippedFirst = true;
            t0 = now();
            exp.logMetric('live', i, i);
            return;
          }
          resolve(now() - t0);
          req.destroy();
        });
      });
      req.on('error', reject);
    });
    seen.push(latency);
  }
  await exp.stop();
  await om.close();
  return seen;
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-server-'));
  const total = CLIENTS * PER_CLIENT;
  try {
    // baseline: the same clients writing the embedded store directly
    const direct = `sqlite:${path.join(dir, 'direct.db')}`;
    const directMs = await clients({ OMEGA_STORE: direct });
    const directStored = await stored(direct);

    // through the server, on the embedded store
    const behind = `sqlite:${path.join(dir, 'server.db')}`;
    const server = await startServer(behind);
    const throughMs = await clients({ OMEGA_STORE: server.url, OMEGA_SPOOL_DIR: path.join(dir, 'spool') });
    const throughStored = await stored(server.url);

    console.log(
      `bench/server — ${CLIENTS} client processes × ${fmt(PER_CLIENT)} metrics, ${os.cpus().length} cores`,
    );
    console.log(
      `  direct into the embedded store: ${fmt((total / directMs) * 1000)} metrics/s (${fmt(directMs)} ms, ${fmt(directStored)} stored)`,
    );
    console.log(
      `  through the server (embedded store behind it, durable there): ${fmt((total / throughMs) * 1000)} metrics/s ` +
        `(${fmt(throughMs)} ms, ${fmt(throughStored)} stored) = ${((directMs / throughMs) * 100).toFixed(0)} % of direct`,
    );

    const mlflowUri = process.env.MLFLOW_TRACKING_URI;
    if (mlflowUri) {
      const client = new MlflowClient({ trackingUri: mlflowUri });
      const experiment = await client.ensureExperiment(`bench-server-${Date.now()}`);
      const mlflowRate = await mlflowBatchRate(client, experiment.experiment_id, 'batch', 50_000);
      console.log(
        `  MLflow log-batch (1,000 per request, back to back) at ${mlflowUri}: ${fmt(mlflowRate)} metrics/s; ` +
          `the server is ${(((total / throughMs) * 1000) / mlflowRate).toFixed(1)}× that`,
      );
    } else console.log('  MLflow log-batch: skipped (set MLFLOW_TRACKING_URI to a real MLflow server)');

    const latencies = await liveLatency(server.url);

    // the cost of a call: a run started while the server is up, logged into with it up, then down
    process.env.OMEGA_SPOOL_DIR = path.join(dir, 'spool-cost');
    process.env.OMEGA_SHIP_TIMEOUT_MS = '1000';
    const client = omega({ store: server.url });
    const exp = client.runtime.experiment('bench-cost');
    await exp.start();
    const up = callRate(exp);
    await exp.flush();
    await stopServer(server.child);
    const down = callRate(exp);
    await exp.flush();
    await client.close();
    const local = omega({ store: `sqlite:${path.join(dir, 'cost.db')}` });
    const localExp = local.runtime.experiment('bench-cost');
    await localExp.start();
    const embedded = callRate(localExp);
    await local.close();
    console.log(
      `  logMetric calls accepted per second in a client: server up ${fmt(up)}/s, server down ${fmt(down)}/s, ` +
        `embedded store ${fmt(embedded)}/s`,
    );
    latencies.sort((a, b) => a - b);
    console.log(
      `  logged on a client → live view told: median ${fmt(latencies[2])} ms, worst ${fmt(latencies[4])} ms (5 tries)`,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
