/**
 * Compare runs: a chart per metric key with one line per run (color by run number), x by step,
 * wall time or time since the run's start, EMA smoothing, log scale, zoom that re-queries the
 * range at full detail; then the params and tags of the runs side by side, differences marked.
 * The view settings live in the hash (`&x=time&smooth=0.6&log=1`), so a comparison can be shared.
 */
import type { RunJson, SeriesResponse, XMode } from '../api';
import { experimentPath, getJson } from '../api';
import { runColor } from '../colors';
import type { ChartLine, ChartView } from '../chart';
import { ChartBoard, ChartCard } from '../chart';
import { h, link, note, replace } from '../dom';
import { clip, formatCount, formatDuration, formatValue } from '../format';
import { hrefs, parseHash } from '../router';
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

export function runLabel(run: number, info: RunJson | undefined): string {
  return info?.name ? `run ${run} · ${clip(info.name, 40)}` : `run ${run}`;
}

export function comparePage(ctx: PageContext, experiment: string, runs: number[]): Page {
  ctx.setCrumbs([
    { label: 'Experiments', href: hrefs.experiments() },
    { label: experiment, href: hrefs.runs(experiment) },
    { label: 'Compare' },
  ]);
  const query = parseHash(location.hash).query;
  const view: ChartView = {
    xMode: (['step', 'time', 'relative'] as const).find((m) => m === query.get('x')) ?? 'step',
    smoothing: Math.min(0.99, Math.max(0, Number(query.get('smooth')) || 0)),
    log: query.get('log') === '1',
  };
  const infos = new Map<number, RunJson>();
  const board = new ChartBoard();
  const cards = new Map<string, ChartCard>();

  const saveView = (): void => {
    const extra = `${view.xMode !== 'step' ? `&x=${view.xMode}` : ''}${view.smoothing > 0 ? `&smooth=${view.smoothing}` : ''}${view.log ? '&log=1' : ''}`;
    // replaceState keeps the page (a hash assignment would render it again)
    history.replaceState(
      null,
      '',
      `${location.pathname}${location.search}${hrefs.compare(experiment, runs, extra)}`,
    );
  };

  const xSelect = h(
    'select',
    {
      attrs: { 'aria-label': 'x axis' },
      on: {
        change: () => {
          view.xMode = xSelect.value as XMode;
          saveView();
          board.refetchAll();
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
        board.redraw();
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
        board.redraw();
      },
    },
  });
  const controls = h(
    'div',
    { className: 'controls' },
    h('label', null, 'X axis ', xSelect),
    h(
      'label',
      { title: 'exponential moving average, debiased (as TensorBoard)' },
      'Smoothing ',
      smoothSlider,
      smoothValue,
    ),
    h('label', null, logBox, ' Log scale'),
    h('span', { className: 'hint' }, 'Drag over a chart to zoom, double-click to reset.'),
  );

  const legend = h('div', { className: 'run-legend' });
  const charts = h('div', { className: 'charts' });
  const params = h('div', { className: 'params' });
  const status = h('p', { className: 'note info' }, 'Loading…');
  const el = h(
    'div',
    { className: 'page compare-page' },
    h('div', { className: 'toolbar' }, h('h2', null, `Compare runs of ${experiment}`)),
    controls,
    legend,
    status,
    charts,
    params,
  );

  if (runs.length === 0) {
    replace(status, 'No runs picked: pick runs on the ');
    status.appendChild(link(hrefs.runs(experiment), 'runs page'));
    return { el, dispose: () => board.dispose() };
  }

  const loader =
    (key: string) =>
    async (range: { from: number; to: number } | undefined, points: number): Promise<ChartLine[]> => {
      const response = await getJson<SeriesResponse>(`${experimentPath(experiment)}/series`, {
        key,
        runs: runs.join(','),
        x: view.xMode,
        points,
        from: range?.from,
        to: range?.to,
      });
      const byRun = new Map(response.series.map((s) => [s.run, s]));
      return runs
        .filter((r) => byRun.has(r))
        .map((r) => {
          const s = byRun.get(r)!;
          return {
            label: runLabel(r, infos.get(r)),
            color: runColor(r),
            x: s.x,
            y: s.y,
            shown: s.shown,
            total: s.total,
            nonFinite: s.nonFinite ?? [],
          };
        });
    };

  const renderLegend = (): void => {
    replace(
      legend,
      runs.map((r) => {
        const info = infos.get(r);
        return h(
          'span',
          { className: 'run-chip', attrs: { 'data-run': r } },
          h('span', { className: 'swatch', style: { background: runColor(r) } }),
          runLabel(r, info),
          info ? statusBadge(info.status) : h('span', { className: 'status status-missing' }, 'not found'),
          info?.duration !== undefined && info.duration !== null ? ` ${formatDuration(info.duration)}` : '',
        );
      }),
    );
  };

  const renderParams = (): void => {
    const found = runs.filter((r) => infos.has(r));
    const section = (
      title: string,
      pick: (r: RunJson) => Record<string, unknown> | undefined,
    ): HTMLElement | null => {
      // how many of the runs have each key: past the bound, the keys most of them have are listed
      const counts = new Map<string, number>();
      for (const r of found)
        for (const k in pick(infos.get(r)!) ?? {}) counts.set(k, (counts.get(k) ?? 0) + 1);
      if (counts.size === 0) return null;
      let keys = [...counts.keys()];
      const hidden = Math.max(0, keys.length - MAX_SIDE_BY_SIDE_ROWS);
      if (hidden > 0)
        keys = keys
          .sort((a, b) => counts.get(b)! - counts.get(a)! || (a < b ? -1 : a > b ? 1 : 0))
          .slice(0, MAX_SIDE_BY_SIDE_ROWS);
      keys.sort();
      const rows = keys.map((k) => {
        const values = found.map((r) => {
          const bag = pick(infos.get(r)!) ?? {};
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
                    h('span', { className: 'swatch', style: { background: runColor(r) } }),
                    runLabel(r, infos.get(r)),
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
    const response = await getJson<{ runs: RunJson[]; total: number }>(`${experimentPath(experiment)}/runs`, {
      filter: `attributes.run IN (${runs.join(', ')})`,
      limit: runs.length,
    });
    infos.clear();
    for (const r of response.runs) infos.set(r.run, r);
    renderLegend();
    renderParams();
    const keys = [...new Set(response.runs.flatMap((r) => Object.keys(r.metrics ?? {})))].sort((a, b) =>
      a.localeCompare(b),
    );
    for (const key of keys) {
      if (cards.has(key)) continue;
      const card = new ChartCard(key, loader(key), () => view);
      cards.set(key, card);
      // cards are kept in key order, also when a live run starts logging a new key; the keys come
      // sorted, so on the first load each goes last (no sort of all the cards per key)
      const last = charts.lastElementChild?.getAttribute('data-key');
      if (last === null || last === undefined || last.localeCompare(key) <= 0) charts.appendChild(card.el);
      else {
        const after = [...cards.keys()].sort((a, b) => a.localeCompare(b)).indexOf(key);
        charts.insertBefore(card.el, charts.children[after] ?? null);
      }
      board.add(card);
    }
    if (cards.size === 0) {
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
    await board.refresh();
  };
  void loadRuns().catch((error: unknown) => {
    status.className = 'note error';
    status.textContent = error instanceof Error ? error.message : String(error);
  });
  return { el, live: experiment, refresh, dispose: () => board.dispose() };
}
