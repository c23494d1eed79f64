/**
 * A minimal decoder of TensorFlow's `Event` protobuf (tensorflow/core/util/event.proto, and
 * TensorBoard's copy in tensorboard/compat/proto): just the fields a scalar import reads.
 *
 *   Event          wall_time=1 double, step=2 int64, file_version=3 string, summary=5 Summary
 *   Summary        value=1 repeated Value
 *   Summary.Value  tag=1 string, simple_value=2 float, obsolete_old_style_histogram=3, image=4,
 *                  histo=5, audio=6, tensor=8 TensorProto, metadata=9 SummaryMetadata
 *   SummaryMetadata  plugin_data=1 PluginData { plugin_name=1 string }
 *   TensorProto    dtype=1 enum, tensor_shape=2 TensorShapeProto { dim=2 Dim { size=1 int64 } },
 *                  tensor_content=4 bytes (little-endian), float_val=5, double_val=6, int_val=7,
 *                  int64_val=10, half_val=13 (repeated, packed or not)
 *
 * Every other field is skipped by its wire type.
 */
import { ProtobufFormatError } from './TensorboardFormatError';

/** TensorFlow's DataType values that a scalar can have (types.proto). */
export const DT_FLOAT = 1;
export const DT_DOUBLE = 2;
export const DT_INT32 = 3;
export const DT_UINT8 = 4;
export const DT_INT16 = 5;
export const DT_INT8 = 6;
export const DT_INT64 = 9;
export const DT_BOOL = 10;
export const DT_BFLOAT16 = 14;
export const DT_UINT16 = 17;
export const DT_HALF = 19;
export const DT_UINT32 = 22;
export const DT_UINT64 = 23;

/** Which member of `Summary.Value`'s `value` oneof is set. */
export type SummaryValueKind =
  'simple_value' | 'tensor' | 'image' | 'histo' | 'audio' | 'obsolete_old_style_histogram' | 'none';

/** A `TensorProto`, its values left as they are until one is asked for (`tensorScalar`). */
export interface TfTensor {
  dtype: number;
  /** The shape's dimension sizes; [] is a scalar (rank 0). */
  dims: number[];
  /** `tensor_content`, when set. */
  content: Uint8Array | undefined;
  /** The first values of the repeated `*_val` field that is set (at most a few are kept). */
  values: number[];
  /** How many values the repeated `*_val` fields hold in all. */
  valueCount: number;
}

/** One `Summary.Value`. */
export interface TfSummaryValue {
  tag: string;
  kind: SummaryValueKind;
  /** `simple_value` (a float32), when `kind` is 'simple_value'. */
  simpleValue: number;
  tensor: TfTensor | undefined;
  /** `metadata.plugin_data.plugin_name`, when the value carries metadata. */
  pluginName: string | undefined;
}

/** One `Event`: a summary event has `values`; the first event of a file has `fileVersion`. */
export interface TfEvent {
  wallTime: number;
  step: number;
  fileVersion: string | undefined;
  values: TfSummaryValue[] | undefined;
}

const KEPT_VALUES = 4;
const utf8 = new TextDecoder('utf-8');

/**
 * A cursor over one message's bytes. One cursor serves every call of `decodeEvent` (decoding is
 * synchronous): a million events then make no cursor and, while their records share a buffer,
 * no DataView each.
 */
class Reader {
  bytes: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  private view: DataView = new DataView(new ArrayBuffer(0));

  reset(bytes: Uint8Array, start: number, end: number): void {
    if (bytes !== this.bytes) {
      this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.bytes = bytes;
    }
    this.pos = start;
    this.end = end;
  }

