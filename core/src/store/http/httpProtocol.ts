/**
 * The wire format of the team server's API v1 (docs/http-api.md): the columnar event batch,
 * entries and the start event as JSON. Isomorphic: no Node module, so the browser client uses
 * the same code.
 */
import { TrackingError } from '../../errors/TrackingError';
import { pendingEventOf } from '../../events/pendingEvent';
import type { PendingEvent, TrackingEvent } from '../../events/types';
import { decodeValue, encodeValue } from '../../events/valueCodec';
import type { MetadataEntry } from '../Store';

/** The API's path prefix. */
export const API_PREFIX = '/api/v1';

/** Most events one batch holds: encoding one takes a few ms, so no append blocks the event loop long. */
export const MAX_BATCH_EVENTS = 5000;

/** A batch id: the spool's id and the batch's sequence number, unique per content forever. */
export function batchId(spoolId: string, seq: number): string {
  return `${spoolId}-${String(seq).padStart(6, '0')}`;
}

/** The columns of a batch as the server takes and gives them. */
interface BatchColumns {
  strings: string[];
  run: number[];
  event: number[];
  key: number[];
  value: unknown[];
  step: Array<number | null>;
  dt: number[];
  node: number[];
  userid: number[];
  extra?: Array<Record<string, unknown> | null>;
}

/**
 * Events as the columns of a batch, JSON text without its `batch` id (added when it is sent:
 * see `withBatchId`); non-finite numbers tagged as valueCodec does. Strings (names, keys, nodes,
 * users) are written once each.
 */
export function encodeBatchColumns(events: readonly PendingEvent[]): string {
  const { columns, tagged } = batchColumns(events.length, (i) => events[i]);
  // steps and times are finite (validated when logged): a batch of plain numbers is plain JSON
  return tagged ? encodeValue(columns) : JSON.stringify(columns);
}

/**
 * Events read back, as the columns of one line of an events stream (the server's answer to a
 * query): the same shape as a batch, extra fields split off the base fields again.
 */
export function eventColumns(events: readonly TrackingEvent[]): Record<string, unknown> {
  return batchColumns(events.length, (i) => pendingEventOf(events[i])).columns as unknown as Record<
    string,
    unknown
  >;
}

/**
 * The columns of `n` events, event i given by `row(i)`; strings (names, keys, nodes, users) are
 * written once each. `tagged`: whether a value or extra field may hold a non-finite number.
 */
function batchColumns(
  n: number,
  row: (i: number) => PendingEvent,
): { columns: BatchColumns; tagged: boolean } {
  const strings: string[] = [];
  const index = new Map<string, number>();
  const intern = (s: string): number => {
    let i = index.get(s);
    if (i === undefined) {
      i = strings.length;
      strings.push(s);
      index.set(s, i);
    }
    return i;
  };
  const cols: BatchColumns = {
    strings,
    run: new Array<number>(n),
    event: new Array<number>(n),
    key: new Array<number>(n),
    value: new Array<unknown>(n),
    step: new Array<number | null>(n),
    dt: new Array<number>(n),
    node: new Array<number>(n),
    userid: new Array<number>(n),
  };
  let extras: Array<Record<string, unknown> | null> | undefined;
  let tagged = false;
  for (let i = 0; i < n; i++) {
    const e = row(i);
    const v = e.value;
    if (typeof v === 'number' ? !Number.isFinite(v) : typeof v === 'object' && v !== null) tagged = true;
    cols.run[i] = e.run;
    cols.event[i] = intern(e.event);
    cols.key[i] = intern(e.key);
    cols.value[i] = v === undefined ? null : v;
    cols.step[i] = e.step;
    cols.dt[i] = e.dt;
    cols.node[i] = intern(e.node);
    cols.userid[i] = intern(e.userid);
    if (e.extra !== undefined && Object.keys(e.extra).length) {
      extras ??= new Array<Record<string, unknown> | null>(n).fill(null);
      extras[i] = e.extra;
      tagged = true;
    }
  }
  if (extras) cols.extra = extras;
  return { columns: cols, tagged };
}

/** The body of a batch: its columns' text with the id in front. */
export function withBatchId(columns: string, id: string): string {
  return `{"batch":${JSON.stringify(id)},${columns.slice(1)}`;
}

function fail(what: string): never {
  throw new TrackingError(`the server sent a malformed answer: ${what}`);
}

/** The rows of a decoded batch (a line of an events stream), as TrackingEvents of `experiment`. */
export function decodeBatchRows(
  experiment: string,
  batch: unknown,
  out: TrackingEvent[] = [],
): TrackingEvent[] {
  const b = batch as Partial<BatchColumns> | null;
  if (!b || !Array.isArray(b.strings) || !Array.isArray(b.run)) fail('a batch without strings or runs');
  const { strings: s, run, event, key, value, step, dt, node, userid, extra } = b as BatchColumns;
  const n = run.length;
  for (const col of [event, key, value, step, dt, node, userid])
    if (!Array.isArray(col) || col.length !== n) fail('batch columns of different lengths');
  for (let i = 0; i < n; i++) {
    const row: TrackingEvent = {
      experiment,
      run: run[i],
      event: s[event[i]],
      key: s[key[i]],
      value: value[i],
      step: step[i],
      dt: new Date(dt[i]),
      node: s[node[i]],
      userid: s[userid[i]],
    };
    const x = extra?.[i];
    if (x) Object.assign(row, x);
    out.push(row);
  }
  return out;
}

/** One line of an events stream: a batch, or the end line with the row count. */
export function decodeStreamLine(line: string): { end: number } | { batch: unknown } {
  const v = decodeValue(line) as { end?: unknown; count?: unknown };
  if (v && v.end === true) return { end: typeof v.count === 'number' ? v.count : -1 };
  return { batch: v };
}

/** An entry as JSON text: times as epoch ms, non-finite numbers in its data tagged. */
export function encodeEntry(entry: MetadataEntry): string {
  return encodeValue({
    name: entry.name,
    kind: entry.kind,
    attributes: entry.attributes,
    ...(entry.data === undefined ? {} : { data: entry.data }),
    ...(entry.blob === undefined ? {} : { blob: entry.blob }),
    created: entry.created.getTime(),
    modified: entry.modified.getTime(),
  });
}

/** An entry from its decoded JSON. */
export function decodeEntry(json: unknown): MetadataEntry {
  const e = json as Partial<Record<keyof MetadataEntry, unknown>> | null;
  if (!e || typeof e.name !== 'string' || typeof e.kind !== 'string') fail('an entry without name or kind');
  const entry: MetadataEntry = {
    name: e.name,
    kind: e.kind,
    attributes: (e.attributes ?? {}) as Record<string, unknown>,
    created: new Date(e.created as number),
    modified: new Date(e.modified as number),
  };
  if (e.data !== undefined && e.data !== null) entry.data = e.data;
  if (typeof e.blob === 'string') entry.blob = e.blob;
  return entry;
}

/** The body of `POST …/runs`: the start event (run left out), the least number and the request id. */
export function encodeStartRun(
  start: Omit<PendingEvent, 'run'>,
  atLeast: number | undefined,
  request: string,
): string {
  return encodeValue({
    start: {
      event: start.event,
      key: start.key,
      value: start.value === undefined ? null : start.value,
      step: start.step,
      dt: start.dt,
      node: start.node,
      userid: start.userid,
      extra: start.extra ?? null,
    },
    ...(atLeast === undefined ? {} : { atLeast }),
    request,
  });
}
