import { decodeValue, encodeValue } from '../../events/valueCodec';
import type { EventColumnBatch, PendingEvent, TrackingEvent } from '../../events/types';
import { nameDictionary } from '../chunks/chunkPayload';
import type { RunStatsDelta, RunStatsRow } from '../chunks/runStats';
import type { MetadataEntry } from '../Store';

/**
 * How values are kept in MongoDB documents. Numbers (NaN and ±Infinity included: BSON doubles
 * hold them), strings, booleans and null as they are; objects and arrays as documents where
 * that is safe, else as JSON text (`enc: 'json'`, written by encodeValue): keys that start with
 * `$`, hold a `.` or NUL, are empty or `__proto__`, values nested deeper than BSON allows, and
 * values holding non-finite numbers (their JSON form is tagged) are text. So any value an event
 * can carry is stored and read back exactly, and a stored document is never read as an
 * operator.
 */
export interface StoredValue {
  value: unknown;
  json: boolean;
}

/** Deepest nesting stored as a document: BSON allows 100 levels, the event document takes some. */
export const NATIVE_DEPTH = 64;

/** The tag encodeValue puts around non-finite numbers inside JSON text. */
const NON_FINITE_TAG = '$omega.nonfinite';

function safeKey(key: string): boolean {
  return key !== '' && key !== '__proto__' && key[0] !== '$' && !key.includes('.') && !key.includes('\0');
}

/** Whether a value parsed from JSON can be a BSON document as it is (see StoredValue). */
function safeDocument(value: unknown, depth: number): boolean {
  if (typeof value !== 'object' || value === null) return true;
  if (depth > NATIVE_DEPTH) return false;
  if (Array.isArray(value)) return value.every((v) => safeDocument(v, depth + 1));
  for (const [k, v] of Object.entries(value)) if (!safeKey(k) || !safeDocument(v, depth + 1)) return false;
  return true;
}

/** A value as it is written into a document (see StoredValue). */
export function storeValue(value: unknown): StoredValue {
  if (value === undefined || value === null) return { value: null, json: false };
  if (typeof value !== 'object') return { value, json: false };
  // the same normalization as the embedded store's JSON: Dates become text, undefined goes
  const text = encodeValue(value);
  if (text.includes(NON_FINITE_TAG)) return { value: text, json: true };
  const parsed: unknown = JSON.parse(text);
  return safeDocument(parsed, 1) ? { value: parsed, json: false } : { value: text, json: true };
}

/** A stored value as it was logged. */
export function readValue(value: unknown, json: boolean): unknown {
  if (json && typeof value === 'string') return decodeValue(value);
  return value === undefined ? null : value;
}

/**
 * An ObjectId as these documents need it (the driver's class satisfies it; the type is
 * structural so that core's declarations never name the optional driver).
 */
export interface ObjectIdLike {
  toHexString(): string;
}

/**
 * One extra field of an event: `s` marks a plain value (text, number, boolean, null: what a
 * query can match), `j` an object or list kept as JSON text (encodeValue).
 */
export interface ExtraDoc {
  k: string;
  v: unknown;
  s?: true;
  j?: true;
}

/**
 * An event as stored: one document per event in the experiment's collection. Extra fields are
 * a list of `{ k, v }` so that any field name (dots, `$`) is a value, never a path or an
 * operator, and one index serves every extra field.
 */
export interface EventDoc {
  _id: ObjectIdLike;
  run: number;
  event: string;
  key: string;
  value: unknown;
  enc?: 'json';
  step: number | null;
  dt: Date;
  node: string;
  userid: string;
  extra?: ExtraDoc[];
}

function isPlain(value: unknown): boolean {
  return (
    value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean'
  );
}

