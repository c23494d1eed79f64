import v8 from 'node:v8';

/**
 * The bytes of a chunk's payload. A chunk's columns, as `encodeChunk` packs them, are written
 * in the smallest form that holds them exactly — a column whose events all share one value (the
 * node, the user, the event name of a run of metrics) as that value, steps that count up one by
 * one as their first step, name indexes in 1 or 2 bytes, growing whole-millisecond times as
 * differences of 1 or 2 bytes, numbers that are exact in 32 bits (what tfjs logs) in 4 bytes —
 * and the numeric columns as raw sections on 8-byte boundaries, so a reader takes them as views
 * of the bytes the store handed it: no parse, no copy. A chunk of 4,096 metrics of one key is
 * then ~37 KB instead of ~160 KB, and reading a run of a million points for a chart reads and
 * decodes a quarter of the bytes.
 *
 * Layout: u32 magic 'OTC2', u32 header length, the header (v8-serialized: names, how each column
 * is written, the values that are not all numbers, extra fields; in a chunk of a write split by
 * key, the write's group and each event's position in it), padding to 8, the sections. A reader
 * of before the split ignores the group and reads such a chunk's events, in its own order.
 * Payloads written before this layout are v8-serialized `Packed` objects (first byte 0xFF) and
 * are read as they are. Sections are in the host's byte order, as v8.serialize writes typed
 * arrays: stores move between little-endian machines (x86-64, arm64).
 */

/** A chunk's events, column by column. */
export interface Packed {
  /** How many events. */
  count: number;
  strings: string[];
  event: Uint32Array;
  key: Uint32Array;
  node: Uint32Array;
  userid: Uint32Array;
  dt: Float64Array;
  /** NaN stands for "no step". */
  step: Float64Array;
  /** All values when every one is a number; else undefined and `values` holds them. */
  numbers: Float64Array | undefined;
  /** Primitive values as they are; objects and arrays as JSON text (their indexes in `jsonAt`). */
  values: unknown[] | undefined;
  jsonAt: number[] | undefined;
  /** Extra fields as JSON text per event ('' for none), or undefined when no event has any. */
  extras: string[] | undefined;
  /** The one name index every event has in `column`, when the chunk knows it without looking. */
  constantName?(column: 'event' | 'key'): number | undefined;
  /** The first step, when the chunk knows without looking that its steps count up by one. */
  stepStart?(): number | undefined;
  /**
   * Set on the chunks of one write of one run that was split by key (see encodeChunks): the
   * same random number on each of them; `seq` then holds each event's position in that write.
   * Events of equal time keep their logging order across the chunks by it.
   */
  group?: number;
  seq?: Float64Array;
}

/** 'OTC2' read as a little-endian u32. */
const MAGIC = 0x3243544f;
/** The first byte of v8.serialize's output (its version tag): a payload of the first layout. */
const V8_VERSION_TAG = 0xff;
const ALIGN = 8;

type SectionType = 'u8' | 'u16' | 'u32' | 'f32' | 'f64';

/** How one column is written. */
type Column =
  /** every event has this value */
  | { c: number }
  /** event i has `r + i` */
  | { r: number }
  /**
   * a section at offset `o` of the data area; event i has `(b ?? 0) + section[i]`, or, with `s`,
   * the running sum `s + section[0] + … + section[i]` (times that only grow, as differences)
   */
  | { t: SectionType; o: number; b?: number; s?: number };

interface Header {
  n: number;
  strings: string[];
  event: Column;
  key: Column;
  node: Column;
  userid: Column;
  dt: Column;
  step: Column;
  numbers: Column | undefined;
  values: unknown[] | undefined;
  jsonAt: number[] | undefined;
  /** Extra fields' JSON per event ('' for none), in chunks written before extraNames existed. */
  extras: string[] | undefined;
  /**
   * Extra fields as a dictionary: the distinct JSON texts, and per event an index into them. Most
   * events of a chunk share their extras (a logExtra() stamp, the team server's `writer`), which
   * then cost a byte per event or nothing, not their text per event.
   */
  extraNames?: string[];
  extra?: Column;
  /** See Packed.group and Packed.seq (chunks of a write split by key; absent otherwise). */
  group?: number;
  seq?: Column;
}

