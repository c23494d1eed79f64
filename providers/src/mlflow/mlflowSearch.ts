import type {
  FilterComparison,
  FilterLiteral,
  MetricAggregate,
  ParsedRunSearch,
  ResolvedQuery,
  RunInfo,
  RunOrderKey,
  RunStatus,
} from '@omega-track/core';
import { fieldValue, filterTime, matchesRunFilter, sortRuns } from '@omega-track/core/internal';
import type { MlflowClient } from './MlflowClient';
import type { MlflowRun, MlflowRunStatus } from './MlflowTypes';
import {
  OMEGA_TAGS,
  PARENT_RUN_TAG,
  RUN_NAME_TAG,
  RUN_NOTE_TAG,
  decodeMetricValue,
  valueFromText,
} from './mlflowMapping';

/**
 * How `runs({ filter, orderBy, limit })` of the `mlflow` provider asks MLflow's `runs/search`.
 *
 * Every comparison MLflow can evaluate the way omega-track does, or more loosely, goes into the
 * MLflow filter; the runs MLflow answers are mapped to RunInfo and the whole filter is then
 * checked on them with the core matcher, so a run comes back only if it satisfies the filter as
 * its returned fields read (MLflow narrows, omega-track decides). What MLflow answers more
 * loosely, and is so decided here only: NaN metrics (MLflow compares them as 0; `!= 0` is left to
 * omega-track, where NaN is unequal to every number), the default name `run-<n>` of an unnamed run, LIKE where the server's database ignores case, and a run crashed
 * without MLflow knowing yet (still RUNNING there). Left to omega-track alone (see mlflowClause):
 * IN / NOT IN (MLflow takes lists for run_id only), numbers compared with params or tags, `<`/`>`
 * on text, `attributes.run` other than `=`, `duration`, `parent`, status other than `=` and
 * `CRASHED`, and any text with a quote or a backslash in it.
 */

/** MLflow's status for ours, where one MLflow status is all of ours (CRASHED is KILLED or a stale RUNNING). */
const STATUS_TO_MLFLOW: Partial<Record<string, MlflowRunStatus>> = {
  STARTED: 'RUNNING',
  RUNNING: 'RUNNING',
  SCHEDULED: 'RUNNING',
  STOPPED: 'FINISHED',
  FINISHED: 'FINISHED',
  FAILED: 'FAILED',
};

const NUMBER_OPS: ReadonlySet<string> = new Set(['=', '!=', '<', '<=', '>', '>=']);
const TEXT_OPS: ReadonlySet<string> = new Set(['=', '!=', 'LIKE', 'ILIKE']);

/** A key in backticks (MLflow's quoting for any key); undefined when the key holds a backtick. */
function mlflowKey(key: string): string | undefined {
  return key.includes('`') ? undefined : `\`${key}\``;
}

