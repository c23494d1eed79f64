/**
 * The profiler's sampling thread. It runs on its own event loop, so samples are taken on
 * schedule while the main thread is busy in model.fit or any synchronous loop; each sample is
 * posted to the main thread's port with the time it was taken. A busy main thread reads them
 * when it is free, or drains them from the port at once when the profiler stops.
 *
 * A profiled run always has a profile, however short against the interval: a sample as the run
 * starts (measured over its first moments, so that rates mean something), the samples on
 * schedule, and a last one when the profiler is asked to finish (the run stops).
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
  /** Take a sample as sampling starts (a run starts), not only one interval later (a restart). */
  startSample: boolean;
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

/**
 * What the main thread posts: take no more samples on schedule, post the one being taken and a
 * last one (the run stops), then say so.
 */
export interface FinishRequest {
  finish: true;
}

/** The start sample measures the run's first moments: rates over a shorter window mean nothing. */
const START_WINDOW_MS = 250;

/** A last sample this soon after the one before adds nothing (its rates would be noise). */
const MIN_LAST_GAP_MS = 50;

async function run(): Promise<void> {
  const config = workerData as ProfilerWorkerConfig;
  const port = config.port;
  const post = (message: WorkerMessage): void => port.postMessage(message);
  let finishing = false;
  /** The sample being taken, if any: `finish` waits for it, so a sample begun on time is kept. */
  let taking: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  /** When the last sample was taken (performance.now()); none yet: undefined. */
  let lastTaken: number | undefined;
  /** Set once a sampler fails: it fails every time, so no more samples are taken. */
  let failed = false;
  const heap = new Float64Array(config.heap);
  const sampler = new SystemSampler(config.metrics, () => heap[0]);
  const take = async (due: number): Promise<void> => {
    const started = performance.now();
    const dt = Date.now();
    lastTaken = started;
    const { values, gpus } = await sampler.sample();
    post({ dt, lateness: started - due, values, gpus });
  };
  const takeOnce = (due: number): Promise<void> =>
    (taking = take(due)
      .catch((error: unknown) => {
        // a sampler that fails once fails every time: say it once and stop sampling
        failed = true;
        post({ error: error instanceof Error ? error.message : String(error) });
      })
      .finally(() => (taking = undefined)));
  const primed = sampler.prime();
  port.on('message', (message: FinishRequest) => {
    if (!message.finish) return;
    finishing = true;
    clearTimeout(timer);
    void (async () => {
      // the run stops: its last sample, unless one was taken a moment ago
      try {
        await primed;
        await taking;
        if (!failed && (lastTaken === undefined || performance.now() - lastTaken >= MIN_LAST_GAP_MS))
          await takeOnce(performance.now());
      } catch {
        // prime failed: said below
      }
      post({ finished: true });
    })();
  });
  try {
    await primed;
    const interval = config.intervalMs;
    const t0 = performance.now();
    // sample k is due at t0 + k·interval; sample 0, the start sample, a short window in
    let k = config.startSample ? 0 : 1;
    const due = (i: number): number =>
      t0 + (i === 0 ? Math.min(START_WINDOW_MS, interval / 2) : i * interval);
    const tick = (): void => {
      if (finishing) return;
      void takeOnce(due(k)).finally(() => {
        if (finishing || failed) return;
        // the next sample keeps to the original schedule; ticks missed while sampling are skipped
        const now = performance.now();
        k = Math.max(k + 1, Math.ceil((now - t0) / interval));
        timer = setTimeout(tick, due(k) - now);
      });
    };
    if (!finishing) timer = setTimeout(tick, due(k) - performance.now());
  } catch (error) {
    failed = true;
    post({ error: error instanceof Error ? error.message : String(error) });
  }
}

void run();
