/** `omega-track runs`: the runs of an experiment, found, ordered and shown column by column. */
import type { RunInfo, TrackingProvider } from '@omega-track/core';
import { FilterSyntaxError, TrackingInputError } from '@omega-track/core';
import { parseRunOrder } from '@omega-track/core/internal';
import type { Command } from './command';
import { FORMAT_HELP, REQUIRE_HELP } from './command';
import { readerFor, requireExperiment } from './experiment';
import { cellText, humanDuration, roundForDisplay } from './format';
import { countOption, formatOf, stringOption } from './options';
import { writeRows } from './output';

/** The run fields a column can name, in the order the default columns show them. */
const ATTRIBUTES = [
  'run',
  'name',
  'status',
  'started',
  'stopped',
  'duration',
  'node',
  'userid',
  'parent',
  'error',
  'note',
  'experiment',
] as const;
type Attribute = (typeof ATTRIBUTES)[number];

/** Always shown by default; the others only when some run has them. */
const ALWAYS: ReadonlySet<string> = new Set([
  'run',
  'status',
  'started',
  'stopped',
  'duration',
  'node',
  'userid',
]);

/** What a `metrics.<key>.<part>` column can show of a metric. */
const METRIC_PARTS = ['last', 'min', 'max', 'count', 'step'] as const;
type MetricPart = (typeof METRIC_PARTS)[number];

/** The fields of RunInfo that hold a key per param, metric or tag. */
type KeyedField = 'params' | 'metrics' | 'tags';

/** One column of the runs table: its header and how a run's cell is read. */
export interface RunColumn {
  header: string;
  value: (run: RunInfo) => unknown;
  /** For a param, metric or tag column: the field and key it reads (a run without the key has no cell). */
  source?: { field: KeyedField; key: string };
}

/**
 * Params, metrics and tags a table shows of each kind unless `--columns` says otherwise: a run
 * with 100,000 tags would make a table of 100,000 columns, which nobody reads.
 */
export const TABLE_KEYS = 20;

/**
 * Splits a comma-separated option (`--columns`, `--sort`) at the commas that are not inside
 * backticks, so a key with a comma (`metrics.\`f1,macro\``) stays one entry.
 */
export function splitList(text: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const c of text) {
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === '`') quote = c;
    else if (c === ',') {
      parts.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  parts.push(current);
  return parts.map((p) => p.trim()).filter(Boolean);
}

function attributeColumn(name: Attribute): RunColumn {
  return { header: name, value: (r) => r[name] };
}

/**
 * A key as a header writes it: in backticks where `--columns` would read it otherwise (a comma;
 * for a metric, a last segment that names a figure, as in `loss.min`), so that every header
 * names its own column and can be given back to `--columns`.
 */
function headerKey(key: string, metric: boolean): string {
  const dot = key.lastIndexOf('.');
  const misread =
    /[,`]/.test(key) ||
    (metric && dot > 0 && (METRIC_PARTS as readonly string[]).includes(key.slice(dot + 1)));
  return misread ? `\`${key}\`` : key;
}

function paramColumn(key: string): RunColumn {
  return {
    header: `params.${headerKey(key, false)}`,
    value: (r) => r.params?.[key],
    source: { field: 'params', key },
  };
}

function tagColumn(key: string): RunColumn {
  return {
    header: `tags.${headerKey(key, false)}`,
    value: (r) => r.tags?.[key],
    source: { field: 'tags', key },
  };
}

function metricColumn(key: string, part?: MetricPart): RunColumn {
  const read = part ?? 'last';
  return {
    header: `metrics.${headerKey(key, true)}${part ? `.${part}` : ''}`,
    value: (r) => r.metrics?.[key]?.[read],
    source: { field: 'metrics', key },
  };
}

/** The columns of every key of `field` over `runs` (a metric's column shows its last value). */
function keyColumns(runs: readonly RunInfo[], field: KeyedField): RunColumn[] {
  const column =
    field === 'params' ? paramColumn : field === 'tags' ? tagColumn : (k: string) => metricColumn(k);
  return keysOf(runs, field).map(column);
}

/** The fields of RunInfo that hold a key per param, metric or tag: shown as columns of their own. */
const KEYED: ReadonlySet<string> = new Set(['params', 'metrics', 'tags']);

/** Further fields a provider lists with its runs (beyond RunInfo's), in order of first appearance. */
function extraFields(runs: readonly RunInfo[]): string[] {
  const known = new Set<string>([...ATTRIBUTES, ...KEYED]);
  const extra = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r)) if (!known.has(k)) extra.add(k);
  return [...extra];
}

