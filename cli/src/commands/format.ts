/** How the CLI shows values: cells for tables and CSV, safe for terminals and spreadsheets. */

/** Output formats of the CLI: aligned tables for people, CSV and JSON for programs. */
export type OutputFormat = 'table' | 'csv' | 'json';

// Rows of one batch mostly share their millisecond: the last ISO text is kept for the next row.
let lastTime = NaN;
let lastIso = '';

/** A date in ISO form (`Invalid Date` for a date that holds no time, rather than a throw). */
export function isoText(date: Date): string {
  const time = date.getTime();
  if (time !== lastTime) {
    if (Number.isNaN(time)) return 'Invalid Date';
    lastIso = date.toISOString();
    lastTime = time;
  }
  return lastIso;
}

/** A cell as text: dates in ISO form, numbers as JS prints them (NaN, Infinity), objects as JSON. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return isoText(value);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  // undefined for what JSON has no place for (a function): an empty cell
  return JSON.stringify(value, jsonReplacer) ?? '';
}

/** Non-finite numbers become the strings "NaN", "Infinity", "-Infinity" (JSON has no place for them). */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? String(value) : value;
}

/** The column names of `rows`: `first` in that order, then every other field in order of appearance. */
export function columnsOf(rows: readonly Record<string, unknown>[], first: readonly string[]): string[] {
  const cols = new Set(first);
  for (const r of rows) for (const k of Object.keys(r)) cols.add(k);
  return [...cols];
}

const NAMED_ESCAPES: Record<number, string> = { 0x09: '\\t', 0x0a: '\\n', 0x0d: '\\r' };

/**
 * Whether a character would act on a terminal instead of being shown: C0 controls (ESC, BEL,
 * CR, …), DEL, C1 controls (0x9b is a one-byte CSI), the line and paragraph separators, and the
 * bidirectional overrides that make text read differently from what it is.
 */
function isControl(code: number): boolean {
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/**
 * `text` with every control character written out as an escape (`\x1b`, `\x07`, `\r`, `\u202e`),
 * so a logged value can neither retitle nor recolor the terminal it is shown on.
 */
export function escapeControls(text: string): string {
  let out: string | undefined;
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (!isControl(code)) continue;
    out = (out ?? '') + text.slice(from, i) + controlEscape(code);
    from = i + 1;
  }
  return out === undefined ? text : out + text.slice(from);
}

function controlEscape(code: number): string {
  return (
    NAMED_ESCAPES[code] ??
    (code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`)
  );
}

/** Characters that make a spreadsheet read a text cell as a formula (CSV injection). */
const FORMULA_START = new Set(['=', '+', '-', '@', '\t', '\r']);

function csvQuote(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * One RFC 4180 CSV field. Text that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`,
 * tab or CR first) gets a leading `'`, the usual guard; numbers stay numbers (`-0.5`).
 */
export function csvField(value: unknown): string {
  // numbers and dates never need quotes nor the guard: the common cells go the short way
  if (typeof value === 'number') return String(value);
  if (value instanceof Date) return isoText(value);
  if (typeof value === 'string') return cached(csvStrings, value, csvText);
  return csvQuote(cellText(value));
}

function csvText(text: string): string {
  return csvQuote(FORMULA_START.has(text.charAt(0)) ? `'${text}` : text);
}

// Names, keys, hosts and users repeat on every row: their CSV and JSON texts are kept (a bounded number).
const csvStrings = new Map<string, string>();
const jsonStrings = new Map<string, string>();

function cached(cache: Map<string, string>, text: string, convert: (text: string) => string): string {
  if (text.length > 64) return convert(text);
  let converted = cache.get(text);
  if (converted === undefined) {
    converted = convert(text);
    if (cache.size >= 10_000) cache.clear();
    cache.set(text, converted);
  }
  return converted;
}

function jsonString(text: string): string {
  return cached(jsonStrings, text, JSON.stringify);
}

/**
 * One row as a JSON object, keys in the row's order; non-finite numbers as strings ("NaN"), as
 * `JSON.stringify(row, jsonReplacer)` gives, but without its replacer call on every field.
 */
export function jsonRow(row: Record<string, unknown>): string {
  let text = '{';
  for (const key in row) {
    const value = row[key];
    let json: string | undefined;
    if (typeof value === 'number') json = Number.isFinite(value) ? String(value) : `"${value}"`;
    else if (typeof value === 'string') json = jsonString(value);
    else if (value === null) json = 'null';
    else if (value instanceof Date) json = Number.isNaN(value.getTime()) ? 'null' : `"${isoText(value)}"`;
    else json = JSON.stringify(value, jsonReplacer);
    // fields JSON has no place for (undefined, functions) are left out, as JSON.stringify does
    if (json !== undefined) text += (text.length > 1 ? ',' : '') + jsonString(key) + ':' + json;
  }
  return text + '}';
}

/** One CSV line of `row` in `columns`, with its line end. */
export function csvLine(row: Record<string, unknown>, columns: readonly string[]): string {
  let line = '';
  for (let i = 0; i < columns.length; i++) line += (i ? ',' : '') + csvField(row[columns[i]]);
  return line + '\n';
}

/** A table cell: control characters escaped, cut to `maxWidth` characters. */
export function tableCell(value: unknown, maxWidth: number): string {
  const text = escapeControls(cellText(value));
  return text.length > maxWidth ? text.slice(0, maxWidth - 1) + '…' : text;
}

/** Rounds numbers for tables so summaries stay readable; CSV and JSON keep full precision. */
export function roundForDisplay(value: unknown): unknown {
  return typeof value === 'number' && Number.isFinite(value) && !Number.isInteger(value)
    ? Number(value.toPrecision(6))
    : value;
}

/**
 * A duration in milliseconds for people: `350 ms`, `4.2 s`, `1m 12s`, `2h 3m`, `3d 4h`
 * (the two largest units); JSON and CSV keep the milliseconds.
 */
export function humanDuration(ms: unknown): unknown {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return ms;
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 1000) return `${sign}${Math.round(abs)} ms`;
  if (abs < 60_000) return `${sign}${Number((abs / 1000).toFixed(abs < 10_000 ? 2 : 1))} s`;
  const s = Math.round(abs / 1000);
  const [big, small, bigUnit, smallUnit] =
    s < 3600
      ? [Math.floor(s / 60), s % 60, 'm', 's']
      : s < 86_400
        ? [Math.floor(s / 3600), Math.floor((s % 3600) / 60), 'h', 'm']
        : [Math.floor(s / 86_400), Math.floor((s % 86_400) / 3600), 'd', 'h'];
  return `${sign}${big}${bigUnit}${small ? ` ${small}${smallUnit}` : ''}`;
}
