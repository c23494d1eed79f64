/**
 * Compare runs — of one experiment (`#/e/<exp>/compare?runs=1,2,3`; with one run it is the run's
 * charts page) or of several (`#/compare?runs=<exp>:1,<exp2>:3`, each run labelled with its
 * experiment). A chart per chosen metric key (the picker; `charts=` in the URL) in a virtualized
 * grid, one line per run coloured by its position in the selection, or with `group=params.lr`
 * (tags.X, parent, name) one mean line per group with its ±std or min–max band from the server
 * (`band=std|minmax`), the members drawn on demand (`members=1`). The cursor, the zoom and the
 * lines hidden in the page's one legend are shared by every chart. Then the params and tags of
 * the runs side by side, differences marked. The view lives in the hash, so it can be shared.
 */
import type { JsonNumber, RunJson, SeriesJson, SeriesResponse, XMode } from '../api';
import { experimentPath, getJson } from '../api';
import type { ChartLine, ChartView, XRange } from '../chart';
import { ChartCard } from '../chart';
import { ChartGrid } from '../chartGrid';
import type { LegendEntry } from '../chartSync';
import { ChartSync } from '../chartSync';
import { paletteColor } from '../colors';
import { h, link, note, replace } from '../dom';
import { clip, formatCount, formatValue } from '../format';
import { groupKeyOf, parentsIn, parseGroup } from '../groups';
import { LoadQueue } from '../loadQueue';
import { naturalCompare, naturalSort } from '../naturalCompare';
import { MetricPicker, formatCharts, parseCharts } from '../picker';
import type { RunRef } from '../router';
import { hrefs, parseHash } from '../router';
import { viewsPanel } from '../views';
import type { Page, PageContext } from './page';
import { statusBadge } from './runs';

const X_MODES: { mode: XMode; label: string }[] = [
  { mode: 'step', label: 'Step' },
  { mode: 'time', label: 'Wall time' },
  { mode: 'relative', label: 'Time since start' },
];

/**
 * The most params (and tags) the side-by-side table lists: a run imported with 100,000 tags would
 * otherwise make as many rows. The keys most of the compared runs have are the ones listed.
 */
export const MAX_SIDE_BY_SIDE_ROWS = 500;

/** Runs per /series request: the server's bound (MAX_SERIES_RUNS of ui/server/api.ts). */
const SERIES_CHUNK = 100;

/**
 * Points drawn in one chart, all its lines together, beyond which each line is asked for fewer
 * (never fewer than one per pixel: half the chart's two per pixel). 200 lines of 1,000 points are
 * 200,000 points a chart draws where the lines overlap anyway; at one point per pixel the
 * min-max preselection still keeps each line's spikes (see ui/server/downsample.ts).
 */
const CHART_POINT_BUDGET = 100_000;

/** The points to ask for per line of a chart of `lines` lines that would draw `points` per line. */
export function pointsPerLine(points: number, lines: number): number {
  if (lines * points <= CHART_POINT_BUDGET) return points;
  return Math.max(Math.ceil(points / 2), Math.floor(CHART_POINT_BUDGET / lines));
}

/** The answer of `GET /api/experiments/:exp/band` (the contract of issue 24). */
export interface BandResponse {
  key: string;
  x: XMode;
  band: 'std' | 'minmax';
  runs: number[];
  grid: number[];
  mean: (JsonNumber | null)[];
  lower: (JsonNumber | null)[];
  upper: (JsonNumber | null)[];
  count: number[];
}

export function runLabel(run: number, info: RunJson | undefined): string {
  return info?.name ? `run ${run} · ${clip(info.name, 40)}` : `run ${run}`;
}

/** A query value as readable as it can stay in a hash (`,`, `/`, `:` left as they are). */
function queryValue(v: string): string {
  return encodeURIComponent(v).replace(/%2C/gi, ',').replace(/%2F/gi, '/').replace(/%3A/gi, ':');
}

/** A finite number or null (the band's points without members, non-finite values). */
function finite(v: JsonNumber | null | undefined): number | null {
  const n = typeof v === 'number' ? v : v === null || v === undefined ? NaN : Number(v);
  return Number.isFinite(n) ? n : null;
}

