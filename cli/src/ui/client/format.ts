/** How values are written in tables, legends and axes. */
import type { JsonNumber } from './api';
import { toNumber } from './api';

/**
 * THE number format of the UI (tables, legends, side-by-side tables, axes below 1e4), one rule so
 * that a column never mixes `5.3841e-5` and `0.000179469`:
 * - integers below 1e6 in size are written whole (`32`, `100000`);
 * - other numbers with 1e-4 <= |n| < 1e6 are written positionally with 4 significant digits,
 *   trailing zeros dropped (`0.0001795`, `0.9312`, `1234`, `12.5`);
 * - below 1e-4 or from 1e6 on, the exponent form with 4 significant digits (`5.384e-5`, `1.235e+6`);
 * - 0 is `0`; NaN and ±Infinity by name.
 */
export function formatNumber(value: JsonNumber | null | undefined): string {
  const n = toNumber(value);
  if (n === undefined) return '';
  if (!Number.isFinite(n)) return String(n);
  if (n === 0) return '0';
  const abs = Math.abs(n);
  if (Number.isInteger(n) && abs < 1e6) return String(n);
  // rounded first: 999999.7 reads 1.000e+6, not 1000000
  const rounded = Number(n.toPrecision(SIGNIFICANT));
  const size = Math.abs(rounded);
  if (size < 1e-4 || size >= 1e6) return exponent(n);
  return String(rounded);
}

/** The significant digits of formatNumber. */
export const SIGNIFICANT = 4;

function exponent(n: number): string {
  // toExponential(3) is 4 significant digits; `5.380e-5` reads `5.38e-5`
  const [mantissa, power] = n.toExponential(SIGNIFICANT - 1).split('e');
  const trimmed = mantissa.includes('.') ? mantissa.replace(/0+$/, '').replace(/\.$/, '') : mantissa;
  return `${trimmed}e${power}`;
}

/** A count for people: 99,902. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** A short axis label: 1.2k, 3.4M, 0.0012 (`digits` significant digits past 1e4). */
export function formatAxis(n: number, digits = 3): string {
  const abs = Math.abs(n);
  if (abs >= 1e9) return `${Number((n / 1e9).toPrecision(digits))}G`;
  if (abs >= 1e6) return `${Number((n / 1e6).toPrecision(digits))}M`;
  if (abs >= 1e4) return `${Number((n / 1e3).toPrecision(digits))}k`;
  return digits <= 4 ? formatNumber(n) : String(Number(n.toPrecision(digits)));
}

/**
 * The labels of an axis's ticks, with as many digits as it takes for no two to read alike
 * (ticks 1.000e9 … 1.014e9 read 1G 1.002G … rather than 1.01G three times).
 */
export function axisLabels(ticks: readonly number[]): string[] {
  let labels = ticks.map((v) => formatAxis(v));
  for (let digits = 4; digits <= 12 && new Set(labels).size < labels.length; digits++)
    labels = ticks.map((v) => formatAxis(v, digits));
  return labels;
}

/** A duration in ms as `1h 02m`, `3m 20s`, `4.2s`, `120ms`. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)}ms`;
  const s = abs / 1000;
  if (s < 60) return `${sign}${Number(s.toPrecision(3))}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${sign}${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${sign}${hours}h ${String(m % 60).padStart(2, '0')}m`;
  return `${sign}${Math.floor(hours / 24)}d ${String(hours % 24).padStart(2, '0')}h`;
}

/** An ISO time as local `YYYY-MM-DD HH:MM:SS`. */
export function formatTime(iso: string | number | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Any event value, param or tag as one line of text. */
export function formatValue(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'number') return formatNumber(value);
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    // a cycle or a BigInt inside: the server sends JSON, so this does not happen with its data
    return Object.prototype.toString.call(value);
  }
}

/** Text cut to `max` characters, with an ellipsis. */
export function clip(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** A byte count as `12.3 kB`. */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '';
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${Number(v.toPrecision(3))} ${units[u]}`;
}