function extraColumn(name: string): RunColumn {
  return { header: name, value: (r) => (r as unknown as Record<string, unknown>)[name] };
}

/** Every key of `field` over `runs`, in order of first appearance. */
export function keysOf(runs: readonly RunInfo[], field: 'params' | 'metrics' | 'tags'): string[] {
  const keys = new Set<string>();
  for (const r of runs) for (const k of Object.keys(r[field] ?? {})) keys.add(k);
  return [...keys];
}

/**
 * The columns shown without `--columns`: run, name (when a run has one), status, times, node,
 * user, parent and error (when a run has them), any further field the provider lists, then every
 * param, metric (its last value) and tag.
 */
export function defaultColumns(runs: readonly RunInfo[]): RunColumn[] {
  return [
    ...runColumns(runs),
    ...keyColumns(runs, 'params'),
    ...keyColumns(runs, 'metrics'),
    ...keyColumns(runs, 'tags'),
  ];
}

/** The columns of the run's own fields that `defaultColumns` shows (before the params, metrics and tags). */
function runColumns(runs: readonly RunInfo[]): RunColumn[] {
  const has = (a: Attribute): boolean =>
    a === 'error'
      ? runs.some((r) => r.status === 'FAILED' || r.error !== undefined)
      : runs.some((r) => r[a] !== undefined);
  // the experiment is told by the command line; a note is long text, shown on request (or by compare)
  const shown = ATTRIBUTES.filter((a) => a !== 'experiment' && a !== 'note' && (ALWAYS.has(a) || has(a)));
  return [...shown.map(attributeColumn), ...extraFields(runs).map(extraColumn)];
}

/** The columns a table shows without `--columns`, and how many of each kind it leaves out. */
export interface TableColumns {
  columns: RunColumn[];
  hidden: Record<KeyedField, number>;
}

/**
 * The columns of a table without `--columns`: those of `defaultColumns`, but at most `max`
 * params, metrics and tags each (the first ones, in order of appearance).
 */
export function tableColumns(runs: readonly RunInfo[], max = TABLE_KEYS): TableColumns {
  const columns = runColumns(runs);
  const hidden = { params: 0, metrics: 0, tags: 0 };
  for (const field of ['params', 'metrics', 'tags'] as const) {
    const all = keyColumns(runs, field);
    // a loop, not push(...all): a spread of a data-sized array overflows the stack
    for (let i = 0; i < Math.min(max, all.length); i++) columns.push(all[i]);
    hidden[field] = Math.max(0, all.length - max);
  }
  return { columns, hidden };
}

/** The line after a table that says what it left out, and how to see it. */
function hiddenNote(hidden: Record<KeyedField, number>): string | undefined {
  const kinds = (['params', 'metrics', 'tags'] as const).filter((f) => hidden[f] > 0);
  if (kinds.length === 0) return undefined;
  const counts = kinds.map(
    (f) =>
      `${hidden[f].toLocaleString('en')} ${f === 'params' ? 'param' : f.slice(0, -1)}${hidden[f] > 1 ? 's' : ''}`,
  );
  return (
    `(${counts.join(', ')} not shown: a table shows ${TABLE_KEYS} of each; --columns picks the columns, ` +
    `e.g. --columns 'run,status,${kinds[kinds.length - 1]}.*' for every one; --format csv or json has them all)\n`
  );
}

/**
 * The row of `run` for `columns`, holding only the cells it has: a run reads its own params,
 * metrics and tags, not every key of every run, so rows cost what the runs hold (a run with
 * 100,000 tags beside 1,000 runs with none is not 100,000,000 cells). Cells keep column order.
 */
function rowMaker(columns: readonly RunColumn[]): (run: RunInfo) => Record<string, unknown> {
  const always: number[] = [];
  const byKey: Record<KeyedField, Map<string, number[]>> = {
    params: new Map(),
    metrics: new Map(),
    tags: new Map(),
  };
  columns.forEach((c, i) => {
    if (!c.source) always.push(i);
    else {
      const at = byKey[c.source.field];
      const list = at.get(c.source.key);
      if (list) list.push(i);
      else at.set(c.source.key, [i]);
    }
  });
  return (run) => {
    const cells = always.slice();
    for (const field of ['params', 'metrics', 'tags'] as const) {
      const values = run[field];
      if (!values || byKey[field].size === 0) continue;
      for (const key of Object.keys(values)) {
        const at = byKey[field].get(key);
        if (at) for (const i of at) cells.push(i);
      }
    }
    if (cells.length > always.length) cells.sort((a, b) => a - b);
    const row: Record<string, unknown> = {};
    for (const i of cells) {
      const value = columns[i].value(run);
      if (value !== undefined) row[columns[i].header] = value;
    }
    return row;
  };
}

