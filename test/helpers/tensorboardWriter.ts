/**
 * A minimal writer of TensorBoard event files for tests, written apart from the reader under
 * test (cli/src/transfer/tensorboard): its own CRC32C (bit by bit, no table), its own protobuf
 * encoding (BigInt varints). It writes the TFRecord framing
 *
 *   uint64 LE length | masked CRC32C(length) | data | masked CRC32C(data)
 *   mask(crc) = ((crc >>> 15) | (crc << 17)) + 0xa282ead8
 *
 * around `tensorflow.Event` protobufs, with the field numbers of TensorFlow's event.proto,
 * summary.proto, tensor.proto and tensor_shape.proto.
 */
import fs from 'node:fs';
import path from 'node:path';

/** CRC32C (Castagnoli), one bit at a time with the reflected polynomial 0x82F63B78. */
export function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** TFRecord's mask of a CRC. */
export function maskCrc(crc: number): number {
  const rotated = ((crc >>> 15) | (crc << 17)) >>> 0;
  return (rotated + 0xa282ead8) % 2 ** 32;
}

/** One TFRecord: the framing around `data`. */
export function frameRecord(data: Uint8Array): Buffer {
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(data.length));
  const lengthCrc = Buffer.alloc(4);
  lengthCrc.writeUInt32LE(maskCrc(crc32cBitwise(length)));
  const dataCrc = Buffer.alloc(4);
  dataCrc.writeUInt32LE(maskCrc(crc32cBitwise(data)));
  return Buffer.concat([length, lengthCrc, data, dataCrc]);
}

// ---- protobuf wire format ----

/** A varint of an unsigned or (two's complement, 64-bit) signed integer. */
export function varint(value: number | bigint): Buffer {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n;
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return Buffer.from(out);
}

const key = (field: number, wire: number): Buffer => varint(field * 8 + wire);
const varintField = (field: number, v: number | bigint): Buffer => Buffer.concat([key(field, 0), varint(v)]);
const bytesField = (field: number, bytes: Uint8Array): Buffer =>
  Buffer.concat([key(field, 2), varint(bytes.length), bytes]);
const stringField = (field: number, s: string): Buffer => bytesField(field, Buffer.from(s, 'utf8'));
function doubleField(field: number, v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleLE(v);
  return Buffer.concat([key(field, 1), b]);
}
function floatField(field: number, v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeFloatLE(v);
  return Buffer.concat([key(field, 5), b]);
}

/** TensorFlow DataType numbers (types.proto). */
export const DTYPE = { float: 1, double: 2, int32: 3, string: 7, int64: 9, half: 19 } as const;

export interface TensorSpec {
  dtype: keyof typeof DTYPE;
  /** The values, row-major (one for a scalar). */
  values: number[];
  /** Default [] (a scalar). */
  shape?: number[];
  /** How the values are written: `tensor_content` bytes, or the repeated `*_val` field (default). */
  as?: 'content' | 'val';
}

/** A float32 as the 16 bits of an IEEE half (round toward zero; tests use exactly representable values). */
export function toHalfBits(v: number): number {
  const f = Buffer.alloc(4);
  f.writeFloatLE(v);
  const bits = f.readUInt32LE();
  const sign = (bits >>> 16) & 0x8000;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  const frac = (bits >>> 13) & 0x3ff;
  if (v === 0) return sign;
  return sign | (exp << 10) | frac;
}

function tensorBytes(t: TensorSpec): Buffer {
  const parts: Buffer[] = [varintField(1, DTYPE[t.dtype])];
  const dims = (t.shape ?? []).map((size) => bytesField(2, varintField(1, size)));
  parts.push(bytesField(2, Buffer.concat(dims)));
  if (t.dtype === 'string') {
    for (const v of t.values) parts.push(stringField(8, String(v)));
    return Buffer.concat(parts);
  }
  if (t.as === 'content') {
    const width = { float: 4, double: 8, int32: 4, int64: 8, half: 2 }[t.dtype];
    const content = Buffer.alloc(width * t.values.length);
    t.values.forEach((v, i) => {
      if (t.dtype === 'float') content.writeFloatLE(v, i * 4);
      else if (t.dtype === 'double') content.writeDoubleLE(v, i * 8);
      else if (t.dtype === 'int32') content.writeInt32LE(v, i * 4);
      else if (t.dtype === 'int64') content.writeBigInt64LE(BigInt(v), i * 8);
      else content.writeUInt16LE(toHalfBits(v), i * 2);
    });
    parts.push(bytesField(4, content));
    return Buffer.concat(parts);
  }
  // the repeated fields, packed as proto3 writes them
  let packed: Buffer;
  let field: number;
  if (t.dtype === 'float') {
    field = 5;
    packed = Buffer.alloc(4 * t.values.length);
    t.values.forEach((v, i) => packed.writeFloatLE(v, i * 4));
  } else if (t.dtype === 'double') {
    field = 6;
    packed = Buffer.alloc(8 * t.values.length);
    t.values.forEach((v, i) => packed.writeDoubleLE(v, i * 8));
  } else if (t.dtype === 'int32') {
    field = 7;
    packed = Buffer.concat(t.values.map((v) => varint(v)));
  } else if (t.dtype === 'int64') {
    field = 10;
    packed = Buffer.concat(t.values.map((v) => varint(v)));
  } else {
    field = 13;
    packed = Buffer.concat(t.values.map((v) => varint(toHalfBits(v))));
  }
  parts.push(bytesField(field, packed));
  return Buffer.concat(parts);
}