  /** A varint as an unsigned number (exact up to 2^53). */
  uvarint(): number {
    const b = this.bytes;
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufFormatError('a varint runs past the end of its message');
      const byte = b[this.pos++];
      result += (byte & 0x7f) * scale;
      if (byte < 0x80) return result;
      scale *= 128;
    }
    throw new ProtobufFormatError('a varint is longer than 10 bytes');
  }

  /** A varint as a signed 64-bit integer (int64, int32: negatives take 10 bytes, two's complement). */
  int64(): number {
    const b = this.bytes;
    let lo = 0;
    let hi = 0;
    let i = 0;
    for (; i < 10; i++) {
      if (this.pos >= this.end) throw new ProtobufFormatError('a varint runs past the end of its message');
      const byte = b[this.pos++];
      const bits = byte & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi |= bits >>> 4;
      } else hi |= bits << (7 * i - 32);
      if (byte < 0x80) return (hi | 0) * 4294967296 + (lo >>> 0);
    }
    throw new ProtobufFormatError('a varint is longer than 10 bytes');
  }

  double(): number {
    this.need(8);
    const v = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return v;
  }

  float(): number {
    this.need(4);
    const v = this.view.getFloat32(this.pos, true);
    this.pos += 4;
    return v;
  }

  /** A length-delimited field: returns its end and leaves the cursor at its start. */
  delimited(): number {
    const length = this.uvarint();
    this.need(length);
    return this.pos + length;
  }

  string(): string {
    const end = this.delimited();
    const s = cachedString(this.bytes, this.pos, end);
    this.pos = end;
    return s;
  }

  skip(wire: number, field: number): void {
    switch (wire) {
      case 0:
        this.uvarint();
        return;
      case 1:
        this.need(8);
        this.pos += 8;
        return;
      case 2:
        this.pos = this.delimited();
        return;
      case 3: // a (proto2) group: skip fields up to its end-group tag
        for (;;) {
          if (this.pos >= this.end) throw new ProtobufFormatError(`group ${field} has no end`);
          const tag = this.uvarint();
          if ((tag & 7) === 4) {
            if (tag >>> 3 !== field)
              throw new ProtobufFormatError(`group ${field} ends as group ${tag >>> 3}`);
            return;
          }
          this.skip(tag & 7, tag >>> 3);
        }
      case 5:
        this.need(4);
        this.pos += 4;
        return;
      default:
        throw new ProtobufFormatError(`field ${field} has wire type ${wire}, which protobuf does not have`);
    }
  }

  private need(n: number): void {
    if (this.end - this.pos < n) throw new ProtobufFormatError('a field runs past the end of its message');
  }
}

/**
 * Short strings (tags) by their bytes: a run repeats a few tags a million times, and decoding
 * each anew was a sixth of the reading time. A hash collision just decodes.
 */
const stringCache = new Map<number, { bytes: Uint8Array; text: string }>();

function cachedString(bytes: Uint8Array, start: number, end: number): string {
  const length = end - start;
  if (length > 64) return utf8.decode(bytes.subarray(start, end));
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i], 16777619);
  const hit = stringCache.get(h);
  if (hit !== undefined && hit.bytes.length === length) {
    let same = true;
    for (let i = 0; i < length && same; i++) same = hit.bytes[i] === bytes[start + i];
    if (same) return hit.text;
  }
  const text = utf8.decode(bytes.subarray(start, end));
  if (hit === undefined && stringCache.size < 4096)
    stringCache.set(h, { bytes: bytes.slice(start, end), text });
  return text;
}

const reader = new Reader();

/** Decodes one `Event` from `bytes[start, end)` (a TFRecord's data). */
export function decodeEvent(bytes: Uint8Array, start = 0, end = bytes.length): TfEvent {
  const r = reader;
  r.reset(bytes, start, end);
  const event: TfEvent = { wallTime: 0, step: 0, fileVersion: undefined, values: undefined };
  while (r.pos < end) {
    const tag = r.uvarint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 1) event.wallTime = r.double();
    else if (field === 2 && wire === 0) event.step = r.int64();
    else if (field === 3 && wire === 2) event.fileVersion = r.string();
    else if (field === 5 && wire === 2) {
      const summaryEnd = r.delimited();
      event.values = decodeSummary(r, summaryEnd, event.values ?? []);
    } else r.skip(wire, field);
  }
  return event;
}

