/**
 * Colours of the lines on the charts. A run's colour comes from its position in the selection
 * (`paletteColor(0)` for the first run picked, …), not from its number: numbers that happen to
 * sit 5 or 8 apart gave nearly the same colour (issue 24). The first ten colours are ten hues
 * 36° apart at one lightness, ordered so that neighbours in the selection differ most; the next
 * ten sit halfway between those hues and 20 points lighter, so any two of the twenty differ by
 * ≥ 36° of hue or by 20 points of lightness. The palette reads on the light and the dark theme.
 */
const HUES = [221, 41, 149, 329, 5, 185, 257, 77, 293, 113];
const BASE = { s: 72, l: 42 };
const SECOND = { s: 78, l: 62 };

/** The colour of the `index`-th run of a selection (0-based), as `hsl(…)`. */
export function paletteColor(index: number): string {
  const i = Math.max(0, Math.floor(index));
  const round = Math.floor(i / HUES.length);
  const hue = HUES[i % HUES.length];
  if (round === 0) return `hsl(${hue}, ${BASE.s}%, ${BASE.l}%)`;
  if (round === 1) return `hsl(${(hue + 18) % 360}, ${SECOND.s}%, ${SECOND.l}%)`;
  // past twenty nothing stays clearly apart: further rounds shift the hue a little more and
  // alternate darker and lighter, so at least no two lines share a colour exactly
  const shift = (round * 7) % 36;
  const light = round % 2 === 0 ? 32 : 55;
  return `hsl(${(hue + shift) % 360}, 65%, ${light}%)`;
}

/** `color` (an `hsl(…)` of this palette) with opacity `alpha`: raw lines behind smoothed ones, bands. */
export function fade(color: string, alpha: number): string {
  const m = /^hsl\((.*)\)$/.exec(color);
  return m ? `hsla(${m[1]}, ${alpha})` : color;
}

/** A colour for the i-th of a fixed set of lines (profile charts). */
export function indexColor(i: number): string {
  return paletteColor(i);
}
