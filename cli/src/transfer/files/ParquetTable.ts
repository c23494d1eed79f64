import fs from 'node:fs';
import { ExportFileError } from './ExportFileError';
import type { Cell, ColumnSpec, Row } from './exportFormat';
import type {
  ParquetColumnData,
  ParquetReaderModule,
  ParquetSchemaElement,
  ParquetWriterModule,
} from './loadParquet';
import type { RowRange, TableReader, TableWriter } from './TableFile';

/** Rows per row group: big enough for compression and fast scans, small enough to hold in memory. */
export const ROW_GROUP_ROWS = 50_000;

/** Distinct strings a column keeps the bytes of (a column of unique texts just cycles through). */
const UTF8_CACHE = 256;

const utf8Encoder = new TextEncoder();

function schemaElement(c: ColumnSpec): ParquetSchemaElement {
  const repetition_type = c.required ? 'REQUIRED' : 'OPTIONAL';
  switch (c.type) {
    case 'string':
      return {
        name: c.name,
        type: 'BYTE_ARRAY',
        converted_type: 'UTF8',
        logical_type: { type: 'STRING' },
        repetition_type,
      };
    case 'int64':
      return { name: c.name, type: 'INT64', repetition_type };
    case 'double':
      return { name: c.name, type: 'DOUBLE', repetition_type };
    case 'bool':
      return { name: c.name, type: 'BOOLEAN', repetition_type };
    case 'timestamp':
      return {
        name: c.name,
        type: 'INT64',
        converted_type: 'TIMESTAMP_MILLIS',
        logical_type: { type: 'TIMESTAMP', isAdjustedToUTC: true, unit: 'MILLIS' },
        repetition_type,
      };
  }
}

/** A table as a Parquet file written through hyparquet-writer, one row group at a time. */
export class ParquetTableWriter implements TableWriter {
  rows = 0;
  private buffered: Cell[][];
  /** Rows buffered for the next row group. */
  private size = 0;
  /** Per column, the bytes of its recent distinct strings. */
  private readonly encoded: Array<Map<string, Uint8Array>>;

  private constructor(
    private readonly file: string,
    private readonly writer: InstanceType<ParquetWriterModule['ParquetWriter']>,
    private readonly columns: readonly ColumnSpec[],
  ) {
    this.buffered = columns.map(() => []);
    this.encoded = columns.map(() => new Map());
  }

  /** Creates the file; an existing one is refused (an export never overwrites). */
  static async create(
    lib: ParquetWriterModule,
    file: string,
    columns: readonly ColumnSpec[],
    createdBy: string,
  ): Promise<ParquetTableWriter> {
    // hyparquet-writer's file writer truncates what is there: claim the name first
    await (await fs.promises.open(file, 'wx')).close();
    const schema: ParquetSchemaElement[] = [
      { name: 'root', num_children: columns.length },
      ...columns.map(schemaElement),
    ];
    const writer = new lib.ParquetWriter({ writer: lib.fileWriter(file), schema, createdBy });
    return new ParquetTableWriter(file, writer, columns);
  }

