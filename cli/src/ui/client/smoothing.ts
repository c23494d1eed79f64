/**
 * Exponential moving average as TensorBoard's scalar dashboard draws it: with weight w,
 * `s_i = w·s_{i-1} + (1 − w)·y_i` starting from 0, divided by `1 − w^n` (n = the finite points seen
 * so far) so the first points are not pulled towards zero. Non-finite and missing values pass
 * through and do not enter the average. A weight of 0 leaves the values as they are.
 */
export function smoothEma(values: ArrayLike<number | null>, weight: number): (number | null)[] {
  const out: (number | null)[] = new Array<number | null>(values.length);
  if (!(weight > 0)) {
    for (let i = 0; i < values.length; i++) out[i] = values[i];
    return out;
  }
  const w = Math.min(weight, 0.999);
  let last = 0;
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v === null || !Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * w + (1 - w) * v;
    n++;
    out[i] = last / (1 - Math.pow(w, n));
  }
  return out;
}
