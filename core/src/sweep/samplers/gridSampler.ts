import type { Dimension } from '../sweepSpec';
import { gridValues } from '../sweepSpec';
import type { SweepParams, SweepValue } from '../types';
import type { Sampler } from './Sampler';

/**
 * Every combination of the dimensions' values, the first dimension varying slowest (the order of
 * nested loops, and of Python's itertools.product): trial i is the i-th combination.
 */
export class GridSampler implements Sampler {
  private readonly values: SweepValue[][];

  constructor(private readonly dimensions: Dimension[]) {
    this.values = dimensions.map(gridValues);
  }

  /** How many combinations there are. */
  get size(): number {
    return this.values.reduce((n, v) => n * v.length, 1);
  }

  sample(index: number): SweepParams {
    const params: SweepParams = {};
    let rest = index % this.size;
    for (let d = this.dimensions.length - 1; d >= 0; d--) {
      const values = this.values[d];
      params[this.dimensions[d].name] = values[rest % values.length];
      rest = Math.floor(rest / values.length);
    }
    // the names in the space's order
    return Object.fromEntries(this.dimensions.map((d) => [d.name, params[d.name]]));
  }
}
