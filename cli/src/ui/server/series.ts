/**
 * Reading long series for charts: column by column from the store (typed arrays, no object per
 * event), put in x order once and kept in a bounded cache until the run's data changes; from the
 * provider's rows (`data()`) where the events are not in the store (MLflow).
 */
import type { EventColumnBatch, Store, TrackingEvent, TrackingProvider } from '@omega-track/core';
import type { RangeSeries } from './downsample';

/** A series as read and cached: arrays of x and y, or a range series (x counting up by one). */
export type Series = Points | RangeSeries;

/** Whether a series is a range series. */
export function isRange(s: Series): s is RangeSeries {
  return 'segments' in s;
}

/** What a chart's x axis shows: the step, the time (ms since the epoch), or the time since the run's start. */
export type XMode = 'step' | 'time' | 'relative';

/** The points of one series of one run: x and value of each, the non-finite values too. */
export interface Points {
  x: Float64Array;
  y: Float64Array;
  /** True when every x and y is known to be finite (the downsampler then need not look). */
  finite?: boolean;
}

/** Where an experiment's events are read from. */
export interface SeriesSource {
  experiment: string;
  /** The provider that reads the experiment. */
  reader: TrackingProvider;
  /** The store, when the experiment's events are in it (read column-wise); else rows of `reader.data()`. */
  store: Store | undefined;
}

/**
 * The x of an event: its step — an event without one counts as its position `at` in the series —
 * or its time.
 */
function xOf(mode: 'step' | 'time', step: number, dt: number, at: number): number {
  return mode === 'time' ? dt : Number.isNaN(step) ? at : step;
}

/** Columns of x and y that grow as points come. */
class Growing {
  x: Float64Array;
  y: Float64Array;
  n = 0;

  constructor(capacity = 256) {
    this.x = new Float64Array(capacity);
    this.y = new Float64Array(capacity);
  }

  /** Makes room for `more` points. */
  reserve(more: number): void {
    if (this.n + more <= this.x.length) return;
    const size = Math.max(this.n + more, this.x.length * 2);
    const nx = new Float64Array(size);
    const ny = new Float64Array(size);
    nx.set(this.x.subarray(0, this.n));
    ny.set(this.y.subarray(0, this.n));
    this.x = nx;
    this.y = ny;
  }

  push(x: number, y: number): void {
    if (this.n === this.x.length) this.reserve(1);
    this.x[this.n] = x;
    this.y[this.n++] = y;
  }

  /** The points, in arrays of their own size (a cache holds them: no room left unused). */
  points(): Points {
    return this.n === this.x.length
      ? { x: this.x, y: this.y }
      : { x: this.x.slice(0, this.n), y: this.y.slice(0, this.n) };
  }
}

/**
 * The numbers logged as `event`/`key` in `run`, column-wise from the store: x (by `mode`) and
 * value of each numeric event, in logging order. The batches are held as they come (their
 * values are views of the store's bytes) and copied once into arrays of the series' length; steps
 * that count up by one (`stepStart`) are written straight into x, never made as a column first.
 */
async function readColumns(
  store: Store,
  experiment: string,
  run: number,
  event: string,
  key: string,
  mode: 'step' | 'time',
): Promise<RangeSeries | (Points & { sorted?: boolean })> {
  const batches: EventColumnBatch[] = [];
  let total = 0;
  for await (const b of store.queryColumns!(experiment, { runs: [run], events: [event], keys: [key] })) {
    batches.push(b);
    total += b.length;
  }
  if (batches.length === 1 && !batches[0].numeric && mode === 'time')
    return { x: batches[0].dt, y: batches[0].values };
  return (mode === 'step' && asRange(batches, total)) || joinBatches(batches, total, mode);
}

/**
 * The batches as a range series, when their steps count up by one from batch to batch and every
 * value is a finite number (a training loop's metric): their values as they are, not joined.
 */
