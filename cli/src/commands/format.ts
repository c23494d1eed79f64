/** Output formats of the CLI: aligned tables for people, CSV and JSON for programs. */

export type OutputFormat = 'table' | 'csv' | 'json';

/** A cell as text: dates in ISO form, numbers as JS prints them (NaN, Infinity), objects as JSON. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? String(v) : v,
  );
}

/** The column names of `rows`: `first` in that order, then every other field in order of appearance. */
export function columnsOf(rows: readonly Record<string, unknown>[], first: readonly string[]): string[] {
  const cols = new Set(first);
  for (const r of rows) for (const k of Object.keys(r)) cols.add(k);
  return [...cols];
}

function csvField(text: string): string {
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV with a header line. */
export function toCsv(rows: readonly Record<string, unknown>[], columns: readonly string[]): string {
  const lines = [columns.map(csvField).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(cellText(r[c]))).join(','));
  return lines.join('\n') + '\n';
}

/** A JSON array; non-finite numbers become the strings "NaN", "Infinity", "-Infinity". */
export function toJson(rows: readonly Record<string, unknown>[]): string {
  return (
    JSON.stringify(
      rows,
      (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v),
      2,
    ) + '\n'
  );
}

/** An aligned text table; long cells are cut to `maxWidth` characters. */
export function toTable(
  rows: readonly Record<string, unknown>[],
  columns: readonly string[],
  maxWidth = 60,
): string {
  const cut = (s: string): string => (s.length > maxWidth ? s.slice(0, maxWidth - 1) + '…' : s);
  const cells = rows.map((r) => columns.map((c) => cut(cellText(r[c]).replace(/\s+/g, ' '))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i].length)));
  const line = (values: string[]): string =>
    values
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line([...columns]), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n') + '\n';
}

/** Rows in the chosen format. */
export function render(
  rows: readonly Record<string, unknown>[],
  columns: readonly string[],
  format: OutputFormat,
): string {
  if (format === 'csv') return toCsv(rows, columns);
  if (format === 'json') return toJson(rows);
  return rows.length ? toTable(rows, columns) : '(no rows)\n';
}

/** Rounds numbers for tables so summaries stay readable; CSV and JSON keep full precision. */
export function roundForDisplay(value: unknown): unknown {
  return typeof value === 'number' && Number.isFinite(value) && !Number.isInteger(value)
    ? Number(value.toPrecision(6))
    : value;
}
