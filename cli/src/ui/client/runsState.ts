/**
 * The state of the runs page as it is kept in the URL's hash query (so that a reload, the back
 * button, a shared link or a saved view brings the same table back):
 * `#/e/<exp>?filter=…&sort=metrics.acc.max:desc&group=params.lr&sel=1,2,5&cols=…&val=acc:max,loss:step:100&view=<name>&plots=1`
 */
import { parseHash, parseRunList } from './router';

/** What a metric column shows: the last value, an aggregate, or the value at a step. */
export type MetricValue = { kind: 'last' | 'min' | 'max' | 'mean' } | { kind: 'step'; step: number };

export interface RunsState {
  filter: string;
  /** A column's sort field and direction; undefined: the default (newest run first). */
  sort: { key: string; descending: boolean } | undefined;
  /** `params.lr`, `tags.team`, `parent` or `/regex/` on the name; '' for none. */
  group: string;
  selected: number[];
  /** The chosen columns (`params.lr`, `metrics.acc`, `tags.team`, `attr.node`); undefined: the default. */
  cols: string[] | undefined;
  values: Map<string, MetricValue>;
  view: string;
  /** Whether the parallel coordinates and scatter panel is open (a sweep's run page links it so). */
  plots?: boolean;
}

/** The state in the query of a runs-page hash. */
export function readRunsState(query: URLSearchParams): RunsState {
  const sortText = query.get('sort') ?? '';
  const sortMatch = /^(.*):(asc|desc)$/.exec(sortText);
  const sort = sortText
    ? sortMatch
      ? { key: sortMatch[1], descending: sortMatch[2] === 'desc' }
      : { key: sortText, descending: false }
    : undefined;
  const colsText = query.get('cols');
  return {
    filter: query.get('filter') ?? '',
    sort,
    group: query.get('group') ?? '',
    selected: parseRunList(query.get('sel')),
    cols: colsText === null ? undefined : splitColumns(colsText),
    values: parseValues(query.get('val') ?? ''),
    view: query.get('view') ?? '',
    plots: query.get('plots') === '1',
  };
}

/** The state of the current location's hash. */
export function currentRunsState(): RunsState {
  return readRunsState(parseHash(location.hash).query);
}

/** The query of a state (keys left out where they hold the default), as `a=b&c=d`. */
export function writeRunsState(state: RunsState): string {
  const q = new URLSearchParams();
  if (state.filter) q.set('filter', state.filter);
  if (state.sort) q.set('sort', `${state.sort.key}:${state.sort.descending ? 'desc' : 'asc'}`);
  if (state.group) q.set('group', state.group);
  if (state.selected.length > 0) q.set('sel', state.selected.join(','));
  if (state.cols) q.set('cols', state.cols.map(escapeColumn).join(','));
  const values = writeValues(state.values);
  if (values) q.set('val', values);
  if (state.view) q.set('view', state.view);
  if (state.plots) q.set('plots', '1');
  return q.toString();
}

/**
 * Puts a state into the address bar without rebuilding the page (history.pushState fires no
 * hashchange): `push` for a step the back button should undo (filter, sort, grouping), replace
 * for the rest (each ticked checkbox is no history entry).
 */
export function saveRunsState(experiment: string, state: RunsState, push: boolean): void {
  const query = writeRunsState(state);
  const hash = `#/e/${encodeURIComponent(experiment)}${query ? `?${query}` : ''}`;
  if (hash === location.hash) return;
  if (push) history.pushState(null, '', hash);
  else history.replaceState(null, '', hash);
}

/** `acc:max,loss:step:100` → acc → max, loss → step 100 (a key may hold `:` and `,` escaped as %3A, %2C). */
export function parseValues(text: string): Map<string, MetricValue> {
  const values = new Map<string, MetricValue>();
  for (const part of text.split(',')) {
    const fields = part.split(':');
    if (fields.length < 2) continue;
    const key = unescapePart(fields[0]);
    const kind = fields[1];
    if (kind === 'step') {
      const step = Number(fields[2]);
      if (fields[2] !== undefined && fields[2] !== '' && Number.isFinite(step))
        values.set(key, { kind: 'step', step });
    } else if (kind === 'last' || kind === 'min' || kind === 'max' || kind === 'mean') {
      if (kind !== 'last') values.set(key, { kind });
    }
  }
  return values;
}

export function writeValues(values: Map<string, MetricValue>): string {
  return [...values]
    .filter(([, v]) => v.kind !== 'last')
    .map(([key, v]) => `${escapePart(key)}:${v.kind}${v.kind === 'step' ? `:${v.step}` : ''}`)
    .join(',');
}

/** A value choice as people read it: `max`, `step 100`. */
export function valueLabel(value: MetricValue | undefined): string {
  if (!value) return 'last';
  return value.kind === 'step' ? `step ${value.step}` : value.kind;
}

function splitColumns(text: string): string[] {
  return text
    .split(',')
    .filter((c) => c !== '')
    .map(unescapePart);
}

function escapeColumn(column: string): string {
  return column.replace(/%/g, '%25').replace(/,/g, '%2C');
}

function escapePart(text: string): string {
  return escapeColumn(text).replace(/:/g, '%3A');
}

function unescapePart(text: string): string {
  return text.replace(/%3A/gi, ':').replace(/%2C/gi, ',').replace(/%25/g, '%');
}
