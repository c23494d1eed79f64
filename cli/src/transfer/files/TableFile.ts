import type { Row } from './exportFormat';

/** Where a run's rows lie in a table file: row numbers, and for JSONL their bytes. */
export interface RowRange {
  /** `[first, end)`, rows numbered from 0. */
  rows: [number, number];
  /** `[first, end)` byte offsets of those rows' lines (JSONL). */
  bytes?: [number, number];
}

/** A table being written, row by row, without holding more than a row group. */
export interface TableWriter {
  /** Rows added so far: the number the next row gets. */
  readonly rows: number;
  /** JSONL: bytes of the rows added so far (where the next row starts). */
  readonly bytes?: number;
  add(rows: Row[]): Promise<void>;
  /** Writes what is buffered and the file's footer, and closes it. */
  finish(): Promise<void>;
  /** Closes the file after a failure (what it holds is not an export). */
  abort(): Promise<void>;
}

/** A table being read by row ranges, in batches. */
export interface TableReader {
  /** The rows of `range` in order, in batches of at most `batchSize`; throws ExportFileError on what does not decode. */
  read(range: RowRange, batchSize: number): AsyncIterable<Row[]>;
  close(): Promise<void>;
}