function decodeSummary(r: Reader, end: number, values: TfSummaryValue[]): TfSummaryValue[] {
  while (r.pos < end) {
    const tag = r.uvarint();
    if (tag === ((1 << 3) | 2)) {
      const valueEnd = r.delimited();
      values.push(decodeValue(r, valueEnd));
    } else r.skip(tag & 7, tag >>> 3);
  }
  return values;
}

function decodeValue(r: Reader, end: number): TfSummaryValue {
  const value: TfSummaryValue = {
    tag: '',
    kind: 'none',
    simpleValue: 0,
    tensor: undefined,
    pluginName: undefined,
  };
  while (r.pos < end) {
    const tag = r.uvarint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 2) value.tag = r.string();
    else if (field === 2 && wire === 5) {
      value.kind = 'simple_value';
      value.simpleValue = r.float();
    } else if (field === 8 && wire === 2) {
      value.kind = 'tensor';
      const tensorEnd = r.delimited();
      value.tensor = decodeTensor(r, tensorEnd);
    } else if (field === 9 && wire === 2) {
      const metaEnd = r.delimited();
      value.pluginName = decodePluginName(r, metaEnd) ?? value.pluginName;
    } else {
      if (field === 3) value.kind = 'obsolete_old_style_histogram';
      else if (field === 4) value.kind = 'image';
      else if (field === 5) value.kind = 'histo';
      else if (field === 6) value.kind = 'audio';
      r.skip(wire, field);
    }
  }
  return value;
}

/** `SummaryMetadata.plugin_data.plugin_name`, or undefined when not set. */
function decodePluginName(r: Reader, end: number): string | undefined {
  let name: string | undefined;
  while (r.pos < end) {
    const tag = r.uvarint();
    if (tag === ((1 << 3) | 2)) {
      const dataEnd = r.delimited();
      while (r.pos < dataEnd) {
        const inner = r.uvarint();
        if (inner === ((1 << 3) | 2)) name = r.string();
        else r.skip(inner & 7, inner >>> 3);
      }
    } else r.skip(tag & 7, tag >>> 3);
  }
  return name;
}

function decodeTensor(r: Reader, end: number): TfTensor {
  const t: TfTensor = { dtype: 0, dims: [], content: undefined, values: [], valueCount: 0 };
  while (r.pos < end) {
    const tag = r.uvarint();
    const field = tag >>> 3;
    const wire = tag & 7;
    if (field === 1 && wire === 0) t.dtype = r.uvarint();
    else if (field === 2 && wire === 2) t.dims = decodeShape(r, r.delimited());
    else if (field === 4 && wire === 2) {
      const contentEnd = r.delimited();
      t.content = r.bytes.subarray(r.pos, contentEnd);
      r.pos = contentEnd;
    } else if (field === 5 && (wire === 5 || wire === 2)) repeated(r, t, wire, 4, () => r.float());
    else if (field === 6 && (wire === 1 || wire === 2)) repeated(r, t, wire, 8, () => r.double());
    else if ((field === 7 || field === 10 || field === 13) && (wire === 0 || wire === 2))
      repeated(r, t, wire, 0, () => r.int64());
    else r.skip(wire, field);
  }
  return t;
}

/** One repeated numeric field, packed (wire type 2) or one value per tag. */
function repeated(r: Reader, t: TfTensor, wire: number, fixed: number, read: () => number): void {
  if (wire !== 2) {
    keep(t, read());
    return;
  }
  const end = r.delimited();
  if (fixed > 0 && (end - r.pos) % fixed !== 0)
    throw new ProtobufFormatError(`a packed field of ${fixed}-byte values is ${end - r.pos} bytes long`);
  const outer = r.end;
  r.end = end; // a value read past the packed field's end is an error, not the next field
  try {
    while (r.pos < end) {
      if (t.valueCount >= KEPT_VALUES && fixed > 0) {
        // the rest only counts: a histogram's values are never read
        t.valueCount += (end - r.pos) / fixed;
        r.pos = end;
        break;
      }
      keep(t, read());
    }
  } finally {
    r.end = outer;
  }
}

