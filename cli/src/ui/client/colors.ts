/**
 * A color per run, from its number alone: the same run has the same color on every chart, page
 * and reload, whichever other runs are shown with it. Successive numbers step the hue by the
 * golden angle, so neighbouring runs (the ones most often compared) differ most.
 */
export function runColor(run: number): string {
  const hue = (((run * 137.508) % 360) + 360) % 360;
  // the lightness alternates a little, so runs whose hues come close still differ
  const light = run % 2 === 0 ? 40 : 47;
  return `hsl(${hue.toFixed(1)}, 72%, ${light}%)`;
}

/** A color for the i-th of a fixed set of lines (profile charts). */
export function indexColor(i: number): string {
  return runColor(i + 1);
}
