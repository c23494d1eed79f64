import type { RunInfo } from '../events/types';
import type { FilterComparison, FilterLiteral, RunField, RunFilter, RunOrderKey } from '../filter/runFilter';
import { decimalNumber, filterTime } from '../filter/filterValues';
import { compileLike } from '../filter/likeMatcher';
import type { LikeMatcher } from '../filter/likeMatcher';
import { TIME_ATTRIBUTES } from '../filter/runFilter';

/** MLflow's status names, for filters written by MLflow users. */
const STATUS_ALIASES: Record<string, string> = {
  RUNNING: 'STARTED',
  FINISHED: 'STOPPED',
  KILLED: 'CRASHED',
  SCHEDULED: 'STARTED',
};

/** MLflow's conventional tags, read from the fields omega-track keeps them in. */
const MLFLOW_TAGS: Record<string, (run: RunInfo) => unknown> = {
  'mlflow.runName': (r) => r.name,
  'mlflow.note.content': (r) => r.note,
  'mlflow.user': (r) => r.userid,
};

/** The value a field has in a run; undefined where the run has none. */
export function fieldValue(run: RunInfo, field: RunField): unknown {
  switch (field.entity) {
    case 'metric':
      return run.metrics?.[field.key]?.[field.aggregate ?? 'last'];
    case 'param':
      return run.params?.[field.key];
    case 'tag': {
      const own = run.tags?.[field.key];
      return own !== undefined ? own : MLFLOW_TAGS[field.key]?.(run);
    }
    case 'attribute':
      switch (field.key) {
        case 'run':
          return run.run;
        case 'run_name':
          return run.name;
        case 'status':
          return run.status;
        case 'start_time':
          return run.started?.getTime();
        case 'end_time':
          return run.stopped?.getTime();
        case 'duration':
          return run.duration;
        case 'node':
          return run.node;
        case 'userid':
          return run.userid;
        case 'parent':
          return run.parent;
      }
  }
  return undefined;
}

/** A value as the text filters compare: strings as they are, anything else as JSON (0.01 → '0.01'). */
function asText(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** A value as a number compares with it: numbers as they are, text only in decimal syntax. */
function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return decimalNumber(value);
  return undefined;
}

/** The compiled patterns of LIKE comparisons: each compiled once per parsed filter, not per run. */
const likeMatchers = new WeakMap<FilterComparison, LikeMatcher>();

function likeMatcher(c: FilterComparison): LikeMatcher {
  let matcher = likeMatchers.get(c);
  if (!matcher || matcher.pattern !== c.value || matcher.caseless !== (c.op === 'ILIKE')) {
    matcher = compileLike(String(c.value), c.op === 'ILIKE');
    likeMatchers.set(c, matcher);
  }
  return matcher;
}

/** The literal as the field's kind needs it: times may be ISO dates, statuses MLflow's names. */
function normalize(field: RunField, literal: FilterLiteral): FilterLiteral {
  if (field.entity !== 'attribute') return literal;
  if (TIME_ATTRIBUTES.has(field.key) && typeof literal === 'string') return filterTime(literal) ?? NaN;
  if (field.key === 'status' && typeof literal === 'string')
    return STATUS_ALIASES[literal.toUpperCase()] ?? literal.toUpperCase();
  return literal;
}

/**
 * Whether the value compares as `op` says; `!=` is exactly not `=` (so it agrees with NOT IN):
 * NaN, or text that is no number, is unequal to every number and neither less nor greater.
 */
function compare(value: unknown, op: '=' | '!=' | '<' | '<=' | '>' | '>=', literal: FilterLiteral): boolean {
  if (op === '!=') return !compare(value, '=', literal);
  let v: number | string;
  if (typeof literal === 'number') {
    const n = asNumber(value);
    if (n === undefined || Number.isNaN(n) || Number.isNaN(literal)) return false;
    v = n;
  } else v = asText(value);
  // numbers with a number, text with text: one comparison for both
  return op === '='
    ? v === literal
    : op === '<'
      ? v < literal
      : op === '<='
        ? v <= literal
        : op === '>'
          ? v > literal
          : v >= literal;
}

function holds(value: unknown, c: FilterComparison): boolean {
  switch (c.op) {
    case 'LIKE':
    case 'ILIKE':
      return likeMatcher(c).test(asText(value));
    case 'IN':
    case 'NOT IN': {
      const hit = (c.value as FilterLiteral[]).some((v) => compare(value, '=', normalize(c.field, v)));
      return hit === (c.op === 'IN');
    }
    default:
      return compare(value, c.op, normalize(c.field, c.value as FilterLiteral));
  }
}

/**
 * Whether `run` satisfies every comparison of `filter`. A run without the field named (no such
 * metric, param or tag) satisfies no comparison on it, `!=` and `NOT IN` included (as MLflow).
 */
export function matchesRunFilter(run: RunInfo, filter: RunFilter): boolean {
  for (const c of filter.all) {
    const value = fieldValue(run, c.field);
    if (value === undefined || value === null) return false;
    if (!holds(value, c)) return false;
  }
  return true;
}

function orderValue(value: unknown): number | string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return Number.isNaN(value) ? undefined : value;
  return asText(value);
}

/**
 * Sorts runs by the keys in turn; runs without a value for a key come after those with one, in
 * either direction (as MLflow); numbers before text; ties by experiment, then run number.
 */
export function sortRuns<T extends RunInfo>(runs: T[], order: readonly RunOrderKey[]): T[] {
  if (order.length === 0) return runs;
  const keyed = runs.map((run) => ({ run, keys: order.map((o) => orderValue(fieldValue(run, o.field))) }));
  keyed.sort((a, b) => {
    for (let i = 0; i < order.length; i++) {
      const x = a.keys[i];
      const y = b.keys[i];
      if (x === y) continue;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      let c: number;
      if (typeof x === typeof y) c = x < y ? -1 : x > y ? 1 : 0;
      else c = typeof x === 'number' ? -1 : 1;
      if (c !== 0) return order[i].descending ? -c : c;
    }
    const e = (a.run.experiment ?? '').localeCompare(b.run.experiment ?? '');
    return e !== 0 ? e : a.run.run - b.run.run;
  });
  return keyed.map((k) => k.run);
}