function asRange(batches: readonly EventColumnBatch[], total: number): RangeSeries | undefined {
  if (batches.length === 0) return undefined;
  let next = batches[0].stepStart;
  for (const b of batches) {
    if (b.numeric || b.stepStart === undefined || b.stepStart !== next) return undefined;
    next = b.stepStart + b.length;
    if (!allFinite(b.values)) return undefined;
  }
  return { x0: batches[0].stepStart!, segments: batches.map((b) => b.values), length: total };
}

function allFinite(values: Float64Array): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] - values[i] !== 0) return false;
  return true;
}

/**
 * The batches' points in arrays of the series' length, x by `mode`; also whether x is known to
 * ascend (steps counting up, batch after batch) and whether every y is finite.
 */
function joinBatches(
  batches: readonly EventColumnBatch[],
  total: number,
  mode: 'step' | 'time',
): Points & { sorted?: boolean } {
  const x = new Float64Array(total);
  const y = new Float64Array(total);
  let n = 0;
  // known while filling: x ascending (steps counting up, batch after batch) and y all finite
  let sorted = mode === 'step';
  let finite = true;
  let lastX = -Infinity;
  for (const b of batches) {
    const { numeric, values } = b;
    if (!numeric) {
      for (let i = 0; i < b.length; i++) {
        const v = values[i];
        y[n + i] = v;
        if (v - v !== 0) finite = false;
      }
      if (mode === 'time') x.set(b.dt, n);
      else if (b.stepStart !== undefined) {
        const first = b.stepStart;
        if (first < lastX) sorted = false;
        for (let i = 0; i < b.length; i++) x[n + i] = first + i;
        lastX = first + b.length - 1;
      } else {
        sorted = false;
        // an event without a step counts as its position in the series
        const step = b.step;
        for (let i = 0; i < b.length; i++) x[n + i] = step[i] === step[i] ? step[i] : n + i;
      }
      n += b.length;
      continue;
    }
    sorted = false;
    // some values are no numbers (a text logged under the key): those are no points of the line
    const { step, dt } = b;
    for (let i = 0; i < b.length; i++)
      if (numeric[i]) {
        x[n] = xOf(mode, step[i], dt[i], n);
        y[n++] = values[i];
      }
  }
  if (n < total) return { x: x.slice(0, n), y: y.slice(0, n) };
  return sorted ? { x, y, finite, sorted } : { x, y };
}

/** The same from rows of the provider (logs without columns, e.g. MLflow's). */
function rowsToSeries(rows: readonly TrackingEvent[], mode: 'step' | 'time'): Points {
  const numeric = rows.filter((r) => typeof r.value === 'number');
  const x = new Float64Array(numeric.length);
  const y = new Float64Array(numeric.length);
  numeric.forEach((r, i) => {
    x[i] = xOf(mode, r.step ?? NaN, r.dt.getTime(), i);
    y[i] = r.value as number;
  });
  return { x, y };
}

/**
 * `s` (in logging order) in x order. Points without a valid x (a time a Date cannot hold) are
 * left out. Sorted only when not in order already (steps and times usually grow as they are
 * logged); ties keep logging order.
 */
export function toSorted(s: Points): Points {
  const { x, y } = s;
  const n = x.length;
  let valid = 0;
  let ordered = true;
  let finiteY = true;
  let previous = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (!Number.isFinite(v)) continue;
    valid++;
    if (v < previous) ordered = false;
    previous = v;
    if (finiteY && !Number.isFinite(y[i])) finiteY = false;
  }
  if (ordered && valid === n) return { x, y, finite: finiteY };
  const order = new Uint32Array(valid);
  for (let i = 0, k = 0; i < n; i++) if (Number.isFinite(x[i])) order[k++] = i;
  if (!ordered) order.sort((a, b) => x[a] - x[b] || a - b);
  const sx = new Float64Array(valid);
  const sy = new Float64Array(valid);
  for (let k = 0; k < valid; k++) {
    sx[k] = x[order[k]];
    sy[k] = y[order[k]];
  }
  return { x: sx, y: sy, finite: finiteY };
}