/** The document of one event. */
export function eventDoc(id: ObjectIdLike, e: PendingEvent): EventDoc {
  const stored = storeValue(e.value);
  const doc: EventDoc = {
    _id: id,
    run: e.run,
    event: e.event,
    key: e.key,
    value: stored.value,
    step: e.step,
    dt: new Date(e.dt),
    node: e.node,
    userid: e.userid,
  };
  if (stored.json) doc.enc = 'json';
  if (e.extra) {
    const extra: ExtraDoc[] = [];
    for (const [k, v] of Object.entries(e.extra)) {
      if (v === undefined) continue;
      // objects and lists as text: a list in `v` would make the extra index index two arrays
      if (isPlain(v)) extra.push({ k, v, s: true });
      else extra.push({ k, v: encodeValue(v), j: true });
    }
    if (extra.length) doc.extra = extra;
  }
  return doc;
}

/** The fields of an event document that columns hold (queryColumns fetches only these). */
export const COLUMN_PROJECTION = {
  _id: 0,
  run: 1,
  event: 1,
  key: 1,
  value: 1,
  enc: 1,
  step: 1,
  dt: 1,
} as const;

/**
 * Documents of one run as columns (see EventColumnBatch): names through a dictionary, numbers,
 * steps (NaN for none) and times in typed arrays. A value is a number only when stored as one:
 * text, documents and JSON text are not (`numeric` 0, value NaN).
 */
export function columnBatch(run: number, docs: ReadonlyArray<Partial<EventDoc>>): EventColumnBatch {
  const n = docs.length;
  const { names, intern } = nameDictionary();
  // a field another writer left out, or wrote as no text, is the empty name
  const id = (name: unknown): number => intern(typeof name === 'string' ? name : '');
  const event = new Uint32Array(n);
  const key = new Uint32Array(n);
  const values = new Float64Array(n);
  const step = new Float64Array(n);
  const dt = new Float64Array(n);
  let numeric: Uint8Array | undefined;
  for (let i = 0; i < n; i++) {
    const d = docs[i];
    event[i] = id(d.event);
    key[i] = id(d.key);
    const v = d.enc === 'json' ? undefined : d.value;
    if (typeof v === 'number') {
      values[i] = v;
      if (numeric) numeric[i] = 1;
    } else {
      values[i] = NaN;
      // every event before the first that is no number was one
      if (!numeric) numeric = new Uint8Array(n).fill(1, 0, i);
      numeric[i] = 0;
    }
    step[i] = typeof d.step === 'number' ? d.step : NaN;
    dt[i] = d.dt instanceof Date ? d.dt.getTime() : NaN;
  }
  return { run, length: n, names, event, key, values, numeric, step, dt };
}

/** An event read back from its document (fields another writer left out read as empty). */
export function eventFromDoc(experiment: string, doc: Partial<EventDoc>): TrackingEvent {
  const row: TrackingEvent = {
    experiment,
    run: doc.run ?? 0,
    event: doc.event ?? '',
    key: doc.key ?? '',
    value: readValue(doc.value, doc.enc === 'json'),
    step: typeof doc.step === 'number' ? doc.step : null,
    dt: doc.dt instanceof Date ? doc.dt : new Date(NaN),
    node: doc.node ?? '',
    userid: doc.userid ?? '',
  };
  if (Array.isArray(doc.extra)) for (const f of doc.extra) row[f.k] = readValue(f.v, f.j === true);
  return row;
}

/**
 * Ids for events: ObjectIds that increase within this process, also within one second and
 * across a clock set back, so that sorting by `_id` keeps insertion order for events of equal
 * time (the driver's own ids wrap their counter). Layout as the driver's: 4 bytes of seconds,
 * 5 random bytes of this process, a 3-byte counter.
 */
export class EventIds {
  private seconds = 0;
  private counter: number;
  private readonly process: Buffer;

  constructor(
    private readonly ObjectIdClass: new (id: Uint8Array) => ObjectIdLike,
    random: (n: number) => Buffer,
  ) {
    this.process = random(5);
    this.counter = random(3).readUIntBE(0, 3);
  }

  next(): ObjectIdLike {
    const now = Math.floor(Date.now() / 1000);
    if (now > this.seconds) this.seconds = now;
    else if (++this.counter > 0xffffff) {
      // the counter is used up within this second: borrow the next second, which stays in order
      this.counter = 0;
      this.seconds++;
    }
    const bytes = Buffer.alloc(12);
    bytes.writeUInt32BE(this.seconds >>> 0, 0);
    this.process.copy(bytes, 4);
    bytes.writeUIntBE(this.counter & 0xffffff, 9, 3);
    return new this.ObjectIdClass(bytes);
  }
}