/** `zoom=from,to` of the URL: a range with from < to, else none. */
export function parseZoom(text: string | null): XRange | undefined {
  const parts = (text ?? '').split(',');
  if (parts.length !== 2 || parts.some((p) => p.trim() === '')) return undefined;
  const [from, to] = parts.map(Number);
  return Number.isFinite(from) && Number.isFinite(to) && from < to ? { from, to } : undefined;
}

/** The most groups a chart draws (the palette's distinct colours); the largest are drawn. */
export const MAX_GROUPS = 20;

const refId = (r: RunRef): string => `${r.experiment}:${r.run}`;

/**
 * The group a run is in under `by` (the runs page's `group=`: `params.X`, `tags.X`, `parent`,
 * `name` or `/pattern/`; groups.ts), as a label; `parents`: the runs compared that are the parent
 * of another (each heads its children's group).
 */
export function groupValue(by: string, info: RunJson | undefined, parents?: ReadonlySet<number>): string {
  if (!info) return '(not found)';
  const spec = parseGroup(by);
  if (!spec) return '';
  if (spec.kind === 'invalid') return '(bad grouping)';
  const key = groupKeyOf(info, spec, parents);
  if (spec.kind === 'parent') return key === '' ? '(no parent)' : `run ${key}`;
  if (key !== '') return key;
  return spec.kind === 'name' ? '(no name)' : '(none)';
}

interface Group {
  id: string;
  label: string;
  experiment: string;
  members: RunRef[];
}

export function comparePage(ctx: PageContext, experiment: string, runs: number[]): Page {
  ctx.setCrumbs([
    { label: 'Experiments', href: hrefs.experiments() },
    { label: experiment, href: hrefs.runs(experiment) },
    { label: runs.length === 1 ? `Run ${runs[0]}` : 'Compare' },
  ]);
  return chartsPage(
    runs.map((run) => ({ experiment, run })),
    experiment,
  );
}

/** Runs of several experiments in one view (`#/compare?runs=<exp>:1,<exp2>:3`). */
export function compareAcrossPage(ctx: PageContext, refs: RunRef[]): Page {
  ctx.setCrumbs([
    { label: 'Experiments', href: hrefs.experiments() },
    { label: 'Compare across experiments' },
  ]);
  return chartsPage(refs, undefined);
}