/** A text literal as MLflow reads it ('…'); MLflow unescapes nothing, so no quote or backslash. */
function mlflowText(value: FilterLiteral | FilterLiteral[]): string | undefined {
  return typeof value === 'string' && !/['\\]/.test(value) ? `'${value}'` : undefined;
}

/** A number literal as MLflow's tokenizer reads it (no `e+`). */
function mlflowNumber(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? String(value).replace('e+', 'e') : undefined;
}

/** A time literal (ms or an ISO date, read as the core matcher reads it) as ms, when it is a whole number of them. */
function mlflowTime(value: FilterLiteral | FilterLiteral[]): string | undefined {
  const ms = typeof value === 'string' ? filterTime(value) : value;
  return typeof ms === 'number' && Number.isSafeInteger(ms) ? String(ms) : undefined;
}

/**
 * The MLflow clause for one comparison, when MLflow selects at least every run that satisfies it
 * here; undefined when it cannot (the comparison is then evaluated by omega-track only).
 */
export function mlflowClause(c: FilterComparison): string | undefined {
  const { field, op, value } = c;
  const key = mlflowKey(field.key);
  if (key === undefined) return undefined;
  const text = (prefix: string): string | undefined => {
    const literal = TEXT_OPS.has(op) ? mlflowText(value) : undefined;
    return literal === undefined ? undefined : `${prefix} ${op} ${literal}`;
  };
  switch (field.entity) {
    case 'metric': {
      // MLflow holds NaN as 0 and ±Infinity as ±MAX_VALUE: its `!= 0` would leave out a NaN
      // that is unequal to 0 here
      if (op === '!=' && (value === 0 || value === Number.MAX_VALUE || value === -Number.MAX_VALUE))
        return undefined;
      const literal = NUMBER_OPS.has(op) ? mlflowNumber(value) : undefined;
      return literal === undefined ? undefined : `metrics.${key} ${op} ${literal}`;
    }
    case 'param':
      return text(`params.${key}`);
    case 'tag':
      return text(`tags.${key}`);
    case 'attribute':
      switch (field.key) {
        case 'run':
          // the run number is the tag omega.run; only equality compares the same as text
          return op === '=' && typeof value === 'number' && Number.isSafeInteger(value)
            ? `tags.\`omega.run\` = '${value}'`
            : undefined;
        case 'run_name':
          return text('attributes.run_name');
        case 'status': {
          const status =
            op === '=' && typeof value === 'string' ? STATUS_TO_MLFLOW[value.toUpperCase()] : undefined;
          return status === undefined ? undefined : `attributes.status = '${status}'`;
        }
        case 'start_time':
        case 'end_time': {
          const literal = NUMBER_OPS.has(op) ? mlflowTime(value) : undefined;
          return literal === undefined ? undefined : `attributes.${field.key} ${op} ${literal}`;
        }
        case 'userid':
          return text('tags.`mlflow.user`');
        case 'node':
          return text('tags.`omega.node`');
      }
  }
  return undefined;
}

/**
 * MLflow's order_by for an ordering, when MLflow orders every run as omega-track does (ties
 * aside): metrics (by their latest value, missing and NaN last) and start_time. Undefined
 * otherwise: params and tags order as text there and as numbers here, unnamed runs have a name
 * there, a killed run an end time, and MLflow's statuses sort under other names.
 */
export function mlflowOrder(order: readonly RunOrderKey[]): string[] | undefined {
  if (order.length === 0) return undefined;
  const out: string[] = [];
  for (const { field, descending } of order) {
    const dir = descending ? 'DESC' : 'ASC';
    const key = mlflowKey(field.key);
    if (field.entity === 'metric' && key !== undefined) out.push(`metrics.${key} ${dir}`);
    else if (field.entity === 'attribute' && field.key === 'start_time')
      out.push(`attributes.start_time ${dir}`);
    else return undefined;
  }
  return out;
}

/** What MLflow is asked: its filter (a superset of the answer) and order, and what only omega-track evaluates. */
export interface MlflowSearchPlan {
  filter: string;
  orderBy: string[] | undefined;
  /** The comparisons MLflow was not given. */
  local: FilterComparison[];
}

/** Splits a search into what MLflow evaluates and what omega-track alone does. */
export function planMlflowSearch(search: ParsedRunSearch, runs: ResolvedQuery['runs']): MlflowSearchPlan {
  const clauses: string[] = [];
  const local: FilterComparison[] = [];
  for (const c of search.filter.all) {
    const clause = mlflowClause(c);
    if (clause === undefined) local.push(c);
    else clauses.push(clause);
  }
  // one run asked for by number: MLflow finds it by its tag
  if (Array.isArray(runs) && runs.length === 1) clauses.push(`tags.\`omega.run\` = '${runs[0]}'`);
  return { filter: clauses.join(' and '), orderBy: mlflowOrder(search.order), local };
}

/** An MLflow run as omega-track's run, with what it takes to find it again in MLflow. */
export interface MappedRun {
  info: RunInfo;
  runId: string;
  status: MlflowRunStatus;
  startTime: number;
  parentRunId: string | undefined;
}

const STATUS_FROM_MLFLOW: Record<MlflowRunStatus, RunStatus> = {
  RUNNING: 'STARTED',
  SCHEDULED: 'STARTED',
  FINISHED: 'STOPPED',
  FAILED: 'FAILED',
  KILLED: 'CRASHED',
};

/** The omega run number of an MLflow run (its tag omega.run); undefined for runs omega-track did not make. */
export function omegaRunNumber(run: MlflowRun): number | undefined {
  const tag = run.data.tags?.find((t) => t.key === 'omega.run');
  return tag && /^\d+$/.test(tag.value) ? Number(tag.value) : undefined;
}

/** The metric aggregate of MLflow's latest value of a key; min, max, mean and count unknown (NaN) until filled in. */
function latestAggregate(value: unknown, step: number | undefined): MetricAggregate {
  return { last: decodeMetricValue(value), step: step ?? 0, min: NaN, max: NaN, mean: NaN, count: NaN };
}

/**
 * An MLflow run as RunInfo (its parent is filled in by the caller, who knows the run ids):
 * status by MLflow's (RUNNING → STARTED, FINISHED → STOPPED, FAILED, KILLED → CRASHED), name
 * from `mlflow.runName` (none when it is the `run-<n>` the run was created with), note from
 * `mlflow.note.content`, tags without MLflow's `mlflow.*` and omega-track's own, params and
 * metrics (not the `system/…` ones: those are profiler samples) as MLflow holds them.
 */
export function mapMlflowRun(number: number, run: MlflowRun, now: number): MappedRun {
  const tags = new Map((run.data.tags ?? []).map((t) => [t.key, t.value]));
  const { info } = run;
  const status = STATUS_FROM_MLFLOW[info.status] ?? 'STARTED';
  const start = info.start_time === undefined ? undefined : Number(info.start_time);
  const end = info.end_time === undefined ? undefined : Number(info.end_time);
  const out: RunInfo = {
    run: number,
    status,
    started: start === undefined ? undefined : new Date(start),
    // a killed run did not stop: its end is its last sign of life (as a crashed run's duration)
    stopped: (status === 'STOPPED' || status === 'FAILED') && end !== undefined ? new Date(end) : undefined,
    duration: undefined,
    node: tags.get('omega.node'),
    userid: tags.get('mlflow.user') ?? info.user_id,
    params: {},
    metrics: {},
  };
  if (start !== undefined) {
    const until = status === 'STARTED' ? now : end;
    if (until !== undefined) out.duration = until - start;
  }
  const error = tags.get('omega.error');
  if (status === 'FAILED' && error !== undefined) out.error = error;
  const name = tags.get(RUN_NAME_TAG) ?? info.run_name;
  if (name !== undefined && name !== '' && name !== `run-${number}`) out.name = name;
  const note = tags.get(RUN_NOTE_TAG);
  if (note !== undefined) out.note = note;
  const own: Record<string, unknown> = {};
  for (const [key, value] of tags)
    if (!key.startsWith('mlflow.') && !OMEGA_TAGS.has(key)) own[key] = valueFromText(value);
  if (Object.keys(own).length) out.tags = own;
  for (const p of run.data.params ?? []) out.params![p.key] = valueFromText(p.value);
  for (const m of run.data.metrics ?? [])
    if (!m.key.startsWith('system/')) out.metrics![m.key] = latestAggregate(m.value, m.step);
  return {
    info: out,
    runId: info.run_id,
    status: info.status,
    startTime: start ?? 0,
    parentRunId: tags.get(PARENT_RUN_TAG),
  };
}

/** Whether `run` is among the runs a resolved query selects. */
function selects(runs: ResolvedQuery['runs'], run: number): boolean {
  if (runs === undefined) return true;
  return Array.isArray(runs) ? runs.includes(run) : run >= runs.from && run <= runs.to;
}

/** A run's values of the ordering's fields, as one comparable text (missing and NaN alike). */
function orderKey(run: RunInfo, order: readonly RunOrderKey[]): string {
  return JSON.stringify(
    order.map((o) => {
      const v = fieldValue(run, o.field);
      return v === undefined || v === null || (typeof v === 'number' && Number.isNaN(v)) ? null : v;
    }),
  );
}

/** The most runs whose metric histories are read for min, max and count. */
export const STATS_RUNS = 16;

/** Run ids per request of MLflow's bulk metric history and of a search by run id. */
const IDS_PER_REQUEST = 100;

/** What `searchMlflowRuns` needs besides the search. */
export interface MlflowSearchContext {
  client: MlflowClient;
  experimentId: string;
  /** Marks the runs no process keeps alive as CRASHED (the provider knows the heartbeats). */
  live: (runs: RunInfo[]) => Promise<void>;
  /** Answers of at most this many runs get min, max and count from the histories (default STATS_RUNS; 0: never). */
  statsRuns?: number;
  now?: number;
}

/**
 * Runs of an omega experiment in MLflow matching a search: MLflow's `runs/search` with the
 * filter it can evaluate (pages of up to 1000 followed with page_token), the answer mapped to
 * RunInfo and checked against the whole filter, ordered and paged here. With a limit and an
 * ordering MLflow shares, pages stop once the page's last run orders after the limit's last
 * (ties included); otherwise every matching run is read. For answers of at most `statsRuns`
 * (16) runs, min, max and count of each metric are read from the histories (one bulk request
 * per key); for larger ones they stay NaN: MLflow keeps only the latest value per key, and
 * reading every history is what a run table must not cost.
 */
export async function searchMlflowRuns(
  ctx: MlflowSearchContext,
  search: ParsedRunSearch,
  runs: ResolvedQuery['runs'],
): Promise<{ runs: RunInfo[]; mapped: Map<number, MappedRun> }> {
  const now = ctx.now ?? Date.now();
  const plan = planMlflowSearch(search, runs);
  const want = search.limit !== undefined && plan.orderBy ? search.offset + search.limit : undefined;
  const accepted = new Map<number, MappedRun>();
  const numbers = new Map<string, number>();
  let pageToken: string | undefined;
  do {
    const page = await ctx.client.searchRunsPage({
      experimentIds: [ctx.experimentId],
      filter: plan.filter,
      orderBy: plan.orderBy,
      maxResults: want === undefined ? 1000 : Math.min(1000, Math.max(100, 2 * want)),
      pageToken,
    });
    pageToken = page.nextPageToken;
    const mapped: MappedRun[] = [];
    for (const run of page.runs) {
      const number = omegaRunNumber(run);
      if (number === undefined) continue;
      numbers.set(run.info.run_id, number);
      mapped.push(mapMlflowRun(number, run, now));
    }
    await resolveParents(ctx, mapped, numbers);
    await ctx.live(mapped.map((m) => m.info));
    for (const m of mapped) {
      if (!selects(runs, m.info.run) || !matchesRunFilter(m.info, search.filter)) continue;
      // two MLflow runs of one number (a local store that forgot its runs): the newest is the run
      const before = accepted.get(m.info.run);
      if (!before || m.startTime > before.startTime) accepted.set(m.info.run, m);
    }
    if (want !== undefined && accepted.size >= want && mapped.length > 0) {
      const last = [...accepted.values()][want - 1].info;
      // MLflow orders the rest at or after the page's last run: past the limit's last, none can make the page
      if (orderKey(mapped[mapped.length - 1].info, search.order) !== orderKey(last, search.order)) break;
    }
  } while (pageToken);
  const all = [...accepted.values()].map((m) => m.info);
  const ordered = search.order.length ? sortRuns(all, search.order) : all.sort((a, b) => a.run - b.run);
  const result =
    search.limit === undefined && search.offset === 0
      ? ordered
      : ordered.slice(search.offset, search.limit === undefined ? undefined : search.offset + search.limit);
  if (result.length > 0 && result.length <= (ctx.statsRuns ?? STATS_RUNS))
    await fillMetricStats(
      ctx.client,
      result.map((r) => ({ info: r, runId: accepted.get(r.run)!.runId })),
    );
  return { runs: result, mapped: accepted };
}

/** Sets the parent numbers, looking up (by run id, deleted runs too) the parents not among `mapped`. */
async function resolveParents(
  ctx: MlflowSearchContext,
  mapped: readonly MappedRun[],
  numbers: Map<string, number>,
): Promise<void> {
  const unknown = [
    ...new Set(mapped.map((m) => m.parentRunId).filter((id): id is string => !!id && !numbers.has(id))),
  ].filter((id) => /^[\w-]+$/.test(id));
  for (let i = 0; i < unknown.length; i += IDS_PER_REQUEST) {
    const ids = unknown.slice(i, i + IDS_PER_REQUEST);
    const filter = `attributes.run_id IN (${ids.map((id) => `'${id}'`).join(', ')})`;
    for (const run of await ctx.client.searchRuns([ctx.experimentId], filter, undefined, 'ALL')) {
      const number = omegaRunNumber(run);
      if (number !== undefined) numbers.set(run.info.run_id, number);
    }
  }
  for (const m of mapped) {
    const parent = m.parentRunId === undefined ? undefined : numbers.get(m.parentRunId);
    if (parent !== undefined) m.info.parent = parent;
  }
}

/**
 * Fills in min, max, mean and count of each metric of the runs from the metric histories: per key one
 * bulk request for up to 100 runs, or run by run where the bulk answer was cut short or the
 * server has no bulk endpoint. Min, max and mean are of the finite values; count is of all points
 * MLflow keeps (it keeps identical points once).
 */
async function fillMetricStats(
  client: MlflowClient,
  runs: ReadonlyArray<{ info: RunInfo; runId: string }>,
): Promise<void> {
  const keys = new Set(runs.flatMap((r) => Object.keys(r.info.metrics ?? {})));
  for (const key of keys) {
    const having = runs.filter((r) => r.info.metrics?.[key] !== undefined);
    const points = new Map<string, unknown[]>(having.map((r) => [r.runId, []]));
    let complete = false;
    try {
      for (let i = 0; i < having.length; i += IDS_PER_REQUEST) {
        const bulk = await client.getMetricHistoryBulk(
          having.slice(i, i + IDS_PER_REQUEST).map((r) => r.runId),
          key,
        );
        complete = bulk.complete;
        if (!complete) break;
        for (const p of bulk.points) points.get(p.run_id)?.push(p.value);
      }
    } catch {
      // a server without MLflow's UI endpoints: the public one, run by run
      complete = false;
    }
    if (!complete)
      for (const r of having)
        points.set(
          r.runId,
          (await client.getMetricHistory(r.runId, key)).map((p) => p.value),
        );
    for (const r of having) {
      const values = points.get(r.runId) ?? [];
      const metric = r.info.metrics![key];
      let min = NaN;
      let max = NaN;
      let sum = 0;
      let finite = 0;
      // a loop, not Math.min(...values): a long history overflows the stack as arguments
      for (const raw of values) {
        const v = decodeMetricValue(raw);
        if (!Number.isFinite(v)) continue;
        if (!(v >= min)) min = v;
        if (!(v <= max)) max = v;
        sum += v;
        finite++;
      }
      metric.count = values.length;
      metric.min = min;
      metric.max = max;
      metric.mean = finite ? sum / finite : NaN;
    }
  }
}
