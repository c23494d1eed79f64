import fs from 'node:fs';
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

/** One cell as JSON takes it: doubles JSON has no literal for, and times, as text. */
function encodeCell(type: ColumnSpec['type'], v: Cell): Cell {
  if (typeof v !== 'number') return v;
  if (type === 'timestamp') return isoTime(v);
  if (Object.is(v, -0)) return '-0';
  return Number.isFinite(v) ? v : String(v);
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

  private constructor(
    private readonly handle: fs.promises.FileHandle,
    private readonly columns: readonly ColumnSpec[],
  ) {}

  /** Creates the file; an existing one is refused (an export never overwrites). */
  static async create(file: string, columns: readonly ColumnSpec[]): Promise<JsonlTableWriter> {
    return new JsonlTableWriter(await fs.promises.open(file, 'wx'), columns);
  }

  async add(rows: Row[]): Promise<void> {
    if (rows.length === 0) return;
    const lines = new Array<string>(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      const object: Record<string, Cell> = {};
      for (let i = 0; i < this.columns.length; i++) {
        const c = this.columns[i];
        object[c.name] = encodeCell(c.type, row[i] ?? null);
      }
      lines[r] = JSON.stringify(object);
    }
    // one flat string per batch, turned into bytes at once: its size is exact
    const buffer = Buffer.from(lines.join('\n') + '\n');
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
    const stream = fs.createReadStream(this.file, {
      start: bytes[0],
      end: bytes[1] - 1,
      highWaterMark: 1 << 20,
    });
    let index = first;
    let batch: Row[] = [];
    // lines are cut at newline bytes, which no UTF-8 character contains: a character split
    // between two chunks is whole again in the carried-over rest
    let rest: Buffer | undefined;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        const data = rest ? Buffer.concat([rest, chunk]) : chunk;
        let from = 0;
        for (let nl = data.indexOf(10, from); nl >= 0; nl = data.indexOf(10, from)) {
          if (index >= end)
            throw new ExportFileError(
              `${this.file} has more lines than the manifest says for rows ${first}–${end}`,
            );
          batch.push(this.decode(data.toString('utf8', from, nl), index));
          index++;
          from = nl + 1;
          if (batch.length >= batchSize) {
            yield batch;
            batch = [];
          }
        }
        rest = from < data.length ? data.subarray(from) : undefined;
      }
    } catch (err) {
      if (err instanceof ExportFileError) throw err;
      throw new ExportFileError(`the events file ${this.file} cannot be read: ${(err as Error).message}`);
    } finally {
      stream.destroy();
    }
    if (index !== end || rest !== undefined)
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
