/**
 * The runs of an experiment: one row per run with its attributes, the last value of every metric
 * and every param and tag as columns. The server filters (the run filter language), sorts and
 * pages, so 10,000 runs cost one page of rows. Picked runs (kept across pages) go to Compare.
 */
import type { KeysJson, RunJson } from '../api';
import { ApiError, apiUrl, experimentPath, getJson } from '../api';
import { runColor } from '../colors';
import type { Child } from '../dom';
import { h, link, replace } from '../dom';
import { clip, formatCount, formatDuration, formatNumber, formatTime, formatValue } from '../format';
import { hrefs } from '../router';
import type { Column, Sort } from '../table';
import { PagedTable } from '../table';
import type { Page, PageContext } from './page';

const PAGE_SIZE = 100;

/** A field of the filter language for a metric, param or tag key (backticks take any text). */
export function fieldName(entity: 'metrics' | 'params' | 'tags', key: string): string {
  return `${entity}.\`${key.replace(/`/g, '``')}\``;
}

export function statusBadge(status: string): HTMLElement {
  return h('span', { className: `status status-${status.toLowerCase()}` }, status);
}

export function runsPage(ctx: PageContext, experiment: string): Page {
  ctx.setCrumbs([{ label: 'Experiments', href: hrefs.experiments() }, { label: experiment }]);
  const selected = new Set<number>();
  let filter = '';
  let keys: KeysJson = { metrics: [], params: [], tags: [] };

  const compareButton = h('button', {
    className: 'primary compare',
    attrs: { type: 'button', disabled: true },
    on: {
      click: () => {
        if (selected.size > 0)
          location.hash = hrefs.compare(
            experiment,
            [...selected].sort((a, b) => a - b),
          );
      },
    },
  });
  const updateCompare = (): void => {
    compareButton.textContent = selected.size > 0 ? `Compare ${selected.size} run(s)` : 'Compare';
    compareButton.disabled = selected.size === 0;
  };
  updateCompare();

  const checkbox = (run: number): HTMLInputElement => {
    const box = h('input', {
      className: 'pick',
      attrs: { type: 'checkbox', 'aria-label': `pick run ${run}`, 'data-run': run },
      on: {
        change: () => {
          if (box.checked) selected.add(run);
          else selected.delete(run);
          updateCompare();
        },
      },
    });
    box.checked = selected.has(run);
    return box;
  };

  const columns = (): Column<RunJson>[] => {
    const pickAll = h('input', {
      attrs: { type: 'checkbox', 'aria-label': 'pick the runs of this page' },
      on: {
        change: () => {
          for (const r of table.rows) {
            if (pickAll.checked) selected.add(r.run);
            else selected.delete(r.run);
          }
          updateCompare();
          table.render();
        },
      },
    });
    const cols: Column<RunJson>[] = [
      { id: 'pick', label: '', header: pickAll, cell: (r) => checkbox(r.run), className: 'pick-cell' },
      {
        id: 'run',
        label: 'Run',
        sort: 'run',
        className: 'num',
        cell: (r) =>
          h(
            'span',
            { className: 'run-id' },
            h('span', { className: 'swatch', style: { background: runColor(r.run) } }),
            String(r.run),
          ),
      },
      { id: 'name', label: 'Name', sort: 'run_name', cell: (r) => clip(r.name ?? '', 80) },
      {
        id: 'status',
        label: 'Status',
        sort: 'status',
        cell: (r) => {
          const badge = statusBadge(r.status);
          if (!r.error) return badge;
          // a FAILED run's error is read in its row, not only in a tooltip
          badge.title = r.error;
          return h(
            'span',
            null,
            badge,
            h('div', { className: 'run-error', title: r.error }, clip(r.error, 120)),
          );
        },
      },
      { id: 'start', label: 'Start', sort: 'start_time', cell: (r) => formatTime(r.started) },
      {
        id: 'duration',
        label: 'Duration',
        sort: 'duration',
        className: 'num',
        cell: (r) => formatDuration(r.duration),
      },
      { id: 'node', label: 'Node', sort: 'node', cell: (r) => r.node ?? '' },
      { id: 'user', label: 'User', sort: 'userid', cell: (r) => r.userid ?? '' },
      ...keys.metrics.map((k): Column<RunJson> => ({
        id: `m:${k}`,
        label: k,
        title: `metric ${k}: last value (sort)`,
        sort: fieldName('metrics', k),
        className: 'num metric',
        cell: (r) => {
          const m = r.metrics?.[k];
          return m ? formatNumber(m.last) : '';
        },
      })),
      ...keys.params.map((k): Column<RunJson> => ({
        id: `p:${k}`,
        label: k,
        title: `param ${k} (sort)`,
        sort: fieldName('params', k),
        className: 'param',
        cell: (r) => clip(formatValue(r.params?.[k]), 60),
      })),
      ...keys.tags.map((k): Column<RunJson> => ({
        id: `t:${k}`,
        label: `#${k}`,
        title: `tag ${k} (sort)`,
        sort: fieldName('tags', k),
        className: 'tag',
        cell: (r) => clip(formatValue(r.tags?.[k]), 60),
      })),
      {
        id: 'links',
        label: '',
        cell: (r): Child =>
          h(
            'span',
            { className: 'links' },
            link(hrefs.run(experiment, r.run, 'profile'), 'profile'),
            link(hrefs.run(experiment, r.run, 'artifacts'), 'artifacts'),
            link(hrefs.run(experiment, r.run, 'events'), 'events'),
          ),
      },
    ];
    headerPick = pickAll;
    return cols;
  };
  let headerPick: HTMLInputElement | undefined;

  const orderBy = (sort: Sort | undefined): string | undefined =>
    sort ? `${sort.key}${sort.descending ? ' DESC' : ''}` : undefined;

  const csv = link('#', 'CSV', { className: 'csv', attrs: { download: `${experiment}-runs.csv` } });
  const updateCsv = (): void => {
    csv.href = apiUrl(`${experimentPath(experiment)}/runs`, {
      format: 'csv',
      filter,
      orderBy: orderBy(table.currentSort()),
    });
  };

  const filterError = h('div', { className: 'filter-error', attrs: { role: 'alert', hidden: true } });
  let keysLoading: Promise<void> = Promise.resolve();
  const table: PagedTable<RunJson> = new PagedTable<RunJson>({
    columns: [],
    pageSize: PAGE_SIZE,
    sort: { key: 'run', descending: true },
    empty: 'No runs match.',
    rowClass: (r) => `status-row-${r.status.toLowerCase()}`,
    onSortChange: () => updateCsv(),
    load: async ({ offset, limit, sort }) => {
      const [page] = await Promise.all([
        // keys=shown: each run carries only the keys that are columns (a run may have 100,000 tags)
        getJson<{ runs: RunJson[]; total: number }>(`${experimentPath(experiment)}/runs`, {
          filter,
          orderBy: orderBy(sort),
          limit,
          offset,
          keys: 'shown',
        }),
        // the columns of a refresh arrive with its rows (both asked for at once)
        keysLoading,
      ]);
      if (headerPick)
        headerPick.checked = page.runs.length > 0 && page.runs.every((r) => selected.has(r.run));
      return { rows: page.runs, total: page.total };
    },
  });

  const showFilterError = (error: unknown): void => {
    if (error instanceof ApiError && error.status === 400) {
      const lines: Child[] = [h('strong', null, error.message)];
      if (error.position !== undefined)
        lines.push(h('pre', null, `${filter}\n${' '.repeat(Math.max(0, error.position))}^`));
      replace(filterError, ...lines);
    } else replace(filterError, error instanceof Error ? error.message : String(error));
    filterError.hidden = false;
  };

  const filterInput = h('input', {
    className: 'filter',
    attrs: {
      type: 'text',
      // the statuses as the badges show them (a finished run reads STOPPED)
      placeholder: "Filter: metrics.acc > 0.9 AND params.lr = '0.01' AND status = 'STOPPED'",
      'aria-label': 'filter runs',
      spellcheck: 'false',
    },
  });
  const apply = async (): Promise<void> => {
    filter = filterInput.value.trim();
    filterError.hidden = true;
    updateCsv();
    try {
      await table.reload(true);
    } catch (error) {
      showFilterError(error);
    }
  };
  const form = h(
    'form',
    {
      className: 'filter-form',
      on: {
        submit: (e) => {
          e.preventDefault();
          void apply();
        },
      },
    },
    filterInput,
    h('button', { attrs: { type: 'submit' } }, 'Apply'),
  );

  // a wide experiment (runs imported with thousands of tags) shows a bounded set of columns
  const hiddenColumns = h('p', { className: 'note info hidden-columns', attrs: { hidden: true } });
  const showHidden = (): void => {
    const hidden = keys.hidden ?? { metrics: 0, params: 0, tags: 0 };
    const parts = (['metrics', 'params', 'tags'] as const)
      .filter((kind) => hidden[kind] > 0)
      .map((kind) => `${formatCount(hidden[kind])} ${kind.slice(0, -1)} columns`);
    hiddenColumns.hidden = parts.length === 0;
    hiddenColumns.textContent =
      parts.length === 0
        ? ''
        : `Not shown: ${parts.join(', ')}. The table has the keys most runs share; the filter takes any key.`;
  };

  const title = h('h2', null, experiment);
  const el = h(
    'div',
    { className: 'page runs-page' },
    h('div', { className: 'toolbar' }, title, compareButton, csv),
    form,
    filterError,
    hiddenColumns,
    table.el,
  );

  const loadKeys = async (): Promise<void> => {
    keys = await getJson<KeysJson>(`${experimentPath(experiment)}/keys`);
    showHidden();
    table.setColumns(columns());
  };
  const refresh = async (): Promise<void> => {
    keysLoading = loadKeys();
    try {
      await Promise.all([keysLoading, table.reload()]);
    } catch (error) {
      showFilterError(error);
    }
  };
  updateCsv();
  void refresh();
  return { el, live: experiment, refresh };
}
