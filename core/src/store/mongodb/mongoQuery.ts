import { prefixEnd } from '../keyRange';
import { TrackingInputError } from '../../errors/TrackingInputError';
import type { ResolvedQuery } from '../../events/types';
import type { FilterComparison, FilterLiteral, RunFilter } from '../../filter/runFilter';

/**
 * Queries as MongoDB filters. Every field name and operator in a filter built here is a
 * constant of this file; what comes from the caller (run numbers, event names, keys, steps,
 * times, extra-field names and values) goes in only as a plain value: a string, a finite or
 * non-finite number, a boolean, null, or a Date made here. Anything else (an object such as
 * `{ $ne: null }`, an array where a value belongs) is a TrackingInputError, so no operator can
 * reach the server from input, whatever the caller passes (resolveQuery refuses such values
 * already; this is the store's own guard).
 */
export type MongoFilter = Record<string, unknown>;

/** Events of equal time keep insertion order: the `_id`s of one process increase (EventIds). */
export const EVENT_SORT = { dt: 1, _id: 1 } as const;

type Plain = string | number | boolean | null;

function describe(value: unknown): string {
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return 'an object';
    }
  }
  return typeof value;
}

function refuse(field: string, expected: string, value: unknown): never {
  throw new TrackingInputError(`query field '${field}' takes ${expected}, got ${describe(value)}`);
}

function list(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) refuse(field, 'a list', value);
  return value;
}

function plain(value: unknown, field: string): Plain {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number')
    return value;
  return refuse(field, 'plain values (text, numbers, booleans or null)', value);
}

function text(value: unknown, field: string): string {
  return typeof value === 'string' ? value : refuse(field, 'text', value);
}

function integer(value: unknown, field: string): number {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : refuse(field, 'integers', value);
}

function instant(value: unknown, field: string): Date {
  const d = typeof value === 'number' ? new Date(value) : undefined;
  if (!d || Number.isNaN(d.getTime())) return refuse(field, 'a time in milliseconds since the epoch', value);
  return d;
}

/** The base fields an extra-field filter can also name (as the embedded store's row filter reads them). */
const BASE_AS_EXTRA: Record<string, (values: Plain[]) => MongoFilter> = {
  run: (values) => ({ run: { $in: values } }),
  event: (values) => ({ event: { $in: values } }),
  key: (values) => ({ key: { $in: values } }),
  step: (values) => ({ step: { $in: values } }),
  node: (values) => ({ node: { $in: values } }),
  userid: (values) => ({ userid: { $in: values } }),
};

/**
 * One extra-field filter: the field holds one of `values`, where a missing field counts as
 * null. Extra fields are stored as a list of `{ k, v, s }` (see EventDoc): the name is matched
 * as a value, and `s` keeps a stored object or list from matching a plain value.
 */
function extraFilter(field: string, values: Plain[]): MongoFilter {
  const nonNull = values.filter((v) => v !== null);
  const alternatives: MongoFilter[] = [];
  if (nonNull.length)
    alternatives.push({ extra: { $elemMatch: { k: field, s: true, v: { $in: nonNull } } } });
  if (nonNull.length < values.length) {
    alternatives.push({ extra: { $elemMatch: { k: field, s: true, v: null } } });
    alternatives.push({ extra: { $not: { $elemMatch: { k: field } } } });
  }
  if (alternatives.length === 0) return { _id: { $in: [] } };
  return alternatives.length === 1 ? alternatives[0] : { $or: alternatives };
}

/** The filter of a resolved query on an experiment's events collection (see the file comment). */
export function eventFilter(q: ResolvedQuery): MongoFilter {
  if (typeof q !== 'object' || q === null || Array.isArray(q))
    throw new TrackingInputError(`a query must be an object, got ${describe(q)}`);
  const filter: MongoFilter = {};
  const and: MongoFilter[] = [];
  if (q.runs !== undefined) {
    if (Array.isArray(q.runs)) filter.run = { $in: q.runs.map((r) => integer(r, 'run')) };
    else if (typeof q.runs === 'object' && q.runs !== null && Object.keys(q.runs).length === 2)
      filter.run = { $gte: integer(q.runs.from, 'run'), $lte: integer(q.runs.to, 'run') };
    else refuse('run', 'run numbers or { from, to }', q.runs);
  }
  if (q.events !== undefined) filter.event = { $in: list(q.events, 'event').map((e) => text(e, 'event')) };
  if (q.keys !== undefined) filter.key = { $in: list(q.keys, 'key').map((k) => text(k, 'key')) };
  if (q.steps !== undefined) filter.step = { $in: list(q.steps, 'step').map((s) => integer(s, 'step')) };
  if (q.since !== undefined || q.end !== undefined) {
    const dt: MongoFilter = {};
    if (q.since !== undefined) dt.$gte = instant(q.since, 'since');
    if (q.end !== undefined) dt.$lte = instant(q.end, 'end');
    filter.dt = dt;
  }
  if (q.extras !== undefined) {
    if (typeof q.extras !== 'object' || q.extras === null || Array.isArray(q.extras))
      refuse('extras', 'an object of field names and values', q.extras);
    for (const [field, raw] of Object.entries(q.extras)) {
      const values = list(raw, field).map((v) => plain(v, field));
      if (field === 'experiment' || field === 'value' || field === 'dt')
        throw new TrackingInputError(`query field '${field}' is not filterable as an extra field`);
      const base = BASE_AS_EXTRA[field];
      and.push(base ? base(values) : extraFilter(field, values));
    }
  }
  if (and.length) filter.$and = and;
  return filter;
}