/** A metadata entry as stored in the entries collection (attributes and data as StoredValue). */
export interface EntryDoc {
  bucket: string;
  name: string;
  kind: string;
  attributes: unknown;
  attributesEnc?: 'json';
  data?: unknown;
  dataEnc?: 'json';
  blob: string | null;
  created: Date;
  modified: Date;
}

/**
 * The update that writes an entry: everything but `created`, which an existing entry keeps
 * (as the embedded store keeps it). Field names are fixed; values are data, never operators.
 */
export function entryUpdate(entry: MetadataEntry): Record<string, Record<string, unknown>> {
  const attributes = storeValue(entry.attributes ?? {});
  const set: Record<string, unknown> = {
    kind: entry.kind,
    attributes: attributes.value,
    blob: entry.blob ?? null,
    modified: entry.modified,
  };
  const unset: Record<string, ''> = {};
  if (attributes.json) set.attributesEnc = 'json';
  else unset.attributesEnc = '';
  if (entry.data === undefined) {
    unset.data = '';
    unset.dataEnc = '';
  } else {
    const data = storeValue(entry.data);
    set.data = data.value;
    if (data.json) set.dataEnc = 'json';
    else unset.dataEnc = '';
  }
  const update: Record<string, Record<string, unknown>> = {
    $set: set,
    $setOnInsert: { created: entry.created },
  };
  // MongoDB before 5.0 refuses an operator with nothing to do
  if (Object.keys(unset).length) update.$unset = unset;
  return update;
}

/** An entry read back from its document. */
export function entryFromDoc(doc: Partial<EntryDoc>): MetadataEntry {
  const attributes = readValue(doc.attributes, doc.attributesEnc === 'json');
  const entry: MetadataEntry = {
    name: doc.name ?? '',
    kind: doc.kind ?? '',
    attributes: (typeof attributes === 'object' && attributes !== null ? attributes : {}) as Record<
      string,
      unknown
    >,
    created: doc.created instanceof Date ? doc.created : new Date(NaN),
    modified: doc.modified instanceof Date ? doc.modified : new Date(NaN),
  };
  if ('data' in doc) entry.data = readValue(doc.data, doc.dataEnc === 'json');
  if (typeof doc.blob === 'string') entry.blob = doc.blob;
  return entry;
}

/** A run aggregate as stored: one document per experiment, run, event name and key. */
export interface StatsDoc {
  experiment: string;
  run: number;
  event: string;
  key: string;
  last: unknown;
  lastEnc: 'json' | null;
  lastDt: number;
  lastStep: number | null;
  min: number | null;
  max: number | null;
  count: number;
  /** Metrics: sum and count of the finite values (absent on aggregates made before they were kept). */
  sum?: number;
  finite?: number;
  node: string;
  userid: string;
  /** The last batches folded in: a batch written again after a failure is not counted twice. */
  applied: string[];
}

/** How many batch ids an aggregate remembers (a retry comes right after its failure). */
export const APPLIED_KEPT = 32;

/** One delta per run, event and key: what a batch adds (deltas of one key merged as the embedded store merges them). */
export function combineDeltas(
  deltas: ReadonlyArray<RunStatsDelta & { run: number }>,
): Array<RunStatsDelta & { run: number }> {
  const byKey = new Map<string, RunStatsDelta & { run: number }>();
  for (const d of deltas) {
    const id = `${d.run}\u0000${d.event}\u0000${d.key}`;
    const acc = byKey.get(id);
    if (!acc) {
      byKey.set(id, { ...d });
      continue;
    }
    // the latest by time; of equal times the later write
    if (d.lastDt >= acc.lastDt || Number.isNaN(acc.lastDt)) {
      acc.last = d.last;
      acc.lastDt = d.lastDt;
      acc.lastStep = d.lastStep;
      acc.node = d.node;
      acc.userid = d.userid;
    }
    acc.count += d.count;
    acc.sum += d.sum;
    acc.finite += d.finite;
    if (d.min !== null && (acc.min === null || d.min < acc.min)) acc.min = d.min;
    if (d.max !== null && (acc.max === null || d.max > acc.max)) acc.max = d.max;
  }
  return [...byKey.values()];
}

