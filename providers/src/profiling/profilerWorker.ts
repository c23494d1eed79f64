/**
 * The profiler's sampling thread. It runs on its own event loop, so samples are taken on
 * schedule while the main thread is busy in model.fit or any synchronous loop; each sample is
 * posted to the main thread's port with the time it was taken. A busy main thread reads them
 * when it is free, or drains them from the port at once when the profiler stops.
 */
import type { MessagePort } from 'node:worker_threads';
import { workerData } from 'node:worker_threads';
import type { MetricGroup } from './metrics';
import { SystemSampler } from './SystemSampler';

/** What the main thread passes to the worker. */
export interface ProfilerWorkerConfig {
  intervalMs: number;
  metrics: MetricGroup[];
  /** One float: the main thread's V8 heap in use, kept current by the main thread. */
  heap: SharedArrayBuffer;
  /** Where samples go (transferred; the main thread holds the other end). */
  port: MessagePort;
}

/** A sample from the worker. */
export interface WorkerSample {
  /** Epoch milliseconds when the sample was taken. */
  dt: number;
  /** How late the sample started against its schedule, in milliseconds. */
  lateness: number;
  values: Record<string, number>;
  gpus: Array<Record<string, number>>;
}

/** What the worker posts: samples, a failure, or the answer to `finish`. */
export type WorkerMessage = WorkerSample | { error: string } | { finished: true };

/** What the main thread posts: take no more samples, post the one being taken, then say so. */
export interface FinishRequest {
  finish: true;
}

async function run(): Promise<void> {
  const config = workerData as ProfilerWorkerConfig;
  const port = config.port;
  const post = (message: WorkerMessage): void => port.postMessage(message);
  let finishing = false;
  /** The sample being taken, if any: `finish` waits for it, so a sample begun on time is kept. */
  let taking: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  port.on('message', (message: FinishRequest) => {
    if (!message.finish) return;
    finishing = true;
    clearTimeout(timer);
    void (taking ?? Promise.resolve()).finally(() => post({ finished: true }));
  });
  try {
    const heap = new Float64Array(config.heap);
    const sampler = new SystemSampler(config.metrics, () => heap[0]);
    await sampler.prime();
    const interval = config.intervalMs;
    const t0 = performance.now();
    // the first sample comes one interval after the start, as every later one does
    let k = 1;
    const take = async (): Promise<void> => {
      const started = performance.now();
      const dt = Date.now();
      const { values, gpus } = await sampler.sample();
      post({ dt, lateness: started - (t0 + k * interval), values, gpus });
    };
    const tick = (): void => {
      if (finishing) return;
      let failed = false;
      taking = take()
        .catch((error: unknown) => {
          // a sampler that fails once fails every time: say it once and stop sampling
          failed = true;
          post({ error: error instanceof Error ? error.message : String(error) });
        })
        .finally(() => {
          taking = undefined;
          if (finishing || failed) return;
          // the next sample keeps to the original schedule; ticks missed while sampling are skipped
          const now = performance.now();
          k = Math.max(k + 1, Math.ceil((now - t0) / interval));
          timer = setTimeout(tick, t0 + k * interval - now);
        });
    };
    if (!finishing) timer = setTimeout(tick, interval);
  } catch (error) {
    post({ error: error instanceof Error ? error.message : String(error) });
  }
}

void run();