/** Sort, skip and limit of a resolved query; `empty` when it asks for no rows (MongoDB's limit 0 means none). */
export function eventFindOptions(q: ResolvedQuery): {
  sort: typeof EVENT_SORT;
  skip?: number;
  limit?: number;
  empty: boolean;
} {
  const window = (value: unknown, field: string): number | undefined =>
    value === undefined
      ? undefined
      : typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
        ? value
        : refuse(field, 'a non-negative integer', value);
  const skip = window(q.offset, 'offset');
  const limit = window(q.limit, 'limit');
  const options: { sort: typeof EVENT_SORT; skip?: number; limit?: number; empty: boolean } = {
    sort: EVENT_SORT,
    empty: limit === 0,
  };
  if (skip) options.skip = skip;
  if (limit) options.limit = limit;
  return options;
}

/**
 * The strings that start with `prefix`, as a range on an index: [prefix, the next string that
 * does not). Strings compare by their UTF-8 bytes, which is code point order: the end is the
 * prefix with its last code point raised by one (dropping code points that cannot be raised).
 */
export function prefixRange(field: string, prefix: string): MongoFilter {
  if (typeof prefix !== 'string')
    throw new TrackingInputError(`a name prefix must be text, got ${describe(prefix)}`);
  if (prefix === '') return {};
  const end = prefixEnd(prefix);
  return { [field]: end === undefined ? { $gte: prefix } : { $gte: prefix, $lt: end } };
}

/** The names run-filter comparisons map to: MongoDB's comparison operators. */
const COMPARE: Partial<Record<FilterComparison['op'], string>> = {
  '=': '$eq',
  '!=': '$ne',
  '<': '$lt',
  '<=': '$lte',
  '>': '$gt',
  '>=': '$gte',
};

/** Tags that runs() reads from other fields when a run has no such tag (see matchRuns). */
const DERIVED_TAGS = new Set(['mlflow.runName', 'mlflow.note.content', 'mlflow.user']);

function filterLiteral(value: unknown): FilterLiteral {
  if (typeof value === 'string' || (typeof value === 'number' && !Number.isNaN(value))) return value;
  throw new TrackingInputError(`a run filter compares with text or numbers, got ${describe(value)}`);
}

/**
 * What one comparison of a run filter asks of a run's aggregates, as a filter on the aggregates
 * collection that some aggregate of every matching run satisfies; undefined when the aggregates
 * alone cannot narrow it (status, times, derived tags). It may let through runs that do not
 * match (text compared as the filter language compares it, JSON forms of numbers): the run
 * table is filtered exactly afterwards (matchesRunFilter). It never leaves out one that does.
 */
export function runComparisonFilter(c: FilterComparison): MongoFilter | undefined {
  const literals = Array.isArray(c.value) ? c.value.map(filterLiteral) : [filterLiteral(c.value)];
  const numbers = literals.every((l) => typeof l === 'number');
  const texts = literals.every((l) => typeof l === 'string');
  const op = COMPARE[c.op];
  const key = text(c.field.key, 'filter key');
  switch (c.field.entity) {
    case 'metric': {
      // runs() shows a metric once it has a number: its last value is a number (NaN when not)
      const base: MongoFilter = { event: 'metric', key, count: { $gt: 0 } };
      // the mean (sum / finite) is left to the exact match: the aggregate only names the metric
      if (c.field.aggregate === 'mean') return base;
      // min and max are null when no value is finite (NaN in runs()): $ne and $nin let them through
      const field = c.field.aggregate ?? 'last';
      if (numbers && op) return { ...base, [field]: { [op]: literals[0] } };
      if (numbers && c.op === 'IN') return { ...base, [field]: { $in: literals } };
      return base;
    }
    case 'param':
    case 'tag': {
      if (c.field.entity === 'tag' && DERIVED_TAGS.has(key)) return undefined;
      const base: MongoFilter = { event: c.field.entity, key, last: { $ne: null } };
      // a number compares with numbers, and with text that reads as one
      if (numbers && (op || c.op === 'IN'))
        return {
          ...base,
          $or: [{ last: op ? { [op]: literals[0] } : { $in: literals } }, { last: { $type: 'string' } }],
        };
      // text equals text, or the JSON form of a value that is not text (kept as a document,
      // or as JSON text: see StoredValue)
      if (texts && (c.op === '=' || c.op === 'IN'))
        return {
          ...base,
          $or: [{ last: { $in: literals } }, { last: { $not: { $type: 'string' } } }, { lastEnc: 'json' }],
        };
      return base;
    }
    case 'attribute':
      if (key !== 'run' || !numbers) return undefined;
      if (op) return { run: { [op]: literals[0] } };
      return { run: { [c.op === 'IN' ? '$in' : '$nin']: literals } };
  }
  return undefined;
}

/**
 * The aggregate filters of a run filter: a run can match only when, for each, some aggregate
 * of the run satisfies it. Empty when none narrows the runs.
 */
export function runFilterConditions(filter: RunFilter): MongoFilter[] {
  if (typeof filter !== 'object' || filter === null || !Array.isArray(filter.all))
    throw new TrackingInputError(`a run filter must be parsed by parseRunFilter, got ${describe(filter)}`);
  const out: MongoFilter[] = [];
  for (const c of filter.all) {
    const f = runComparisonFilter(c);
    if (f) out.push(f);
  }
  return out;
}
