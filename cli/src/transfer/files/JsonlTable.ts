import fs from 'node:fs';
import readline from 'node:readline';
import { ExportFileError } from './ExportFileError';
import type { Cell, ColumnSpec, Row } from './exportFormat';
import type { RowRange, TableReader, TableWriter } from './TableFile';

/** Bytes gathered before they go to the file: few writes, little memory. */
const FLUSH_BYTES = 1 << 20;

/** JSON has no NaN, ±Infinity or -0: those doubles are written as these strings. */
const SPECIAL_DOUBLES = new Map<string, number>([
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['-Infinity', -Infinity],
  ['-0', -0],
]);

/** One cell as JSON text. */
function encodeCell(type: ColumnSpec['type'], v: Cell): string {
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (type === 'timestamp') return `"${isoTime(v)}"`;
  if (Object.is(v, -0)) return '"-0"';
  return Number.isFinite(v) ? String(v) : `"${String(v)}"`;
}

/** The last second turned into ISO text: events come in time order, many within one second. */
let lastSecond = NaN;
let lastPrefix = '';

/** `2026-12-08T00:00:00.123Z` for a time in ms, as Date.toISOString gives it. */
function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    const iso = new Date(second * 1000).toISOString();
    // years beyond 0–9999 are written with a sign and six digits: not cached
    if (iso.length !== 24) return new Date(ms).toISOString();
    lastSecond = second;
    lastPrefix = iso.slice(0, 20);
  }
  return `${lastPrefix}${String(ms - second * 1000).padStart(3, '0')}Z`;
}

function decodeCell(type: ColumnSpec['type'], v: unknown): Cell {
  if (v === undefined || v === null) return null;
  if (type === 'double' && typeof v === 'string' && SPECIAL_DOUBLES.has(v)) return SPECIAL_DOUBLES.get(v)!;
  if (type === 'timestamp' && typeof v === 'string') {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? v : ms;
  }
  // a cell of another type is handed on as it is: the row's decoder names what is wrong
  return typeof v === 'object' ? JSON.stringify(v) : (v as Cell);
}

/** A table as JSON Lines: one object per row, in column order. */
export class JsonlTableWriter implements TableWriter {
  rows = 0;
  /** Bytes of the rows added so far. */
  bytes = 0;
  /** Encoded lines not yet written. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private readonly names: string[];
  /** Per column, the last text cell and its JSON: names, keys and hosts repeat row after row. */
  private readonly lastText: Cell[];
  private readonly lastJson: string[];

  private constructor(
    private readonly handle: fs.promises.FileHandle,
    private readonly columns: readonly ColumnSpec[],
  ) {
    // each line is put together by hand: a JSON object per row costs twice as much
    this.names = columns.map((c, i) => `${i === 0 ? '{' : ','}${JSON.stringify(c.name)}:`);
    this.lastText = columns.map(() => null);
    this.lastJson = columns.map(() => 'null');
  }

  /** Creates the file; an existing one is refused (an export never overwrites). */
  static async create(file: string, columns: readonly ColumnSpec[]): Promise<JsonlTableWriter> {
    return new JsonlTableWriter(await fs.promises.open(file, 'wx'), columns);
  }

  async add(rows: Row[]): Promise<void> {
    const parts: string[] = [];
    for (const row of rows) {
      for (let i = 0; i < this.columns.length; i++) {
        const v = row[i] ?? null;
        let cell: string;
        if (typeof v === 'string') {
          if (v !== this.lastText[i]) {
            this.lastText[i] = v;
            this.lastJson[i] = JSON.stringify(v);
          }
          cell = this.lastJson[i];
        } else cell = encodeCell(this.columns[i].type, v);
        parts.push(this.names[i], cell);
      }
      parts.push('}\n');
    }
    // one flat string per batch, turned into bytes at once: its size is exact, and no rope is left to collect
    const buffer = Buffer.from(parts.join(''));
    this.pending.push(buffer);
    this.pendingBytes += buffer.length;
    this.bytes += buffer.length;
    this.rows += rows.length;
    if (this.pendingBytes >= FLUSH_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const buffers = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    await this.handle.writev(buffers);
  }

  async finish(): Promise<void> {
    try {
      await this.flush();
      await this.handle.sync();
    } finally {
      await this.handle.close();
    }
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

/** Reads rows of a JSON Lines table by the byte range the manifest gives. */
export class JsonlTableReader implements TableReader {
  constructor(
    private readonly file: string,
    private readonly columns: readonly ColumnSpec[],
  ) {}

  async *read(range: RowRange, batchSize: number): AsyncIterable<Row[]> {
    const [first, end] = range.rows;
    const bytes = range.bytes;
    if (!bytes)
      throw new ExportFileError(`the manifest gives no byte range for rows ${first}–${end} of ${this.file}`);
    const stream = fs.createReadStream(this.file, { start: bytes[0], end: bytes[1] - 1 });
    const lines = readline.createInterface({ input: stream, crlfDelay: Infinity });
    let index = first;
    let batch: Row[] = [];
    try {
      for await (const line of lines) {
        if (line === '' && index >= end) continue;
        if (index >= end)
          throw new ExportFileError(
            `${this.file} has more lines than the manifest says for rows ${first}–${end}`,
          );
        batch.push(this.decode(line, index));
        index++;
        if (batch.length >= batchSize) {
          yield batch;
          batch = [];
        }
      }
    } catch (err) {
      if (err instanceof ExportFileError) throw err;
      throw new ExportFileError(`the events file ${this.file} cannot be read: ${(err as Error).message}`);
    } finally {
      lines.close();
      stream.destroy();
    }
    if (index !== end)
      throw new ExportFileError(
        `${this.file} ends at row ${index} inside rows ${first}–${end} (it is truncated or corrupt)`,
      );
    if (batch.length > 0) yield batch;
  }

  private decode(line: string, index: number): Row {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (err) {
      throw new ExportFileError(`row ${index} of ${this.file} is not JSON: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new ExportFileError(`row ${index} of ${this.file} is not a JSON object`);
    const object = parsed as Record<string, unknown>;
    return this.columns.map((c) => decodeCell(c.type, object[c.name]));
  }

  async close(): Promise<void> {}
}