/** What a store tells of an experiment's (or a run's) events: see `changeMarkOf`. */
export interface ChangeMark {
  /** Changes whenever events are added or deleted. */
  mark: string;
  /** Runs with events. */
  runs: number;
  /** The latest time of the last written events (ms since the epoch). */
  lastDt: number | undefined;
}

/**
 * The change mark of `experiment` (or of one run) in `store`: the store's own cheap one
 * (`changeMark`, the embedded store's chunk index), else one made of the per-run aggregates
 * (their counts change with every event written, and a deleted run takes its rows along),
 * else undefined: such a log is read anew every time and has no live updates.
 */
export async function changeMarkOf(
  store: Store | undefined,
  experiment: string,
  run?: number,
): Promise<ChangeMark | undefined> {
  if (!store) return undefined;
  if (store.changeMark) return store.changeMark(experiment, run);
  if (!store.runStats) return undefined;
  const { rows, unaggregated } = await store.runStats(experiment, run === undefined ? undefined : [run]);
  // runs written before the store kept aggregates change unseen: they are not marked at all
  if (unaggregated.length) return undefined;
  let events = 0;
  let lastDt: number | undefined;
  const runs = new Set<number>();
  for (const r of rows) {
    events += r.count;
    runs.add(r.run);
    if (lastDt === undefined || r.lastDt > lastDt) lastDt = r.lastDt;
  }
  return { mark: `stats:${rows.length}:${events}:${lastDt ?? ''}`, runs: runs.size, lastDt };
}

