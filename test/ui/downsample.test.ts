import {
  MAX_NON_FINITE,
  downsampleRange,
  downsampleSeries,
  minMaxLttb,
  minMaxPreselect,
} from 'omega-track/internal';
// a seeded generator (mulberry32), so a failing random case can be run again
import { seededRandom as random } from '@omega-track/core/internal';

function steps(n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => i);
}

/** Checks what every downsampled series must be, against the input it came from. */
function checkDownsampled(x: ArrayLike<number>, y: ArrayLike<number>, points: number): void {
  const d = downsampleSeries(x, y, points);
  const finite: number[] = [];
  for (let i = 0; i < x.length; i++) if (Number.isFinite(x[i]) && Number.isFinite(y[i])) finite.push(i);
  const limit = Math.max(points, 4);
  expect(d.shown).toBe(d.x.length);
  expect(d.y.length).toBe(d.x.length);
  expect(d.x.length).toBeLessThanOrEqual(limit);
  if (finite.length <= limit) {
    // small inputs come back whole
    expect(d.x).toEqual(finite.map((i) => x[i]));
    expect(d.y).toEqual(finite.map((i) => y[i]));
    return;
  }
  // it makes use of the points it may have
  expect(d.x.length).toBeGreaterThanOrEqual(limit - 1);
  const fy = finite.map((i) => y[i]);
  expect(d.x[0]).toBe(x[finite[0]]);
  expect(d.y[0]).toBe(y[finite[0]]);
  expect(d.x[d.x.length - 1]).toBe(x[finite[finite.length - 1]]);
  expect(d.y[d.y.length - 1]).toBe(y[finite[finite.length - 1]]);
  const least = (v: number[]): number => v.reduce((a, b) => Math.min(a, b), Infinity);
  const most = (v: number[]): number => v.reduce((a, b) => Math.max(a, b), -Infinity);
  expect(least(d.y)).toBe(least(fy));
  expect(most(d.y)).toBe(most(fy));
  // the points are input points, in order
  let at = 0;
  let found = 0;
  for (let k = 0; k < d.x.length; k++) {
    while (at < finite.length && !(x[finite[at]] === d.x[k] && y[finite[at]] === d.y[k])) at++;
    if (at < finite.length) found++;
    at++;
  }
  expect(found).toBe(d.x.length);
}

