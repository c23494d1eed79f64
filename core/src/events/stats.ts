import type { EventLog } from '../store/Store';
import { MAX_DATE_MS } from './time';
import type {
  EventColumnBatch,
  MetricSummary,
  ResolvedQuery,
  RunInfo,
  RunStatus,
  TrackingEvent,
} from './types';

/**
 * Builds the run list from start and stop events (sorted by time). A run's status is that of
 * its last stop event; a run with a start and no stop is STARTED. A stored time that is not a
 * valid Date (written before such times were refused) gives no start or stop time and so no
 * duration, rather than an Invalid Date that fails whoever formats it.
 */
export function runsFromEvents(events: readonly TrackingEvent[], now = Date.now()): RunInfo[] {
  const runs = new Map<number, RunInfo>();
  for (const e of events) {
    let info = runs.get(e.run);
    if (!info) {
      info = {
        run: e.run,
        status: 'STARTED',
        started: undefined,
        stopped: undefined,
        duration: undefined,
        node: undefined,
        userid: undefined,
      };
      runs.set(e.run, info);
    }
    const time = Number.isNaN(e.dt.getTime()) ? undefined : e.dt;
    if (e.event === 'start') {
      info.started ??= time;
      info.node ??= e.node;
      info.userid ??= e.userid;
      const parent = (e.value as { parent?: unknown } | null)?.parent;
      if (typeof parent === 'number') info.parent ??= parent;
    } else if (e.event === 'stop') {
      info.stopped = time;
      info.status = stopStatus(e.value);
    }
  }
  for (const info of runs.values()) {
    // a stopped run whose stop time is unknown has no duration (not one that keeps growing)
    const end = info.stopped?.getTime() ?? (info.status === 'STARTED' ? now : undefined);
    if (info.started && end !== undefined) info.duration = end - info.started.getTime();
  }
  return [...runs.values()].sort((a, b) => a.run - b.run);
}

/** The status a stop event records (`{ status: 'FAILED' }`), STOPPED when it says nothing else. */
export function stopStatus(value: unknown): RunStatus {
  const status = (value as { status?: unknown } | null)?.status;
  return status === 'FAILED' ? 'FAILED' : 'STOPPED';
}

/** The q-quantile of sorted numbers by linear interpolation (what pandas and numpy do by default). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  return interpolate(sorted[lo], sorted[Math.ceil(pos)], pos - lo);
}

/** `frac` of the way from `lo` to `hi`; exact at the ends, and no overflow between ±1.8e308. */
function interpolate(lo: number, hi: number, frac: number): number {
  if (frac === 0) return lo;
  const v = lo + (hi - lo) * frac;
  return Number.isFinite(v) ? v : lo * (1 - frac) + hi * frac;
}

/**
 * The numbers of one run and key as a summary collects them: every numeric value is counted,
 * the finite ones are kept in a growing typed array (8 bytes each, no boxing) for the statistics.
 */
class Series {
  count = 0;
  finite = 0;
  values = new Float64Array(1024);
  last: number | undefined = undefined;
  private lastTime = -Infinity;

  constructor(
    readonly run: number,
    readonly event: string,
    readonly key: string,
  ) {}

  /**
   * Takes the events `from` to `to` (exclusive) of a column batch, all of this series: the numbers
   * among them (`numeric`, undefined when all are), in one tight loop.
   */
  addRange(
    values: Float64Array,
    times: Float64Array,
    numeric: Uint8Array | undefined,
    from: number,
    to: number,
  ): void {
    if (this.finite + (to - from) > this.values.length) {
      const grown = new Float64Array(Math.max(this.finite + (to - from), this.values.length * 2));
      grown.set(this.values.subarray(0, this.finite));
      this.values = grown;
    }
    const out = this.values;
    let finite = this.finite;
    let count = 0;
    let last = this.last;
    let lastTime = this.lastTime;
    for (let i = from; i < to; i++) {
      if (numeric !== undefined && numeric[i] === 0) continue;
      const v = values[i];
      count++;
      if (v - v === 0) out[finite++] = v;
      const time = times[i];
      const t = time >= -MAX_DATE_MS && time <= MAX_DATE_MS ? time : Infinity;
      if (t >= lastTime) {
        lastTime = t;
        last = v;
      }
    }
    this.count += count;
    this.finite = finite;
    this.last = last;
    this.lastTime = lastTime;
  }

