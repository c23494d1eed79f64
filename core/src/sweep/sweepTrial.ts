import { AsyncScope } from '../process/asyncScope';

/**
 * The sweep trial the current async context runs in: what a value of the sweep's metric is
 * reported to, so that early stopping can decide. The in-process controller binds one around
 * `trial(params, exp)`; a runtime worker binds one around a trial's `fit`.
 */
export interface SweepTrialScope {
  /** The metric the sweep stops trials on. */
  readonly metric: string;
  /**
   * Takes one value of the metric at `step` (undefined: the count of reports so far) and says
   * whether the trial must stop: the reason, or undefined. A decision that needs the store
   * (a worker) comes as a promise; one known at once, as a value.
   */
  report(value: number, step: number | undefined): string | undefined | Promise<string | undefined>;
  /** The reason once the trial was told to stop. */
  readonly stopped: string | undefined;
  /**
   * While set, a stop is not thrown from the trial handle's `logMetric`: the code reporting (the
   * tfjs callback at an epoch's end) ends the trial itself (`model.stopTraining`).
   */
  deferStop?: boolean;
}

const scope = new AsyncScope<SweepTrialScope>();

/** The sweep trial the current async context runs in, if any. */
export function sweepTrial(): SweepTrialScope | undefined {
  return scope.get();
}

/** Runs `fn` as (part of) the sweep trial `trial`. */
export function withSweepTrial<T>(trial: SweepTrialScope, fn: () => T): T {
  return scope.run(trial, fn);
}
