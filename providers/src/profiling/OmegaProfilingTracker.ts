import type {
  EventLog,
  EventOptions,
  FlushOptions,
  FlushResult,
  PendingEvent,
  ProviderContext,
  StopOptions,
} from '@omega-track/core';
import { TrackingInputError } from '@omega-track/core';
import { OmegaSimpleTracker } from '../default/OmegaSimpleTracker';
import type { ProfileSample } from './BackgroundProfiler';
import { BackgroundProfiler } from './BackgroundProfiler';
import type { MetricGroup } from './metrics';

/** Samples held before they are written (SPEC §5: the profiler writes every 6 samples). */
const DEFAULT_SAMPLES_HELD = 6;

/**
 * The `profiling` provider: `default`, plus a BackgroundProfiler that runs while a run is active
 * in this process (started by `startRuntime()` — `exp.run(...)`, the proxy's `start()`, runtime
 * tasks — and stopped by `stopRuntime()` or `stop()`). It samples as the run starts, every
 * `interval` seconds, and as it stops (before the stop event is written), so every profiled run
 * has a profile however short. Each sample becomes `profile` events, one per metric (`cpu_load`,
 * `memory_used`, …) and one `profile_dt` with the sample's time; the step counts samples from the
 * start of the run, never reset.
 *
 * Settings, stored with the experiment: `exp.profiler.interval` (seconds, default 10),
 * `exp.profiler.metrics` (default all), `exp.maxBuffer` (samples held before writing, default 6).
 */
export class OmegaProfilingTracker extends OmegaSimpleTracker {
  /** The profiler: `interval` and `metrics` are settable, also while it runs. */
  readonly profiler: BackgroundProfiler;
  private samplesHeld: number;
  private held: PendingEvent[][] = [];
  /** The run the profiler's step count belongs to. */
  private profiledRun: number | undefined;

  constructor(experiment: string, context: ProviderContext, log?: EventLog) {
    super(experiment, context, log);
    const stored = (context.options.profiler ?? {}) as { interval?: number; metrics?: MetricGroup[] };
    this.profiler = new BackgroundProfiler((sample) => this.takeSample(sample), {
      interval: stored.interval,
      metrics: stored.metrics,
      onError: this.onError,
    });
    this.samplesHeld = samplesOption(context.options.maxBuffer ?? DEFAULT_SAMPLES_HELD);
  }

  /** Here `maxBuffer` counts samples; the event batch size is the `maxEvents` option. */
  protected override bufferOption(): string {
    return 'maxEvents';
  }

  /** Samples held before they are written. */
  override get maxBuffer(): number {
    return this.samplesHeld;
  }

  override set maxBuffer(value: number) {
    this.samplesHeld = samplesOption(value);
  }

  override settings(): Record<string, unknown> {
    return {
      ...super.settings(),
      maxBuffer: this.samplesHeld,
      profiler: { interval: this.profiler.interval, metrics: this.profiler.metrics },
    };
  }

  override async startRuntime(): Promise<void> {
    await super.startRuntime();
    const run = this.currentRun;
    if (run === undefined) return;
    if (this.profiler.running) {
      if (run === this.profiledRun) return;
      // a new run while profiling: its samples are numbered from 0
      await this.profiler.stop();
      this.releaseSamples();
    }
    // steps count samples from the start of the run: a restart within the same run goes on
    this.profiler.start(run === this.profiledRun ? this.profiler.nextStep : 0);
    this.profiledRun = run;
  }

  override async stopRuntime(): Promise<void> {
    await this.profiler.stop();
    this.releaseSamples();
    await super.stopRuntime();
  }

  override async stop(opts?: StopOptions): Promise<FlushResult> {
    await this.profiler.stop();
    this.releaseSamples();
    return super.stop(opts);
  }

  override async flush(opts?: FlushOptions): Promise<FlushResult> {
    this.releaseSamples();
    return super.flush(opts);
  }

  override hasPending(): boolean {
    return this.held.length > 0 || super.hasPending();
  }

  override flushSync(): void {
    this.releaseSamples();
    super.flushSync();
  }

  override async shutdown(opts?: FlushOptions): Promise<void> {
    await this.profiler.stop();
    await super.shutdown(opts);
  }

  private takeSample(sample: ProfileSample): void {
    // a sample belongs to the run being profiled, whose steps it counts: also the last one, taken
    // as that run ends while the next one is already current
    const run = this.profiledRun ?? this.currentRun;
    if (this.currentRun === undefined || run === undefined) return;
    const at = { step: sample.step, dt: sample.dt };
    const make = (key: string, value: unknown, opts: EventOptions): PendingEvent => ({
      ...this.makeEvent('profile', key, value, opts),
      run,
    });
    const events = [make('profile_dt', new Date(sample.dt).toISOString(), at)];
    for (const [key, value] of Object.entries(sample.values)) events.push(make(key, value, at));
    sample.gpus.forEach((gpu, index) => {
      for (const [key, value] of Object.entries(gpu)) events.push(make(key, value, { ...at, gpu: index }));
    });
    this.held.push(events);
    if (this.held.length >= this.samplesHeld) void this.flush();
  }

  /** Hands the held samples to the event queue. */
  private releaseSamples(): void {
    if (this.held.length === 0) return;
    const events = this.held.flat();
    this.held = [];
    this.record(events);
  }
}

function samplesOption(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new TrackingInputError(`maxBuffer (samples held) must be a positive integer, got ${String(value)}`);
  return value;
}