  /** Takes one numeric value logged at `time` (epoch ms as stored; NaN or out of range = invalid). */
  add(value: number, time: number): void {
    this.count++;
    // v - v is 0 exactly for finite v (NaN - NaN and Infinity - Infinity are NaN)
    if (value - value === 0) {
      if (this.finite === this.values.length) {
        const grown = new Float64Array(this.values.length * 2);
        grown.set(this.values);
        this.values = grown;
      }
      this.values[this.finite++] = value;
    }
    // the latest value by time, ties to the later one; invalid times count as latest, as they sort
    const t = time >= -MAX_DATE_MS && time <= MAX_DATE_MS ? time : Infinity;
    if (t >= this.lastTime) {
      this.lastTime = t;
      this.last = value;
    }
  }
}

/** The series of `run`/`event`/`key` in `groups`, created on first use. */
function seriesOf(groups: Map<string, Series>, run: number, event: string, key: string): Series {
  const id = `${run}\u0000${event}\u0000${key}`;
  let series = groups.get(id);
  if (!series) groups.set(id, (series = new Series(run, event, key)));
  return series;
}

/** Sum of finite numbers with Neumaier's compensation: millions of values keep their precision. */
function compensatedSum(values: Float64Array): number {
  let sum = 0;
  let compensation = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    const t = sum + v;
    compensation += Math.abs(sum) >= Math.abs(v) ? sum - t + v : v - t + sum;
    sum = t;
  }
  return sum + compensation;
}

function swap(a: Float64Array, i: number, j: number): void {
  const t = a[i];
  a[i] = a[j];
  a[j] = t;
}

/**
 * Moves the k-th smallest of `a[left..right]` to `a[k]`, smaller ones before it and larger ones
 * after: Floyd and Rivest's selection, which first narrows the range to where a sample says the
 * k-th lies. Linear on average (5,000,000 numbers in tens of milliseconds, where sorting them
 * takes most of a second); a range that keeps failing to shrink is sorted instead.
 */
function select(a: Float64Array, k: number, left: number, right: number): void {
  let rounds = 0;
  const maxRounds = 64 + 4 * Math.ceil(Math.log2(right - left + 2));
  while (right > left) {
    if (++rounds > maxRounds) {
      a.subarray(left, right + 1).sort();
      return;
    }
    const n = right - left + 1;
    if (n > 600) {
      // select within a sample-sized window around where the k-th is expected: a good pivot
      const m = k - left + 1;
      const z = Math.log(n);
      const s = 0.5 * Math.exp((2 * z) / 3);
      const sd = 0.5 * Math.sqrt((z * s * (n - s)) / n) * (m < n / 2 ? -1 : 1);
      select(
        a,
        k,
        Math.max(left, Math.floor(k - (m * s) / n + sd)),
        Math.min(right, Math.floor(k + ((n - m) * s) / n + sd)),
      );
    }
    const pivot = a[k];
    let i = left;
    let j = right;
    swap(a, left, k);
    if (a[right] > pivot) swap(a, left, right);
    while (i < j) {
      swap(a, i, j);
      i++;
      j--;
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
    }
    // the pivot goes to j: [left..j-1] <= pivot <= [j+1..right]
    if (a[left] === pivot) swap(a, left, j);
    else swap(a, ++j, right);
    if (j <= k) left = j + 1;
    if (k <= j) right = j - 1;
  }
}

/** The values at sorted positions `ks` (ascending) of `a`, which is reordered on the way. */
function orderStatistics(
  a: Float64Array,
  ks: number[],
  left: number,
  right: number,
  out: Map<number, number>,
): void {
  if (ks.length === 0) return;
  const middle = ks[ks.length >> 1];
  select(a, middle, left, right);
  out.set(middle, a[middle]);
  orderStatistics(
    a,
    ks.filter((k) => k < middle),
    left,
    middle - 1,
    out,
  );
  orderStatistics(
    a,
    ks.filter((k) => k > middle),
    middle + 1,
    right,
    out,
  );
}

const QUARTILES = [0.25, 0.5, 0.75];