describe('MinMaxLTTB downsampling', () => {
  test('a series no longer than the points asked for comes back whole', () => {
    const x = [0, 1, 2, 3, 4];
    const y = [5, -1, 3, 3, 9];
    const d = downsampleSeries(x, y, 5);
    expect(d).toEqual({ x, y, total: 5, shown: 5, nonFinite: [], nonFiniteCount: 0 });
    expect(downsampleSeries([], [], 100)).toEqual({
      x: [],
      y: [],
      total: 0,
      shown: 0,
      nonFinite: [],
      nonFiniteCount: 0,
    });
    expect(downsampleSeries([7], [1], 100).x).toEqual([7]);
  });

  test('keeps the first and last points, the global minimum and maximum, and at most the points asked for', () => {
    const n = 100_000;
    const x = steps(n);
    const y = Float64Array.from({ length: n }, (_, i) => Math.sin(i / 500));
    // one spike each way, narrower than any bucket: what even spacing would lose
    y[31_337] = 40;
    y[77_777] = -25;
    y[0] = 0.25;
    y[n - 1] = -0.75;
    const d = downsampleSeries(x, y, 500);
    expect(d.shown).toBeLessThanOrEqual(500);
    expect(d.total).toBe(n);
    expect([d.x[0], d.y[0]]).toEqual([0, 0.25]);
    expect([d.x[d.shown - 1], d.y[d.shown - 1]]).toEqual([n - 1, -0.75]);
    expect(d.x[d.y.indexOf(40)]).toBe(31_337);
    expect(d.x[d.y.indexOf(-25)]).toBe(77_777);
    checkDownsampled(x, y, 500);
  });

  test('extremes that fall into one bucket are both kept, still within the points asked for', () => {
    const n = 10_000;
    const y = new Float64Array(n).fill(1);
    y[5000] = 100;
    y[5001] = -100;
    for (const points of [4, 5, 6, 10, 50]) {
      const d = downsampleSeries(steps(n), y, points);
      expect(d.shown).toBeLessThanOrEqual(points);
      expect(d.y).toContain(100);
      expect(d.y).toContain(-100);
      expect(d.x[0]).toBe(0);
      expect(d.x[d.shown - 1]).toBe(n - 1);
    }
  });

  test('fewer than four points asked for still gives first, last, minimum and maximum', () => {
    const y = [0, 5, -5, 1, 2, 3, 0.5];
    const d = downsampleSeries(steps(y.length), y, 2);
    expect(d.shown).toBe(4);
    expect(d.y).toEqual([0, 5, -5, 0.5]);
  });

  test('NaN and ±Infinity are not drawn: they are listed with their x and counted', () => {
    const x = steps(8);
    const y = [NaN, 1, Infinity, 2, -Infinity, 3, 4, NaN];
    const d = downsampleSeries(x, y, 100);
    expect(d.x).toEqual([1, 3, 5, 6]);
    expect(d.y).toEqual([1, 2, 3, 4]);
    expect(d.total).toBe(8);
    expect(d.shown).toBe(4);
    expect(d.nonFiniteCount).toBe(4);
    expect(d.nonFinite).toEqual([
      { x: 0, value: 'NaN' },
      { x: 2, value: 'Infinity' },
      { x: 4, value: '-Infinity' },
      { x: 7, value: 'NaN' },
    ]);
  });

  test('non-finite values among many: the finite first, last and extremes are kept, the list is bounded', () => {
    const n = 50_000;
    const rnd = random(7);
    const y = Float64Array.from({ length: n }, () => rnd());
    for (let i = 0; i < n; i += 17) y[i] = NaN;
    for (let i = 3; i < n; i += 101) y[i] = -Infinity;
    y[n - 1] = Infinity;
    y[123] = 7;
    const d = downsampleSeries(steps(n), y, 300);
    expect(d.y.every(Number.isFinite)).toBe(true);
    expect(d.nonFinite.length).toBe(MAX_NON_FINITE);
    expect(d.nonFiniteCount).toBeGreaterThan(MAX_NON_FINITE);
    expect(d.y).toContain(7);
    let last = n - 1;
    while (!Number.isFinite(y[last])) last--;
    expect(d.x[d.shown - 1]).toBe(last);
    checkDownsampled(steps(n), y, 300);
  });

  test('a series of nothing but non-finite values draws nothing', () => {
    const d = downsampleSeries([1, 2, 3], [NaN, Infinity, -Infinity], 10);
    expect(d.x).toEqual([]);
    expect(d.nonFiniteCount).toBe(3);
    expect(d.total).toBe(3);
  });

  test('points without a finite x are left out', () => {
    const d = downsampleSeries([0, NaN, 2, Infinity], [1, 2, 3, 4], 10);
    expect(d.x).toEqual([0, 2]);
    expect(d.total).toBe(2);
    expect(d.nonFiniteCount).toBe(0);
  });

  test('the min/max preselection keeps every bucket’s smallest and largest value, in order', () => {
    const y = [5, 9, 1, 4, 4, 8, 0, 3, 7, 2];
    // interior 1..8 in 2 buckets: [1,5) holds 9 (max, at 1) and 1 (min, at 2); [5,9) 8 (5) and 0 (6)
    expect(Array.from(minMaxPreselect(y, y.length, 2))).toEqual([0, 1, 2, 5, 6, 9]);
    expect(Array.from(minMaxPreselect([1, 2], 2, 3))).toEqual([0, 1]);
  });

  test('indexes come back ascending, from the input', () => {
    const n = 20_000;
    const rnd = random(11);
    const y = Float64Array.from({ length: n }, () => rnd() * 10 - 5);
    const idx = minMaxLttb(steps(n), y, 1000);
    expect(idx.length).toBeLessThanOrEqual(1000);
    for (let k = 1; k < idx.length; k++) expect(idx[k]).toBeGreaterThan(idx[k - 1]);
    expect(idx[0]).toBe(0);
    expect(idx[idx.length - 1]).toBe(n - 1);
  });

  test('random series of every length and shape keep their guarantees', () => {
    const rnd = random(20230915);
    for (let trial = 0; trial < 300; trial++) {
      const n = Math.floor(rnd() ** 2 * 6000);
      const points = 4 + Math.floor(rnd() * 400);
      const shape = trial % 4;
      let level = 0;
      const y = Float64Array.from({ length: n }, (_, i) => {
        if (shape === 0) return rnd();
        if (shape === 1) return (level += rnd() - 0.5);
        if (shape === 2) return Math.round(rnd() * 3);
        // plateaus with spikes, and some non-finite values
        const r = rnd();
        return r < 0.01 ? NaN : r < 0.02 ? (r < 0.015 ? 1e6 : -1e6) : i % 100 < 50 ? 1 : 2;
      });
      // uneven x: gaps and repeated steps (a metric logged twice at one step)
      let xv = 0;
      const x = Float64Array.from({ length: n }, () => (xv += rnd() < 0.1 ? 0 : 1 + Math.floor(rnd() * 5)));
      checkDownsampled(x, y, points);
    }
  });

  test('a million points come down to 2,000 with their spike', () => {
    const n = 1_000_000;
    const rnd = random(3);
    const y = Float64Array.from({ length: n }, (_, i) => Math.sin(i / 1e4) + rnd() * 0.01);
    y[654_321] = 99;
    const d = downsampleSeries(steps(n), y, 2000);
    expect(d.shown).toBeLessThanOrEqual(2000);
    expect(d.shown).toBeGreaterThanOrEqual(1999);
    expect(d.x[d.y.indexOf(99)]).toBe(654_321);
    expect(d.x[0]).toBe(0);
    expect(d.x[d.shown - 1]).toBe(n - 1);
  });
});

