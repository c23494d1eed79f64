import type { ErrorHandler } from '@omega-track/core';
import { defaultErrorHandler } from '@omega-track/core';
import type { MetricGroup } from './metrics';
import { METRIC_GROUPS, validateInterval, validateMetrics } from './metrics';
import type { WorkerSample } from './profilerWorker';

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

/**
 * What every BackgroundProfiler has, however it samples (a worker thread in Node, timers on a
 * page's main thread): its interval and metric groups, checked, and applied at once while it
 * runs; the step count; and the hand-over of samples, their lateness kept.
 */
export abstract class ProfilerSettings {
  protected interval_: number;
  protected metrics_: MetricGroup[];
  protected step = 0;
  protected readonly onError: ErrorHandler;
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

  /** Whether it is sampling. */
  abstract get running(): boolean;

  /** Samples with the current interval and metrics from now on (called while running). */
  protected abstract restart(): void;

  /** Seconds between samples; setting it while running restarts the sampling. */
  get interval(): number {
    return this.interval_;
  }

  set interval(value: number) {
    this.interval_ = validateInterval(value);
    if (this.running) this.restart();
  }

  /** The metric groups sampled; setting them while running restarts the sampling. */
  get metrics(): MetricGroup[] {
    return [...this.metrics_];
  }

  set metrics(value: MetricGroup[]) {
    this.metrics_ = validateMetrics(value);
    if (this.running) this.restart();
  }

  /** The step the next sample gets. */
  get nextStep(): number {
    return this.step;
  }

  /** Hands a sample over with the next step; a failing receiver is said, not thrown. */
  protected deliver(sample: WorkerSample): void {
    if (this.lateness.length === MAX_LATENESS) this.lateness.shift();
    this.lateness.push(sample.lateness);
    try {
      this.onSample({ ...sample, step: this.step++ });
    } catch (error) {
      this.onError(error, 'profiler');
    }
  }
}