const SECTION_ARRAYS = {
  u8: Uint8Array,
  u16: Uint16Array,
  u32: Uint32Array,
  f32: Float32Array,
  f64: Float64Array,
} as const;

/** A section to write: the array, converted to its type when written. */
interface PendingSection {
  type: SectionType;
  source: ArrayLike<number>;
  base: number;
}

/**
 * A dictionary of names for columns of indexes: `intern(name)` is the name's index in `names`,
 * added the first time it is seen.
 */
export function nameDictionary(): { names: string[]; intern: (name: string) => number } {
  const ids = new Map<string, number>();
  const names: string[] = [];
  const intern = (name: string): number => {
    let i = ids.get(name);
    if (i === undefined) {
      i = names.length;
      ids.set(name, i);
      names.push(name);
    }
    return i;
  };
  return { names, intern };
}

const alignUp = (n: number): number => Math.ceil(n / ALIGN) * ALIGN;

/** True when every element is the first (NaN is NaN; 0 is not -0, written as one constant). */
function allSame(a: ArrayLike<number>): boolean {
  const first = a[0];
  if (first !== first) {
    for (let i = 1; i < a.length; i++) if (a[i] === a[i]) return false;
    return true;
  }
  if (first === 0) {
    for (let i = 1; i < a.length; i++) if (!Object.is(a[i], first)) return false;
    return true;
  }
  for (let i = 1; i < a.length; i++) if (a[i] !== first) return false;
  return true;
}

/** Plans the columns and sections of `p`, then writes them. */
export function packChunk(p: Packed): Buffer {
  const n = p.count;
  const sections: PendingSection[] = [];
  let dataBytes = 0;
  const section = (type: SectionType, source: ArrayLike<number>, base = 0): Column => {
    const o = dataBytes;
    dataBytes = alignUp(dataBytes + n * SECTION_ARRAYS[type].BYTES_PER_ELEMENT);
    sections.push({ type, source, base });
    return base === 0 ? { t: type, o } : { t: type, o, b: base };
  };
  const names = (column: Uint32Array): Column => {
    if (n === 0 || allSame(column)) return { c: n === 0 ? 0 : column[0] };
    const count = p.strings.length;
    return section(count <= 0x100 ? 'u8' : count <= 0x10000 ? 'u16' : 'u32', column);
  };
  const header: Header = {
    n,
    strings: p.strings,
    event: names(p.event),
    key: names(p.key),
    node: names(p.node),
    userid: names(p.userid),
    dt: times(p.dt, section),
    step: steps(p.step, section),
    numbers: p.numbers && numbers(p.numbers, section),
    values: p.values,
    jsonAt: p.jsonAt,
    extras: undefined,
  };
  if (p.extras) {
    const { names: extraNames, intern } = nameDictionary();
    const index = Uint32Array.from(p.extras, intern);
    header.extraNames = extraNames;
    header.extra = allSame(index)
      ? { c: index[0] }
      : section(extraNames.length <= 0x100 ? 'u8' : extraNames.length <= 0x10000 ? 'u16' : 'u32', index);
  }
  if (p.group !== undefined && p.seq) {
    header.group = p.group;
    // positions in the write only grow: as differences of a byte, most often
    header.seq = times(p.seq, section);
  }
  const head = v8.serialize(header);
  const dataStart = alignUp(8 + head.length);
  // zero-filled: the padding between sections goes to disk and must not carry old memory
  const out = Buffer.alloc(dataStart + dataBytes);
  out.writeUInt32LE(MAGIC, 0);
  out.writeUInt32LE(head.length, 4);
  head.copy(out, 8);
  let at = dataStart;
  for (const s of sections) {
    const Type = SECTION_ARRAYS[s.type];
    const view = new Type(out.buffer, out.byteOffset + at, n);
    if (s.base === 0) view.set(s.source);
    else for (let i = 0; i < n; i++) view[i] = s.source[i] - s.base;
    at = alignUp(at + view.byteLength);
  }
  return out;
}

