import crypto from 'node:crypto';
import { MAX_DATE_MS } from '../../events/time';
import { yieldToLoop } from '../../process/env';
import { decodeValue, encodeValue } from '../../events/valueCodec';
import type { EventColumnBatch, PendingEvent, ResolvedQuery, TrackingEvent } from '../../events/types';
import { STATS_EVENTS } from './runStats';
import type { RunStatsDelta } from './runStats';
import type { Packed } from './chunkPayload';
import { nameDictionary, packChunk, unpackChunk } from './chunkPayload';

/**
 * Events are stored in chunks: up to CHUNK_SIZE events of one run, packed column by column
 * (strings through a small dictionary, times, steps and numeric values as numeric columns), in
 * the compact layout of chunkPayload.ts. Reading a run of 100,000 metrics is then ~25 row reads and a few array
 * copies instead of 100,000 rows of 11 columns, and writing is one insert per chunk. Stores
 * index chunks by experiment, run and time, and prune by the event names and keys they hold.
 */
export const CHUNK_SIZE = 4096;

/**
 * The size a chunk is cut at, besides CHUNK_SIZE events: text and JSON values and extra fields
 * counted by their length (one byte per UTF-16 unit, as v8 writes Latin-1 text; other text takes
 * up to twice that), each event's columns by a fixed cost. 4,096 events of 1 MB each made one
 * chunk of 4 GB, past SQLite's 1 GB limit on one value: the write failed for ever, and encoding
 * it held gigabytes. A chunk is larger only when it is one event that is larger by itself.
 */
export const CHUNK_TARGET_BYTES = 4 * 1024 * 1024;

/** What an event costs in a chunk besides its text (columns, dictionary indexes, a little header). */
const EVENT_COLUMN_BYTES = 48;

/** A chunk as stores keep it: what they index and filter on, and the packed events. */
export interface EncodedChunk {
  run: number;
  count: number;
  minDt: number;
  maxDt: number;
  /** The distinct event names, each wrapped in \u0001 (for `instr` pruning). */
  events: string;
  /** The distinct keys, each wrapped in \u0001. */
  keys: string;
  payload: Buffer;
  /** What the chunk adds to its run's aggregates (runs()); one entry per event name and key. */
  stats: RunStatsDelta[];
}

/** The delimiter around names in the `events`/`keys` pruning columns. */
export const NAME_MARK = '\u0001';

/** Events grouped by run, each group in logging order. */
export function groupByRun(events: readonly PendingEvent[]): Map<number, PendingEvent[]> {
  const byRun = new Map<number, PendingEvent[]>();
  for (const e of events) {
    let list = byRun.get(e.run);
    if (!list) byRun.set(e.run, (list = []));
    list.push(e);
  }
  return byRun;
}

/**
 * A write's events of one (event name, key) go to chunks of their own when there are at least
 * this many of them (and the write holds other events too): a chart of one key of 200 runs then
 * reads that key's bytes, not the bytes of every key logged beside it (20 keys logged per step
 * made it read 20 times the bytes). Fewer events of a key than this stay together in one chunk
 * with the write's other small streams: a chunk of a handful of events would cost more in its
 * row and header than it saves.
 */
export const SPLIT_MIN_EVENTS = 64;

/**
 * A write of more events than this is not split by key: the positions that keep its events'
 * logging order (Packed.seq) then stay below this, and a reader can rank an event by a chunk
 * id times this plus its position in one exact number (chunkReads).
 */
export const MAX_SPLIT_WRITE = 1_048_576;

/**
 * Splits events into chunks of one run each, in order, each at most CHUNK_SIZE events and about
 * `targetBytes` (CHUNK_TARGET_BYTES) large: an event that is larger by itself makes a chunk alone.
 * A run's events of one key that are many in this write (SPLIT_MIN_EVENTS) get chunks of their
 * own; the chunks of such a split write share a random `group` and record each event's position
 * in the write, so that reads keep the logging order of events of equal time across them.
 * Object values and extra fields are turned into JSON once, to measure them and then to pack them.
 */
export function encodeChunks(
  events: readonly PendingEvent[],
  targetBytes: number = CHUNK_TARGET_BYTES,
): EncodedChunk[] {
  const out: EncodedChunk[] = [];
  for (const _ of packingSteps(events, targetBytes, out));
  return out;
}

/**
 * encodeChunks, giving the event loop a turn whenever packing has held it for SLICE_MS: a write
 * of 16,384 events takes 5–10 ms to pack, more on a busy machine, and never holds it that long
 * at once (a store's appendEvents packs this way).
 */