/** `key` without the backticks that quote it (`\`a.b\`` → `a.b`); undefined when it is not quoted. */
function unquoted(key: string): string | undefined {
  return key.length >= 2 && key.startsWith('`') && key.endsWith('`') ? key.slice(1, -1) : undefined;
}

/**
 * The metric column `rest` names (what follows `metrics.`): a key the runs have is taken whole
 * (a metric called `loss.min`), else a trailing `.last`/`.min`/`.max`/`.count`/`.step` picks that
 * figure of the key before it; backticks quote a key (`\`loss.min\`.max`).
 */
function metricSpec(rest: string, metricKeys: ReadonlySet<string>): RunColumn {
  const whole = unquoted(rest);
  if (whole !== undefined) return metricColumn(whole);
  if (metricKeys.has(rest)) return metricColumn(rest);
  const dot = rest.lastIndexOf('.');
  const part = dot > 0 ? rest.slice(dot + 1) : '';
  if ((METRIC_PARTS as readonly string[]).includes(part)) {
    const base = rest.slice(0, dot);
    return metricColumn(unquoted(base) ?? base, part as MetricPart);
  }
  return metricColumn(rest);
}

const ENTITY_ALIASES: Record<string, 'params' | 'metrics' | 'tags'> = {
  params: 'params',
  param: 'params',
  metrics: 'metrics',
  metric: 'metrics',
  tags: 'tags',
  tag: 'tags',
};

/** The columns `--columns` names; a TrackingInputError for a name that is no column. */
export function parseColumns(text: string, runs: readonly RunInfo[]): RunColumn[] {
  const metricKeys = new Set(keysOf(runs, 'metrics'));
  const extras = new Set(extraFields(runs));
  const columns = new Map<string, RunColumn>();
  for (const spec of splitList(text)) {
    const dot = spec.indexOf('.');
    const entity = dot > 0 ? ENTITY_ALIASES[spec.slice(0, dot)] : undefined;
    const rest = dot > 0 ? spec.slice(dot + 1) : '';
    let column: RunColumn;
    if (entity && rest === '*') {
      // every key of the kind (a key that is `*` itself is written in backticks)
      for (const c of keyColumns(runs, entity)) if (!columns.has(c.header)) columns.set(c.header, c);
      continue;
    }
    if (entity && rest) {
      if (entity === 'metrics') column = metricSpec(rest, metricKeys);
      else {
        const key = unquoted(rest) ?? rest;
        column = entity === 'params' ? paramColumn(key) : tagColumn(key);
      }
    } else if ((ATTRIBUTES as readonly string[]).includes(spec)) column = attributeColumn(spec as Attribute);
    else if (extras.has(spec)) column = extraColumn(spec);
    else
      throw new TrackingInputError(
        `--columns: no column '${spec}'; columns are ${ATTRIBUTES.join(', ')}, params.<key>, ` +
          `tags.<key>, metrics.<key> (its last value), metrics.<key>.last|min|max|count|step, ` +
          `and params.*, metrics.*, tags.* for every key`,
      );
    // a column named twice is shown once
    if (!columns.has(column.header)) columns.set(column.header, column);
  }
  if (columns.size === 0) throw new TrackingInputError('--columns names no column');
  return [...columns.values()];
}

/**
 * `--sort` as `orderBy`: one or more comma-separated fields, each `-field` or `field DESC` for
 * descending. Checked here so that an error names `--sort` rather than the filter.
 */
export function parseSortOption(text: string): string[] {
  const entries = splitList(text);
  if (entries.length === 0) throw new TrackingInputError('--sort names no field');
  for (const entry of entries) {
    try {
      parseRunOrder(entry);
    } catch (error) {
      if (error instanceof FilterSyntaxError)
        throw new TrackingInputError(
          `--sort ${JSON.stringify(entry)} at position ${error.position}: expected ${error.expected}`,
        );
      throw error;
    }
  }
  return entries;
}