type AddSection = (type: SectionType, source: ArrayLike<number>, base?: number) => Column;

/**
 * Times (and the positions of a split write's events): growing by whole milliseconds as differences of 1 or 2 bytes (events logged in a loop are
 * 0–255 ms apart), whole milliseconds within 49 days of the first as 4-byte offsets, else as they are.
 */
function times(dt: Float64Array, section: AddSection): Column {
  const n = dt.length;
  if (n === 0 || allSame(dt)) return { c: n ? dt[0] : 0 };
  let min = Infinity;
  let max = -Infinity;
  let growing = true;
  let widest = 0;
  for (let i = 0; i < n; i++) {
    const v = dt[i];
    if (!Number.isInteger(v)) return section('f64', dt);
    if (v < min) min = v;
    if (v > max) max = v;
    if (i > 0 && growing) {
      const gap = v - dt[i - 1];
      if (gap < 0) growing = false;
      else if (gap > widest) widest = gap;
    }
  }
  if (growing && widest <= 0xffff) {
    // integers below 2^53 (stored times are within ±8.64e15): their differences are exact
    const gaps = new Float64Array(n);
    for (let i = 1; i < n; i++) gaps[i] = dt[i] - dt[i - 1];
    return { ...section(widest <= 0xff ? 'u8' : 'u16', gaps), s: dt[0] };
  }
  return max - min <= 0xffffffff ? section('u32', dt, min) : section('f64', dt);
}

/** Steps: one step, steps counting up by one, small whole steps, or as they are (NaN = none). */
function steps(step: Float64Array, section: AddSection): Column {
  const n = step.length;
  if (n === 0 || allSame(step)) return { c: n ? step[0] : NaN };
  const first = step[0];
  let counting = first === first;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = step[i];
    // a step of -0 is kept as it is (a start or an offset would make it 0)
    if (!Number.isInteger(v) || (v === 0 && 1 / v < 0)) return section('f64', step);
    if (counting && v !== first + i) counting = false;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (counting) return { r: first };
  return max - min <= 0xffffffff ? section('u32', step, min) : section('f64', step);
}

/** Numbers: one number, numbers exact as 32-bit floats (NaN and ±Infinity are), or as they are. */
function numbers(values: Float64Array, section: AddSection): Column {
  const n = values.length;
  if (n === 0 || allSame(values)) return { c: n ? values[0] : 0 };
  for (let i = 0; i < n; i++) {
    const v = values[i];
    // -0 survives fround; NaN's bit pattern is not kept (no reader tells NaNs apart)
    if (Math.fround(v) !== v && v === v) return section('f64', values);
  }
  return section('f32', values);
}

/** Reads a payload of either layout. */
export function unpackChunk(payload: Buffer): Packed {
  if (payload[0] === V8_VERSION_TAG) {
    const p = v8.deserialize(payload) as Omit<Packed, 'count'>;
    return Object.assign(p, { count: p.dt.length });
  }
  if (payload.length < 8 || payload.readUInt32LE(0) !== MAGIC)
    throw new Error('chunk payload of an unknown layout');
  return new CompactChunk(payload);
}

/**
 * A chunk of the compact layout, each column made when first asked for: a chart's read of a
 * run's values never builds its node, user, time or name columns (the store already knows the
 * chunk holds only the wanted names), and the numbers are views of the payload's bytes.
 */
class CompactChunk implements Packed {
  readonly count: number;
  readonly strings: string[];
  readonly values: unknown[] | undefined;
  readonly jsonAt: number[] | undefined;
  readonly extras: string[] | undefined;
  readonly group: number | undefined;
  private readonly header: Header;
  private readonly dataStart: number;
  private readonly made = new Map<keyof Header, Uint32Array | Float64Array | undefined>();