/** Mean, std, min, quartiles and max of finite numbers (reordered in place for the quartiles). */
function statistics(
  values: Float64Array,
): Pick<MetricSummary, 'mean' | 'std' | 'min' | 'p25' | 'p50' | 'p75' | 'max'> {
  const n = values.length;
  if (n === 0) return { mean: NaN, std: NaN, min: NaN, p25: NaN, p50: NaN, p75: NaN, max: NaN };
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
  let mean = compensatedSum(values) / n;
  // values near ±1.8e308 overflow a sum: then they are scaled down first (rarely worth the cost)
  const scale = Number.isFinite(mean) ? 1 : Math.max(Math.abs(min), Math.abs(max));
  if (scale !== 1) mean = compensatedSum(values.map((v) => v / scale)) * (scale / n);
  let squares = 0;
  for (let i = 0; i < n; i++) squares += (values[i] - mean) ** 2;
  let std = n > 1 ? Math.sqrt(squares / (n - 1)) : 0;
  if (!Number.isFinite(std)) {
    const spread = Math.max(Math.abs(min), Math.abs(max));
    squares = 0;
    for (let i = 0; i < n; i++) squares += (values[i] / spread - mean / spread) ** 2;
    std = Math.sqrt(squares / (n - 1)) * spread;
  }
  const positions = QUARTILES.map((q) => (n - 1) * q);
  const ks = [...new Set(positions.flatMap((p) => [Math.floor(p), Math.ceil(p)]))].sort((a, b) => a - b);
  const at = new Map<number, number>();
  orderStatistics(values, ks, 0, n - 1, at);
  const [p25, p50, p75] = positions.map((p) => {
    return interpolate(at.get(Math.floor(p))!, at.get(Math.ceil(p))!, p - Math.floor(p));
  });
  return { mean, std, min, p25, p50, p75, max };
}

function finish(groups: Map<string, Series>, runs: readonly RunInfo[]): MetricSummary[] {
  const durations = new Map(runs.map((r) => [r.run, r.duration]));
  const out: MetricSummary[] = [];
  for (const g of groups.values()) {
    // a key whose events in a column batch held no number has a series with nothing in it
    if (g.count === 0) continue;
    out.push({
      run: g.run,
      event: g.event,
      key: g.key,
      count: g.count,
      finite: g.finite,
      ...statistics(g.values.subarray(0, g.finite)),
      last: g.last,
      duration: durations.get(g.run),
    });
  }
  return out.sort((a, b) => a.run - b.run || a.event.localeCompare(b.event) || a.key.localeCompare(b.key));
}

/**
 * Per run and key of numeric events: `count` (every numeric value, NaN and ±Infinity included),
 * `finite` (the finite ones), and from those the mean, sample standard deviation (0 for a single
 * value), min, quartiles and max; plus the last value logged and the run's duration. The
 * statistics use the finite values only, so one diverged step does not blank out a whole run.
 */
export function summarize(events: readonly TrackingEvent[], runs: readonly RunInfo[]): MetricSummary[] {
  const groups = new Map<string, Series>();
  for (const e of events)
    if (typeof e.value === 'number') seriesOf(groups, e.run, e.event, e.key).add(e.value, e.dt.getTime());
  return finish(groups, runs);
}

/** Adds the numbers of a column batch to their series. */
function addBatch(groups: Map<string, Series>, b: EventColumnBatch): void {
  const { event: events, key: keys, length, names } = b;
  const width = names.length;
  const inBatch = new Map<number, Series>();
  // events of one key come in stretches (a chunk often holds a single key): a stretch at a time
  for (let i = 0; i < length;) {
    const event = events[i];
    const key = keys[i];
    let end = i + 1;
    while (end < length && events[end] === event && keys[end] === key) end++;
    const pair = event * width + key;
    let series = inBatch.get(pair);
    if (!series) inBatch.set(pair, (series = seriesOf(groups, b.run, names[event], names[key])));
    series.addRange(b.values, b.dt, b.numeric, i, end);
    i = end;
  }
}

/**
 * `summarize` over events read column by column (`EventLog.queryColumns`): the same figures
 * (up to floating-point rounding, as the values are added in another order) without an object
 * per event, so a run of millions of metrics is summarized in typed arrays.
 */
export async function summarizeColumns(
  batches: AsyncIterable<EventColumnBatch>,
  runs: readonly RunInfo[],
): Promise<MetricSummary[]> {
  const groups = new Map<string, Series>();
  for await (const batch of batches) addBatch(groups, batch);
  return finish(groups, runs);
}

/**
 * The summary of the events `query` selects in `log`: column by column where the log can read
 * that way and the query has no `limit`/`offset` (a window over rows sorted by time), else from
 * the rows of `queryEvents`.
 */
export async function summarizeLog(
  log: EventLog,
  experiment: string,
  query: ResolvedQuery,
  runs: readonly RunInfo[],
): Promise<MetricSummary[]> {
  if (log.queryColumns && query.limit === undefined && query.offset === undefined)
    return summarizeColumns(log.queryColumns(experiment, query), runs);
  return summarize(await log.queryEvents(experiment, query), runs);
}
