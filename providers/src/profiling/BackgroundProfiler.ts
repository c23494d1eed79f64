import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ErrorHandler } from '@omega-track/core';
import { defaultErrorHandler } from '@omega-track/core';
import type { MetricGroup } from './metrics';
import { METRIC_GROUPS, validateInterval, validateMetrics } from './metrics';
import type { ProfilerWorkerConfig, WorkerSample } from './profilerWorker';

/** A sample as the profiler hands it over: numbered from the start of the run. */
export interface ProfileSample extends WorkerSample {
  step: number;
}

/** Options of a BackgroundProfiler. */
export interface BackgroundProfilerOptions {
  /** Seconds between samples (default 10). */
  interval?: number;
  /** Metric groups to sample (default: all; those the machine lacks give nothing). */
  metrics?: MetricGroup[];
  onError?: ErrorHandler;
}

/** Lateness figures kept for inspection (bounded, newest last). */
const MAX_LATENESS = 100_000;

/** The compiled worker beside this file; from TypeScript sources (ts-jest), the built one. */
function workerScript(): string {
  const beside = path.join(__dirname, 'profilerWorker.js');
  if (fs.existsSync(beside)) return beside;
  return path.join(__dirname, '..', '..', 'dist', 'profiling', 'profilerWorker.js');
}

/**
 * Samples system and process figures every `interval` seconds on a worker thread and hands each
 * sample to `onSample` with a step counted from `start()`. Changing `interval` or `metrics` while
 * it runs replaces the sampler (one at a time, never two) and keeps counting steps.
 */
export class BackgroundProfiler {
  private interval_: number;
  private metrics_: MetricGroup[];
  private worker: Worker | undefined;
  private generation = 0;
  private step = 0;
  private alive = 0;
  private readonly heap = new Float64Array(new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT));
  private readonly onError: ErrorHandler;
  /** How late each sample started against its schedule, in milliseconds. */
  readonly lateness: number[] = [];

  constructor(
    private readonly onSample: (sample: ProfileSample) => void,
    opts: BackgroundProfilerOptions = {},
  ) {
    this.interval_ = validateInterval(opts.interval ?? 10);
    this.metrics_ = validateMetrics(opts.metrics ?? [...METRIC_GROUPS]);
    this.onError = opts.onError ?? defaultErrorHandler;
  }

  /** Seconds between samples; setting it while running restarts the sampler. */
  get interval(): number {
    return this.interval_;
  }

  set interval(value: number) {
    this.interval_ = validateInterval(value);
    if (this.running) this.spawn();
  }

  /** The metric groups sampled; setting them while running restarts the sampler. */
  get metrics(): MetricGroup[] {
    return [...this.metrics_];
  }

  set metrics(value: MetricGroup[]) {
    this.metrics_ = validateMetrics(value);
    if (this.running) this.spawn();
  }

  /** Whether a sampler is running. */
  get running(): boolean {
    return this.worker !== undefined;
  }

  /** Sampler threads alive right now (0 or 1 once a restart has settled). */
  get threads(): number {
    return this.alive;
  }

  /** The step the next sample gets. */
  get nextStep(): number {
    return this.step;
  }

  /** Starts sampling, numbering samples from `firstStep`. Does nothing if already running. */
  start(firstStep = 0): void {
    if (this.running) return;
    this.step = firstStep;
    this.spawn();
  }

  /** Stops sampling; samples still in flight are dropped. Idempotent. */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    this.generation++;
    if (worker) await worker.terminate();
  }

  private spawn(): void {
    const previous = this.worker;
    const generation = ++this.generation;
    // messages of a replaced or stopped sampler are recognised by their generation and dropped
    if (previous) void previous.terminate();
    this.heap[0] = process.memoryUsage().heapUsed;
    const config: ProfilerWorkerConfig = {
      intervalMs: this.interval_ * 1000,
      metrics: this.metrics_,
      heap: this.heap.buffer,
    };
    const worker = new Worker(workerScript(), { workerData: config });
    this.alive++;
    worker.on('message', (message: WorkerSample | { error: string }) => {
      if (generation !== this.generation) return;
      this.heap[0] = process.memoryUsage().heapUsed;
      if ('error' in message) return this.onError(new Error(message.error), 'profiler');
      if (this.lateness.length === MAX_LATENESS) this.lateness.shift();
      this.lateness.push(message.lateness);
      try {
        this.onSample({ ...message, step: this.step++ });
      } catch (error) {
        this.onError(error, 'profiler');
      }
    });
    worker.on('error', (error) => this.onError(error, 'profiler'));
    worker.on('exit', () => this.alive--);
    // after the listeners: adding a 'message' listener refs the worker again, and the profiler
    // must not keep a finished program alive
    worker.unref();
    this.worker = worker;
  }
}
