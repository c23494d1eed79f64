import type { Dimension } from '../sweepSpec';
import type { SweepParams, SweepValue } from '../types';
import type { Random } from './prng';
import { trialRandom } from './prng';
import type { Sampler } from './Sampler';

/** A uniform draw of one dimension: a list's value, or a range's (in log space when log). */
export function drawValue(dim: Dimension, random: Random): SweepValue {
  if (dim.kind === 'choice') return dim.values[Math.floor(random() * dim.values.length)];
  if (dim.int) {
    // every whole number in [min, max] (log: each by its share of the log range)
    const lo = Math.ceil(dim.min);
    const hi = Math.floor(dim.max);
    if (!dim.log) return lo + Math.floor(random() * (hi - lo + 1));
    const v = Math.exp(Math.log(lo) + random() * (Math.log(hi + 1) - Math.log(lo)));
    return Math.min(hi, Math.floor(v));
  }
  if (dim.log) return Math.exp(Math.log(dim.min) + random() * (Math.log(dim.max) - Math.log(dim.min)));
  return dim.min + random() * (dim.max - dim.min);
}

/** Independent uniform draws; trial i of seed s always gets the same params. */
export class RandomSampler implements Sampler {
  constructor(
    private readonly dimensions: Dimension[],
    private readonly seed: number,
  ) {}

  sample(index: number): SweepParams {
    const random = trialRandom(this.seed, index);
    return Object.fromEntries(this.dimensions.map((d) => [d.name, drawValue(d, random)]));
  }
}
