import type { MetricAggregate, RunInfo, TrackingEvent } from '../events/types';
import { stopStatus } from '../events/stats';
import type { RunStatsRow } from '../store/chunks/runStats';
import { STATS_EVENTS } from '../store/chunks/runStats';

/** A run being put together from its aggregates. */
function emptyRun(run: number): RunInfo {
  return {
    run,
    status: 'STARTED',
    started: undefined,
    stopped: undefined,
    duration: undefined,
    node: undefined,
    userid: undefined,
    params: {},
    metrics: {},
    tags: {},
  };
}

function validDate(ms: number): Date | undefined {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** Folds one aggregate (latest value per event and key; metrics with min, max, mean, count) into its run. */
function apply(info: RunInfo, row: Omit<RunStatsRow, 'run'>): void {
  switch (row.event) {
    case 'start': {
      info.started = validDate(row.lastDt);
      info.node = row.node;
      info.userid = row.userid;
      const parent = (row.last as { parent?: unknown } | null)?.parent;
      if (typeof parent === 'number') info.parent = parent;
      return;
    }
    case 'stop': {
      info.stopped = validDate(row.lastDt);
      info.status = stopStatus(row.last);
      const error = (row.last as { error?: unknown } | null)?.error;
      if (info.status === 'FAILED' && error !== undefined)
        info.error = typeof error === 'string' ? error : JSON.stringify(error);
      return;
    }
    case 'param':
      info.params![row.key] = row.last;
      return;
    case 'tag':
      info.tags![row.key] = row.last;
      return;
    case 'name':
      info.name = String(row.last);
      return;
    case 'note':
      info.note = String(row.last);
      return;
    case 'metric': {
      if (row.count === 0) return;
      const metric: MetricAggregate = {
        last: typeof row.last === 'number' ? row.last : NaN,
        step: row.lastStep,
        min: row.min ?? NaN,
        max: row.max ?? NaN,
        mean: row.finite ? row.sum! / row.finite : NaN,
        count: row.count,
      };
      info.metrics![row.key] = metric;
    }
  }
}

/** Durations, and the optional fields left out where a run has none. */
function finish(info: RunInfo, now: number): RunInfo {
  const end = info.stopped?.getTime() ?? (info.status === 'STARTED' ? now : undefined);
  if (info.started && end !== undefined) info.duration = end - info.started.getTime();
  if (Object.keys(info.tags!).length === 0) delete info.tags;
  return info;
}

/**
 * The run table (`runs()`) from the aggregates a store keeps: number, status (with the error of a
 * FAILED run), parent, start, stop, duration, node, user, name, tags, note, the latest value of
 * each param, and per metric its last, min, max, mean and count. Sorted by run.
 */
export function runTableFromStats(rows: readonly RunStatsRow[], now = Date.now()): RunInfo[] {
  const runs = new Map<number, RunInfo>();
  for (const row of rows) {
    let info = runs.get(row.run);
    if (!info) runs.set(row.run, (info = emptyRun(row.run)));
    apply(info, row);
  }
  return [...runs.values()].sort((a, b) => a.run - b.run).map((r) => finish(r, now));
}

/**
 * The same table from events (logs that keep no aggregates, and runs written before the
 * embedded store kept them): what the aggregates hold, computed by reading the events.
 */
export function runTableFromEvents(events: readonly TrackingEvent[], now = Date.now()): RunInfo[] {
  const rows = new Map<string, RunStatsRow>();
  for (const e of events) {
    if (!STATS_EVENTS.has(e.event)) continue;
    const id = `${e.run}\u0000${e.event}\u0000${e.key}`;
    const dt = e.dt.getTime();
    const v = e.value;
    const finite = typeof v === 'number' && Number.isFinite(v);
    let row = rows.get(id);
    if (!row) {
      row = {
        run: e.run,
        event: e.event,
        key: e.key,
        last: v,
        lastDt: dt,
        lastStep: e.step,
        min: null,
        max: null,
        count: 0,
        sum: 0,
        finite: 0,
        node: e.node,
        userid: e.userid,
      };
      rows.set(id, row);
    } else if (dt >= row.lastDt || Number.isNaN(row.lastDt)) {
      row.last = v;
      row.lastDt = dt;
      row.lastStep = e.step;
      row.node = e.node;
      row.userid = e.userid;
    }
    if (e.event !== 'metric' || typeof v === 'number') row.count++;
    if (finite) {
      if (row.min === null || v < row.min) row.min = v;
      if (row.max === null || v > row.max) row.max = v;
      row.sum! += v;
      row.finite!++;
    }
  }
  return runTableFromStats([...rows.values()], now);
}

/** The events `runTableFromEvents` reads. */
export const RUN_TABLE_EVENTS: readonly string[] = [...STATS_EVENTS];