/** The first index whose x is >= `v` (x ascending). */
export function lowerBound(x: Float64Array, v: number): number {
  let lo = 0;
  let hi = x.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x[mid] < v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first index whose x is > `v` (x ascending). */
export function upperBound(x: Float64Array, v: number): number {
  let lo = 0;
  let hi = x.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (x[mid] <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The part of `s` with `from <= x <= to` (either open), as views (no copy). */
export function sliceRange(s: Points, from: number | undefined, to: number | undefined): Points {
  const start = from === undefined ? 0 : lowerBound(s.x, from);
  const end = to === undefined ? s.x.length : upperBound(s.x, to);
  if (start === 0 && end === s.x.length) return s;
  const stop = Math.max(start, end);
  return { x: s.x.subarray(start, stop), y: s.y.subarray(start, stop), finite: s.finite };
}

interface CacheEntry {
  mark: string;
  value: Series;
  bytes: number;
}

/** The memory a cached series holds: its arrays, or the stored chunks its values are views of. */
function bytesOf(s: Series): number {
  if (!isRange(s)) return s.x.byteLength + s.y.byteLength;
  const buffers = new Set<ArrayBufferLike>(s.segments.map((v) => v.buffer));
  let bytes = 0;
  for (const b of buffers) bytes += b.byteLength;
  return bytes;
}

/**
 * Decoded series by experiment, run, event, key and x order, up to a budget of bytes (least
 * recently used go first). An entry is good while the run's change mark is what it was; the
 * mark comes from the store (`changeMarkOf`), so logs without one are read every time.
 */
export class SeriesCache {
  private readonly entries = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<Series>>();
  private bytes = 0;

  constructor(private readonly budgetBytes = 256 * 1024 * 1024) {}

  /** Bytes held now. */
  get size(): number {
    return this.bytes;
  }

  /**
   * The series of `run` in `mode`'s order, from the cache when the run has not changed since,
   * else read (once, however many ask at the same time).
   */
  async series(
    source: SeriesSource,
    run: number,
    event: string,
    key: string,
    mode: 'step' | 'time',
  ): Promise<Series> {
    const id = JSON.stringify([source.experiment, run, event, key, mode]);
    const mark = (await changeMarkOf(source.store, source.experiment, run))?.mark;
    const hit = this.entries.get(id);
    if (hit && mark !== undefined && hit.mark === mark) {
      // most recently used last
      this.entries.delete(id);
      this.entries.set(id, hit);
      return hit.value;
    }
    const flightId = `${id}\u0000${mark ?? ''}`;
    let pending = this.inFlight.get(flightId);
    if (!pending) {
      pending = readSeries(source, run, event, key, mode).finally(() => this.inFlight.delete(flightId));
      this.inFlight.set(flightId, pending);
    }
    const value = await pending;
    if (mark !== undefined) this.put(id, { mark, value, bytes: bytesOf(value) });
    return value;
  }

  private put(id: string, entry: CacheEntry): void {
    const old = this.entries.get(id);
    if (old) {
      this.bytes -= old.bytes;
      this.entries.delete(id);
    }
    if (entry.bytes > this.budgetBytes) return;
    this.entries.set(id, entry);
    this.bytes += entry.bytes;
    for (const [key, e] of this.entries) {
      if (this.bytes <= this.budgetBytes) break;
      this.entries.delete(key);
      this.bytes -= e.bytes;
    }
  }

  /** Forgets everything. */
  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

/** Reads one series of a run in x order: column-wise from the store, else from the provider's rows. */
export async function readSeries(
  source: SeriesSource,
  run: number,
  event: string,
  key: string,
  mode: 'step' | 'time',
): Promise<Series> {
  if (source.store?.queryColumns !== undefined) {
    const read = await readColumns(source.store, source.experiment, run, event, key, mode);
    if (isRange(read)) return read;
    // in x order already, as the read saw: no pass over a million points to find out
    return read.sorted ? { x: read.x, y: read.y, finite: read.finite } : toSorted(read);
  }
  return toSorted(rowsToSeries(await source.reader.data({ run, event, key }), mode));
}

/** The numeric profile series of a run (x: time in ms since the epoch), by key. */
export type ProfileSeries = Map<string, Points>;

/**
 * The numeric `profile` events of a run (cpu_load, memory_used, gpu_util, …) by key, over time.
 * GPU keys are logged once per device (extra field `gpu`): with more than one device, each has
 * its own series, `gpu_util[1]`. Read column-wise where the store can; GPU keys (few samples,
 * and the device is an extra field that columns do not carry) and other logs from rows.
 */
export async function readProfile(source: SeriesSource, run: number): Promise<ProfileSeries> {
  const byKey = new Map<string, Growing>();
  const grow = (key: string): Growing => {
    let g = byKey.get(key);
    if (!g) byKey.set(key, (g = new Growing()));
    return g;
  };
  const gpuKeys = new Set<string>();
  const gpuRows: TrackingEvent[] = [];
  if (source.store?.queryColumns) {
    for await (const b of source.store.queryColumns(source.experiment, {
      runs: [run],
      events: ['profile'],
    })) {
      for (let i = 0; i < b.length; i++) {
        if (b.numeric && !b.numeric[i]) continue;
        const key = b.names[b.key[i]];
        if (key.startsWith('gpu_')) gpuKeys.add(key);
        else grow(key).push(b.dt[i], b.values[i]);
      }
    }
    // a run's profile rows are many: pushed one by one, never spread into the call's arguments
    if (gpuKeys.size)
      for (const row of await source.reader.data({ run, event: 'profile', key: [...gpuKeys] }))
        gpuRows.push(row);
  } else for (const row of await source.reader.data({ run, event: 'profile' })) gpuRows.push(row);
  // the device is the extra field `gpu`, a number as the profiler logs it
  const deviceOf = (r: TrackingEvent): number | string =>
    typeof r.gpu === 'number' || typeof r.gpu === 'string' ? r.gpu : 0;
  const devices = new Set<number | string>();
  for (const r of gpuRows) if (r.key.startsWith('gpu_')) devices.add(deviceOf(r));
  for (const r of gpuRows) {
    if (typeof r.value !== 'number') continue;
    const key = r.key.startsWith('gpu_') && devices.size > 1 ? `${r.key}[${deviceOf(r)}]` : r.key;
    grow(key).push(r.dt.getTime(), r.value);
  }
  const out: ProfileSeries = new Map();
  for (const key of [...byKey.keys()].sort()) out.set(key, toSorted(byKey.get(key)!.points()));
  return out;
}
