import { probeSample } from '@omega-track/core/internal';
import type { MetricGroup } from '../../profiling/metrics';
import type { BackgroundProfilerOptions, ProfileSample } from '../../profiling/ProfilerSettings';
import { ProfilerSettings } from '../../profiling/ProfilerSettings';

export type { BackgroundProfilerOptions, ProfileSample };

/** A last sample this soon after the one before adds nothing. */
const MIN_LAST_GAP_MS = 50;

/** Chromium's `performance.memory` (not in lib.dom). */
interface JsHeap {
  usedJSHeapSize: number;
  totalJSHeapSize: number;
  jsHeapSizeLimit: number;
}

/**
 * What a page can see of the groups in `groups`, read at once (a few property reads and
 * `tf.memory()`: microseconds, nothing awaited): `cpu` the logical cores; `process` the page's JS
 * heap (Chromium) and the system probes' figures (tfjs's tensors and bytes). A page cannot see
 * the machine's CPU load, memory, disks or network: those groups give nothing.
 */
function pageFigures(groups: readonly MetricGroup[]): Record<string, number> {
  const values: Record<string, number> = {};
  if (groups.includes('cpu')) values.cpu_count = navigator.hardwareConcurrency;
  if (groups.includes('process')) {
    const heap = (performance as Performance & { memory?: JsHeap }).memory;
    if (heap) {
      values.js_heap_used = heap.usedJSHeapSize;
      values.js_heap_total = heap.totalJSHeapSize;
      values.js_heap_limit = heap.jsHeapSizeLimit;
    }
    Object.assign(values, probeSample());
  }
  for (const [k, v] of Object.entries(values)) if (!Number.isFinite(v)) delete values[k];
  return values;
}

/**
 * The page's profiler (it replaces providers/src/profiling/BackgroundProfiler.ts, which samples
 * on a worker thread): the same API and schedule — a sample as it starts, one every `interval`
 * seconds, one as it stops, steps counted from `start()`, `interval` and `metrics` settable while
 * it runs (the schedule restarts, the steps go on) — but sampling on the page's main thread with
 * timers. A sample is a few reads (far below a frame's 16 ms); it waits while the page runs
 * synchronous code, and `lateness` tells by how much.
 */
export class BackgroundProfiler extends ProfilerSettings {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private active = false;
  /** The schedule: sample k is due at t0 + k·interval. */
  private t0 = 0;
  private k = 0;
  /** When the last sample was taken (performance.now()). */
  private lastTaken: number | undefined;

  constructor(onSample: (sample: ProfileSample) => void, opts: BackgroundProfilerOptions = {}) {
    super(onSample, opts);
  }

  /** Whether it is sampling. */
  override get running(): boolean {
    return this.active;
  }

  protected restart(): void {
    this.schedule(1);
  }

  /** Samplers alive: 1 while running (it samples on the page's main thread, no thread of its own). */
  get threads(): number {
    return this.active ? 1 : 0;
  }

  /**
   * Starts sampling, numbering samples from `firstStep`, with a sample as it starts (on the
   * next turn of the event loop: the caller finishes starting the run first). Does nothing if
   * already running.
   */
  start(firstStep = 0): void {
    if (this.active) return;
    this.active = true;
    this.step = firstStep;
    this.lastTaken = undefined;
    this.schedule(0);
  }

  /** Stops sampling, with a last sample (unless one was taken a moment ago). Idempotent. */
  async stop(): Promise<void> {
    if (!this.active) return;
    this.active = false;
    clearTimeout(this.timer);
    const now = performance.now();
    if (this.lastTaken === undefined || now - this.lastTaken >= MIN_LAST_GAP_MS) this.take(now);
  }

  /** Restarts the schedule from now, its first sample `k` intervals on (0: at once). */
  private schedule(k: number): void {
    clearTimeout(this.timer);
    this.t0 = performance.now();
    this.k = k;
    this.arm();
  }

  private arm(): void {
    const due = this.t0 + this.k * this.interval_ * 1000;
    this.timer = setTimeout(() => {
      if (!this.active) return;
      this.take(due);
      // the next sample keeps to the schedule; ticks missed while the page was busy are skipped
      const now = performance.now();
      this.k = Math.max(this.k + 1, Math.ceil((now - this.t0) / (this.interval_ * 1000)));
      this.arm();
    }, due - performance.now());
  }

  private take(due: number): void {
    const started = performance.now();
    this.lastTaken = started;
    this.deliver({
      dt: Date.now(),
      lateness: Math.max(0, started - due),
      values: pageFigures(this.metrics_),
      gpus: [],
    });
  }
}
