/**
 * uPlot draws aligned data: one x array shared by all series, each series a y array of the same
 * length with null where it has no point. Runs are downsampled on their own and log at their own
 * steps or times, so their x values differ: this merges them (a k-way merge of the sorted x
 * arrays), and the lines span the nulls.
 */

export interface XY {
  x: ArrayLike<number>;
  y: ArrayLike<number | null>;
}

/** The points of `s` in x order (the server sends them so; this only sorts when they are not). */
export function sortedByX(s: XY): XY {
  let sorted = true;
  for (let i = 1; i < s.x.length; i++)
    if (s.x[i] < s.x[i - 1]) {
      sorted = false;
      break;
    }
  if (sorted) return s;
  const order = Array.from({ length: s.x.length }, (_, i) => i).sort((a, b) => s.x[a] - s.x[b]);
  return { x: order.map((i) => s.x[i]), y: order.map((i) => s.y[i]) };
}

/**
 * Merges the series into `[x, y1, y2, …]`. Equal x values of different series share a row; a
 * series with the same x twice gets two rows, so no point is lost.
 */
export function alignSeries(series: readonly XY[]): [number[], ...(number | null)[][]] {
  const inputs = series.map(sortedByX);
  const k = inputs.length;
  const heads = new Array<number>(k).fill(0);
  const xs: number[] = [];
  const ys: (number | null)[][] = inputs.map(() => []);
  for (;;) {
    let min = Infinity;
    for (let j = 0; j < k; j++) {
      const i = heads[j];
      if (i < inputs[j].x.length && inputs[j].x[i] < min) min = inputs[j].x[i];
    }
    // done; a head that is not a finite number (the server never sends one) stops its series
    if (min === Infinity) break;
    xs.push(min);
    for (let j = 0; j < k; j++) {
      const i = heads[j];
      if (i < inputs[j].x.length && inputs[j].x[i] === min) {
        ys[j].push(inputs[j].y[i]);
        heads[j] = i + 1;
      } else ys[j].push(null);
    }
  }
  return [xs, ...ys];
}
