/** Writing rows out as they come: one buffer of bounded size, and the sink's backpressure respected. */
import type { OutputFormat } from './format';
import { csvField, csvLine, escapeControls, jsonRow, tableCell } from './format';

/** Text is handed to the sink in pieces of about this many characters. */
const PIECE = 1 << 16;

/**
 * Buffers text and hands it to `sink` in pieces; when the sink returns a promise (a stream
 * that wants to drain), nothing more is written until it settles.
 */
export class Output {
  private buffer = '';

  constructor(private readonly sink: (text: string) => unknown) {}

  /** Appends text; call `drain()` now and then (e.g. after each batch of rows). */
  write(text: string): void {
    this.buffer += text;
  }

  /** Hands the buffer to the sink once it holds a piece's worth, waiting for the sink. */
  async drain(): Promise<void> {
    if (this.buffer.length >= PIECE) await this.flush();
  }

  /** Hands everything buffered to the sink and waits for it. */
  async flush(): Promise<void> {
    if (!this.buffer) return;
    const text = this.buffer;
    this.buffer = '';
    const written = this.sink(text);
    if (written instanceof Promise) await written;
  }
}

/** Rows of one result, written as they come. */
export interface RowWriter {
  /** One row; the writer keeps at most a bounded number of rows. */
  row(row: Record<string, unknown>): void;
  /** Ends the output (the table's closing rows, the JSON array's `]`). */
  end(): void;
}

/** What the table writer shows. */
export interface TableOptions {
  /** Columns shown first, in this order; other fields follow in order of appearance. */
  columns: readonly string[];
  /** Whether fields beyond `columns` are shown (default true). */
  extraColumns?: boolean;
  /** Longest cell in characters (default 60). */
  maxWidth?: number;
  /** Rows that set the column widths; later rows are cut to those widths (default 1000). */
  widthRows?: number;
  /** Cell values as shown (e.g. durations for people). */
  display?: (column: string, value: unknown) => unknown;
}

/**
 * An aligned text table. The first `widthRows` rows are held to find the columns and their
 * widths, then written; later rows are written at once in those widths, so memory stays
 * bounded however many rows come. Control characters are shown escaped.
 */
export class TableWriter implements RowWriter {
  private held: string[][] | undefined = [];
  private heldRows: Record<string, unknown>[] = [];
  private columns: string[] = [];
  private widths: number[] = [];
  private readonly maxWidth: number;
  private readonly widthRows: number;
  /** Rows written so far. */
  count = 0;

  constructor(
    private readonly out: Output,
    private readonly opts: TableOptions,
  ) {
    this.maxWidth = opts.maxWidth ?? 60;
    this.widthRows = opts.widthRows ?? 1000;
  }

  row(row: Record<string, unknown>): void {
    this.count++;
    if (this.held) {
      this.heldRows.push(row);
      if (this.heldRows.length >= this.widthRows) this.writeHeld();
      return;
    }
    this.writeLine(this.cells(row));
  }

  end(): void {
    if (this.held) this.writeHeld();
    if (this.count === 0) this.out.write('(no rows)\n');
  }

  private cells(row: Record<string, unknown>): string[] {
    const display = this.opts.display;
    return this.columns.map((c) => tableCell(display ? display(c, row[c]) : row[c], this.maxWidth));
  }

  private writeHeld(): void {
    const columns = new Set(this.opts.columns);
    if (this.opts.extraColumns !== false)
      for (const r of this.heldRows) for (const k of Object.keys(r)) columns.add(k);
    this.columns = [...columns];
    this.held = undefined;
    const cells = this.heldRows.map((r) => this.cells(r));
    this.heldRows = [];
    const header = this.columns.map((c) => tableCell(c, this.maxWidth));
    this.widths = header.map((h) => h.length);
    // a loop, not Math.max(...cells): the spread overflows the stack on large tables
    for (const row of cells)
      for (let i = 0; i < row.length; i++) this.widths[i] = Math.max(this.widths[i], row[i].length);
    if (cells.length === 0) return;
    this.writeLine(header);
    this.writeLine(this.widths.map((w) => '-'.repeat(w)));
    for (const row of cells) this.writeLine(row);
  }

  private writeLine(cells: readonly string[]): void {
    let line = '';
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i].length > this.widths[i] ? cells[i].slice(0, this.widths[i] - 1) + '…' : cells[i];
      line += (i ? '  ' : '') + (i < cells.length - 1 ? cell.padEnd(this.widths[i]) : cell);
    }
    this.out.write(line.trimEnd() + '\n');
  }
}

/** RFC 4180 CSV with a header line of `columns`; text cells guarded against spreadsheet formulas. */
export class CsvWriter implements RowWriter {
  constructor(
    private readonly out: Output,
    private readonly columns: readonly string[],
  ) {
    out.write(columns.map((c) => csvField(c)).join(',') + '\n');
  }

  row(row: Record<string, unknown>): void {
    this.out.write(csvLine(row, this.columns));
  }

  end(): void {}
}

/** A JSON array, one row per line, written as it comes; non-finite numbers as strings. */
export class JsonWriter implements RowWriter {
  private first = true;

  constructor(private readonly out: Output) {
    out.write('[');
  }

  row(row: Record<string, unknown>): void {
    this.out.write((this.first ? '\n' : ',\n') + jsonRow(row));
    this.first = false;
  }

  end(): void {
    this.out.write(this.first ? ']\n' : '\n]\n');
  }
}

/** The writer for `format`; `columns` are the CSV header and the table's first columns. */
export function rowWriter(
  out: Output,
  format: OutputFormat,
  columns: readonly string[],
  table: Omit<TableOptions, 'columns'> = {},
): RowWriter {
  if (format === 'csv') return new CsvWriter(out, columns);
  if (format === 'json') return new JsonWriter(out);
  return new TableWriter(out, { ...table, columns });
}

/** Writes a small, complete result (experiments, runs, summary) in `format`. */
export async function writeRows(
  out: Output,
  rows: readonly Record<string, unknown>[],
  format: OutputFormat,
  columns: readonly string[],
  table: Omit<TableOptions, 'columns'> = {},
): Promise<void> {
  const writer = rowWriter(out, format, columns, table);
  for (const r of rows) {
    writer.row(r);
    await out.drain();
  }
  writer.end();
  await out.flush();
}

/** A message line for stderr: control characters escaped (names and values may come from a log). */
export function safeLine(text: string): string {
  return text
    .split('\n')
    .map((line) => escapeControls(line))
    .join('\n');
}
