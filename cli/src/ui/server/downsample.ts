/**
 * Downsampling a series for a chart: MinMaxLTTB (Van Der Donckt, Van Der Donckt, Rademaker and
 * Van Hoecke, "MinMaxLTTB: Leveraging MinMax-Preselection to Scale LTTB", IEEE VIS 2023). A cheap
 * min/max pass first keeps, per bucket of points, its smallest and largest value (so no spike is
 * lost); Largest-Triangle-Three-Buckets (Steinarsson 2013) then picks from those the points that
 * keep the shape. On top of the method: the first and last points and the global minimum and
 * maximum are always kept, and never more points than asked for come out.
 */

/** How many candidates the min/max pass keeps per output point (the paper's ratio; 4 is its default). */
export const MINMAX_RATIO = 4;
/** The fewest points a downsampled series has: first, last, global minimum and maximum. */
export const MIN_POINTS = 4;
/** At most this many non-finite values are listed with a series. */
export const MAX_NON_FINITE = 1000;

/** A numeric array the downsampler reads (typed arrays for long series, plain arrays too). */
export type Numbers = ArrayLike<number>;

/** A value a chart cannot place: its x and what it was. */
export interface NonFinitePoint {
  x: number;
  value: 'NaN' | 'Infinity' | '-Infinity';
}

/** A series as sent to a chart. */
export interface DownsampledSeries {
  x: number[];
  /** Finite values only; the others are in `nonFinite`. */
  y: number[];
  /** Points of the input (with a finite x), non-finite values included. */
  total: number;
  /** Points in `x`/`y`. */
  shown: number;
  /** The non-finite values, in x order, at most MAX_NON_FINITE of them. */
  nonFinite: NonFinitePoint[];
  /** How many non-finite values there are (also beyond the listed ones). */
  nonFiniteCount: number;
}

/**
 * Where the smallest and largest of `y` at the indexes `idx` (ascending) sit, the first
 * occurrence each; -1 when there is none.
 */
function extremes(y: Numbers, idx: Uint32Array): { min: number; max: number } {
  let min = -1;
  let max = -1;
  for (let k = 0; k < idx.length; k++) {
    const i = idx[k];
    const v = y[i];
    if (min < 0 || v < y[min]) min = i;
    if (max < 0 || v > y[max]) max = i;
  }
  return { min, max };
}

/**
 * The min/max preselection: the interior points (all but the first and last) split into `buckets`
 * runs of equal count, and of each its smallest and largest value, in index order; the first and
 * last points too. Returns indexes into x/y, ascending.
 */
export function minMaxPreselect(y: Numbers, n: number, buckets: number): Uint32Array {
  if (n <= 2 || buckets < 1) return Uint32Array.from({ length: n }, (_, i) => i);
  return preselectSegments([y], 0, n, buckets);
}

/** Where candidate `p` (1 … m-2) falls among `buckets` LTTB buckets of `m` candidates. */
function bucketOf(p: number, m: number, buckets: number): number {
  const every = (m - 2) / buckets;
  // floor(i * every) + 1 <= p < floor((i + 1) * every) + 1; float steps are corrected around it
  let i = Math.min(buckets - 1, Math.floor((p - 1) / every));
  while (i > 0 && Math.floor(i * every) + 1 > p) i--;
  while (i < buckets - 1 && Math.floor((i + 1) * every) + 1 <= p) i++;
  return i;
}

/**
 * Largest-Triangle-Three-Buckets over the candidates `idx` (indexes into x/y, ascending): the
 * first and last kept, the interior in `out - 2` buckets of equal count, and from each bucket the
 * point that makes the largest triangle with the point kept before it and the average of the next
 * bucket. A bucket holding one of `forced` (candidate positions) keeps that one instead, so the
 * global extremes survive; a bucket holding two keeps the first and reports the other in `extra`.
 */
function lttb(
  x: Numbers,
  y: Numbers,
  idx: Uint32Array,
  out: number,
  forced: readonly number[],
): { kept: number[]; extra: number[] } {
  const m = idx.length;
  if (m <= out) return { kept: Array.from(idx), extra: [] };
  const buckets = out - 2;
  const every = (m - 2) / buckets;
  const force = new Map<number, number[]>();
  for (const p of forced) {
    if (p <= 0 || p >= m - 1) continue;
    const b = bucketOf(p, m, buckets);
    const list = force.get(b) ?? [];
    if (!list.includes(p)) list.push(p);
    force.set(b, list);
  }
  const kept: number[] = [idx[0]];
  const extra: number[] = [];
  let a = 0;
  for (let b = 0; b < buckets; b++) {
    const start = Math.floor(b * every) + 1;
    const end = Math.floor((b + 1) * every) + 1;
    // the average point of the next bucket (the last point, for the last bucket)
    const nextStart = end;
    const nextEnd = Math.min(Math.floor((b + 2) * every) + 1, m);
    let avgX = 0;
    let avgY = 0;
    const count = Math.max(1, nextEnd - nextStart);
    for (let j = nextStart; j < nextEnd; j++) {
      avgX += x[idx[j]];
      avgY += y[idx[j]];
    }
    avgX /= count;
    avgY /= count;
    const ax = x[idx[a]];
    const ay = y[idx[a]];
    const area = (p: number): number =>
      Math.abs((ax - avgX) * (y[idx[p]] - ay) - (ax - x[idx[p]]) * (avgY - ay));
    let chosen = start;
    const pinned = force.get(b);
    if (pinned) {
      chosen = pinned[0];
      for (const p of pinned.slice(1)) {
        if (area(p) > area(chosen)) {
          extra.push(chosen);
          chosen = p;
        } else extra.push(p);
      }
    } else {
      let best = -1;
      for (let j = start; j < end; j++) {
        const s = area(j);
        if (s > best) {
          best = s;
          chosen = j;
        }
      }
    }
    kept.push(idx[chosen]);
    a = chosen;
  }
  kept.push(idx[m - 1]);
  return { kept, extra: extra.map((p) => idx[p]) };
}