  constructor(private readonly payload: Buffer) {
    const headLength = payload.readUInt32LE(4);
    const h = v8.deserialize(payload.subarray(8, 8 + headLength)) as Header;
    this.header = h;
    this.dataStart = alignUp(8 + headLength);
    this.count = h.n;
    this.strings = h.strings;
    this.values = h.values;
    this.jsonAt = h.jsonAt;
    this.group = h.group;
    const extraNames = h.extraNames;
    this.extras =
      h.extras ??
      (extraNames && h.extra
        ? Array.from(
            names(h.extra, h.n, (type, o) => this.view(type, o)),
            (i) => extraNames[i],
          )
        : undefined);
  }

  get event(): Uint32Array {
    return this.column('event', names);
  }
  get key(): Uint32Array {
    return this.column('key', names);
  }
  get node(): Uint32Array {
    return this.column('node', names);
  }
  get userid(): Uint32Array {
    return this.column('userid', names);
  }
  get dt(): Float64Array {
    return this.column('dt', numeric);
  }
  get step(): Float64Array {
    return this.column('step', numeric);
  }
  get numbers(): Float64Array | undefined {
    return this.header.numbers && this.column('numbers', numeric);
  }
  get seq(): Float64Array | undefined {
    return this.header.seq && this.column('seq', numeric);
  }

  stepStart(): number | undefined {
    const c = this.header.step;
    return 'r' in c ? c.r : 'c' in c && this.count === 1 && c.c === c.c ? c.c : undefined;
  }

  constantName(column: 'event' | 'key'): number | undefined {
    const c = this.header[column];
    return 'c' in c ? c.c : undefined;
  }

  private column<A extends Uint32Array | Float64Array>(
    name: 'event' | 'key' | 'node' | 'userid' | 'dt' | 'step' | 'numbers' | 'seq',
    make: (column: Column, n: number, view: (type: SectionType, o: number) => ArrayLike<number>) => A,
  ): A {
    let out = this.made.get(name) as A | undefined;
    if (!out) {
      out = make(this.header[name]!, this.count, (type, o) => this.view(type, o));
      this.made.set(name, out);
    }
    return out;
  }

  /** A section as an array of its own type: a view when the bytes lie on its boundary, else a copy. */
  private view(type: SectionType, o: number): ArrayLike<number> {
    const Type = SECTION_ARRAYS[type];
    const length = this.count * Type.BYTES_PER_ELEMENT;
    const { payload, dataStart } = this;
    if (dataStart + o + length > payload.length) throw new Error('chunk payload cut short');
    const start = payload.byteOffset + dataStart + o;
    // a store's blobs are buffers of their own, never shared memory
    const bytes = payload.buffer as ArrayBuffer;
    if (start % Type.BYTES_PER_ELEMENT === 0) return new Type(bytes, start, this.count);
    return new Type(bytes.slice(start, start + length));
  }
}

// one reader per output type, each loop on one kind of array (the JIT keeps them fast)

function names(
  column: Column,
  n: number,
  view: (type: SectionType, o: number) => ArrayLike<number>,
): Uint32Array {
  if ('c' in column) return new Uint32Array(n).fill(column.c);
  if ('r' in column) throw new Error('chunk payload of an unknown layout');
  const raw = view(column.t, column.o);
  if (column.t === 'u32' && column.s === undefined && column.b === undefined) return raw as Uint32Array;
  const out = new Uint32Array(n);
  out.set(raw);
  return out;
}

function numeric(
  column: Column,
  n: number,
  view: (type: SectionType, o: number) => ArrayLike<number>,
): Float64Array {
  if ('c' in column) return new Float64Array(n).fill(column.c);
  if ('r' in column) {
    const out = new Float64Array(n);
    for (let i = 0, r = column.r; i < n; i++) out[i] = r + i;
    return out;
  }
  const raw = view(column.t, column.o);
  if (column.s !== undefined) {
    const out = new Float64Array(n);
    let sum = column.s;
    for (let i = 0; i < n; i++) out[i] = sum += raw[i];
    return out;
  }
  if (column.t === 'f64' && column.b === undefined) return raw as Float64Array;
  const out = new Float64Array(n);
  // converted natively; a base is added after (none added at all keeps -0 as -0)
  out.set(raw);
  const base = column.b;
  if (base !== undefined) for (let i = 0; i < n; i++) out[i] += base;
  return out;
}
