import type { MetricSummary, RunInfo, RunStatus, TrackingEvent } from './types';

/**
 * Builds the run list from start and stop events (sorted by time). A run's status is that of
 * its last stop event; a run with a start and no stop is STARTED.
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
    if (e.event === 'start') {
      info.started ??= e.dt;
      info.node ??= e.node;
      info.userid ??= e.userid;
      const parent = (e.value as { parent?: unknown } | null)?.parent;
      if (typeof parent === 'number') info.parent ??= parent;
    } else if (e.event === 'stop') {
      info.stopped = e.dt;
      info.status = stopStatus(e.value);
    }
  }
  for (const info of runs.values()) {
    if (info.started) info.duration = (info.stopped?.getTime() ?? now) - info.started.getTime();
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
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Per run and key: count, mean, sample standard deviation (0 for a single value), min,
 * quartiles, max and the last value logged. `count` counts every numeric value; the statistics
 * use the finite ones, so one diverged step (NaN, ±Infinity) does not blank out a whole run.
 */
export function summarize(events: readonly TrackingEvent[], runs: readonly RunInfo[]): MetricSummary[] {
  const groups = new Map<
    string,
    { run: number; event: string; key: string; values: number[]; count: number; last: unknown }
  >();
  for (const e of events) {
    if (typeof e.value !== 'number') continue;
    const id = `${e.run}\u0000${e.event}\u0000${e.key}`;
    let g = groups.get(id);
    if (!g)
      groups.set(id, (g = { run: e.run, event: e.event, key: e.key, values: [], count: 0, last: undefined }));
    g.count++;
    g.last = e.value;
    if (Number.isFinite(e.value)) g.values.push(e.value);
  }
  const durations = new Map(runs.map((r) => [r.run, r.duration]));
  const out: MetricSummary[] = [];
  for (const g of groups.values()) {
    const sorted = [...g.values].sort((a, b) => a - b);
    const n = sorted.length;
    const mean = n ? sorted.reduce((s, v) => s + v, 0) / n : NaN;
    const variance = n > 1 ? sorted.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1) : 0;
    out.push({
      run: g.run,
      event: g.event,
      key: g.key,
      count: g.count,
      mean,
      std: n ? Math.sqrt(variance) : NaN,
      min: n ? sorted[0] : NaN,
      p25: quantile(sorted, 0.25),
      p50: quantile(sorted, 0.5),
      p75: quantile(sorted, 0.75),
      max: n ? sorted[n - 1] : NaN,
      last: g.last,
      duration: durations.get(g.run),
    });
  }
  return out.sort((a, b) => a.run - b.run || a.event.localeCompare(b.event) || a.key.localeCompare(b.key));
}