export async function encodeChunksInSlices(
  events: readonly PendingEvent[],
  targetBytes: number = CHUNK_TARGET_BYTES,
): Promise<EncodedChunk[]> {
  const out: EncodedChunk[] = [];
  let since = Date.now();
  for (const _ of packingSteps(events, targetBytes, out)) {
    if (Date.now() - since < SLICE_MS) continue;
    await yieldToLoop();
    since = Date.now();
  }
  return out;
}

/** The longest packing holds the event loop before encodeChunksInSlices gives it a turn. */
const SLICE_MS = 4;

/** encodeChunks' work, into `out`, with a pause point after each chunk packed. */
function* packingSteps(
  events: readonly PendingEvent[],
  targetBytes: number,
  out: EncodedChunk[],
): Generator<void, void, undefined> {
  for (const list of groupByRun(events).values()) {
    const streams = splitByKey(list);
    if (!streams) {
      yield* cutIntoChunks(list, undefined, targetBytes, out);
      continue;
    }
    const group = randomGroup();
    const parts: EncodedChunk[][] = [];
    for (const positions of streams) {
      const chunks: EncodedChunk[] = [];
      parts.push(chunks);
      yield* cutIntoChunks(
        positions.map((i) => list[i]),
        { group, positions },
        targetBytes,
        chunks,
      );
    }
    // the stream that holds the write's latest event is written last: a store's last chunk then
    // holds the latest time of the last write (changeMark's lastDt); reads rank the chunks of a
    // group by position, whatever their order, and each key's chunks stay in their order
    const latest = (chunks: EncodedChunk[]): number => Math.max(...chunks.map((c) => c.maxDt));
    let last = 0;
    for (let k = 1; k < parts.length; k++) if (latest(parts[k]) > latest(parts[last])) last = k;
    for (let k = 0; k < parts.length; k++) if (k !== last) out.push(...parts[k]);
    out.push(...parts[last]);
  }
}

/**
 * The positions of a run's events, one list per key that has SPLIT_MIN_EVENTS or more events
 * in the write and one list for all the others (first, when there are any), each in logging
 * order; undefined when the write is not split (one key, few events, too many events).
 */
function splitByKey(list: readonly PendingEvent[]): number[][] | undefined {
  const n = list.length;
  if (n < 2 * SPLIT_MIN_EVENTS || n > MAX_SPLIT_WRITE) return undefined;
  // keys are grouped by their event name too: a param and a metric of the same key are two streams
  const byStream = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    const e = list[i];
    const id = e.event + '\u0000' + e.key;
    let positions = byStream.get(id);
    if (!positions) byStream.set(id, (positions = []));
    positions.push(i);
  }
  if (byStream.size < 2) return undefined;
  const rest: number[] = [];
  const own: number[][] = [];
  for (const positions of byStream.values()) {
    if (positions.length >= SPLIT_MIN_EVENTS) own.push(positions);
    else for (const i of positions) rest.push(i);
  }
  if (own.length === 0 || (own.length === 1 && rest.length === 0)) return undefined;
  rest.sort((a, b) => a - b);
  return rest.length ? [rest, ...own] : own;
}

/** A random 48-bit number naming the chunks of one split write (they never meet another's by chance). */
function randomGroup(): number {
  return crypto.randomBytes(6).readUIntLE(0, 6);
}

/** Where the events of a chunk were in their write, when it was split by key. */
interface SplitOf {
  group: number;
  /** Per event of the list, its position in the write. */
  positions: readonly number[];
}

