/** A numeric range of a sweep's space: sampled uniformly, or uniformly in log space. */
export interface SweepRange {
  min: number;
  max: number;
  /** `linear` (default) or `log` (then min > 0). */
  scale?: 'linear' | 'log';
  /** Whole numbers only (sampled values are rounded). */
  int?: boolean;
  /** For a grid: this many evenly spaced values from min to max (in log space when log). */
  steps?: number;
}

/** A categorical dimension: one of these values (a plain list means the same). */
export interface SweepChoice {
  choice: readonly SweepValue[];
}

/** A value a sweep dimension takes. */
export type SweepValue = string | number | boolean | null;

/** One dimension of a sweep's space: a list of values, a range, or a choice. */
export type SweepDimension = readonly SweepValue[] | SweepRange | SweepChoice;

/** A sweep's search space: param name → the values it takes. */
export type SweepSpace = Record<string, SweepDimension>;

/** How a sweep stops trials early (decided at each value of the metric a trial reports). */
export type SweepEarlyStop =
  | {
      /** Median stopping: stop a trial worse than the median of the other trials at that step. */
      type: 'median';
      /** Reports of a trial before it may be stopped (default 1). */
      minSteps?: number;
      /** Other trials that must have reached the step first (default 3). */
      minTrials?: number;
    }
  | {
      /** Asynchronous successive halving: at each rung keep the top 1/reductionFactor. */
      type: 'asha';
      /** The first rung, in steps. */
      minResource: number;
      /** η: each rung keeps the best 1/η of the trials that reached it (default 3). */
      reductionFactor?: number;
      /** No rung beyond this step. */
      maxResource: number;
    };

/** What `exp.sweep(spec, trial)` searches and how. */
export interface SweepSpec {
  space: SweepSpace;
  /** `grid` (every combination), `random`, or `tpe` (Tree-structured Parzen Estimator). */
  method: 'grid' | 'random' | 'tpe';
  /** The metric the trials report (logMetric) or return. */
  metric: string;
  goal: 'minimize' | 'maximize';
  /** At most this many trials (default: the grid's size for grid, else 10). */
  maxTrials?: number;
  /** Trials running at once (default 1). */
  parallel?: number;
  earlyStop?: SweepEarlyStop;
  /** Seed of random and tpe: the same seed gives the same trials (default: drawn, recorded). */
  seed?: number;
}

/** The params of one trial: name → value. */
export type SweepParams = Record<string, SweepValue>;

/** One trial of a sweep, as its result lists it. */
export interface SweepTrialResult {
  /** The trial's index in the sweep, from 0. */
  trial: number;
  /** The trial's child run. */
  run: number;
  params: SweepParams;
  /** The trial's value of the metric (undefined when it reported none, or failed). */
  value: number | undefined;
  status: 'STOPPED' | 'FAILED';
  /** Why the sweep stopped the trial early, when it did. */
  stopped?: string;
  /** The error a FAILED trial threw. */
  error?: string;
}

/** What `exp.sweep` resolves with. */
export interface SweepResult {
  /** The sweep's run. */
  run: number;
  /** The trials, best first (FAILED ones and those without a value last). */
  trials: SweepTrialResult[];
  /** The best trial's params, value and run (undefined when no trial has a value). */
  best: { params: SweepParams; value: number; run: number } | undefined;
}

/** Options of `exp.sweep(spec, trial, opts)`. */
export interface SweepOptions {
  /** Resume this sweep run: finished trials are not run again. */
  resume?: number;
  /** The sweep run's name (default `sweep-<run>`). */
  name?: string;
}
