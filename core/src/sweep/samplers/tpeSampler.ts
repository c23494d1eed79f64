import type { Dimension } from '../sweepSpec';
import type { SweepParams, SweepValue } from '../types';
import type { Random } from './prng';
import { normal, trialRandom } from './prng';
import { drawValue } from './randomSampler';
import type { Observation, Sampler } from './Sampler';

/** Options of the TPE sampler (the defaults are hyperopt's and Optuna's). */
export interface TpeOptions {
  /** The share of finished trials that make the "good" density l(x). */
  gamma?: number;
  /** Trials drawn at random before the model is used. */
  startup?: number;
  /** Candidates drawn from l(x) per dimension; the one with the largest l/g wins. */
  candidates?: number;
}

/** A Gaussian mixture on [lo, hi] (hyperopt's adaptive Parzen estimator, with its prior). */
interface Parzen {
  mus: number[];
  sigmas: number[];
  lo: number;
  hi: number;
}

function parzen(points: number[], lo: number, hi: number): Parzen {
  const width = hi - lo;
  // the prior: one wide component in the middle, so a density never vanishes anywhere
  const all = [...points, (lo + hi) / 2].sort((a, b) => a - b);
  const minSigma = width / Math.min(100, all.length + 1);
  const sigmas = all.map((mu, i) => {
    const left = i > 0 ? mu - all[i - 1] : mu - lo;
    const right = i < all.length - 1 ? all[i + 1] - mu : hi - mu;
    return Math.min(width, Math.max(minSigma, left, right));
  });
  // the prior keeps its full width
  const prior = all.indexOf((lo + hi) / 2);
  sigmas[prior] = width;
  return { mus: all, sigmas, lo, hi };
}

function logPdf(p: Parzen, x: number): number {
  let sum = 0;
  for (let i = 0; i < p.mus.length; i++) {
    const z = (x - p.mus[i]) / p.sigmas[i];
    sum += Math.exp(-0.5 * z * z) / p.sigmas[i];
  }
  return Math.log(sum / p.mus.length + 1e-300);
}

function drawParzen(p: Parzen, random: Random): number {
  const i = Math.floor(random() * p.mus.length);
  // a truncated normal: draw again a few times, then clamp
  for (let tries = 0; tries < 8; tries++) {
    const x = p.mus[i] + p.sigmas[i] * normal(random);
    if (x >= p.lo && x <= p.hi) return x;
  }
  return Math.min(p.hi, Math.max(p.lo, p.mus[i]));
}

/** A range in the space the model works in: log space for log ranges. */
function toModel(dim: Extract<Dimension, { kind: 'range' }>, v: number): number {
  return dim.log ? Math.log(v) : v;
}

/**
 * Tree-structured Parzen Estimator (Bergstra et al. 2011, as hyperopt and Optuna do it): after
 * `startup` random trials, the finished ones are split into the best `gamma` share and the rest;
 * per dimension, a density of each (Gaussian mixtures for ranges, in log space when log, counts
 * for lists) gives l(x) and g(x), and of `candidates` draws from l the one with the largest
 * l(x)/g(x) is tried. Dimensions are modelled independently. Draws are seeded per trial.
 */
export class TpeSampler implements Sampler {
  private readonly gamma: number;
  private readonly startup: number;
  private readonly candidates: number;

  constructor(
    private readonly dimensions: Dimension[],
    private readonly seed: number,
    opts: TpeOptions = {},
  ) {
    this.gamma = opts.gamma ?? 0.25;
    this.startup = opts.startup ?? 10;
    this.candidates = opts.candidates ?? 24;
  }

  sample(index: number, history: readonly Observation[]): SweepParams {
    const random = trialRandom(this.seed, index);
    const done = history.filter(
      (o): o is Observation & { loss: number } => o.loss !== undefined && !Number.isNaN(o.loss),
    );
    if (done.length < this.startup)
      return Object.fromEntries(this.dimensions.map((d) => [d.name, drawValue(d, random)]));
    const sorted = [...done].sort((a, b) => a.loss - b.loss);
    const nGood = Math.max(1, Math.ceil(this.gamma * sorted.length));
    const good = sorted.slice(0, nGood);
    const bad = sorted.slice(nGood);
    return Object.fromEntries(
      this.dimensions.map((d) => [d.name, this.sampleDimension(d, good, bad, random)]),
    );
  }

  private sampleDimension(
    dim: Dimension,
    good: Observation[],
    bad: Observation[],
    random: Random,
  ): SweepValue {
    if (dim.kind === 'choice') return this.sampleChoice(dim.values, dim.name, good, bad, random);
    const lo = toModel(dim, dim.int ? Math.ceil(dim.min) - (dim.log ? 0 : 0.5) : dim.min);
    const hi = toModel(dim, dim.int ? Math.floor(dim.max) + (dim.log ? 0 : 0.5) : dim.max);
    const points = (set: Observation[]): number[] =>
      set
        .map((o) => o.params[dim.name])
        .filter((v): v is number => typeof v === 'number')
        .map((v) => toModel(dim, v));
    const l = parzen(points(good), lo, hi);
    const g = parzen(points(bad), lo, hi);
    let best = drawParzen(l, random);
    let bestScore = -Infinity;
    for (let i = 0; i < this.candidates; i++) {
      const x = drawParzen(l, random);
      const score = logPdf(l, x) - logPdf(g, x);
      if (score > bestScore) [best, bestScore] = [x, score];
    }
    const v = dim.log ? Math.exp(best) : best;
    if (!dim.int) return Math.min(dim.max, Math.max(dim.min, v));
    return Math.min(Math.floor(dim.max), Math.max(Math.ceil(dim.min), Math.round(v)));
  }

  private sampleChoice(
    values: SweepValue[],
    name: string,
    good: Observation[],
    bad: Observation[],
    random: Random,
  ): SweepValue {
    // counts with a prior of one per value, so every value keeps a chance
    const weights = (set: Observation[]): number[] => {
      const w = values.map(() => 1);
      for (const o of set) {
        const i = values.indexOf(o.params[name]);
        if (i >= 0) w[i]++;
      }
      const total = w.reduce((a, b) => a + b, 0);
      return w.map((x) => x / total);
    };
    const l = weights(good);
    const g = weights(bad);
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < this.candidates; c++) {
      let r = random();
      let i = 0;
      while (i < l.length - 1 && r >= l[i]) r -= l[i++];
      const score = Math.log(l[i]) - Math.log(g[i]);
      if (score > bestScore) [best, bestScore] = [i, score];
    }
    return values[best];
  }
}
