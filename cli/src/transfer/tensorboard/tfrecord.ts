/**
 * Reading TFRecord files (what TensorBoard event files are): each record is
 *
 *   uint64 length (little-endian) | uint32 masked CRC32C of the length | data | uint32 masked CRC32C of the data
 *
 * streamed through a buffer of a few MB, so a 1 GB event file is never held whole.
 */
import fs from 'node:fs';
import { maskedCrc32c } from './crc32c';
import { TensorboardFormatError } from './TensorboardFormatError';

/** One record: where it starts in the file, and its data (a view, valid until the next chunk is asked for). */
export interface TfRecord {
  offset: number;
  data: Uint8Array;
}

/**
 * Up to a few thousand records as they lie in the read buffer: record `i` is
 * `bytes[starts[i], ends[i])` and starts at byte `offsets[i]` of the file. No view per record is
 * made (a million small views cost more than reading them); everything in it is valid until the
 * next chunk is asked for.
 */
export interface TfRecordChunk {
  bytes: Uint8Array;
  length: number;
  starts: Uint32Array;
  ends: Uint32Array;
  offsets: Float64Array;
}

/** A file that ends inside a record (its writer may still be writing it). */
export interface TfRecordCut {
  /** The byte where the cut-off record starts. */
  offset: number;
  /** How many whole records came before it. */
  records: number;
}

export interface TfRecordReaderOptions {
  /** The read buffer's size (default 4 MB); a longer record grows it for as long as it is read. */
  bufferBytes?: number;
  /** Check both CRCs of every record (default true); false only frames records (a quick scan). */
  verify?: boolean;
}

const HEADER = 12;
const FOOTER = 4;
const DEFAULT_BUFFER = 4 * 1024 * 1024;
/** Records per chunk: a chunk's views stay small even when the buffer holds 100,000 tiny records. */
const CHUNK_RECORDS = 4096;
/**
 * No TensorBoard writer writes a record this long (an image or a histogram is KBs to a few MBs);
 * a longer length whose CRC matches is a damaged file, not a record to allocate memory for.
 */
export const MAX_RECORD_BYTES = 256 * 1024 * 1024;

/**
 * Reads the records of one TFRecord file in order. A CRC that does not match or a length no
 * writer writes throws a `TensorboardFormatError` naming the file and the byte; a file that ends
 * inside its last record ends the reading, and `cut` then says where (the records before it
 * were all given).
 */
export class TfRecordReader {
  /** Whole records read so far. */
  count = 0;
  /** Set when the file ended inside a record, once reading is done. */
  cut: TfRecordCut | undefined;

  private readonly bufferBytes: number;
  private readonly verify: boolean;

  constructor(
    readonly file: string,
    opts: TfRecordReaderOptions = {},
  ) {
    this.bufferBytes = Math.max(HEADER + FOOTER, opts.bufferBytes ?? DEFAULT_BUFFER);
    this.verify = opts.verify ?? true;
  }

  /** Every record, one at a time (for tests and small files; `chunks()` is the fast way). */
  async *records(): AsyncGenerator<TfRecord> {
    for await (const c of this.chunks())
      for (let i = 0; i < c.length; i++)
        yield { offset: c.offsets[i], data: c.bytes.subarray(c.starts[i], c.ends[i]) };
  }

  /** The records in chunks of up to a few thousand (see `TfRecordChunk`). */
  async *chunks(): AsyncGenerator<TfRecordChunk> {
    const starts = new Uint32Array(CHUNK_RECORDS);
    const ends = new Uint32Array(CHUNK_RECORDS);
    const offsets = new Float64Array(CHUNK_RECORDS);
    const fh = await fs.promises.open(this.file, 'r');
    try {
      let buf = Buffer.allocUnsafe(this.bufferBytes);
      let start = 0; // the first unread byte in buf
      let end = 0; // the end of the bytes read into buf
      let offset = 0; // the file offset of buf[start]
      let eof = false;
      for (;;) {
        let n = 0;
        let need = HEADER;
        let bad: Error | undefined;
        try {
          while (n < CHUNK_RECORDS) {
            const avail = end - start;
            if (avail < HEADER) {
              need = HEADER;
              break;
            }
            const length = this.recordLength(buf, start, offset);
            need = HEADER + length + FOOTER;
            if (avail < need) break;
            const dataStart = start + HEADER;
            const dataEnd = dataStart + length;
            if (this.verify && maskedCrc32c(buf, dataStart, dataEnd) !== buf.readUInt32LE(dataEnd))
              throw new TensorboardFormatError(this.file, offset, 'the CRC of its data does not match');
            starts[n] = dataStart;
            ends[n] = dataEnd;
            offsets[n++] = offset;
            start += need;
            offset += need;
            this.count++;
          }
        } catch (e) {
          bad = e as Error;
        }
        // the whole records before a bad one are given first, then its error
        // a plain Uint8Array over the buffer: views of it are cheaper than a Buffer's
        if (n > 0)
          yield {
            bytes: new Uint8Array(buf.buffer, buf.byteOffset, buf.length),
            length: n,
            starts,
            ends,
            offsets,
          };
        if (bad !== undefined) throw bad;
        if (n > 0) continue; // the views are used: the buffer may move now
        if (eof) {
          if (end > start) this.cut = { offset, records: this.count };
          return;
        }
        // not one whole record left in the buffer: move the rest to its front (into a buffer of
        // the usual size again once a long record is read; a larger one while a record is longer)
        // and read until the record is whole or the file ends
        if (buf.length > this.bufferBytes && need <= this.bufferBytes && end - start <= this.bufferBytes) {
          const usual = Buffer.allocUnsafe(this.bufferBytes);
          buf.copy(usual, 0, start, end);
          buf = usual;
          end -= start;
          start = 0;
        } else if (buf.length - start < need) {
          if (buf.length < need) {
            const bigger = Buffer.allocUnsafe(Math.max(need, buf.length * 2));
            buf.copy(bigger, 0, start, end);
            buf = bigger;
          } else {
            buf.copyWithin(0, start, end);
          }
          end -= start;
          start = 0;
        }
        while (end - start < need) {
          const { bytesRead } = await fh.read(buf, end, buf.length - end, null);
          if (bytesRead === 0) {
            eof = true;
            break;
          }
          end += bytesRead;
        }
      }
    } finally {
      await fh.close();
    }
  }

  /** The data length in the header at `buf[start]`, checked against its CRC and the longest record a writer writes. */
  private recordLength(buf: Buffer, start: number, offset: number): number {
    if (this.verify && maskedCrc32c(buf, start, start + 8) !== buf.readUInt32LE(start + 8))
      throw new TensorboardFormatError(this.file, offset, 'the CRC of its length does not match');
    const lo = buf.readUInt32LE(start);
    const hi = buf.readUInt32LE(start + 4);
    if (hi !== 0 || lo > MAX_RECORD_BYTES)
      throw new TensorboardFormatError(
        this.file,
        offset,
        `its length ${hi * 2 ** 32 + lo} is longer than any TensorBoard record (at most ${MAX_RECORD_BYTES} bytes)`,
      );
    return lo;
  }
}
