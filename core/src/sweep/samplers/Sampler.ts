import type { SweepParams } from '../types';

/** A finished trial as a sampler learns from it. */
export interface Observation {
  params: SweepParams;
  /** Its loss: the value, negated when the goal is maximize, so lower is better (undefined: failed or none). */
  loss: number | undefined;
}

/** Chooses the params of trial `index`, knowing the trials finished so far. */
export interface Sampler {
  sample(index: number, history: readonly Observation[]): SweepParams;
}
