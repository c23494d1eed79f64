/**
 * Axes of the parallel-coordinates and scatter plots: a column's values (numbers, or text such as
 * an optimizer's name) on [0, 1] — log where positive numbers span more than 2 decades (a sweep's
 * learning rates), linear otherwise, text as evenly spaced categories — and the brushes on them.
 */
import { formatNumber } from './format';
import type { RunRow } from './runColumns';

/** A column of the plots: what it is called and its value for a run. */
export interface PlotColumn {
  id: string;
  label: string;
  value(run: RunRow): number | string | undefined;
}

export type Scale =
  { kind: 'linear' | 'log'; min: number; max: number } | { kind: 'category'; categories: string[] };

/** A brush on an axis: a range of numbers, or a set of categories. */
export type Brush = { kind: 'range'; lo: number; hi: number } | { kind: 'set'; values: string[] };

/** The spread past which an axis of positive numbers is logarithmic: 2 decades. */
const LOG_SPAN = 100;

/** The scale of a column's values (numbers win when there are any; text then goes unplotted). */
export function scaleOf(values: ReadonlyArray<number | string | undefined>): Scale | undefined {
  const numbers = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  if (numbers.length > 0) {
    let min = Infinity;
    let max = -Infinity;
    for (const v of numbers) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    if (min > 0 && max / min > LOG_SPAN) return { kind: 'log', min, max };
    return { kind: 'linear', min, max };
  }
  const texts = [...new Set(values.filter((v): v is string => typeof v === 'string'))].sort();
  return texts.length > 0 ? { kind: 'category', categories: texts } : undefined;
}

/** Where a value sits on its axis, 0 (bottom/left) … 1; undefined when the scale has no place for it. */
export function toUnit(scale: Scale, value: number | string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (scale.kind === 'category') {
    const i = scale.categories.indexOf(String(value));
    if (i < 0) return undefined;
    return scale.categories.length === 1 ? 0.5 : i / (scale.categories.length - 1);
  }
  if (typeof value !== 'number' || !Number.isFinite(value)) return undefined;
  if (scale.max === scale.min) return 0.5;
  if (scale.kind === 'log') {
    if (value <= 0) return undefined;
    return (Math.log10(value) - Math.log10(scale.min)) / (Math.log10(scale.max) - Math.log10(scale.min));
  }
  return (value - scale.min) / (scale.max - scale.min);
}

/** The value at a position of a numeric axis. */
export function fromUnit(scale: Scale, unit: number): number {
  if (scale.kind === 'category') return unit;
  if (scale.max === scale.min) return scale.min;
  if (scale.kind === 'log')
    return 10 ** (Math.log10(scale.min) + unit * (Math.log10(scale.max) - Math.log10(scale.min)));
  return scale.min + unit * (scale.max - scale.min);
}

/** How many ticks a numeric axis aims at (d3's default is 10; an axis here is 250 px tall). */
const TICK_COUNT = 5;

/**
 * Round tick values inside [lo, hi], about `count` of them: multiples of a step of 1, 2 or 5 ×
 * 10^k (d3's `ticks`). Each is computed as an integer times or over a power of ten, so that
 * 0.1 · 3 reads 0.3 and not 0.30000000000000004.
 */
export function niceTicks(lo: number, hi: number, count = TICK_COUNT): number[] {
  if (!(hi > lo) || !Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  const raw = (hi - lo) / count;
  const power = Math.floor(Math.log10(raw));
  const error = raw / 10 ** power;
  const factor = error >= Math.sqrt(50) ? 10 : error >= Math.sqrt(10) ? 5 : error >= Math.sqrt(2) ? 2 : 1;
  const out: number[] = [];
  if (power < 0) {
    // a step below 1: ticks are i / inv (1/inv has no exact binary form, inv has)
    const inv = 10 ** -power / factor;
    for (let i = Math.ceil(lo * inv - 1e-9); i <= Math.floor(hi * inv + 1e-9); i++) out.push(i / inv);
  } else {
    const step = 10 ** power * factor;
    for (let i = Math.ceil(lo / step - 1e-9); i <= Math.floor(hi / step + 1e-9); i++) out.push(i * step);
  }
  return out;
}

/** Tick positions and labels of an axis: round values (linear), the powers of ten (log). */
export function ticksOf(scale: Scale): { unit: number; label: string }[] {
  if (scale.kind === 'category') {
    const every = Math.max(1, Math.ceil(scale.categories.length / 8));
    return scale.categories
      .map((c) => ({ unit: toUnit(scale, c)!, label: c.length > 14 ? `${c.slice(0, 13)}…` : c }))
      .filter((_, i) => i % every === 0);
  }
  if (scale.min === scale.max) return [{ unit: 0.5, label: formatNumber(scale.min) }];
  const out: { unit: number; label: string }[] = [];
  if (scale.kind === 'log') {
    for (let p = Math.ceil(Math.log10(scale.min)); p <= Math.floor(Math.log10(scale.max)); p++)
      out.push({ unit: toUnit(scale, 10 ** p)!, label: formatNumber(10 ** p) });
    return out;
  }
  for (const v of niceTicks(scale.min, scale.max))
    out.push({ unit: toUnit(scale, v)!, label: formatNumber(v) });
  return out;
}

/** The brush of an axis between two positions (0…1). */
export function brushBetween(scale: Scale, a: number, b: number): Brush {
  const lo = Math.max(0, Math.min(a, b));
  const hi = Math.min(1, Math.max(a, b));
  if (scale.kind === 'category')
    return {
      kind: 'set',
      values: scale.categories.filter((c) => {
        const u = toUnit(scale, c)!;
        return u >= lo && u <= hi;
      }),
    };
  return { kind: 'range', lo: fromUnit(scale, lo), hi: fromUnit(scale, hi) };
}

/** Whether a value is inside a brush (a run without the value is not). */
export function inBrush(brush: Brush, value: number | string | undefined): boolean {
  if (value === undefined) return false;
  if (brush.kind === 'set') return brush.values.includes(String(value));
  return typeof value === 'number' && value >= brush.lo && value <= brush.hi;
}

/** A brush as people read it: `params.lr ∈ [0.001, 0.01]`. */
export function brushLabel(label: string, brush: Brush): string {
  return brush.kind === 'set'
    ? `${label} ∈ {${brush.values.join(', ')}}`
    : `${label} ∈ [${formatNumber(brush.lo)}, ${formatNumber(brush.hi)}]`;
}

/** A colour from a value's place on a scale: dark blue (low) through teal to yellow (high). */
export function rampColor(unit: number | undefined): string {
  if (unit === undefined) return 'rgb(150, 150, 150)';
  const stops = [
    [68, 1, 84],
    [59, 82, 139],
    [33, 145, 140],
    [94, 201, 98],
    [253, 231, 37],
  ];
  const t = Math.min(1, Math.max(0, unit)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(t));
  const f = t - i;
  const c = stops[i].map((v, k) => Math.round(v + f * (stops[i + 1][k] - v)));
  return `rgb(${c[0]}, ${c[1]}, ${c[2]})`;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** An SVG element with attributes (values as text) and children. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | number> = {},
  ...children: Array<SVGElement | string>
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
  for (const child of children)
    el.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  return el;
}
