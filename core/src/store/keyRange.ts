/**
 * Key ranges shared by the stores: the strings that start with a prefix are one range of an
 * ordered index, since stores compare text by its UTF-8 bytes, which is code point order.
 */

/**
 * The first string after every string that starts with `prefix`: the prefix with its last code
 * point raised by one (dropping code points that cannot be raised); undefined when there is none
 * (an empty prefix, or one of U+10FFFF only).
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = [...prefix];
  while (points.length) {
    const last = points.pop()!.codePointAt(0)!;
    if (last >= 0x10ffff) continue;
    // the surrogate range holds no code points a string can store
    const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
    return points.join('') + String.fromCodePoint(next);
  }
  return undefined;
}

/** Compares by code points, as the stores' indexes order keys (JS's `<` compares UTF-16 units). */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < x.length && i < y.length; i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}
