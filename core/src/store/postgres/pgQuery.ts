import { TrackingInputError } from '../../errors/TrackingInputError';
import type { ResolvedQuery } from '../../events/types';
import type { FilterComparison, FilterLiteral, RunFilter } from '../../filter/runFilter';
import { NAME_MARK } from '../chunks/EventChunk';

/** What PostgreSQL's text cannot hold (NUL) stands as in the chunk index: U+FFFD. */
export const NUL_STAND_IN = '\uFFFD';

/**
 * A name as the chunk index's `events`/`keys` text holds it: text in PostgreSQL holds no NUL, so
 * NUL stands as U+FFFD. Two names that differ only there share an index entry: the index
 * prunes, the exact test per row decides.
 */
export function indexText(name: string): string {
  return name.includes('\u0000') ? name.split('\u0000').join(NUL_STAND_IN) : name;
}

/** SQL text and its parameters ($1 …), built together so that the numbers always agree. */
export class SqlParams {
  readonly values: unknown[] = [];
  /** The placeholder of a new parameter holding `value`. */
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * The SQL condition of a query on the chunk index: experiment, runs and time window, and
 * pruning of chunks that hold none of the wanted event names or keys (`events`/`keys` hold each
 * name between NAME_MARKs, as on the embedded store). The exact test per row is rowFilter.
 */
export function chunkWhere(experiment: string, q: ResolvedQuery, p: SqlParams): string {
  const clauses = [`experiment = ${p.add(experiment)}`];
  if (q.runs !== undefined) {
    if (Array.isArray(q.runs)) clauses.push(`run = ANY(${p.add(q.runs)}::int[])`);
    else clauses.push(`run BETWEEN ${p.add(q.runs.from)} AND ${p.add(q.runs.to)}`);
  }
  // one array parameter however many names: strpos of any of them
  const holdsAny = (column: string, names: readonly string[]): void => {
    clauses.push(
      `EXISTS (SELECT 1 FROM unnest(${p.add(names.map((n) => indexText(NAME_MARK + n + NAME_MARK)))}::text[]) AS n WHERE strpos(${column}, n) > 0)`,
    );
  };
  if (q.events) holdsAny('events', q.events);
  if (q.keys) holdsAny('keys', q.keys);
  if (q.since !== undefined) clauses.push(`max_dt >= ${p.add(q.since)}`);
  if (q.end !== undefined) clauses.push(`min_dt <= ${p.add(q.end)}`);
  return clauses.join(' AND ');
}

/** SQL comparison operators of the run filter's (LIKE and the like are left to the exact match). */
const COMPARE: Partial<Record<FilterComparison['op'], string>> = {
  '=': '=',
  '!=': '<>',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};

/** Tags that runs() reads from other fields when a run has no such tag. */
const DERIVED_TAGS = new Set(['mlflow.runName', 'mlflow.note.content', 'mlflow.user']);

function literal(value: unknown): FilterLiteral {
  if (typeof value === 'string' || (typeof value === 'number' && !Number.isNaN(value))) return value;
  throw new TrackingInputError(`a run filter compares with text or numbers, got ${typeof value}`);
}

/**
 * A run's aggregates (run_stats.stats, the embedded store's JSON: an array of
 * `[event, key, last, …, count]`) as jsonb. JSON text with a NUL escape is no jsonb: such a run
 * is kept as a candidate, matched exactly afterwards.
 */
const NUL_ESCAPE = "chr(92) || 'u0000'";
const STATS_JSON = `jsonb_array_elements(CASE WHEN strpos(stats, ${NUL_ESCAPE}) > 0 THEN '[]'::jsonb ELSE stats::jsonb END)`;

/**
 * What one comparison asks of a run's aggregates, as an SQL condition on its run_stats row that
 * every matching run satisfies; undefined when the aggregates alone cannot narrow it (status,
 * times, derived tags). It may let through runs that do not match (values of another type than
 * the literal, non-finite numbers): runs() matches the run table exactly afterwards.
 */
function comparison(c: FilterComparison, p: SqlParams): string | undefined {
  const literals = Array.isArray(c.value) ? c.value.map(literal) : [literal(c.value)];
  const numbers = literals.every((l) => typeof l === 'number');
  const texts = literals.every((l) => typeof l === 'string');
  const op = COMPARE[c.op];
  const key = c.field.key;
  if (typeof key !== 'string') throw new TrackingInputError('a run filter key must be text');
  // text with NUL cannot be a parameter: such a comparison is left to the exact match
  if (key.includes('\u0000')) return undefined;
  const sendable = literals.every((l) => typeof l !== 'string' || !l.includes('\u0000'));
  const numeric = (): string | undefined =>
    op
      ? `(e->>2)::float8 ${op} ${p.add(literals[0])}`
      : c.op === 'IN'
        ? `(e->>2)::float8 = ANY(${p.add(literals)}::float8[])`
        : undefined;
  const entry = (event: string, test: string | undefined): string =>
    `EXISTS (SELECT 1 FROM ${STATS_JSON} AS e WHERE e->>0 = ${p.add(event)} AND e->>1 = ${p.add(key)}${test ? ` AND ${test}` : ''})`;
  switch (c.field.entity) {
    case 'metric': {
      const aggregate = c.field.aggregate;
      if (aggregate) {
        // min and max: entries 5 and 6 (null when none is finite); mean: sum / finite count
        // (entries 8 and 9). A value that is no number here (NaN in runs()) stays a candidate.
        const n = (i: number): string =>
          `CASE WHEN jsonb_typeof(e->${i}) = 'number' THEN (e->>${i})::float8 END`;
        const value =
          aggregate === 'mean'
            ? `CASE WHEN jsonb_typeof(e->8) = 'number' AND jsonb_typeof(e->9) = 'number' AND (e->>9)::float8 > 0 THEN (e->>8)::float8 / (e->>9)::float8 END`
            : n(aggregate === 'min' ? 5 : 6);
        const test = !numbers
          ? undefined
          : op
            ? `${value} ${op} ${p.add(literals[0])}`
            : c.op === 'IN'
              ? `${value} = ANY(${p.add(literals)}::float8[])`
              : undefined;
        return entry('metric', `(e->>7)::float8 > 0${test ? ` AND ((${value}) IS NULL OR ${test})` : ''}`);
      }
      // runs() shows a metric once it has a number; a last value that is no JSON number
      // (non-finite numbers are tagged objects) stays a candidate
      const test = numbers ? numeric() : undefined;
      return entry(
        'metric',
        `(e->>7)::float8 > 0${test ? ` AND (jsonb_typeof(e->2) <> 'number' OR ${test})` : ''}`,
      );
    }
    case 'param':
    case 'tag': {
      if (c.field.entity === 'tag' && DERIVED_TAGS.has(key)) return undefined;
      const base = "e->2 <> 'null'::jsonb";
      // a number compares with numbers, and with text that reads as one
      const test = numbers ? numeric() : undefined;
      if (test) return entry(c.field.entity, `${base} AND (jsonb_typeof(e->2) <> 'number' OR ${test})`);
      // text equals text, or the JSON form of a value that is not text
      if (texts && sendable && (c.op === '=' || c.op === 'IN'))
        return entry(
          c.field.entity,
          `${base} AND (jsonb_typeof(e->2) <> 'string' OR e->>2 = ANY(${p.add(literals)}::text[]))`,
        );
      return entry(c.field.entity, base);
    }
    case 'attribute':
      if (key !== 'run' || !numbers) return undefined;
      if (op) return `run ${op} ${p.add(literals[0])}`;
      return `${c.op === 'IN' ? '' : 'NOT '}run = ANY(${p.add(literals)}::int[])`;
  }
  return undefined;
}

/**
 * The SQL condition on run_stats rows of a run filter: a superset of the runs that match it,
 * all comparisons evaluated on the server; undefined when none narrows the runs.
 */
export function runFilterWhere(filter: RunFilter, p: SqlParams): string | undefined {
  if (typeof filter !== 'object' || filter === null || !Array.isArray(filter.all))
    throw new TrackingInputError('a run filter must be parsed by parseRunFilter');
  const conditions = filter.all.map((c) => comparison(c, p)).filter((c): c is string => c !== undefined);
  if (!conditions.length) return undefined;
  // a run whose aggregates jsonb cannot hold (a NUL escape) is a candidate whatever they say
  return `(strpos(stats, ${NUL_ESCAPE}) > 0 OR (${conditions.join(' AND ')}))`;
}
