/**
 * Group bands: the series of a group's runs put on one shared x grid, and per grid point the
 * mean of the members that cover it with a band of ± their standard deviation or their min–max.
 * Each member is its downsampled series (the chart's own points), read through the series cache,
 * so a band of 50 runs costs 50 cached reads and a pass over some thousand points each.
 */
import { downsampleRange, downsampleSeries } from './downsample';
import type { DownsampledSeries } from './downsample';
import type { Points, Series } from './series';
import { isRange } from './series';

/** What the band around the mean shows. */
export type BandKind = 'std' | 'minmax';

/** A group's band on its grid: per point the mean, the band's edges and how many members cover it (null where none does). */
export interface Band {
  grid: number[];
  mean: Array<number | null>;
  lower: Array<number | null>;
  upper: Array<number | null>;
  count: number[];
}

/**
 * A member's series downsampled to `points`, shifted by `-shift` on x. Its non-finite values
 * (NaN, ±Infinity) are not downsampled away but stay where they are, as NaN: the member has no
 * value there, so the band leaves it out at those x (it would otherwise interpolate across them
 * and count the member). A run of them is kept as its first and last point (between them no grid
 * point can be interpolated from a finite pair either).
 */
export function memberPoints(whole: Series, points: number, shift = 0): { x: number[]; y: number[] } {
  const down: DownsampledSeries = isRange(whole)
    ? downsampleRange(whole, 0, whole.length, points)
    : downsampleSeries(whole.x, whole.y, points, { finite: whole.finite });
  const out = down.nonFiniteCount > 0 && !isRange(whole) ? withNonFinite(down, whole) : down;
  if (shift) for (let i = 0; i < out.x.length; i++) out.x[i] -= shift;
  return out;
}

/** `down` (finite points, x ascending) with the non-finite values of `whole` merged in as NaN. */
function withNonFinite(down: DownsampledSeries, whole: Points): { x: number[]; y: number[] } {
  const gaps: number[] = [];
  const { x, y } = whole;
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || Number.isFinite(y[i])) continue;
    const first = x[i];
    while (i + 1 < x.length && Number.isFinite(x[i + 1]) && !Number.isFinite(y[i + 1])) i++;
    gaps.push(first);
    if (x[i] !== first) gaps.push(x[i]);
  }
  const mx: number[] = [];
  const my: number[] = [];
  let j = 0;
  for (let i = 0; i < down.x.length; i++) {
    // a NaN at the x of a finite value comes after it: the member has no value that counts there
    while (j < gaps.length && gaps[j] < down.x[i]) {
      mx.push(gaps[j++]);
      my.push(NaN);
    }
    mx.push(down.x[i]);
    my.push(down.y[i]);
    while (j < gaps.length && gaps[j] === down.x[i]) {
      mx.push(gaps[j++]);
      my.push(NaN);
    }
  }
  for (; j < gaps.length; j++) {
    mx.push(gaps[j]);
    my.push(NaN);
  }
  return { x: mx, y: my };
}

/**
 * The shared grid over all members' x: `points` evenly spaced points from the smallest x to the
 * largest; whole steps where x are steps and fewer than `points` of them span the range (so that
 * a logged step is a grid point and its mean is exact).
 */
export function bandGrid(
  members: ReadonlyArray<{ x: readonly number[] }>,
  points: number,
  steps: boolean,
): number[] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of members) {
    if (m.x.length === 0) continue;
    lo = Math.min(lo, m.x[0]);
    hi = Math.max(hi, m.x[m.x.length - 1]);
  }
  if (lo > hi) return [];
  if (lo === hi) return [lo];
  if (steps && Number.isInteger(lo) && Number.isInteger(hi) && hi - lo + 1 <= points)
    return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
  const n = Math.max(2, points);
  return Array.from({ length: n }, (_, i) => (i === n - 1 ? hi : lo + ((hi - lo) * i) / (n - 1)));
}

/**
 * The band of `members` (each x ascending) on `grid`: each member linearly interpolated inside its
 * own x range (nothing outside it); per grid point the mean, and mean ± the sample standard
 * deviation (n − 1; 0 for one member) or the min and max of the members there. A member whose
 * value at a grid point is not finite (a NaN there, or one of the two points it is interpolated
 * from) is left out of that point: neither its value nor its count.
 */
export function computeBand(
  members: ReadonlyArray<{ x: readonly number[]; y: readonly number[] }>,
  grid: readonly number[],
  kind: BandKind,
): Band {
  const g = grid.length;
  const count = new Array<number>(g).fill(0);
  // Welford's running mean and sum of squared deviations: no cancellation for large values
  const avg = new Float64Array(g);
  const m2 = new Float64Array(g);
  const min = new Float64Array(g).fill(Infinity);
  const max = new Float64Array(g).fill(-Infinity);
  for (const { x, y } of members) {
    const n = x.length;
    if (n === 0) continue;
    // both in x order: one walk over the member's points per grid
    let j = 0;
    for (let i = 0; i < g; i++) {
      const at = grid[i];
      if (at < x[0]) continue;
      if (at > x[n - 1]) break;
      while (j < n - 1 && x[j + 1] <= at) j++;
      let v: number;
      if (x[j] === at || j === n - 1) v = y[j];
      else {
        const t = (at - x[j]) / (x[j + 1] - x[j]);
        v = y[j] + t * (y[j + 1] - y[j]);
      }
      if (!Number.isFinite(v)) continue;
      const c = ++count[i];
      const delta = v - avg[i];
      avg[i] += delta / c;
      m2[i] += delta * (v - avg[i]);
      if (v < min[i]) min[i] = v;
      if (v > max[i]) max[i] = v;
    }
  }
  const mean: Array<number | null> = new Array<number | null>(g).fill(null);
  const lower: Array<number | null> = new Array<number | null>(g).fill(null);
  const upper: Array<number | null> = new Array<number | null>(g).fill(null);
  for (let i = 0; i < g; i++) {
    const c = count[i];
    if (c === 0) continue;
    const m = avg[i];
    mean[i] = m;
    if (kind === 'minmax') {
      lower[i] = min[i];
      upper[i] = max[i];
      continue;
    }
    const std = c > 1 ? Math.sqrt(m2[i] / (c - 1)) : 0;
    lower[i] = m - std;
    upper[i] = m + std;
  }
  return { grid: [...grid], mean, lower, upper, count };
}