function chartsPage(refs: RunRef[], experiment: string | undefined): Page {
  const query = parseHash(location.hash).query;
  const view: ChartView = {
    xMode: (['step', 'time', 'relative'] as const).find((m) => m === query.get('x')) ?? 'step',
    smoothing: Math.min(0.99, Math.max(0, Number(query.get('smooth')) || 0)),
    log: query.get('log') === '1',
  };
  let charts = parseCharts(query.get('charts'));
  let groupBy = query.get('group') ?? '';
  let bandKind: 'std' | 'minmax' = query.get('band') === 'minmax' ? 'minmax' : 'std';
  let members = query.get('members') === '1';
  const infos = new Map<string, RunJson>();
  const sync = new ChartSync();
  sync.onZoom = () => saveView();
  // the zoomed x range of every chart (`zoom=from,to`), so that a reload or a shared link keeps it
  sync.zoom = parseZoom(query.get('zoom'));
  const experiments = [...new Set(refs.map((r) => r.experiment))];
  const across = experiment === undefined;
  const labelOf = (r: RunRef): string =>
    across
      ? `${r.experiment} · ${runLabel(r.run, infos.get(refId(r)))}`
      : runLabel(r.run, infos.get(refId(r)));
  const colorOf = new Map(refs.map((r, i) => [refId(r), paletteColor(i)]));

  const saveView = (): void => {
    let extra = '';
    if (view.xMode !== 'step') extra += `&x=${view.xMode}`;
    if (view.smoothing > 0) extra += `&smooth=${view.smoothing}`;
    if (view.log) extra += '&log=1';
    if (charts !== null) extra += `&charts=${queryValue(formatCharts(charts))}`;
    if (groupBy !== '') extra += `&group=${queryValue(groupBy)}`;
    if (groupBy !== '' && bandKind !== 'std') extra += `&band=${bandKind}`;
    if (groupBy !== '' && members) extra += '&members=1';
    if (sync.zoom) extra += `&zoom=${sync.zoom.from},${sync.zoom.to}`;
    const hash = across
      ? hrefs.compareAcross(refs, extra)
      : hrefs.compare(
          experiment,
          refs.map((r) => r.run),
          extra,
        );
    // replaceState keeps the page (a hash assignment would render it again)
    history.replaceState(null, '', `${location.pathname}${location.search}${hash}`);
  };

  /** The groups of the runs (by experiment too: the band is computed per experiment). */
  /** How many groups the runs made at the last groups() (it draws MAX_GROUPS at most). */
  let groupsMade = 0;
  const groupNote = h('p', { className: 'note info group-note', attrs: { hidden: true } });
  const groups = (): Group[] => {
    const byId = new Map<string, Group>();
    // per experiment: a run number is a parent only among the runs of its own experiment
    const parents = new Map(
      experiments.map((exp) => [
        exp,
        parentsIn(refs.filter((r) => r.experiment === exp).flatMap((r) => infos.get(refId(r)) ?? [])),
      ]),
    );
    for (const r of refs) {
      const value = groupValue(groupBy, infos.get(refId(r)), parents.get(r.experiment));
      const id = `group:${across ? `${r.experiment} · ` : ''}${value}`;
      let g = byId.get(id);
      if (!g) {
        const label = `${across ? `${r.experiment} · ` : ''}${groupBy}=${value}`;
        byId.set(id, (g = { id, label, experiment: r.experiment, members: [] }));
      }
      g.members.push(r);
    }
    const all = [...byId.values()];
    groupsMade = all.length;
    if (all.length <= MAX_GROUPS) return all;
    // the largest groups, in their order: a grouping by a param of 200 values would ask 200
    // bands per chart (the browser refuses that many requests at once) and no palette tells
    // 200 lines apart
    const kept = new Set([...all].sort((a, b) => b.members.length - a.members.length).slice(0, MAX_GROUPS));
    return all.filter((g) => kept.has(g));
  };

  /** One key's series of some runs, one request per experiment. */
  const seriesOf = async (
    key: string,
    list: readonly RunRef[],
    range: XRange | undefined,
    points: number,
  ): Promise<Map<string, SeriesJson>> => {
    const out = new Map<string, SeriesJson>();
    const byExperiment = new Map<string, number[]>();
    for (const r of list) {
      // runs known not to have the key are not asked for (200 runs, some with other metrics)
      const info = infos.get(refId(r));
      if (info && !(info.metrics && key in info.metrics)) continue;
      byExperiment.set(r.experiment, [...(byExperiment.get(r.experiment) ?? []), r.run]);
    }
    const lines = [...byExperiment.values()].reduce((n, runs) => n + runs.length, 0);
    const perLine = pointsPerLine(points, lines);
    // the server reads at most SERIES_CHUNK runs per request (MAX_SERIES_RUNS): more go in parts
    const parts: [string, number[]][] = [];
    for (const [exp, runs] of byExperiment)
      for (let i = 0; i < runs.length; i += SERIES_CHUNK) parts.push([exp, runs.slice(i, i + SERIES_CHUNK)]);
    await Promise.all(
      parts.map(async ([exp, runs]) => {
        const response = await getJson<SeriesResponse>(`${experimentPath(exp)}/series`, {
          key,
          runs: runs.join(','),
          x: view.xMode,
          points: perLine,
          from: range?.from,
          to: range?.to,
        });
        for (const s of response.series) out.set(`${exp}:${s.run}`, s);
      }),
    );
    return out;
  };

  const runLines =
    (key: string) =>
    async (range: XRange | undefined, points: number): Promise<ChartLine[]> => {
      const series = await seriesOf(key, refs, range, points);
      return refs
        .filter((r) => series.has(refId(r)))
        .map((r) => {
          const s = series.get(refId(r))!;
          return {
            id: refId(r),
            label: labelOf(r),
            color: colorOf.get(refId(r))!,
            x: s.x,
            y: s.y,
            shown: s.shown,
            total: s.total,
            nonFinite: s.nonFinite ?? [],
          };
        });
    };

  const groupLines =
    (key: string) =>
    async (range: XRange | undefined, points: number): Promise<ChartLine[]> => {
      const list = groups();
      const lines: ChartLine[] = [];
      await Promise.all(
        list.map(async (g, gi) => {
          const has = g.members.filter((r) => {
            const info = infos.get(refId(r));
            return !info || (info.metrics !== undefined && key in info.metrics);
          });
          if (has.length === 0) return;
          const color = paletteColor(gi);
          const band = await getJson<BandResponse>(`${experimentPath(g.experiment)}/band`, {
            key,
            runs: has.map((r) => r.run).join(','),
            x: view.xMode,
            points,
            band: bandKind,
          });
          lines.push({
            id: g.id,
            label: `${g.label} (${has.length} runs)`,
            color,
            x: band.grid,
            y: band.mean.map(finite),
            band: { lower: band.lower.map(finite), upper: band.upper.map(finite) },
            shown: band.grid.length,
            total: band.grid.length,
            nonFinite: [],
          });
          if (!members) return;
          const series = await seriesOf(key, has, range, points);
          for (const r of has) {
            const s = series.get(refId(r));
            if (s)
              lines.push({
                id: g.id,
                label: labelOf(r),
                color,
                x: s.x,
                y: s.y,
                shown: s.shown,
                total: s.total,
                nonFinite: [],
                member: true,
              });
          }
        }),
      );
      // in the groups' order whatever answered first
      const order = new Map(list.map((g, i) => [g.id, i]));
      return lines.sort((a, b) => order.get(a.id!)! - order.get(b.id!)!);
    };

  const loads = new LoadQueue();
  const grid = new ChartGrid((key) => {
    const loader = groupBy !== '' ? groupLines(key) : runLines(key);
    return new ChartCard(
      key,
      (range, points) => loads.run(() => loader(range, points)),
      () => view,
      sync,
    );
  });

  const renderLegend = (): void => {
    groupNote.hidden = true;
    if (groupBy !== '') {
      const list = groups();
      groupNote.hidden = groupsMade <= MAX_GROUPS;
      groupNote.textContent = `${groupsMade} groups by ${groupBy}: the ${MAX_GROUPS} largest are drawn; group by something with fewer values to see them all.`;
      sync.setEntries(
        list.map((g, i): LegendEntry => ({
          id: g.id,
          label: `${g.label} (${g.members.length} runs)`,
          color: paletteColor(i),
          extra: h('span', { className: 'note' }, ` ${g.members.map((r) => r.run).join(', ')}`),
        })),
      );
      return;
    }
    sync.setEntries(
      refs.map((r): LegendEntry => {
        const info = infos.get(refId(r));
        return {
          id: refId(r),
          label: labelOf(r),
          color: colorOf.get(refId(r))!,
          extra: h(
            'span',
            null,
            info ? statusBadge(info.status) : h('span', { className: 'status status-missing' }, 'not found'),
            // a FAILED run's error is read here too, not only on the runs page
            info?.error
              ? h('span', { className: 'run-error', title: info.error }, ` ${clip(info.error, 80)}`)
              : null,
          ),
        };
      }),
    );
  };

  const xSelect = h(
    'select',
    {
      attrs: { 'aria-label': 'x axis' },
      on: {
        change: () => {
          view.xMode = xSelect.value as XMode;
          // the zoomed range means nothing in the new x units (refetchAll drops it from the charts)
          sync.zoom = undefined;
          saveView();
          grid.refetchAll();
        },
      },
    },
    X_MODES.map((m) => h('option', { attrs: { value: m.mode, selected: m.mode === view.xMode } }, m.label)),
  );
  const smoothValue = h('output', { className: 'smooth-value' }, view.smoothing.toFixed(2));
  const smoothSlider = h('input', {
    className: 'smoothing',
    attrs: { type: 'range', min: 0, max: 0.99, step: 0.01, value: view.smoothing, 'aria-label': 'smoothing' },
    on: {
      input: () => {
        view.smoothing = Number(smoothSlider.value);
        smoothValue.textContent = view.smoothing.toFixed(2);
        grid.redraw();
      },
      change: () => saveView(),
    },
  });
  const logBox = h('input', {
    attrs: { type: 'checkbox', checked: view.log, 'aria-label': 'log scale' },
    on: {
      change: () => {
        view.log = logBox.checked;
        saveView();
        grid.redraw();
      },
    },
  });
  /** The grouping changed: new lines, a new legend, every chart built again. */
  const regroup = (): void => {
    bandSelect.disabled = groupBy === '';
    membersBox.disabled = groupBy === '';
    saveView();
    renderLegend();
    const keys = picker.chosenKeys();
    grid.setKeys([]);
    grid.setKeys(keys);
  };
  const groupSelect = h('select', {
    className: 'group-by',
    attrs: { 'aria-label': 'group runs by' },
    on: {
      change: () => {
        groupBy = groupSelect.value;
        regroup();
      },
    },
  });
  const bandSelect = h(
    'select',
    {
      className: 'band-kind',
      attrs: { 'aria-label': 'band', disabled: groupBy === '' },
      on: {
        change: () => {
          bandKind = bandSelect.value === 'minmax' ? 'minmax' : 'std';
          regroup();
        },
      },
    },
    h('option', { attrs: { value: 'std', selected: bandKind === 'std' } }, 'mean ± std'),
    h('option', { attrs: { value: 'minmax', selected: bandKind === 'minmax' } }, 'min – max'),
  );
  const membersBox = h('input', {
    className: 'members',
    attrs: { type: 'checkbox', checked: members, disabled: groupBy === '', 'aria-label': 'show members' },
    on: {
      change: () => {
        members = membersBox.checked;
        regroup();
      },
    },
  });
  const renderGroupOptions = (): void => {
    const params = new Set<string>();
    const tags = new Set<string>();
    for (const info of infos.values()) {
      for (const k in info.params ?? {}) params.add(k);
      for (const k in info.tags ?? {}) tags.add(k);
    }
    const options = [
      '',
      'parent',
      'name',
      ...naturalSort(params).map((k) => `params.${k}`),
      ...naturalSort(tags).map((k) => `tags.${k}`),
    ];
    if (!options.includes(groupBy)) options.push(groupBy);
    replace(
      groupSelect,
      options.map((o) =>
        h('option', { attrs: { value: o, selected: o === groupBy } }, o === '' ? 'no grouping' : o),
      ),
    );
  };
  const controls = h(
    'div',
    { className: 'controls' },
    h('label', null, 'X axis ', xSelect),
    h(
      'label',
      { title: 'exponential moving average, debiased (as TensorBoard); the raw line stays, faint' },
      'Smoothing ',
      smoothSlider,
      smoothValue,
    ),
    h('label', null, logBox, ' Log scale'),
    h(
      'span',
      { className: 'group-tools' },
      h('label', null, 'Group ', groupSelect),
      h('label', null, bandSelect),
      h('label', null, membersBox, ' members'),
    ),
    h('span', { className: 'hint' }, 'Drag over a chart to zoom all, double-click to reset.'),
    // a comparison of one experiment's runs is saved with that experiment's views
    across
      ? null
      : viewsPanel(experiment, query.get('view') ?? '', () => {
          const state: Record<string, string> = { page: 'compare' };
          for (const [k, v] of parseHash(location.hash).query) if (k !== 'view') state[k] = v;
          return state;
        }),
  );

  const picker = new MetricPicker(charts, (entries, keys) => {
    charts = entries;
    saveView();
    grid.setKeys(keys);
  });
  const params = h('div', { className: 'params' });
  const status = h('p', { className: 'note info' }, 'Loading…');
  const title = across
    ? `Compare runs of ${experiments.join(', ')}`
    : refs.length === 1
      ? `Run ${refs[0].run} of ${experiment}`
      : `Compare runs of ${experiment}`;
  const el = h(
    'div',
    { className: 'page compare-page' },
    h('div', { className: 'toolbar' }, h('h2', null, title)),
    controls,
    picker.el,
    sync.legendEl,
    groupNote,
    status,
    grid.el,
    params,
  );
  const dispose = (): void => grid.dispose();

  if (refs.length === 0) {
    replace(status, 'No runs picked: pick runs on the ');
    status.appendChild(
      experiment !== undefined
        ? link(hrefs.runs(experiment), 'runs page')
        : link(hrefs.experiments(), 'experiments'),
    );
    return { el, dispose };
  }

  const renderParams = (): void => {
    const found = refs.filter((r) => infos.has(refId(r)));
    const section = (
      title: string,
      pick: (r: RunJson) => Record<string, unknown> | undefined,
    ): HTMLElement | null => {
      // how many of the runs have each key: past the bound, the keys most of them have are listed
      const counts = new Map<string, number>();
      for (const r of found)
        for (const k in pick(infos.get(refId(r))!) ?? {}) counts.set(k, (counts.get(k) ?? 0) + 1);
      if (counts.size === 0) return null;
      let keys = [...counts.keys()];
      const hidden = Math.max(0, keys.length - MAX_SIDE_BY_SIDE_ROWS);
      if (hidden > 0)
        keys = keys
          .sort((a, b) => counts.get(b)! - counts.get(a)! || naturalCompare(a, b))
          .slice(0, MAX_SIDE_BY_SIDE_ROWS);
      keys.sort(naturalCompare);
      const rows = keys.map((k) => {
        const values = found.map((r) => {
          const bag = pick(infos.get(refId(r))!) ?? {};
          return Object.prototype.hasOwnProperty.call(bag, k) ? formatValue(bag[k]) : undefined;
        });
        const differs = new Set(values.map((v) => v ?? '\u0000missing')).size > 1;
        return h(
          'tr',
          { className: differs ? 'differs' : '' },
          h(
            'td',
            { className: 'mark', title: differs ? 'the runs differ' : 'the same in every run' },
            differs ? '≠' : '',
          ),
          h('th', { attrs: { scope: 'row' } }, k),
          values.map((v) =>
            h('td', { className: v === undefined ? 'missing' : '' }, v === undefined ? '—' : clip(v, 120)),
          ),
        );
      });
      return h(
        'section',
        null,
        h('h3', null, title),
        h(
          'div',
          { className: 'scroll' },
          h(
            'table',
            { className: 'grid side-by-side' },
            h(
              'thead',
              null,
              h(
                'tr',
                null,
                h('th', null, ''),
                h('th', null, 'key'),
                found.map((r) =>
                  h(
                    'th',
                    null,
                    h('span', { className: 'swatch', style: { background: colorOf.get(refId(r))! } }),
                    labelOf(r),
                  ),
                ),
              ),
            ),
            h('tbody', null, rows),
          ),
        ),
        hidden > 0
          ? h(
              'p',
              { className: 'note info hidden-rows' },
              `… and ${formatCount(hidden)} more ${title.toLowerCase()} not listed (those fewer of these runs have)`,
            )
          : null,
      );
    };
    replace(
      params,
      section('Params', (r) => r.params),
      section('Tags', (r) => r.tags),
    );
  };

  const loadRuns = async (): Promise<void> => {
    const answers = await Promise.all(
      experiments.map(async (exp) => {
        const runs = refs.filter((r) => r.experiment === exp).map((r) => r.run);
        const response = await getJson<{ runs: RunJson[]; total: number }>(`${experimentPath(exp)}/runs`, {
          filter: `attributes.run IN (${runs.join(', ')})`,
          limit: runs.length,
        });
        return { exp, runs: response.runs };
      }),
    );
    infos.clear();
    for (const { exp, runs } of answers) for (const r of runs) infos.set(`${exp}:${r.run}`, r);
    renderLegend();
    renderGroupOptions();
    renderParams();
    const keys = new Set<string>();
    for (const info of infos.values()) for (const k in info.metrics ?? {}) keys.add(k);
    picker.setKeys([...keys]);
    grid.setKeys(picker.chosenKeys());
    if (keys.size === 0) {
      status.hidden = false;
      status.className = 'note info';
      status.textContent = infos.size === 0 ? 'None of these runs exists.' : 'These runs have no metrics.';
    } else status.hidden = true;
  };

  const refresh = async (): Promise<void> => {
    try {
      await loadRuns();
    } catch (error) {
      replace(status, note(error instanceof Error ? error.message : String(error), 'error'));
      status.hidden = false;
      return;
    }
    await grid.refresh();
  };
  void loadRuns().catch((error: unknown) => {
    status.className = 'note error';
    status.textContent = error instanceof Error ? error.message : String(error);
  });
  return { el, live: across ? null : experiment, refresh, dispose };
}
