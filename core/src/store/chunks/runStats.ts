import { decodeValue, encodeValue } from '../../events/valueCodec';

/**
 * The events whose latest value (and, for metrics, min, max and count) a store keeps per run
 * and key as they are written, so that `runs()` reads one row per run and key instead of every
 * event (as MLflow keeps `latest_metrics`).
 */
export const STATS_EVENTS: ReadonlySet<string> = new Set([
  'start',
  'stop',
  'metric',
  'param',
  'tag',
  'name',
  'note',
]);

/** What one written batch adds to the aggregate of one run, event and key. */
export interface RunStatsDelta {
  event: string;
  key: string;
  /** The value with the latest time. */
  last: unknown;
  lastDt: number;
  lastStep: number | null;
  /** Smallest and largest finite numeric value, null when there is none. */
  min: number | null;
  max: number | null;
  /** Numeric values (metrics) or events (others). */
  count: number;
  /** Metrics: the sum of the finite values and how many there are (the mean is their ratio); 0 for others. */
  sum: number;
  finite: number;
  /** Who recorded the latest one (the start event's node and user are the run's). */
  node: string;
  userid: string;
}

/** One aggregate as a store reads it back. */
export interface RunStatsRow {
  run: number;
  event: string;
  key: string;
  last: unknown;
  lastDt: number;
  lastStep: number | null;
  min: number | null;
  max: number | null;
  count: number;
  /**
   * Metrics: the sum of the finite values and how many there are. Absent where the store's
   * aggregate was written before it kept them (runs() then reads that run from its events).
   */
  sum?: number;
  finite?: number;
  node: string;
  userid: string;
}

/**
 * How a run's aggregates are stored, one entry per event and key (JSON, non-finite numbers
 * kept), as short as each kind allows, because runs() parses them for every run: metrics
 * `[event, key, last, lastDt, lastStep, min, max, count, sum, finite]` (sum and finite count of the
 * finite values, for the mean; entries written before they were kept end at count), the start
 * event `[event, key, last, lastDt, lastStep, min, max, count, node, userid]`, everything else
 * `[event, key, last, lastDt, count]`.
 */
type StatsEntry =
  | [event: string, key: string, last: unknown, lastDt: number, count: number]
  | [
      event: string,
      key: string,
      last: unknown,
      lastDt: number,
      lastStep: number | null,
      min: number | null,
      max: number | null,
      count: number,
      nodeOrSum?: string | number,
      useridOrFinite?: string | number,
    ];

/** Whether a metric entry keeps its running sum (entries written before it was kept do not). */
function hasSums(e: StatsEntry): boolean {
  return e.length === 10 && typeof e[8] === 'number' && typeof e[9] === 'number';
}

/** Where an entry keeps its count, by kind. */
function countAt(e: StatsEntry): number {
  return e.length === 5 ? 4 : 7;
}

function entryOf(d: RunStatsDelta): StatsEntry {
  if (d.event === 'metric')
    return [d.event, d.key, d.last, d.lastDt, d.lastStep, d.min, d.max, d.count, d.sum, d.finite];
  if (d.event === 'start')
    return [d.event, d.key, d.last, d.lastDt, d.lastStep, d.min, d.max, d.count, d.node, d.userid];
  return [d.event, d.key, d.last, d.lastDt, d.count];
}

/**
 * A run's stored aggregates (or none) with what newly written events add: the text to store, and
 * whether every metric entry keeps its running sum (`sums`: false when one was written before
 * sums were kept, and was not filled in since).
 */
export function mergeRunStats(
  before: string | undefined,
  deltas: readonly RunStatsDelta[],
): { text: string; sums: boolean } {
  const entries = before ? (decodeValue(before) as StatsEntry[]) : [];
  const index = new Map<string, StatsEntry>();
  for (const e of entries) index.set(`${e[0]}\u0000${e[1]}`, e);
  for (const d of deltas) {
    const id = `${d.event}\u0000${d.key}`;
    const e = index.get(id);
    if (!e) {
      const entry = entryOf(d);
      entries.push(entry);
      index.set(id, entry);
      continue;
    }
    // the latest by time; of equal times the later write
    const latest = d.lastDt >= e[3];
    if (latest) {
      e[2] = d.last;
      e[3] = d.lastDt;
    }
    const c = countAt(e);
    (e[c] as number) += d.count;
    if (e.length === 5) continue;
    if (latest) {
      e[4] = d.lastStep;
      if (e[0] === 'start') {
        e[8] = d.node;
        e[9] = d.userid;
      }
    }
    if (d.min !== null && (e[5] === null || d.min < e[5])) e[5] = d.min;
    if (d.max !== null && (e[6] === null || d.max > e[6])) e[6] = d.max;
    // an entry without its sum stays without: a partial sum would give a wrong mean
    if (e[0] === 'metric' && hasSums(e)) {
      (e[8] as number) += d.sum;
      (e[9] as number) += d.finite;
    }
  }
  return { text: encodeValue(entries), sums: entries.every((e) => e[0] !== 'metric' || hasSums(e)) };
}

/**
 * A run's stored aggregates with the running sum of every metric entry computed afresh from the
 * run's metric events (a store upgraded from before sums were kept fills them in once).
 */
export function addRunningSums(stats: string, metrics: Iterable<{ key: string; value: unknown }>): string {
  const sums = new Map<string, [sum: number, finite: number]>();
  for (const { key, value } of metrics) {
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    const s = sums.get(key);
    if (s) {
      s[0] += value;
      s[1]++;
    } else sums.set(key, [value, 1]);
  }
  const entries = decodeValue(stats) as StatsEntry[];
  for (const e of entries) {
    if (e[0] !== 'metric' || e.length === 5) continue;
    const [sum, finite] = sums.get(e[1]) ?? [0, 0];
    e.length = 10;
    e[8] = sum;
    e[9] = finite;
  }
  return encodeValue(entries);
}

/** The aggregates of runs as stored by `mergeRunStats`, as rows: one JSON parse for them all. */
export function decodeRunStats(runs: readonly number[], texts: readonly string[]): RunStatsRow[] {
  const rows: RunStatsRow[] = [];
  if (runs.length === 0) return rows;
  const all = decodeValue(`[${texts.join(',')}]`) as StatsEntry[][];
  all.forEach((entries, i) => {
    const run = runs[i];
    for (const e of entries) {
      if (e.length === 5) {
        rows.push({
          run,
          event: e[0],
          key: e[1],
          last: e[2],
          lastDt: e[3],
          lastStep: null,
          min: null,
          max: null,
          count: e[4],
          node: '',
          userid: '',
        });
        continue;
      }
      // a metric's entry ends in its sums (when written with them), any other's in its node and user
      const metric = e[0] === 'metric';
      const row: RunStatsRow = {
        run,
        event: e[0],
        key: e[1],
        last: e[2],
        lastDt: e[3],
        lastStep: e[4],
        min: e[5],
        max: e[6],
        count: e[7],
        node: !metric && typeof e[8] === 'string' ? e[8] : '',
        userid: !metric && typeof e[9] === 'string' ? e[9] : '',
      };
      if (metric && hasSums(e)) {
        row.sum = e[8] as number;
        row.finite = e[9] as number;
      }
      rows.push(row);
    }
  });
  return rows;
}
