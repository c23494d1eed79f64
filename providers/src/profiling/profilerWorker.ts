/**
 * The profiler's sampling thread. It runs on its own event loop, so samples are taken on
 * schedule while the main thread is busy in model.fit or any synchronous loop; each sample is
 * posted to the main thread with the time it was taken.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { MetricGroup } from './metrics';
import { SystemSampler } from './SystemSampler';

/** What the main thread passes to the worker. */
export interface ProfilerWorkerConfig {
  intervalMs: number;
  metrics: MetricGroup[];
  /** One float: the main thread's V8 heap in use, kept current by the main thread. */
  heap: SharedArrayBuffer;
}

/** A message from the worker. */
export interface WorkerSample {
  /** Epoch milliseconds when the sample was taken. */
  dt: number;
  /** How late the sample started against its schedule, in milliseconds. */
  lateness: number;
  values: Record<string, number>;
  gpus: Array<Record<string, number>>;
}

async function run(): Promise<void> {
  const config = workerData as ProfilerWorkerConfig;
  const heap = new Float64Array(config.heap);
  const sampler = new SystemSampler(config.metrics, () => heap[0]);
  await sampler.prime();
  const interval = config.intervalMs;
  const t0 = performance.now();
  // the first sample comes one interval after the start, as every later one does
  let k = 1;
  const tick = async (): Promise<void> => {
    const started = performance.now();
    const dt = Date.now();
    const { values, gpus } = await sampler.sample();
    const message: WorkerSample = { dt, lateness: started - (t0 + k * interval), values, gpus };
    parentPort?.postMessage(message);
    // the next sample keeps to the original schedule; ticks missed while sampling are skipped
    const now = performance.now();
    k = Math.max(k + 1, Math.ceil((now - t0) / interval));
    setTimeout(() => void tick(), t0 + k * interval - now);
  };
  setTimeout(() => void tick(), interval);
}

run().catch((error: unknown) => {
  parentPort?.postMessage({ error: error instanceof Error ? error.message : String(error) });
});