/** An aggregation-expression literal: a value is never read as a field path or an operator. */
function lit(value: unknown): { $literal: unknown } {
  return { $literal: value };
}

/**
 * The update pipeline that folds one delta into its aggregate (created when missing): the latest
 * value by time (ties to this later write), min, max and count, and the batch id. Every value
 * from the events goes in as `$literal`.
 */
export function statsUpdate(d: RunStatsDelta, batchId: string): Array<Record<string, unknown>> {
  const last = storeValue(d.last);
  const newer = (value: unknown, field: string): Record<string, unknown> => ({
    $cond: ['$_newer', lit(value), `$${field}`],
  });
  return [
    {
      $set: {
        _newer: {
          $or: [{ $eq: [{ $type: '$lastDt' }, 'missing'] }, { $gte: [lit(d.lastDt), '$lastDt'] }],
        },
      },
    },
    {
      $set: {
        last: newer(last.value, 'last'),
        lastEnc: newer(last.json ? 'json' : null, 'lastEnc'),
        lastDt: newer(d.lastDt, 'lastDt'),
        lastStep: newer(d.lastStep, 'lastStep'),
        node: newer(d.node, 'node'),
        userid: newer(d.userid, 'userid'),
        // $min and $max of expressions pass over null: a delta without numbers leaves them
        min: { $min: ['$min', lit(d.min)] },
        max: { $max: ['$max', lit(d.max)] },
        count: { $add: [{ $ifNull: ['$count', 0] }, lit(d.count)] },
        // a metric's running sum starts with its aggregate: one made before sums were kept gets
        // none (a partial sum would give a wrong mean; runs() reads that run from its events)
        ...(d.event === 'metric'
          ? {
              sum: sumUpdate('sum', d.sum),
              finite: sumUpdate('finite', d.finite),
            }
          : {}),
        applied: {
          $slice: [{ $concatArrays: [{ $ifNull: ['$applied', []] }, [lit(batchId)]] }, -APPLIED_KEPT],
        },
      },
    },
    { $unset: '_newer' },
  ];
}

/** `$field + value` on a new aggregate or one that keeps the field; else the field stays missing. */
function sumUpdate(field: 'sum' | 'finite', value: number): Record<string, unknown> {
  return {
    $cond: [
      {
        $or: [{ $eq: [{ $type: '$lastDt' }, 'missing'] }, { $ne: [{ $type: `$${field}` }, 'missing'] }],
      },
      { $add: [{ $ifNull: [`$${field}`, 0] }, lit(value)] },
      '$$REMOVE',
    ],
  };
}

/** An aggregate as `runStats` gives it: the shape the embedded store gives for each event name. */
export function statsRow(doc: Partial<StatsDoc>): RunStatsRow {
  const event = doc.event ?? '';
  const metricLike = event === 'metric' || event === 'start';
  return {
    run: doc.run ?? 0,
    event,
    key: doc.key ?? '',
    last: readValue(doc.last, doc.lastEnc === 'json'),
    lastDt: typeof doc.lastDt === 'number' ? doc.lastDt : NaN,
    lastStep: metricLike && typeof doc.lastStep === 'number' ? doc.lastStep : null,
    min: metricLike && typeof doc.min === 'number' ? doc.min : null,
    max: metricLike && typeof doc.max === 'number' ? doc.max : null,
    count: typeof doc.count === 'number' ? doc.count : 0,
    ...(event === 'metric' && typeof doc.sum === 'number' && typeof doc.finite === 'number'
      ? { sum: doc.sum, finite: doc.finite }
      : {}),
    node: event === 'start' ? (doc.node ?? '') : '',
    userid: event === 'start' ? (doc.userid ?? '') : '',
  };
}
