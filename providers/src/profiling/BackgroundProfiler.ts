import fs from 'node:fs';
import path from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { FinishRequest, ProfilerWorkerConfig, WorkerMessage } from './profilerWorker';
import type { BackgroundProfilerOptions, ProfileSample } from './ProfilerSettings';
import { ProfilerSettings } from './ProfilerSettings';

export type { BackgroundProfilerOptions, ProfileSample };

/**
 * How long stop() waits for the worker's last samples: the one being taken and the stop sample,
 * which in a run shorter than the worker's start-up also waits for the first readings (a hung
 * sampler must not hang stop).
 */
const FINISH_WAIT_MS = 2000;

/** One sampling thread and the port its samples arrive on. */
interface Sampler {
  worker: Worker;
  port: MessagePort;
  /** Cleared once the sampler is replaced or stopped: what it still sends is not a sample of ours. */
  live: boolean;
  /** Resolves when the worker answers a finish request. */
  finished?: () => void;
}

/** The compiled worker beside this file; from TypeScript sources (ts-jest), the built one. */
function workerScript(): string {
  const beside = path.join(__dirname, 'profilerWorker.js');
  if (fs.existsSync(beside)) return beside;
  return path.join(__dirname, '..', '..', 'dist', 'profiling', 'profilerWorker.js');
}

/**
 * Samples system and process figures on a worker thread and hands each sample to `onSample` with
 * a step counted from `start()`: one as it starts, one every `interval` seconds, and one as it
 * stops, so that even a run shorter than the interval has a profile. Changing `interval` or
 * `metrics` while it runs replaces the sampler (one at a time, never two) and keeps counting
 * steps, without a start sample.
 */
export class BackgroundProfiler extends ProfilerSettings {
  private sampler: Sampler | undefined;
  private alive = 0;
  private readonly heap = new Float64Array(new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT));

  constructor(onSample: (sample: ProfileSample) => void, opts: BackgroundProfilerOptions = {}) {
    super(onSample, opts);
  }

  protected restart(): void {
    this.spawn(false);
  }

  /** Whether a sampler is running. */
  override get running(): boolean {
    return this.sampler !== undefined;
  }

  /** Sampler threads alive right now (0 or 1 once a restart has settled). */
  get threads(): number {
    return this.alive;
  }

  /**
   * Starts sampling, numbering samples from `firstStep`, with a sample as it starts. Does
   * nothing if already running.
   */
  start(firstStep = 0): void {
    if (this.running) return;
    this.step = firstStep;
    this.spawn(true);
  }

  /**
   * Stops sampling. Every sample the worker took is handed over first, with its own time: those
   * waiting for a main thread that was busy (taken from the port at once), the one being taken
   * right now, and a last one taken now (unless one was taken a moment ago); waited for, at most
   * FINISH_WAIT_MS. Idempotent.
   */
  async stop(): Promise<void> {
    const sampler = this.sampler;
    this.sampler = undefined;
    if (!sampler) return;
    this.takeWaiting(sampler);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        sampler.finished = resolve;
        const request: FinishRequest = { finish: true };
        sampler.port.postMessage(request);
      }),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, FINISH_WAIT_MS))),
    ]);
    clearTimeout(timer);
    this.retire(sampler);
    await sampler.worker.terminate();
  }

  private spawn(startSample: boolean): void {
    const previous = this.sampler;
    // a replaced sampler hands over what it took; one it is still taking is not waited for
    if (previous) {
      this.retire(previous);
      void previous.worker.terminate();
    }
    this.heap[0] = process.memoryUsage().heapUsed;
    const { port1, port2 } = new MessageChannel();
    const config: ProfilerWorkerConfig = {
      intervalMs: this.interval_ * 1000,
      metrics: this.metrics_,
      heap: this.heap.buffer,
      port: port2,
      startSample,
    };
    const worker = new Worker(workerScript(), { workerData: config, transferList: [port2] });
    const sampler: Sampler = { worker, port: port1, live: true };
    this.alive++;
    port1.on('message', (message: WorkerMessage) => this.receive(sampler, message));
    worker.on('error', (error) => this.onError(error, 'profiler'));
    worker.on('exit', () => this.alive--);
    // after the listeners: adding a 'message' listener refs the port again, and the profiler
    // must not keep a finished program alive
    port1.unref();
    worker.unref();
    this.sampler = sampler;
  }

  /** Takes the samples that wait on the port (a busy main thread has not read them) and stops listening. */
  private retire(sampler: Sampler): void {
    this.takeWaiting(sampler);
    sampler.live = false;
    sampler.port.close();
  }

  private takeWaiting(sampler: Sampler): void {
    for (;;) {
      const waiting = receiveMessageOnPort(sampler.port);
      if (!waiting) return;
      this.receive(sampler, waiting.message as WorkerMessage);
    }
  }

  private receive(sampler: Sampler, message: WorkerMessage): void {
    if (!sampler.live) return;
    this.heap[0] = process.memoryUsage().heapUsed;
    if ('finished' in message) return sampler.finished?.();
    if ('error' in message) return this.onError(new Error(message.error), 'profiler');
    this.deliver(message);
  }
}