/** Cuts one run's events into chunks at CHUNK_SIZE events and about `targetBytes` each, pausing after each. */
function* cutIntoChunks(
  list: readonly PendingEvent[],
  split: SplitOf | undefined,
  targetBytes: number,
  out: EncodedChunk[],
): Generator<void, void, undefined> {
  const n = list.length;
  // made on the first text: a run of metrics only needs none
  let texts: Texts | undefined;
  const made = (): Texts =>
    (texts ??= { values: new Array<string | undefined>(n), extras: new Array<string | undefined>(n) });
  // events stamped by logExtra share one object: its JSON is made once, not once per event
  let lastExtra: unknown;
  let lastExtraText = '';
  let start = 0;
  let bytes = 0;
  const pack = (from: number, to: number): EncodedChunk =>
    packEvents(
      from === 0 && to === n ? list : list.slice(from, to),
      texts && takeTexts(texts, from, to),
      split && { group: split.group, seq: Float64Array.from(split.positions.slice(from, to)) },
    );
  for (let i = 0; i < n; i++) {
    const e = list[i];
    const v = e.value;
    let size = EVENT_COLUMN_BYTES;
    if (typeof v === 'string') size += v.length;
    else if (typeof v === 'object' && v !== null) size += (made().values[i] = encodeValue(v)).length;
    if (e.extra !== undefined) {
      if (e.extra !== lastExtra) {
        lastExtra = e.extra;
        lastExtraText = encodeValue(e.extra);
      }
      size += (made().extras[i] = lastExtraText).length;
    }
    if (i > start && (i - start === CHUNK_SIZE || bytes + size > targetBytes)) {
      out.push(pack(start, i));
      yield;
      start = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (n > start) out.push(pack(start, n));
  yield;
}

/** The JSON texts of a run's object values and extra fields, by the event's index. */
interface Texts {
  values: Array<string | undefined>;
  extras: Array<string | undefined>;
}

/** The texts of events `from` to `to`, released from `texts` (the chunk holds them now). */
function takeTexts(texts: Texts, from: number, to: number): Texts {
  const out = { values: texts.values.slice(from, to), extras: texts.extras.slice(from, to) };
  texts.values.fill(undefined, from, to);
  texts.extras.fill(undefined, from, to);
  return out;
}

/** Packs events of one run into one chunk, however many and large they are. */
export function encodeChunk(events: readonly PendingEvent[]): EncodedChunk {
  return packEvents(events, undefined, undefined);
}

/**
 * Packs events of one run into a chunk; `texts`, when given, holds the JSON already made;
 * `order`, the split write the events are part of (see encodeChunks).
 */
function packEvents(
  events: readonly PendingEvent[],
  texts: Texts | undefined,
  order: { group: number; seq: Float64Array } | undefined,
): EncodedChunk {
  const n = events.length;
  const { names: strings, intern } = nameDictionary();
  const packed: Packed = {
    count: n,
    strings,
    event: new Uint32Array(n),
    key: new Uint32Array(n),
    node: new Uint32Array(n),
    userid: new Uint32Array(n),
    dt: new Float64Array(n),
    step: new Float64Array(n),
    numbers: undefined,
    values: undefined,
    jsonAt: undefined,
    extras: undefined,
    group: order?.group,
    seq: order?.seq,
  };
  const eventNames = new Set<string>();
  const keyNames = new Set<string>();
  let allNumbers = true;
  let minDt = Infinity;
  let maxDt = -Infinity;
  // aggregates per (event, key), keyed by their dictionary indexes: no string built per event
  const stats = new Map<number, { delta: RunStatsDelta; at: number }>();
  for (let i = 0; i < n; i++) {
    const e = events[i];
    const eventIdx = (packed.event[i] = intern(e.event));
    const keyIdx = (packed.key[i] = intern(e.key));
    if (STATS_EVENTS.has(e.event)) addStats(stats, eventIdx * 0x100000 + keyIdx, e, i);
    packed.node[i] = intern(e.node);
    packed.userid[i] = intern(e.userid);
    packed.dt[i] = e.dt;
    packed.step[i] = e.step === null ? NaN : e.step;
    if (e.dt < minDt) minDt = e.dt;
    if (e.dt > maxDt) maxDt = e.dt;
    eventNames.add(e.event);
    keyNames.add(e.key);
    if (typeof e.value !== 'number') allNumbers = false;
    if (e.extra !== undefined) {
      packed.extras ??= new Array<string>(n).fill('');
      packed.extras[i] = texts?.extras[i] ?? encodeValue(e.extra);
    }
  }
  if (allNumbers) packed.numbers = Float64Array.from(events, (e) => e.value as number);
  else {
    const jsonAt: number[] = [];
    packed.values = events.map((e, i) => {
      const v = e.value;
      if (v === undefined) return null;
      if (typeof v !== 'object' || v === null) return v;
      jsonAt.push(i);
      return texts?.values[i] ?? encodeValue(v);
    });
    packed.jsonAt = jsonAt;
  }
  return {
    run: events[0]?.run ?? 0,
    count: n,
    minDt,
    maxDt,
    events: wrapNames(eventNames),
    keys: wrapNames(keyNames),
    payload: packChunk(packed),
    stats: [...stats.values()].map((s) => {
      s.delta.last = events[s.at].value ?? null;
      return s.delta;
    }),
  };
}

/** Folds one event into the chunk's aggregate of its event name and key. */
function addStats(
  stats: Map<number, { delta: RunStatsDelta; at: number }>,
  id: number,
  e: PendingEvent,
  i: number,
): void {
  const v = e.value;
  const finite = typeof v === 'number' && Number.isFinite(v);
  const counted = e.event !== 'metric' || typeof v === 'number' ? 1 : 0;
  const s = stats.get(id);
  if (!s) {
    stats.set(id, {
      at: i,
      delta: {
        event: e.event,
        key: e.key,
        last: null,
        lastDt: e.dt,
        lastStep: e.step,
        min: finite ? v : null,
        max: finite ? v : null,
        count: counted,
        sum: finite && e.event === 'metric' ? v : 0,
        finite: finite && e.event === 'metric' ? 1 : 0,
        node: e.node,
        userid: e.userid,
      },
    });
    return;
  }
  const d = s.delta;
  d.count += counted;
  if (finite) {
    if (d.min === null || v < d.min) d.min = v;
    if (d.max === null || v > d.max) d.max = v;
    if (e.event === 'metric') {
      d.sum += v;
      d.finite++;
    }
  }
  // the latest by time; of equal times the one logged later
  if (e.dt >= d.lastDt || Number.isNaN(d.lastDt)) {
    s.at = i;
    d.lastDt = e.dt;
    d.lastStep = e.step;
    d.node = e.node;
    d.userid = e.userid;
  }
}

function wrapNames(names: Set<string>): string {
  return NAME_MARK + [...names].join(NAME_MARK) + NAME_MARK;
}

/** A compiled row filter for the parts of a query that stores do not prune exactly. */
export type RowFilter = (row: TrackingEvent) => boolean;

/**
 * Builds the per-row test of a query (events, keys, steps, time window, runs, extra fields).
 * A store whose chunk selection already holds exactly the wanted runs passes `runsSelected`,
 * so reading a run does not test 100,000 rows for their run number.
 */
export function rowFilter(q: ResolvedQuery, opts: { runsSelected?: boolean } = {}): RowFilter | undefined {
  const tests: RowFilter[] = [];
  if (q.events) {
    const set = new Set(q.events);
    tests.push((r) => set.has(r.event));
  }
  if (q.keys) {
    const set = new Set(q.keys);
    tests.push((r) => set.has(r.key));
  }
  if (q.steps) {
    const set = new Set<number | null>(q.steps);
    tests.push((r) => set.has(r.step));
  }
  if (q.since !== undefined) {
    const since = q.since;
    tests.push((r) => r.dt.getTime() >= since);
  }
  if (q.end !== undefined) {
    const end = q.end;
    tests.push((r) => r.dt.getTime() <= end);
  }
  if (q.runs !== undefined && !opts.runsSelected) {
    const runs = q.runs;
    if (Array.isArray(runs)) {
      const set = new Set(runs);
      tests.push((r) => set.has(r.run));
    } else tests.push((r) => r.run >= runs.from && r.run <= runs.to);
  }
  for (const [field, values] of Object.entries(q.extras ?? {})) {
    const set = new Set<unknown>(values);
    tests.push((r) => set.has(r[field] ?? null));
  }
  if (tests.length === 0) return undefined;
  return (r) => tests.every((t) => t(r));
}

/**
 * Unpacks a chunk into events (of `experiment`), keeping those `filter` accepts. `positions`,
 * when given, receives per kept event its position in its write (Packed.seq in a chunk of a
 * split write, else its index in the chunk): what orders events of equal time (chunkReads).
 */
export function decodeChunk(
  experiment: string,
  run: number,
  payload: Buffer | Packed,
  filter: RowFilter | undefined,
  out: TrackingEvent[] = [],
  positions?: number[],
): TrackingEvent[] {
  const p = Buffer.isBuffer(payload) ? unpackChunk(payload) : payload;
  const s = p.strings;
  const n = p.count;
  // the columns once each (a compact chunk makes them when first asked), then plain reads
  const { event, key, node, userid, dt, step: steps, numbers, values, extras } = p;
  const seq = positions && p.seq;
  let json: Set<number> | undefined;
  if (p.jsonAt && p.jsonAt.length) json = new Set(p.jsonAt);
  for (let i = 0; i < n; i++) {
    const step = steps[i];
    let value: unknown;
    if (numbers) value = numbers[i];
    else value = json?.has(i) ? decodeValue(values![i] as string) : values![i];
    const row: TrackingEvent = {
      experiment,
      run,
      event: s[event[i]],
      key: s[key[i]],
      value,
      step: Number.isNaN(step) ? null : step,
      dt: new Date(dt[i]),
      node: s[node[i]],
      userid: s[userid[i]],
    };
    const extra = extras?.[i];
    if (extra) Object.assign(row, decodeValue(extra) as object);
    if (!filter || filter(row)) {
      out.push(row);
      positions?.push(seq ? seq[i] : i);
    }
  }
  return out;
}

/**
 * How many events a chunk holds, when each has a time a Date can hold (so that each sorts by
 * its time, none last: see orderTime); undefined otherwise. Only the time column is read.
 */
export function countIfOrderable(payload: Buffer | Packed): number | undefined {
  const dt = (Buffer.isBuffer(payload) ? unpackChunk(payload) : payload).dt;
  for (let i = 0; i < dt.length; i++) if (!(Math.abs(dt[i]) <= MAX_DATE_MS)) return undefined;
  return dt.length;
}

/**
 * A row's time for ordering: a stored time that is not a valid Date (written before such times
 * were refused, or by another writer) sorts after every valid one, so reading never fails on it.
 */
export function orderTime(row: TrackingEvent): number {
  const t = row.dt.getTime();
  return t === t ? t : Infinity;
}

/**
 * Sorts rows by time, ties in insertion order (Array.prototype.sort is stable); skips sorted
 * input. Rows whose time is not a valid Date come last.
 */
export function sortByTime(rows: TrackingEvent[]): TrackingEvent[] {
  let previous = -Infinity;
  for (let i = 0; i < rows.length; i++) {
    const t = orderTime(rows[i]);
    // Infinity - Infinity is NaN, which sort takes as a tie: invalid times keep insertion order
    if (t < previous) return rows.sort((x, y) => orderTime(x) - orderTime(y) || 0);
    previous = t;
  }
  return rows;
}

/**
 * Unpacks the columns of a chunk (of `run`) that numeric reads need, keeping the events that
 * `q` selects (event names, keys, steps, time window, extra fields; the run and limit/offset are
 * the caller's): no object per event is built, and a chunk whose events all match is handed out
 * as its own arrays, uncopied. `held` is the chunk's `events`/`keys` index columns, when the
 * store has them at hand: a chunk that holds only wanted names is then not tested event by event.
 */
export function decodeChunkColumns(
  run: number,
  payload: Buffer,
  q: ResolvedQuery,
  held?: Pick<EncodedChunk, 'events' | 'keys'>,
): EventColumnBatch {
  const p = unpackChunk(payload);
  const n = p.count;
  let values = p.numbers;
  let numeric: Uint8Array | undefined;
  if (!values) {
    values = new Float64Array(n);
    numeric = new Uint8Array(n);
    // objects are stored as JSON text and strings as they are: only a number is a number here
    for (let i = 0; i < n; i++) {
      const v = p.values![i];
      if (typeof v === 'number') {
        values[i] = v;
        numeric[i] = 1;
      } else values[i] = NaN;
    }
  }
  const keep = selection(p, q, held);
  if (!keep) return wholeBatch(run, p, values, numeric);
  let m = 0;
  for (let i = 0; i < n; i++) if (keep[i]) m++;
  if (m === n) return wholeBatch(run, p, values, numeric);
  const pick = <A extends Float64Array | Uint32Array | Uint8Array>(src: A, out: A): A => {
    for (let i = 0, j = 0; i < n; i++) if (keep[i]) out[j++] = src[i];
    return out;
  };
  const step = pick(p.step, new Float64Array(m));
  // the columns a reader may not look at (a chart reads values and steps) are picked when asked
  let event: Uint32Array | undefined;
  let key: Uint32Array | undefined;
  let dt: Float64Array | undefined;
  return {
    run,
    length: m,
    names: p.strings,
    get event() {
      return (event ??= pick(p.event, new Uint32Array(m)));
    },
    get key() {
      return (key ??= pick(p.key, new Uint32Array(m)));
    },
    values: pick(values, new Float64Array(m)),
    numeric: numeric && allOnes(pick(numeric, new Uint8Array(m))),
    step,
    get dt() {
      return (dt ??= pick(p.dt, new Float64Array(m)));
    },
    // the metrics of a chunk that also holds a run's params or its stop still count up by one
    stepStart: countingFrom(step),
  };
}

/** The column, unless every event of it is a number (a chunk's metrics beside its run's stop): then undefined. */
function allOnes(numeric: Uint8Array): Uint8Array | undefined {
  for (let i = 0; i < numeric.length; i++) if (numeric[i] !== 1) return numeric;
  return undefined;
}

/** The first step when the steps count up by one from it (a -0 never does), else undefined. */
function countingFrom(step: Float64Array): number | undefined {
  if (step.length === 0) return undefined;
  const first = step[0];
  if (!Number.isInteger(first) || Object.is(first, -0)) return undefined;
  for (let i = 1; i < step.length; i++) if (step[i] !== first + i) return undefined;
  return first;
}

/**
 * Every event of a chunk as a batch. Columns the reader does not look at are never made (a
 * chart reads values and steps only): the batch hands them out as the chunk makes them.
 */
function wholeBatch(
  run: number,
  p: Packed,
  values: Float64Array,
  numeric: Uint8Array | undefined,
): EventColumnBatch {
  return {
    run,
    length: p.count,
    names: p.strings,
    get event() {
      return p.event;
    },
    get key() {
      return p.key;
    },
    values,
    numeric,
    get step() {
      return p.step;
    },
    get dt() {
      return p.dt;
    },
    stepStart: p.stepStart?.(),
  };
}

/** Which events of a chunk a query keeps (1 = kept), undefined when it keeps them all. */
function selection(
  p: Packed,
  q: ResolvedQuery,
  held: Pick<EncodedChunk, 'events' | 'keys'> | undefined,
): Uint8Array | undefined {
  const n = p.count;
  const tests: Array<(i: number) => boolean> = [];
  // names are compared by their index in the chunk's dictionary: one lookup per name, not per event
  // the index columns list names between marks: a name holding the mark itself would read as
  // two names there, so a chunk with such a name is always tested event by event
  let marked: boolean | undefined;
  /** Name tests, run as plain loops over their column (the most common test: a chart's key). */
  const columnTests: Array<{ column: Uint32Array; ids: Uint8Array }> = [];
  const nameTest = (names: string[], field: 'event' | 'key', heldNames: string | undefined): void => {
    const wanted = new Set(names);
    if (
      heldNames !== undefined &&
      !(marked ??= p.strings.some((s) => s.includes(NAME_MARK))) &&
      heldNames.split(NAME_MARK).every((name) => name === '' || wanted.has(name))
    )
      return;
    const one = p.constantName?.(field);
    if (one !== undefined) {
      if (!wanted.has(p.strings[one])) tests.push(() => false);
      return;
    }
    const column = p[field];
    const ids = new Uint8Array(p.strings.length);
    p.strings.forEach((s, id) => (ids[id] = wanted.has(s) ? 1 : 0));
    // a chunk holding only wanted names (a run of metrics, read for its metrics) is not tested per event
    let all = true;
    for (let i = 0; i < n && all; i++) all = ids[column[i]] === 1;
    if (!all) columnTests.push({ column, ids });
  };
  if (q.events) nameTest(q.events, 'event', held?.events);
  if (q.keys) nameTest(q.keys, 'key', held?.keys);
  if (q.steps) {
    // NaN (no step) is in no set of numbers, as a null step matches no step filter in rowFilter
    const steps = new Set<number>(q.steps);
    const step = p.step;
    tests.push((i) => steps.has(step[i]));
  }
  // a stored time a Date cannot hold reads back as an invalid Date, which no time window holds
  if (q.since !== undefined) {
    const since = q.since;
    const dt = p.dt;
    tests.push((i) => dt[i] >= since && dt[i] <= MAX_DATE_MS);
  }
  if (q.end !== undefined) {
    const end = q.end;
    const dt = p.dt;
    tests.push((i) => dt[i] <= end && dt[i] >= -MAX_DATE_MS);
  }
  const extras = Object.entries(q.extras ?? {});
  if (extras.length) {
    const sets = extras.map(([field, values]) => [field, new Set<unknown>(values)] as const);
    tests.push((i) => {
      const text = p.extras?.[i];
      const fields = (text ? decodeValue(text) : {}) as Record<string, unknown>;
      return sets.every(([field, set]) => set.has(fields[field] ?? null));
    });
  }
  if (tests.length === 0 && columnTests.length === 0) return undefined;
  const keep = new Uint8Array(n).fill(1);
  for (const { column, ids } of columnTests) for (let i = 0; i < n; i++) keep[i] &= ids[column[i]];
  for (const t of tests) for (let i = 0; i < n; i++) if (keep[i] === 1 && !t(i)) keep[i] = 0;
  return keep;
}
