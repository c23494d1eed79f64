import { TrackingInputError } from '../errors/TrackingInputError';
import { resolveTime } from './time';
import type { EventLog } from '../store/Store';
import type { EventQuery, ResolvedQuery } from './types';
import { validateExperimentName, validateKey } from './validation';

const QUERY_FIELDS = new Set(['run', 'event', 'key', 'step', 'since', 'end', 'limit', 'offset']);

const EXTRA_FIELD = /^[A-Za-z0-9_.:-]+$/;

type Scalar = string | number | boolean | null;

/** Values are matched literally: objects (e.g. `{ $ne: null }`) are refused, never passed on. */
function literal(value: unknown, field: string): Scalar {
  if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) return value as Scalar;
  throw new TrackingInputError(
    `query field '${field}' must be a plain value or a list of plain values, got ${
      typeof value === 'object' ? JSON.stringify(value) : typeof value
    }`,
  );
}

function list(value: unknown, field: string): Scalar[] {
  return Array.isArray(value) ? value.map((v) => literal(v, field)) : [literal(value, field)];
}

function stringList(value: unknown, field: string): string[] {
  return list(value, field).map((v) => {
    if (typeof v !== 'string')
      throw new TrackingInputError(`query field '${field}' takes strings, got ${typeof v}`);
    return v;
  });
}

function nonNegativeInt(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw new TrackingInputError(`query field '${field}' must be a non-negative integer`);
  return value;
}

/** What a query needs to know about the experiment to resolve relative run numbers. */
export interface RunContext {
  /** The provider's current run, used when the query names none. */
  currentRun: number | undefined;
  /** The highest run number of the experiment (0 or undefined when there is none). */
  latestRun: () => number | undefined | Promise<number | undefined>;
}

/**
 * Resolves a user query (SPEC §3) into the absolute form stores take: negative runs counted
 * back from the latest run, relative times turned into instants, extra fields separated.
 */
export async function resolveQuery(query: EventQuery = {}, ctx: RunContext): Promise<ResolvedQuery> {
  if (typeof query !== 'object' || query === null || Array.isArray(query))
    throw new TrackingInputError('a query must be an object such as { run: 1, event: "metric" }');
  const out: ResolvedQuery = {};
  const run = query.run;
  if (run === undefined || run === null) {
    if (ctx.currentRun !== undefined) out.runs = [ctx.currentRun];
  } else if (run === 'all' || run === '*') {
    // every run: no filter
  } else if (typeof run === 'object' && !Array.isArray(run)) {
    const { from, to } = run as { from: unknown; to: unknown };
    if (typeof from !== 'number' || typeof to !== 'number' || Object.keys(run).length !== 2)
      throw new TrackingInputError(
        `query field 'run' as a range must be { from, to }, got ${JSON.stringify(run)}`,
      );
    const latest = from < 0 || to < 0 ? ((await ctx.latestRun()) ?? 0) : 0;
    out.runs = { from: relativeRun(from, latest), to: relativeRun(to, latest) };
  } else {
    const runs = list(run, 'run').map((r) => {
      if (typeof r !== 'number' || !Number.isInteger(r) || r === 0)
        throw new TrackingInputError(
          `query field 'run' takes run numbers (1, 2, … or -1 for the latest), got ${r}`,
        );
      return r;
    });
    const latest = runs.some((r) => r < 0) ? ((await ctx.latestRun()) ?? 0) : 0;
    // a run further back than the first does not exist: it matches nothing (run 0)
    out.runs = runs.map((r) => (r < 0 ? Math.max(0, latest + 1 + r) : r));
  }
  if (query.event !== undefined) out.events = stringList(query.event, 'event');
  if (query.key !== undefined) out.keys = stringList(query.key, 'key');
  if (query.step !== undefined)
    out.steps = list(query.step, 'step').map((s) => {
      if (typeof s !== 'number' || !Number.isInteger(s))
        throw new TrackingInputError(`query field 'step' takes integers, got ${String(s)}`);
      return s;
    });
  if (query.since !== undefined) out.since = resolveTime(query.since, 'since');
  if (query.end !== undefined) out.end = resolveTime(query.end, 'end');
  if (query.limit !== undefined) out.limit = nonNegativeInt(query.limit, 'limit');
  if (query.offset !== undefined) out.offset = nonNegativeInt(query.offset, 'offset');
  for (const [field, value] of Object.entries(query)) {
    if (QUERY_FIELDS.has(field) || value === undefined) continue;
    validateKey(field, 'query field');
    if (!EXTRA_FIELD.test(field))
      throw new TrackingInputError(`query field '${field}' may only use letters, digits and _ . : -`);
    if (field === 'experiment')
      throw new TrackingInputError(
        `query field 'experiment' (another experiment's events) is taken by data(), iterate() and restoreArtifacts() only`,
      );
    if (field === 'value' || field === 'dt')
      throw new TrackingInputError(`query field '${field}' is not filterable`);
    (out.extras ??= {})[field] = list(value, field);
  }
  return out;
}

/** A query split into the experiment it reads and the rest: see `queryExperiment`. */
export interface ExperimentQuery {
  /** The experiment whose events are read. */
  experiment: string;
  /** Whether that is another experiment than the provider's own. */
  other: boolean;
  /** The query without its `experiment` field. */
  query: EventQuery | undefined;
}

/**
 * The experiment a `data()` / `iterate()` query reads (omega-ml's `data(experiment=…)`): its
 * `experiment` field, another experiment of the same store, else `own`. A name that is not a
 * valid experiment name is a TrackingInputError. Another experiment's runs are its own: a query
 * naming none reads all of them (the handle's current run belongs to `own`), and `-1` is that
 * experiment's latest run.
 */
export function queryExperiment(query: EventQuery | undefined, own: string): ExperimentQuery {
  if (typeof query !== 'object' || query === null || Array.isArray(query) || !('experiment' in query))
    return { experiment: own, other: false, query };
  const { experiment, ...rest } = query;
  if (experiment === undefined || experiment === null) return { experiment: own, other: false, query: rest };
  const name = validateExperimentName(experiment);
  return { experiment: name, other: name !== own, query: rest };
}

/**
 * Resolves a `data()` / `iterate()` query that may name another experiment of the same log (see
 * `queryExperiment`): the experiment to read and the resolved query. `resolveOwn` resolves a query
 * against the provider's own runs; another experiment's query is resolved against its runs in `log`.
 */
export async function resolveExperimentQuery(
  query: EventQuery | undefined,
  own: string,
  resolveOwn: (query: EventQuery | undefined) => Promise<ResolvedQuery>,
  log: Pick<EventLog, 'latestRun'>,
): Promise<{ experiment: string; query: ResolvedQuery }> {
  const target = queryExperiment(query, own);
  if (!target.other) return { experiment: own, query: await resolveOwn(target.query) };
  const resolved = await resolveQuery(target.query, {
    currentRun: undefined,
    latestRun: () => log.latestRun(target.experiment),
  });
  return { experiment: target.experiment, query: resolved };
}

function relativeRun(run: number, latest: number): number {
  return run < 0 ? Math.max(1, latest + 1 + run) : run;
}

/** The `offset`/`limit` window of a query over rows already filtered and sorted. */
export function windowRows<T>(rows: T[], q: ResolvedQuery): T[] {
  if (q.offset === undefined && q.limit === undefined) return rows;
  const from = q.offset ?? 0;
  return rows.slice(from, q.limit === undefined ? undefined : from + q.limit);
}