  async add(rows: Row[]): Promise<void> {
    const width = this.columns.length;
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      for (let i = 0; i < width; i++) this.buffered[i].push(row[i]);
      if (++this.size >= ROW_GROUP_ROWS) await this.writeGroup();
    }
    this.rows += rows.length;
  }

  /**
   * A string column as UTF-8 bytes, one array per distinct recent value: hyparquet-writer would
   * encode every cell anew, and the names, keys and hosts that repeat row after row would be
   * 50,000 small arrays per row group to collect.
   */
  private utf8(column: number, values: Cell[]): Array<Uint8Array | null> {
    const cache = this.encoded[column];
    return values.map((v) => {
      if (v === null) return null;
      const text = v as string;
      let bytes = cache.get(text);
      if (bytes === undefined) {
        if (cache.size >= UTF8_CACHE) cache.clear();
        bytes = utf8Encoder.encode(text);
        cache.set(text, bytes);
      }
      return bytes;
    });
  }

  private async writeGroup(): Promise<void> {
    if (this.size === 0) return;
    const columnData: ParquetColumnData[] = this.columns.map((c, i) => {
      const values = this.buffered[i];
      const statistics = c.statistics;
      if (c.type === 'int64') return { name: c.name, statistics, data: int64(values) };
      // a dictionary keys doubles by SameValueZero and would turn -0 into 0: doubles are never
      // dictionary-encoded (byte-stream-split packs them as well)
      if (c.type === 'double')
        return { name: c.name, statistics, data: values, encoding: 'BYTE_STREAM_SPLIT' };
      if (c.type === 'string') return { name: c.name, statistics, data: this.utf8(i, values) };
      return { name: c.name, statistics, data: values };
    });
    this.buffered = this.columns.map(() => []);
    this.size = 0;
    await this.writer.write({ columnData, rowGroupSize: ROW_GROUP_ROWS });
  }

  async finish(): Promise<void> {
    await this.writeGroup();
    await this.writer.finish();
    // on disk before the manifest that says the export is complete
    const handle = await fs.promises.open(this.file, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  async abort(): Promise<void> {
    // hyparquet-writer holds no open file between flushes: dropping the buffers is enough
    this.buffered = this.columns.map(() => []);
  }
}

/** An open Parquet table: its footer, a columnar scan, and where each row group starts. */
interface OpenParquet {
  scan: Awaited<ReturnType<ParquetReaderModule['parquetScan']>>;
  /** Row number each row group starts at, and the total at the end. */
  starts: number[];
}

/** The columns of one decoded row group. */
type GroupColumns = Array<ArrayLike<unknown>>;

/**
 * Reads rows of a Parquet table by row ranges through hyparquet: a row group is decoded column
 * by column, and rows are made a batch at a time, so what lives long is a few arrays of values.
 */
export class ParquetTableReader implements TableReader {
  private opened: Promise<OpenParquet> | undefined;
  /** The last decoded row group: runs lie one after another, so the next range usually starts in it. */
  private cached: { group: number; columns: GroupColumns } | undefined;

  constructor(
    private readonly lib: ParquetReaderModule,
    private readonly path: string,
    private readonly columns: readonly ColumnSpec[],
  ) {}

  private open(): Promise<OpenParquet> {
    this.opened ??= this.openFile().catch((err: unknown) => {
      // not kept: the next run tries again and gets its own error
      this.opened = undefined;
      throw err;
    });
    return this.opened;
  }

  private async openFile(): Promise<OpenParquet> {
    try {
      const file = await this.lib.asyncBufferFromFile(this.path);
      const metadata = await this.lib.parquetMetadataAsync(file);
      const names = new Set(metadata.schema.map((s) => s.name));
      const missing = this.columns.filter((c) => !names.has(c.name)).map((c) => c.name);
      if (missing.length > 0)
        throw new ExportFileError(`${this.path} lacks the column(s) ${missing.join(', ')}`);
      const scan = await this.lib.parquetScan({
        file,
        metadata,
        columns: this.columns.map((c) => c.name),
        parsers: { timestampFromMilliseconds: (ms) => Number(ms) },
      });
      const starts = [0];
      for (const g of metadata.row_groups) starts.push(starts[starts.length - 1] + Number(g.num_rows));
      return { scan, starts };
    } catch (err) {
      if (err instanceof ExportFileError) throw err;
      throw new ExportFileError(
        `the events file ${this.path} cannot be read as Parquet: ${(err as Error).message}`,
      );
    }
  }

  async *read(range: RowRange, batchSize: number): AsyncIterable<Row[]> {
    const [first, end] = range.rows;
    const opened = await this.open();
    const total = opened.starts[opened.starts.length - 1];
    if (end > total)
      throw new ExportFileError(`${this.path} has ${total} rows, not the ${end} the manifest counts`);
    let at = first;
    while (at < end) {
      const group = groupOf(opened.starts, at);
      const columns = await this.group(opened, group);
      const groupStart = opened.starts[group];
      const upTo = Math.min(end, opened.starts[group + 1]);
      while (at < upTo) {
        const n = Math.min(batchSize, upTo - at);
        yield this.rows(columns, at - groupStart, n);
        at += n;
      }
    }
  }

  private rows(columns: GroupColumns, from: number, n: number): Row[] {
    const rows: Row[] = new Array<Row>(n);
    for (let i = 0; i < n; i++) {
      const row: Row = new Array<Cell>(columns.length);
      for (let c = 0; c < columns.length; c++) {
        const v = columns[c][from + i];
        row[c] = typeof v === 'bigint' ? Number(v) : v === undefined ? null : (v as Cell);
      }
      rows[i] = row;
    }
    return rows;
  }

  private async group(opened: OpenParquet, group: number): Promise<GroupColumns> {
    if (this.cached?.group === group) return this.cached.columns;
    this.cached = undefined;
    const rowStart = opened.starts[group];
    const rowEnd = opened.starts[group + 1];
    const columns: GroupColumns = [];
    try {
      for (const c of this.columns) {
        const values = await opened.scan.readColumn({ column: c.name, rowStart, rowEnd });
        if (values.length !== rowEnd - rowStart)
          throw new Error(`column ${c.name} has ${values.length} values`);
        columns.push(values);
      }
    } catch (err) {
      throw new ExportFileError(
        `row group ${group} of ${this.path} (rows ${rowStart}–${rowEnd}) does not decode: ${(err as Error).message}`,
      );
    }
    this.cached = { group, columns };
    return columns;
  }

  async close(): Promise<void> {
    this.cached = undefined;
    this.opened = undefined;
  }
}

/** Numbers as the bigints an INT64 column takes; a run of equal numbers (the run column) shares one. */
function int64(values: Cell[]): Array<bigint | null> {
  let last: Cell = null;
  let lastBig: bigint | null = null;
  return values.map((v) => {
    if (v === null) return null;
    if (v !== last) {
      last = v;
      lastBig = BigInt(v);
    }
    return lastBig;
  });
}

/** The row group that holds row `at` (binary search over the groups' first rows). */
function groupOf(starts: number[], at: number): number {
  let lo = 0;
  let hi = starts.length - 2;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid] <= at) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}