/**
 * The error message of each FAILED run. Providers that list it with the run are taken at their
 * word; otherwise it is read from the runs' stop events (`{ status: 'FAILED', error }`).
 */
export async function withErrors(reader: TrackingProvider, runs: RunInfo[]): Promise<RunInfo[]> {
  const failed = runs.filter((r) => r.status === 'FAILED' && r.error === undefined).map((r) => r.run);
  if (failed.length === 0) return runs;
  const errors = new Map<number, string>();
  try {
    for (const stop of await reader.data({ run: failed, event: 'stop' })) {
      const error = (stop.value as { error?: unknown } | null)?.error;
      if (error !== undefined) errors.set(stop.run, typeof error === 'string' ? error : cellText(error));
    }
  } catch {
    // the list itself is the answer; a reason that cannot be read (a server away) stays blank
    return runs;
  }
  return runs.map((r) => (errors.has(r.run) ? { ...r, error: errors.get(r.run) } : r));
}

/** A cell as a table shows it: durations for people, metrics rounded; CSV and JSON keep the numbers. */
export function displayRunCell(column: string, value: unknown): unknown {
  if (column === 'duration') return humanDuration(value);
  return column.startsWith('metrics.') ? roundForDisplay(value) : value;
}

/** Lists an experiment's runs: filtered, ordered, with their params, metrics and tags as columns. */
export const runsCommand: Command = {
  usage: 'omega-track runs <experiment> [--filter F] [--sort S] [--columns C] [--limit N] [--format F]',
  args: '[experiment]',
  summary: 'list the runs of an experiment: status (and error), times, params, metrics, tags',
  options: {
    // an empty filter is no filter (`--filter "$F"` with F empty): every run
    filter: { type: 'string', allowEmpty: true },
    sort: { type: 'string' },
    columns: { type: 'string' },
    limit: { type: 'string' },
    format: { type: 'string' },
  },
  help: [
    `  --filter F   only the runs that match, in MLflow's search syntax:`,
    `               "metrics.acc > 0.9 and params.lr = '0.01'", "tags.team = 'nlp'",`,
    `               "attributes.status = 'FAILED'", "params.model LIKE 'res%'"`,
    '  --sort S     order by field(s), comma separated; -field or "field DESC" for descending',
    '               (--sort=-metrics.acc, --sort "metrics.acc DESC,run"); default: by run',
    '  --columns C  the columns, comma separated: run, name, status, started, stopped, duration,',
    '               node, userid, parent, error, note, params.<key>, tags.<key>, metrics.<key>',
    '               (the last value) or metrics.<key>.last|min|max|count|step; params.*,',
    '               metrics.*, tags.* for every key of the kind (default: the run fields, then',
    `               every param, metric and tag; a table shows ${TABLE_KEYS} of each and says how many more)`,
    '               backticks quote a key: metrics.`f1,macro`, metrics.`loss.min`.max, tags.`*`',
    '  --limit N    at most N runs (after filtering and sorting)',
    FORMAT_HELP,
    ...REQUIRE_HELP,
  ],
  store: 'read',
  async run({ args, values, io, out, omega }) {
    const format = formatOf(values);
    const filter = stringOption(values, 'filter');
    const sort = stringOption(values, 'sort');
    const orderBy = sort !== undefined ? parseSortOption(sort) : undefined;
    const limit = countOption(values, 'limit');
    if (limit === 0) throw new TrackingInputError('--limit takes a positive number of runs');
    const om = await omega();
    const { name, config } = await requireExperiment(om, args[0]);
    const reader = await readerFor(om, name, config, io);
    // a filter that does not parse fails here, its message naming the position and what was expected
    const runs = await withErrors(reader, await reader.runs({ filter, orderBy, limit }));
    const columnsText = stringOption(values, 'columns');
    const { columns, hidden } =
      columnsText !== undefined
        ? { columns: parseColumns(columnsText, runs), hidden: undefined }
        : format === 'table'
          ? tableColumns(runs)
          : { columns: defaultColumns(runs), hidden: undefined };
    const headers = columns.map((c) => c.header);
    const rowOf = rowMaker(columns);
    await writeRows(out, runs.map(rowOf), format, headers, { extraColumns: false, display: displayRunCell });
    const note = hidden && runs.length ? hiddenNote(hidden) : undefined;
    if (note) out.write(note);
    return 0;
  },
};
