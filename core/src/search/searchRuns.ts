import { TrackingInputError } from '../errors/TrackingInputError';
import type { ResolvedQuery, RunInfo } from '../events/types';
import type { EventLog } from '../store/Store';
import { matchesRunFilter, sortRuns } from './matchRuns';
import { parseRunFilter, parseRunOrder } from '../filter/runFilter';
import type { RunFilter, RunOrderKey } from '../filter/runFilter';
import { RUN_TABLE_EVENTS, runTableFromEvents, runTableFromStats } from './runTable';

/** What `runs()` takes besides the run selection: an MLflow-style filter, an ordering, a page. */
export interface RunSearch {
  /** MLflow's search syntax: `metrics.acc > 0.9 AND params.lr = '0.01'` (see parseRunFilter). */
  filter?: string;
  /** `['metrics.acc DESC', 'start_time']`; default: by run number. */
  orderBy?: string | readonly string[];
  /** At most this many runs (after filter and order). */
  limit?: number;
  /** Skip this many first. */
  offset?: number;
}

/** A search parsed and checked up front, so that a bad filter fails before any read. */
export interface ParsedRunSearch {
  filter: RunFilter;
  order: RunOrderKey[];
  limit: number | undefined;
  offset: number;
}

function count(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    throw new TrackingInputError(
      `${name} must be a whole number of at least 0, got ${JSON.stringify(value) ?? typeof value}`,
    );
  return value;
}

/** Parses the filter and ordering of a search and checks its page; TrackingInputError (FilterSyntaxError) when bad. */
export function parseRunSearch(search: RunSearch): ParsedRunSearch {
  return {
    filter: parseRunFilter(search.filter),
    order: parseRunOrder(search.orderBy),
    limit: count(search.limit, 'limit'),
    offset: count(search.offset, 'offset') ?? 0,
  };
}

/** Filters, orders and pages a run table. */
export function searchRunTable<T extends RunInfo>(table: T[], search: ParsedRunSearch): T[] {
  const matched = search.filter.all.length ? table.filter((r) => matchesRunFilter(r, search.filter)) : table;
  const ordered = sortRuns(matched, search.order);
  return search.limit === undefined && search.offset === 0
    ? ordered
    : ordered.slice(search.offset, search.limit === undefined ? undefined : search.offset + search.limit);
}

/** The test of whether a run is among those a resolved query selects. */
export function runSelector(runs: ResolvedQuery['runs']): (run: number) => boolean {
  if (runs === undefined) return () => true;
  if (!Array.isArray(runs)) return (run) => run >= runs.from && run <= runs.to;
  const set = new Set(runs);
  return (run) => set.has(run);
}

/**
 * The run table of an experiment from its log: from the aggregates where the log keeps them
 * (plus, read from their events, runs written before it did), else from the events. Runs with
 * events the log does not hold yet (a team server's spool) say how many as `pending`.
 */
export async function readRunTable(
  log: EventLog,
  experiment: string,
  runs: ResolvedQuery['runs'],
  now = Date.now(),
): Promise<RunInfo[]> {
  const table = await readStoredRunTable(log, experiment, runs, now);
  const pending = log.pendingEvents?.(experiment);
  if (pending?.size) for (const r of table) if (pending.has(r.run)) r.pending = pending.get(r.run);
  return table;
}

async function readStoredRunTable(
  log: EventLog,
  experiment: string,
  runs: ResolvedQuery['runs'],
  now: number,
): Promise<RunInfo[]> {
  if (!log.runStats) {
    const events = await log.queryEvents(experiment, { runs, events: [...RUN_TABLE_EVENTS] });
    return runTableFromEvents(events, now);
  }
  // a short list of runs is read run by run; anything else whole, then narrowed
  const few = Array.isArray(runs) && runs.length <= 16 ? runs : undefined;
  const { rows, unaggregated } = await log.runStats(experiment, few);
  const selects = runSelector(runs);
  const wanted = runs === undefined || few ? rows : rows.filter((r) => selects(r.run));
  const table = runTableFromStats(wanted, now);
  const legacy = unaggregated.filter(selects);
  if (legacy.length === 0) return table;
  const events = await log.queryEvents(experiment, { runs: legacy, events: [...RUN_TABLE_EVENTS] });
  return [...table, ...runTableFromEvents(events, now)].sort((a, b) => a.run - b.run);
}
