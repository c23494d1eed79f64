/**
 * The columns of the runs table by id — `attr.<name>` for a run's attributes, `metrics.<key>`,
 * `params.<key>`, `tags.<key>` — the value a column shows for a run, and the columns shown by
 * default: as many as fit the window, so that params are on screen beside the metrics.
 */
import type { JsonNumber, KeysJson, MetricJson, RunJson } from './api';
import { toNumber } from './api';
import type { MetricValue } from './runsState';

/** A run row as the server sends it, with what issue 24 adds (mean, and the profile flag). */
export type RunRow = RunJson & {
  profile?: boolean;
  metrics?: Record<string, MetricJson & { mean?: JsonNumber }>;
};

export type ColumnKind = 'attr' | 'metrics' | 'params' | 'tags';

/** The attributes a column may show, with their headers, sort fields and widths (px). */
export const ATTRIBUTES = [
  { name: 'name', label: 'Name', sort: 'run_name', width: 150, shown: true },
  { name: 'status', label: 'Status', sort: 'status', width: 90, shown: true },
  { name: 'start', label: 'Start', sort: 'start_time', width: 150, shown: false },
  { name: 'duration', label: 'Duration', sort: 'duration', width: 80, shown: true },
  { name: 'node', label: 'Node', sort: 'node', width: 90, shown: false },
  { name: 'user', label: 'User', sort: 'userid', width: 90, shown: false },
] as const;

/** What every row has whatever is chosen: the pick box, the run number, the links. */
const FIXED_WIDTH = 30 + 70 + 170;
/** The page's margins and the table's padding. */
const PAGE_MARGIN = 60;

export function columnId(kind: ColumnKind, key: string): string {
  return `${kind}.${key}`;
}

export function splitColumnId(id: string): { kind: ColumnKind; key: string } | undefined {
  const dot = id.indexOf('.');
  if (dot < 0) return undefined;
  const kind = id.slice(0, dot);
  if (kind !== 'attr' && kind !== 'metrics' && kind !== 'params' && kind !== 'tags') return undefined;
  return { kind, key: id.slice(dot + 1) };
}

/** Every column the chooser offers, attributes first. */
export function allColumns(keys: KeysJson): string[] {
  return [
    ...ATTRIBUTES.map((a) => columnId('attr', a.name)),
    ...keys.metrics.map((k) => columnId('metrics', k)),
    ...keys.params.map((k) => columnId('params', k)),
    ...keys.tags.map((k) => columnId('tags', k)),
  ];
}

/** A key column's width from its header (`params.optimizer`) and its values. */
function keyWidth(id: string): number {
  // the header is two lines (kind above key), so the longer of the two counts, 7 px a character
  const { kind, key } = splitColumnId(id)!;
  return Math.max(80, 7 * Math.max(kind.length + 1, Math.min(key.length, 24)) + 28);
}

/**
 * The default columns for a window `width` px wide: the usual attributes, then the keys most runs
 * have, metrics, params and tags in turn, while they fit — never a table wider than the window
 * with params pushed off-screen, nor a key of one run taking the place of one every run has.
 */
export function defaultColumns(keys: KeysJson, width: number): string[] {
  const chosen: string[] = ATTRIBUTES.filter((a) => a.shown).map((a) => columnId('attr', a.name));
  let left =
    width - PAGE_MARGIN - FIXED_WIDTH - ATTRIBUTES.filter((a) => a.shown).reduce((s, a) => s + a.width, 0);
  // the keys most runs have first (a key of one run in 30 is no default column); among keys as
  // common, metrics, params and tags in turn, each kind by name
  const candidates: Array<{ id: string; count: number; index: number; kind: number }> = [];
  (['metrics', 'params', 'tags'] as const).forEach((kind, rank) => {
    const counts = keys.counts?.[kind] ?? {};
    keys[kind].forEach((k, index) =>
      candidates.push({ id: columnId(kind, k), count: counts[k] ?? 0, index, kind: rank }),
    );
  });
  candidates.sort((a, b) => b.count - a.count || a.index - b.index || a.kind - b.kind);
  for (const c of candidates) {
    const w = keyWidth(c.id);
    if (w > left) continue;
    chosen.push(c.id);
    left -= w;
  }
  return chosen;
}

/** The number a metric column shows for a run under a value choice (step values come apart). */
export function metricValue(
  run: RunRow,
  key: string,
  value: MetricValue | undefined,
  stepValues: ReadonlyMap<number, number | null> | undefined,
): number | undefined {
  if (value?.kind === 'step') {
    const v = stepValues?.get(run.run);
    return v === null || v === undefined ? undefined : v;
  }
  const m = run.metrics?.[key];
  if (!m) return undefined;
  return toNumber(m[value?.kind ?? 'last']);
}

/** The field of the filter language for a metric, param or tag key (backticks take any text). */
export function fieldName(entity: 'metrics' | 'params' | 'tags', key: string): string {
  return `${entity}.\`${key.replace(/`/g, '``')}\``;
}

/** What a metric column sorts by: `metrics.\`acc\`.max` (none for a value at a step). */
export function metricSortField(key: string, value: MetricValue | undefined): string | undefined {
  if (!value || value.kind === 'last') return fieldName('metrics', key);
  if (value.kind === 'step') return undefined;
  return `${fieldName('metrics', key)}.${value.kind}`;
}