describe('a range series (steps counting up by one, values left in their chunks)', () => {
  /** `y` cut into segments of the given sizes (cycled), as the store hands a run's chunks out. */
  function segmentsOf(y: Float64Array, sizes: readonly number[]): Float64Array[] {
    const out: Float64Array[] = [];
    for (let at = 0, k = 0; at < y.length; k++) {
      const size = sizes[k % sizes.length];
      out.push(y.subarray(at, at + size));
      at += size;
    }
    return out;
  }

  test('keeps exactly the points downsampleSeries keeps of the same series joined, in any window', () => {
    const next = random(7);
    for (const n of [0, 1, 3, 50, 2000, 8003, 16_005, 100_000]) {
      const y = Float64Array.from(
        { length: n },
        (_, i) => Math.sin(i / 97) + (next() < 0.001 ? 40 * (next() - 0.5) : 0),
      );
      const x0 = 1000;
      const x = Float64Array.from({ length: n }, (_, i) => x0 + i);
      for (const sizes of [[4096], [1, 0, 7, 4096, 333], [n || 1]]) {
        const range = { x0, segments: segmentsOf(y, sizes), length: n };
        for (const points of [4, 300, 2000]) {
          for (const [lo, hi] of [
            [0, n],
            [Math.floor(n / 3), Math.floor((2 * n) / 3)],
            [Math.max(0, n - 5), n],
          ]) {
            const joined = downsampleSeries(x.subarray(lo, hi), y.subarray(lo, hi), points, { finite: true });
            expect({ n, sizes, points, lo, got: downsampleRange(range, lo, hi, points) }).toEqual({
              n,
              sizes,
              points,
              lo,
              got: joined,
            });
          }
        }
      }
    }
  });
});