function keep(t: TfTensor, v: number): void {
  if (t.values.length < KEPT_VALUES) t.values.push(v);
  t.valueCount++;
}

function decodeShape(r: Reader, end: number): number[] {
  const dims: number[] = [];
  while (r.pos < end) {
    const tag = r.uvarint();
    if (tag === ((2 << 3) | 2)) {
      const dimEnd = r.delimited();
      let size = 0;
      while (r.pos < dimEnd) {
        const inner = r.uvarint();
        if (inner === ((1 << 3) | 0)) size = r.int64();
        else r.skip(inner & 7, inner >>> 3);
      }
      dims.push(size);
    } else r.skip(tag & 7, tag >>> 3);
  }
  return dims;
}

/** The bytes one element of a numeric dtype takes in `tensor_content`; 0 for any other dtype. */
function elementBytes(dtype: number): number {
  switch (dtype) {
    case DT_DOUBLE:
    case DT_INT64:
    case DT_UINT64:
      return 8;
    case DT_FLOAT:
    case DT_INT32:
    case DT_UINT32:
      return 4;
    case DT_HALF:
    case DT_BFLOAT16:
    case DT_INT16:
    case DT_UINT16:
      return 2;
    case DT_INT8:
    case DT_UINT8:
    case DT_BOOL:
      return 1;
    default:
      return 0;
  }
}

const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);

/** Whether the tensor has one element of a numeric type (its rank may be above 0: shape [1]). */
export function isNumericScalarTensor(t: TfTensor): boolean {
  return elementBytes(t.dtype) > 0 && t.dims.every((d) => d === 1);
}

/**
 * The one number a tensor of one numeric element holds (`isNumericScalarTensor`), from
 * `tensor_content` or from the `*_val` field; undefined for anything else. A tensor with no value
 * at all is 0, as TensorFlow reads it (its values default to zero).
 */
export function tensorScalar(t: TfTensor): number | undefined {
  if (!isNumericScalarTensor(t)) return undefined;
  const size = elementBytes(t.dtype);
  if (t.content !== undefined && t.content.length > 0) {
    if (t.content.length !== size) return undefined;
    scratch.set(t.content);
    const view = scratchView;
    switch (t.dtype) {
      case DT_FLOAT:
        return view.getFloat32(0, true);
      case DT_DOUBLE:
        return view.getFloat64(0, true);
      case DT_INT32:
        return view.getInt32(0, true);
      case DT_UINT32:
        return view.getUint32(0, true);
      case DT_INT64:
        return Number(view.getBigInt64(0, true));
      case DT_UINT64:
        return Number(view.getBigUint64(0, true));
      case DT_HALF:
        return halfToNumber(view.getUint16(0, true));
      case DT_BFLOAT16:
        return bfloat16ToNumber(view.getUint16(0, true));
      case DT_INT16:
        return view.getInt16(0, true);
      case DT_UINT16:
        return view.getUint16(0, true);
      case DT_INT8:
        return view.getInt8(0);
      default: // DT_UINT8, DT_BOOL
        return view.getUint8(0);
    }
  }
  if (t.valueCount > 1) return undefined;
  const v = t.values.length > 0 ? t.values[0] : 0;
  // half_val holds the 16 bits of a half (or bfloat16) in an int32
  if (t.dtype === DT_HALF) return halfToNumber(v & 0xffff);
  if (t.dtype === DT_BFLOAT16) return bfloat16ToNumber(v & 0xffff);
  if (t.dtype === DT_UINT32) return v >>> 0;
  return v;
}

/** IEEE 754 half precision (binary16) bits as a number. */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >>> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

const bf16View = new DataView(new ArrayBuffer(4));

/** bfloat16 bits (the top half of a float32) as a number. */
export function bfloat16ToNumber(bits: number): number {
  bf16View.setUint32(0, (bits & 0xffff) << 16);
  return bf16View.getFloat32(0);
}