/**
 * MinMaxLTTB over a series whose values are all finite (x ascending): the indexes of the points
 * kept, ascending — at most `points` (at least MIN_POINTS), the first and last point and the
 * global minimum and maximum among them. A series of at most `points` points is kept whole.
 */
export function minMaxLttb(x: Numbers, y: Numbers, points: number, ratio = MINMAX_RATIO): Uint32Array {
  const n = Math.min(x.length, y.length);
  const target = Math.max(MIN_POINTS, Math.floor(points));
  if (n <= target) return Uint32Array.from({ length: n }, (_, i) => i);
  // the preselection pays off only when it leaves far fewer candidates than there are points
  const buckets = Math.floor((target * ratio) / 2);
  const idx =
    ratio > 0 && n > 2 * buckets + 2
      ? minMaxPreselect(y, n, buckets)
      : Uint32Array.from({ length: n }, (_, i) => i);
  // the global extremes are among the candidates (each bucket's extremes are): found there
  const { min, max } = extremes(y, idx);
  // the extremes are candidates (each bucket's min and max are), found by position
  const position = (i: number): number => {
    let lo = 0;
    let hi = idx.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (idx[mid] < i) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const forced = [position(min), position(max)];
  const m = idx.length;
  // when both extremes fall into one bucket, one bucket fewer leaves room for the second
  let out = target;
  if (
    target > MIN_POINTS &&
    forced.every((p) => p > 0 && p < m - 1) &&
    forced[0] !== forced[1] &&
    bucketOf(forced[0], m, target - 2) === bucketOf(forced[1], m, target - 2)
  )
    out = target - 1;
  const { kept, extra } = lttb(x, y, idx, out, forced);
  const all = extra.length ? [...new Set([...kept, ...extra])].sort((p, q) => p - q) : kept;
  // never more than asked for: should the extras overflow, the least telling interior points go
  while (all.length > target) {
    let worst = -1;
    let worstArea = Infinity;
    for (let k = 1; k < all.length - 1; k++) {
      if (all[k] === min || all[k] === max) continue;
      const [p, c, q] = [all[k - 1], all[k], all[k + 1]];
      const s = Math.abs((x[p] - x[q]) * (y[c] - y[p]) - (x[p] - x[c]) * (y[q] - y[p]));
      if (s < worstArea) {
        worstArea = s;
        worst = k;
      }
    }
    if (worst < 0) break;
    all.splice(worst, 1);
  }
  return Uint32Array.from(all);
}

/** Options of `downsampleSeries`. */
export interface DownsampleOptions {
  /** Candidates of the min/max pass per output point (default MINMAX_RATIO; 0: LTTB alone). */
  ratio?: number;
  /** Every x and y is finite, as the caller knows: no pass looks for those that are not. */
  finite?: boolean;
}

function nonFiniteName(v: number): NonFinitePoint['value'] {
  return Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
}

/**
 * A series (x ascending) downsampled to at most `points` points for a chart. Points whose x is not
 * finite have no place on the axis and are left out; values that are not finite (NaN, ±Infinity)
 * are not drawn: they are listed in `nonFinite` (the first MAX_NON_FINITE) and counted.
 */
export function downsampleSeries(
  x: Numbers,
  y: Numbers,
  points: number,
  opts: DownsampleOptions = {},
): DownsampledSeries {
  const n = Math.min(x.length, y.length);
  const nonFinite: NonFinitePoint[] = [];
  let nonFiniteCount = 0;
  let dropped = 0;
  // a caller that knows every value is finite spares the pass that looks
  for (let i = 0; i < n && !opts.finite; i++) {
    if (!Number.isFinite(x[i])) dropped++;
    else if (!Number.isFinite(y[i])) {
      if (nonFiniteCount < MAX_NON_FINITE) nonFinite.push({ x: x[i], value: nonFiniteName(y[i]) });
      nonFiniteCount++;
    }
  }
  let fx: Numbers = x;
  let fy: Numbers = y;
  if (nonFiniteCount || dropped || x.length !== y.length) {
    // the drawable points, copied once (the common series has none to leave out and is read in place)
    const keep = n - nonFiniteCount - dropped;
    const cx = new Float64Array(keep);
    const cy = new Float64Array(keep);
    for (let i = 0, k = 0; i < n; i++)
      if (Number.isFinite(x[i]) && Number.isFinite(y[i])) {
        cx[k] = x[i];
        cy[k++] = y[i];
      }
    fx = cx;
    fy = cy;
  }
  const kept = minMaxLttb(fx, fy, points, opts.ratio);
  const outX = new Array<number>(kept.length);
  const outY = new Array<number>(kept.length);
  for (let k = 0; k < kept.length; k++) {
    outX[k] = fx[kept[k]];
    outY[k] = fy[kept[k]];
  }
  return { x: outX, y: outY, total: n - dropped, shown: kept.length, nonFinite, nonFiniteCount };
}

/**
 * A series whose x counts up by one from `x0` (the steps of a training loop) and whose values
 * are all finite, kept as the store handed its values out: one array per stored chunk, none
 * joined. Downsampling it (downsampleRange) reads the values where they are: a million points
 * are read for a chart without 16 MB of fresh arrays (whose first writes, page by page, cost a
 * cold read more than the reading itself).
 */
export interface RangeSeries {
  x0: number;
  /** The values, chunk after chunk; together `length` long. */
  segments: readonly Float64Array[];
  length: number;
}

/** The min/max preselection (see minMaxPreselect) of the values `lo … hi-1` of arrays taken one after another, indexes from `lo`. */
function preselectSegments(
  segments: readonly Numbers[],
  lo: number,
  hi: number,
  buckets: number,
): Uint32Array {
  const n = hi - lo;
  const interior = n - 2;
  const out = new Uint32Array(Math.min(n, 2 * buckets + 2));
  let k = 0;
  out[k++] = 0;
  // a cursor over the segments: the one holding index `at` (from the series' start) and where it starts
  let seg = 0;
  let segStart = 0;
  const seek = (at: number): void => {
    while (segStart + segments[seg].length <= at) segStart += segments[seg++].length;
  };
  for (let b = 0; b < buckets; b++) {
    const start = 1 + Math.floor((b * interior) / buckets);
    const end = 1 + Math.floor(((b + 1) * interior) / buckets);
    if (end <= start) continue;
    seek(lo + start);
    let low = start;
    let high = start;
    let lowV = segments[seg][lo + start - segStart];
    let highV = lowV;
    for (let i = start + 1; i < end;) {
      seek(lo + i);
      const values = segments[seg];
      const stop = Math.min(end, segStart + values.length - lo);
      for (; i < stop; i++) {
        const v = values[lo + i - segStart];
        if (v < lowV) {
          lowV = v;
          low = i;
        } else if (v > highV) {
          highV = v;
          high = i;
        }
      }
    }
    if (low === high) out[k++] = low;
    else if (low < high) {
      out[k++] = low;
      out[k++] = high;
    } else {
      out[k++] = high;
      out[k++] = low;
    }
  }
  out[k++] = n - 1;
  return out.subarray(0, k);
}

/**
 * The points `lo … hi-1` of a range series downsampled to at most `points`: the same points
 * downsampleSeries keeps of the same series as arrays (the preselection runs over the segments,
 * the rest over the candidates alone, which is what MinMaxLTTB looks at after it).
 */
export function downsampleRange(
  s: RangeSeries,
  lo: number,
  hi: number,
  points: number,
  ratio = MINMAX_RATIO,
): DownsampledSeries {
  const n = Math.max(0, hi - lo);
  const target = Math.max(MIN_POINTS, Math.floor(points));
  const buckets = Math.floor((target * ratio) / 2);
  let idx: Uint32Array;
  if (n > target && ratio > 0 && n > 2 * buckets + 2) idx = preselectSegments(s.segments, lo, hi, buckets);
  else idx = Uint32Array.from({ length: n }, (_, i) => i);
  const cx = new Float64Array(idx.length);
  const cy = new Float64Array(idx.length);
  // gathered in index order: one pass over the segments
  let seg = 0;
  let segStart = 0;
  for (let j = 0; j < idx.length; j++) {
    const at = lo + idx[j];
    while (segStart + s.segments[seg].length <= at) segStart += s.segments[seg++].length;
    cx[j] = s.x0 + at;
    cy[j] = s.segments[seg][at - segStart];
  }
  const kept = minMaxLttb(cx, cy, points, 0);
  const x = new Array<number>(kept.length);
  const y = new Array<number>(kept.length);
  for (let k = 0; k < kept.length; k++) {
    x[k] = cx[kept[k]];
    y[k] = cy[kept[k]];
  }
  return { x, y, total: n, shown: kept.length, nonFinite: [], nonFiniteCount: 0 };
}
