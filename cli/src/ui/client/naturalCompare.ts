/**
 * The one order of keys in the UI (the metric picker, the chart grid, the table's columns, the
 * compare page's params): natural order, numbers in a key compared as numbers — `m1, m2, m10`,
 * `layer2/w, layer10/w` — where a plain string sort gives `m1, m10, m2`.
 */

const DIGITS = /\d+|\D+/g;

/** Compares two keys in natural order (a negative number when `a` comes first). */
export function naturalCompare(a: string, b: string): number {
  if (a === b) return 0;
  const pa = a.match(DIGITS) ?? [];
  const pb = b.match(DIGITS) ?? [];
  const n = Math.min(pa.length, pb.length);
  for (let i = 0; i < n; i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === y) continue;
    const dx = x.charCodeAt(0) >= 48 && x.charCodeAt(0) <= 57;
    const dy = y.charCodeAt(0) >= 48 && y.charCodeAt(0) <= 57;
    if (dx && dy) {
      // as numbers of any length (no float rounding): fewer digits once leading zeros are gone is less
      const tx = x.replace(/^0+(?=\d)/, '');
      const ty = y.replace(/^0+(?=\d)/, '');
      if (tx.length !== ty.length) return tx.length - ty.length;
      if (tx !== ty) return tx < ty ? -1 : 1;
      // equal numbers written apart (`01`, `1`): the shorter first, so the order stays total
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length || (a < b ? -1 : 1);
}

/** `keys` sorted in natural order (a copy). */
export function naturalSort(keys: Iterable<string>): string[] {
  return [...keys].sort(naturalCompare);
}