/** One `Summary.Value`. */
export type ValueSpec =
  | { tag: string; simpleValue: number }
  | { tag: string; tensor: TensorSpec; plugin?: string }
  | { tag: string; image: { width: number; height: number; png: Uint8Array }; plugin?: string }
  | { tag: string; histogram: { min: number; max: number; buckets: number[] } };

function valueBytes(v: ValueSpec): Buffer {
  const parts = [stringField(1, v.tag)];
  if ('simpleValue' in v) parts.push(floatField(2, v.simpleValue));
  else if ('tensor' in v) parts.push(bytesField(8, tensorBytes(v.tensor)));
  else if ('image' in v)
    parts.push(
      bytesField(
        4,
        Buffer.concat([
          varintField(1, v.image.height),
          varintField(2, v.image.width),
          varintField(3, 3),
          bytesField(4, v.image.png),
        ]),
      ),
    );
  else {
    const h = v.histogram;
    const buckets = Buffer.alloc(8 * h.buckets.length);
    h.buckets.forEach((b, i) => buckets.writeDoubleLE(b, i * 8));
    // HistogramProto: min=1, max=2, num=3, sum=4, sum_squares=5, bucket_limit=6, bucket=7
    parts.push(
      bytesField(
        5,
        Buffer.concat([
          doubleField(1, h.min),
          doubleField(2, h.max),
          doubleField(3, h.buckets.length),
          bytesField(7, buckets),
        ]),
      ),
    );
  }
  const plugin = 'plugin' in v ? v.plugin : undefined;
  if (plugin !== undefined) {
    // SummaryMetadata { plugin_data=1 PluginData { plugin_name=1, content=2 }, display_name=2 }
    const pluginData = Buffer.concat([stringField(1, plugin), bytesField(2, Buffer.from([8, 1]))]);
    parts.push(bytesField(9, Buffer.concat([bytesField(1, pluginData), stringField(2, v.tag)])));
  }
  return Buffer.concat(parts);
}

export interface EventSpec {
  wallTime: number;
  step?: number | bigint;
  fileVersion?: string;
  values?: ValueSpec[];
  /** Bytes of an unknown field (number 99, length-delimited) put before the known ones. */
  unknownField?: boolean;
}

/** One `Event` protobuf. */
export function eventBytes(e: EventSpec): Buffer {
  const parts: Buffer[] = [];
  if (e.unknownField) parts.push(bytesField(99, Buffer.from('ignored')));
  parts.push(doubleField(1, e.wallTime));
  if (e.step !== undefined && e.step !== 0) parts.push(varintField(2, e.step));
  if (e.fileVersion !== undefined) parts.push(stringField(3, e.fileVersion));
  // Summary { value=1 repeated Value }
  if (e.values !== undefined)
    parts.push(bytesField(5, Buffer.concat(e.values.map((v) => bytesField(1, valueBytes(v))))));
  return Buffer.concat(parts);
}

/** A scalar event as TF 1 / tfjs-node write it (`simple_value`). */
export const simpleScalar = (tag: string, value: number, step: number, wallTime: number): EventSpec => ({
  wallTime,
  step,
  values: [{ tag, simpleValue: value }],
});

/** A scalar event as TF 2 `tf.summary.scalar` / Keras write it (a rank-0 tensor of the 'scalars' plugin). */
export const tensorScalar = (
  tag: string,
  value: number,
  step: number,
  wallTime: number,
  dtype: 'float' | 'double' = 'float',
  as: 'content' | 'val' = 'content',
): EventSpec => ({
  wallTime,
  step,
  values: [{ tag, tensor: { dtype, values: [value], as }, plugin: 'scalars' }],
});

/**
 * Writes an event file `events.out.tfevents.<secs>.<host>[suffix]` in `dir` (made if missing):
 * the `brain.Event:2` file-version event at `wallTime` of the first event, then `events`.
 * Returns its path.
 */
export function writeEventFile(
  dir: string,
  events: EventSpec[],
  opts: { host?: string; secs?: number; suffix?: string } = {},
): string {
  fs.mkdirSync(dir, { recursive: true });
  const first = events[0]?.wallTime ?? 1_700_000_000;
  const secs = opts.secs ?? Math.floor(first);
  const file = path.join(dir, `events.out.tfevents.${secs}.${opts.host ?? 'testhost'}${opts.suffix ?? ''}`);
  const records = [{ wallTime: first, fileVersion: 'brain.Event:2' }, ...events].map((e) =>
    frameRecord(eventBytes(e)),
  );
  fs.writeFileSync(file, Buffer.concat(records));
  return file;
}

/** The byte offsets at which each record of `events` (after the file-version event) starts in a file `writeEventFile` wrote. */
export function recordOffsets(events: EventSpec[]): number[] {
  const first = events[0]?.wallTime ?? 1_700_000_000;
  let offset = frameRecord(eventBytes({ wallTime: first, fileVersion: 'brain.Event:2' })).length;
  return events.map((e) => {
    const at = offset;
    offset += frameRecord(eventBytes(e)).length;
    return at;
  });
}
