/**
 * The runs of an experiment: one row per run with its attributes and the chosen metric, param and
 * tag columns (headed `metrics.lr`, `params.lr`, `tags.team`; a column chooser, by default as many
 * as fit the window). Each metric column shows the last value, the min, max or mean, or the value
 * at a step. The server filters (the run filter language), sorts and pages, so 10,000 runs cost
 * one page of rows; grouping, brushing the parallel coordinates and the plots work on every run
 * the filter keeps (up to ALL_RUNS), in the page. The state is in the URL (runsState.ts).
 */
import type { KeysJson } from '../api';
import { ApiError, apiUrl, experimentPath, getJson } from '../api';
import { paletteColor } from '../colors';
import type { Child } from '../dom';
import { h, link, replace } from '../dom';
import { clip, formatCount, formatDuration, formatNumber, formatTime, formatValue } from '../format';
import type { GroupSpec, RunGroup } from '../groups';
import { aggregate, groupRuns, parseGroup } from '../groups';
import { naturalSort } from '../naturalCompare';
import { ParallelPlot } from '../parallel';
import type { Brush, PlotColumn } from '../plotScale';
import { brushLabel, inBrush } from '../plotScale';
import type { RunRow } from '../runColumns';
import {
  ATTRIBUTES,
  allColumns,
  defaultColumns,
  fieldName,
  metricSortField,
  metricValue,
  splitColumnId,
} from '../runColumns';
import type { MetricValue, RunsState } from '../runsState';
import { currentRunsState, saveRunsState, valueLabel, writeRunsState } from '../runsState';
import { hrefs } from '../router';
import { ScatterPlot } from '../scatter';
import type { Column, Sort } from '../table';
import { PagedTable } from '../table';
import '../table.css';
import { viewsPanel } from '../views';
import type { Page, PageContext } from './page';

const PAGE_SIZE = 100;
/** The most runs grouping, brushing and the plots work on (one request). */
const ALL_RUNS = 5000;

type Row = { kind: 'run'; run: RunRow; member: boolean } | { kind: 'group'; group: RunGroup };

export function statusBadge(status: string): HTMLElement {
  return h('span', { className: `status status-${status.toLowerCase()}` }, status);
}

export function runsPage(ctx: PageContext, experiment: string): Page {
  ctx.setCrumbs([{ label: 'Experiments', href: hrefs.experiments() }, { label: experiment }]);
  const state: RunsState = currentRunsState();
  /** The picked runs: those of `sel=` once known to be runs of the experiment (checkSelection). */
  const selected = new Set<number>();
  let selectionKnown = state.selected.length === 0;
  let keys: KeysJson = { metrics: [], params: [], tags: [] };
  let groupSpec: GroupSpec | undefined = parseGroup(state.group);
  const expanded = new Set<string>();
  const brushes = new Map<string, Brush>();
  /** Every run the filter keeps (when grouping, brushing or plotting), in the table's order. */
  let allRuns: RunRow[] = [];
  /** Per metric key with a step value: run → its value at that step. */
  const stepValues = new Map<string, Map<number, number | null>>();
  const stepNote = h('p', { className: 'note error step-note', attrs: { hidden: true } });

  const save = (push: boolean): void => {
    // until `sel=` is checked, it is kept as it came
    if (selectionKnown) state.selected = [...selected].sort((a, b) => a - b);
    saveRunsState(experiment, state, push);
  };
  /**
   * The runs of `sel=` (an address typed, an old link, a saved view) that the experiment has: the
   * others are dropped from the address and are neither counted nor sent to Compare.
   */
  const checkSelection = async (): Promise<void> => {
    if (selectionKnown) return;
    try {
      const answer = await getJson<{ runs: RunRow[] }>(`${experimentPath(experiment)}/runs`, {
        filter: `attributes.run IN (${state.selected.join(', ')})`,
        limit: state.selected.length,
        keys: 'shown',
      });
      for (const r of answer.runs) selected.add(r.run);
    } catch {
      // not known (the server failed): kept as they are, the table says what failed
      for (const r of state.selected) selected.add(r);
    }
    selectionKnown = true;
    save(false);
    updateCompare();
  };
  const selectionChecked = checkSelection();
  const shownColumns = (): string[] => state.cols ?? defaultColumns(keys, window.innerWidth);
  const plotsOpen = (): boolean => plots.open;
  const allMode = (): boolean => groupSpec !== undefined || brushes.size > 0 || plotsOpen();

  // -- selection and Compare ------------------------------------------------------------------
  const compareButton = h('button', {
    className: 'primary compare',
    attrs: { type: 'button', disabled: true },
    on: {
      click: () => {
        if (selected.size === 0) return;
        const runs = [...selected].sort((a, b) => a - b);
        const extra =
          groupSpec && groupSpec.kind !== 'invalid' ? `&group=${encodeURIComponent(state.group)}` : '';
        location.hash = hrefs.compare(experiment, runs, extra);
      },
    },
  });
  const selectedGroups = (): number =>
    groupSpec
      ? groupRuns(allRuns, groupSpec).filter((g) => g.members.some((m) => selected.has(m.run))).length
      : 0;
  const updateCompare = (): void => {
    if (groupSpec && selected.size > 0) compareButton.textContent = `Compare ${selectedGroups()} group(s)`;
    else compareButton.textContent = selected.size > 0 ? `Compare ${selected.size} run(s)` : 'Compare';
    compareButton.disabled = selected.size === 0;
  };
  /**
   * A picked run's swatch has the colour its line gets on Compare (its position among the picked
   * runs, in the order Compare lists them); a run not picked has none.
   */
  const swatchColor = (run: number): string =>
    selected.has(run) ? paletteColor([...selected].sort((a, b) => a - b).indexOf(run)) : 'transparent';
  const paintSwatches = (): void => {
    for (const el of table.el.querySelectorAll<HTMLElement>('.swatch[data-run]'))
      el.style.background = swatchColor(Number(el.dataset.run));
  };
  const pick = (runs: number[], on: boolean): void => {
    for (const r of runs) {
      if (on) selected.add(r);
      else selected.delete(r);
    }
    updateCompare();
    paintSwatches();
    save(false);
  };

  const checkbox = (run: number): HTMLInputElement => {
    const box = h('input', {
      className: 'pick',
      attrs: { type: 'checkbox', 'aria-label': `pick run ${run}`, 'data-run': run },
      on: { change: () => pick([run], box.checked) },
    });
    box.checked = selected.has(run);
    return box;
  };

  // -- the value a metric column shows ---------------------------------------------------------
  const valueChooser = (key: string): HTMLElement => {
    const current = state.values.get(key);
    const select = h(
      'select',
      {
        className: 'val-choice',
        attrs: { 'aria-label': `value of metrics.${key}` },
        title: 'the value this column shows',
      },
      (['last', 'min', 'max', 'mean', 'step'] as const).map((kind) =>
        h(
          'option',
          { attrs: { value: kind, selected: (current?.kind ?? 'last') === kind } },
          kind === 'step' ? 'at step…' : kind,
        ),
      ),
    );
    const step = h('input', {
      className: 'val-step',
      attrs: {
        type: 'number',
        'aria-label': `step of metrics.${key}`,
        placeholder: 'step',
        hidden: current?.kind !== 'step',
        value: current?.kind === 'step' ? current.step : '',
      },
    });
    const set = (value: MetricValue): void => {
      if (value.kind === 'last') state.values.delete(key);
      else state.values.set(key, value);
      // a sort by this column follows its new value
      const previous = table.currentSort();
      if (previous && splitSortKey(previous.key) === key) {
        const field = metricSortField(key, value);
        table.setSort(field ? { key: field, descending: previous.descending } : undefined);
        state.sort = table.currentSort();
      }
      save(true);
      table.setColumns(columns());
      void reload(false);
    };
    select.addEventListener('change', () => {
      const kind = select.value as MetricValue['kind'];
      step.hidden = kind !== 'step';
      if (kind === 'step') {
        if (step.value !== '') set({ kind: 'step', step: Number(step.value) });
        else step.focus();
      } else set({ kind });
    });
    step.addEventListener('change', () => {
      if (step.value !== '' && Number.isFinite(Number(step.value)))
        set({ kind: 'step', step: Number(step.value) });
    });
    // choosing is not sorting: the header's click sorts
    for (const el of [select, step]) el.addEventListener('click', (e) => e.stopPropagation());
    return h('span', { className: 'val' }, select, step);
  };
  /** `metrics.\`acc\`.max` → acc (the key a sort field is on), or undefined. */
  const splitSortKey = (field: string): string | undefined => {
    for (const k of keys.metrics) {
      const base = fieldName('metrics', k);
      if (field === base || field.startsWith(`${base}.`)) return k;
    }
    return undefined;
  };

  const headerOf = (id: string, extra?: Node): HTMLElement => {
    const { kind, key } = splitColumnId(id)!;
    return h(
      'span',
      { className: 'col-head' },
      h(
        'span',
        { className: 'col-label', attrs: { 'data-col': id } },
        h('span', { className: 'col-kind' }, `${kind}.`),
        key,
      ),
      extra ?? null,
    );
  };

  const metricOf = (run: RunRow, key: string): number | undefined =>
    metricValue(run, key, state.values.get(key), stepValues.get(key));

  // -- columns -----------------------------------------------------------------------------------
  const columns = (): Column<Row>[] => {
    const onRun =
      (cell: (r: RunRow) => Child) =>
      (row: Row): Child =>
        row.kind === 'run' ? cell(row.run) : '';
    const cols: Column<Row>[] = [
      {
        id: 'pick',
        label: '',
        header: pickAll,
        className: 'pick-cell',
        cell: (row) => {
          if (row.kind === 'run') return checkbox(row.run.run);
          const runs = row.group.members.map((m) => m.run);
          const box = h('input', {
            className: 'pick-group',
            attrs: { type: 'checkbox', 'aria-label': `pick group ${row.group.key}` },
            on: { change: () => pick(runs, box.checked) },
          });
          box.checked = runs.every((r) => selected.has(r));
          return box;
        },
      },
      {
        id: 'run',
        label: 'Run',
        sort: 'run',
        className: 'num',
        cell: (row) => {
          if (row.kind === 'group') {
            const open = expanded.has(row.group.key);
            return h(
              'button',
              {
                className: 'group-toggle',
                attrs: { type: 'button', 'aria-expanded': open, 'data-count': row.group.members.length },
                on: {
                  click: () => {
                    if (open) expanded.delete(row.group.key);
                    else expanded.add(row.group.key);
                    void reload(false, false);
                  },
                },
              },
              `${open ? '▾' : '▸'} ${row.group.members.length}`,
            );
          }
          const r = row.run;
          return h(
            'span',
            { className: `run-id${row.member ? ' member' : ''}` },
            h('span', {
              className: 'swatch',
              style: { background: swatchColor(r.run) },
              attrs: { 'data-run': r.run },
            }),
            String(r.run),
          );
        },
      },
    ];
    for (const id of shownColumns()) {
      const split = splitColumnId(id);
      if (!split) continue;
      const { kind, key } = split;
      if (kind === 'attr') {
        const attr = ATTRIBUTES.find((a) => a.name === key);
        if (attr) cols.push(attributeColumn(attr.name, attr.label, attr.sort));
      } else if (kind === 'metrics' && keys.metrics.includes(key)) {
        const value = state.values.get(key);
        cols.push({
          id,
          label: id,
          header: headerOf(id, valueChooser(key)),
          title: `metric ${key}: ${valueLabel(value)}${metricSortField(key, value) ? ' (click to sort)' : ''}`,
          sort: metricSortField(key, value),
          className: 'num metric',
          cell: (row) => {
            if (row.kind === 'run') return formatNumber(metricOf(row.run, key));
            const agg = aggregate(row.group.members.map((m) => metricOf(m, key)));
            if (!agg) return '';
            return h(
              'span',
              { className: 'agg' },
              h('span', { className: 'agg-mean', title: `mean of ${agg.count}` }, formatNumber(agg.mean)),
              h('span', { className: 'agg-range' }, `${formatNumber(agg.min)}–${formatNumber(agg.max)}`),
            );
          },
        });
      } else if (kind === 'params' || kind === 'tags') {
        if (!(kind === 'params' ? keys.params : keys.tags).includes(key)) continue;
        const valueOf = (r: RunRow): unknown => (kind === 'params' ? r.params?.[key] : r.tags?.[key]);
        cols.push({
          id,
          label: id,
          header: headerOf(id),
          title: `${kind === 'params' ? 'param' : 'tag'} ${key} (click to sort)`,
          sort: fieldName(kind, key),
          className: kind === 'params' ? 'param' : 'tag',
          cell: (row) => {
            if (row.kind === 'run') return clip(formatValue(valueOf(row.run)), 60);
            // a group shows a value its members share
            const texts = new Set(row.group.members.map((m) => formatValue(valueOf(m))));
            return texts.size === 1
              ? clip([...texts][0], 60)
              : h('span', { className: 'muted' }, `${texts.size} values`);
          },
        });
      }
    }
    cols.push({
      id: 'links',
      label: '',
      cell: onRun((r): Child =>
        h(
          'span',
          { className: 'links' },
          // only runs that have profile events have a profile page to open
          r.profile === true ? link(hrefs.run(experiment, r.run, 'profile'), 'profile') : null,
          link(hrefs.run(experiment, r.run, 'artifacts'), 'artifacts'),
          link(hrefs.run(experiment, r.run, 'events'), 'events'),
        ),
      ),
    });
    return cols;

    function attributeColumn(name: string, label: string, sort: string): Column<Row> {
      const base = { id: `attr.${name}`, label, sort };
      switch (name) {
        case 'name':
          return {
            ...base,
            cell: (row) =>
              row.kind === 'group'
                ? h(
                    'span',
                    { className: 'group-label' },
                    `${state.group} = ${row.group.key === '' ? '(none)' : row.group.key}`,
                  )
                : clip(row.run.name ?? '', 80),
          };
        case 'status':
          return {
            ...base,
            cell: onRun((r) => {
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
            }),
          };
        case 'start':
          return { ...base, cell: onRun((r) => formatTime(r.started)) };
        case 'duration':
          return { ...base, className: 'num', cell: onRun((r) => formatDuration(r.duration)) };
        case 'node':
          return { ...base, cell: onRun((r) => r.node ?? '') };
        default:
          return { ...base, cell: onRun((r) => r.userid ?? '') };
      }
    }
  };
  const pickAll: HTMLInputElement = h('input', {
    attrs: { type: 'checkbox', 'aria-label': 'pick the runs of this page' },
    on: {
      change: () => {
        const runs = table.rows.flatMap((r) =>
          r.kind === 'run' ? [r.run.run] : r.group.members.map((m) => m.run),
        );
        pick(runs, pickAll.checked);
        table.render();
      },
    },
  });

  const orderBy = (sort: Sort | undefined): string | undefined =>
    sort ? `${sort.key}${sort.descending ? ' DESC' : ''}` : undefined;

  const csv = link('#', 'CSV', { className: 'csv', attrs: { download: `${experiment}-runs.csv` } });
  const updateCsv = (): void => {
    csv.href = apiUrl(`${experimentPath(experiment)}/runs`, {
      format: 'csv',
      filter: state.filter,
      orderBy: orderBy(table.currentSort()),
    });
  };

  /** Fetches the values at a step of the metric columns that show one, for `runs`. */
  const loadStepValues = async (runs: RunRow[]): Promise<void> => {
    stepValues.clear();
    stepNote.hidden = true;
    const wanted = [...state.values].filter(
      ([k, v]) => v.kind === 'step' && shownColumns().includes(`metrics.${k}`),
    );
    if (wanted.length === 0 || runs.length === 0) return;
    await Promise.all(
      wanted.map(async ([key, value]) => {
        if (value.kind !== 'step') return;
        try {
          const answer = await getJson<{ values: Record<string, number | null> }>(
            `${experimentPath(experiment)}/values`,
            { key, step: value.step, runs: runs.map((r) => r.run).join(',') },
          );
          stepValues.set(key, new Map(Object.entries(answer.values).map(([run, v]) => [Number(run), v])));
        } catch (error) {
          stepNote.textContent = `Values at step ${value.step} of ${key}: ${error instanceof Error ? error.message : String(error)}`;
          stepNote.hidden = false;
        }
      }),
    );
  };

  /** The rows of the table in "all" mode: the brushed runs, in groups when grouping. */
  const rowsOfAll = (): Row[] => {
    const kept = allRuns.filter((r) => [...brushes].every(([id, b]) => inBrush(b, plotColumn(id)?.value(r))));
    if (!groupSpec || groupSpec.kind === 'invalid')
      return kept.map((run) => ({ kind: 'run', run, member: false }));
    const rows: Row[] = [];
    for (const group of groupRuns(kept, groupSpec)) {
      rows.push({ kind: 'group', group });
      if (expanded.has(group.key))
        for (const run of group.members) rows.push({ kind: 'run', run, member: true });
    }
    return rows;
  };

  const filterError = h('div', { className: 'filter-error', attrs: { role: 'alert', hidden: true } });
  let keysLoading: Promise<void> = Promise.resolve();
  /** Whether the next load fetches the runs again (not for an expanded group or a brush). */
  let fetchRuns = true;
  let allRows: Row[] = [];
  const table: PagedTable<Row> = new PagedTable<Row>({
    columns: [],
    pageSize: PAGE_SIZE,
    sort: state.sort ?? { key: 'run', descending: true },
    empty: 'No runs match.',
    rowClass: (r) =>
      r.kind === 'group'
        ? 'group-row'
        : `status-row-${r.run.status.toLowerCase()}${r.member ? ' member-row' : ''}`,
    onSortChange: (sort) => {
      state.sort = sort;
      save(true);
      updateCsv();
    },
    load: async ({ offset, limit, sort }) => {
      if (allMode()) {
        if (fetchRuns) {
          const [answer] = await Promise.all([
            getJson<{ runs: RunRow[]; total: number }>(`${experimentPath(experiment)}/runs`, {
              filter: state.filter,
              orderBy: orderBy(sort),
              limit: ALL_RUNS,
              keys: 'shown',
            }),
            keysLoading,
            selectionChecked,
          ]);
          allRuns = answer.runs;
          capNote.hidden = answer.total <= ALL_RUNS;
          capNote.textContent = `Grouping, brushing and the plots use the first ${formatCount(ALL_RUNS)} of ${formatCount(answer.total)} runs.`;
          await loadStepValues(allRuns);
        }
        fetchRuns = true;
        allRows = rowsOfAll();
        drawPlots();
        updateCompare();
        // groups folded show no run: nothing to be all picked
        pickAll.checked =
          allRows.some((r) => r.kind === 'run') &&
          allRows.every((r) => r.kind !== 'run' || selected.has(r.run.run));
        return { rows: allRows.slice(offset, offset + limit), total: allRows.length };
      }
      capNote.hidden = true;
      const [page] = await Promise.all([
        // keys=shown: each run carries only the keys that are columns (a run may have 100,000 tags)
        getJson<{ runs: RunRow[]; total: number }>(`${experimentPath(experiment)}/runs`, {
          filter: state.filter,
          orderBy: orderBy(sort),
          limit,
          offset,
          keys: 'shown',
        }),
        // the columns of a refresh arrive with its rows (both asked for at once)
        keysLoading,
        // the boxes of the runs picked in the address are ticked in the first rows already
        selectionChecked,
      ]);
      await loadStepValues(page.runs);
      pickAll.checked = page.runs.length > 0 && page.runs.every((r) => selected.has(r.run));
      return { rows: page.runs.map((run): Row => ({ kind: 'run', run, member: false })), total: page.total };
    },
  });
  /** Loads again; `refetch` false re-groups and re-filters the runs already fetched. */
  const reload = async (first: boolean, refetch = true): Promise<void> => {
    fetchRuns = refetch || allRuns.length === 0;
    try {
      await table.reload(first);
    } catch (error) {
      if (!(await withoutBadSort(error))) showFilterError(error);
    }
  };

  /**
   * A sort the server refuses (a `sort=` typed into the address; the server names `orderBy`)
   * is dropped, the table loaded without it and the refusal said as the sort's; true when that
   * worked.
   */
  const withoutBadSort = async (error: unknown): Promise<boolean> => {
    const bad = table.currentSort();
    if (!(error instanceof ApiError && error.status === 400 && error.param === 'orderBy') || !bad)
      return false;
    table.setSort(undefined);
    state.sort = undefined;
    save(false);
    try {
      await table.reload(true);
    } catch {
      return false;
    }
    replace(
      filterError,
      h('strong', null, `The sort '${bad.key}' is not one the server takes, so it is dropped:`),
      ` ${error.message}`,
    );
    filterError.hidden = false;
    return true;
  };

  const showFilterError = (error: unknown): void => {
    if (error instanceof ApiError && error.status === 400) {
      const lines: Child[] = [h('strong', null, error.message)];
      if (error.position !== undefined)
        lines.push(h('pre', null, `${state.filter}\n${' '.repeat(Math.max(0, error.position))}^`));
      replace(filterError, ...lines);
    } else replace(filterError, error instanceof Error ? error.message : String(error));
    filterError.hidden = false;
  };

  // -- the filter box ---------------------------------------------------------------------------
  const filterInput = h('input', {
    className: 'filter',
    attrs: {
      type: 'text',
      // the statuses as the badges show them (a finished run reads STOPPED)
      placeholder: "Filter: metrics.acc.max > 0.9 AND params.lr = '0.01' AND status = 'STOPPED'",
      title:
        "metrics.acc > 0.9 (last value) · metrics.acc.max > 0.9 (also .min, .mean, .last) · params.lr = '0.01' · tags.team = 'nlp' · status = 'STOPPED'",
      'aria-label': 'filter runs',
      spellcheck: 'false',
      value: state.filter,
    },
  });
  const apply = async (): Promise<void> => {
    const next = filterInput.value.trim();
    filterError.hidden = true;
    if (next !== state.filter) {
      state.filter = next;
      save(true);
    }
    updateCsv();
    await reload(true);
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

  // -- grouping ----------------------------------------------------------------------------------
  const groupOptions = h('datalist', { attrs: { id: 'group-options' } });
  const groupError = h('span', { className: 'group-error', attrs: { role: 'alert', hidden: true } });
  const groupInput = h('input', {
    className: 'group',
    attrs: {
      type: 'text',
      list: 'group-options',
      placeholder: 'group by: params.lr, tags.team, parent, /seed-\\d+/',
      'aria-label': 'group runs by',
      spellcheck: 'false',
      value: state.group,
    },
  });
  const showGroupError = (): void => {
    groupError.hidden = groupSpec?.kind !== 'invalid';
    groupError.textContent = groupSpec?.kind === 'invalid' ? groupSpec.message : '';
  };
  const applyGroup = (): void => {
    const next = groupInput.value.trim();
    if (next === state.group) return;
    state.group = next;
    groupSpec = parseGroup(next);
    expanded.clear();
    showGroupError();
    save(true);
    void reload(true);
  };
  groupInput.addEventListener('change', applyGroup);
  const groupForm = h(
    'form',
    {
      className: 'group-form',
      on: {
        submit: (e) => {
          e.preventDefault();
          applyGroup();
        },
      },
    },
    h('label', null, 'Group ', groupInput),
    groupOptions,
    groupError,
  );
  showGroupError();

  // -- the column chooser -----------------------------------------------------------------------
  const chooserBody = h('div', { className: 'chooser-body' });
  const chooserSearch = h('input', {
    className: 'chooser-search',
    attrs: { type: 'search', placeholder: 'search columns', 'aria-label': 'search columns' },
  });
  const chooser = h(
    'details',
    { className: 'panel col-chooser' },
    h('summary', null, 'Columns'),
    h(
      'div',
      { className: 'chooser-tools' },
      chooserSearch,
      h(
        'button',
        {
          className: 'cols-default',
          attrs: { type: 'button' },
          on: {
            click: () => {
              state.cols = undefined;
              columnsChanged();
            },
          },
        },
        'Default (fit the window)',
      ),
    ),
    chooserBody,
  );
  const columnsChanged = (): void => {
    save(false);
    table.setColumns(columns());
    renderChooser();
    // a step value shown by a newly chosen column is fetched with the rows
    if ([...state.values.values()].some((v) => v.kind === 'step')) void reload(false);
    else table.render();
  };
  const renderChooser = (): void => {
    const shown = new Set(shownColumns());
    const needle = chooserSearch.value.trim().toLowerCase();
    const sections = (['attr', 'metrics', 'params', 'tags'] as const).map((kind) => {
      const ids = allColumns(keys).filter(
        (id) => id.startsWith(`${kind}.`) && id.toLowerCase().includes(needle),
      );
      if (ids.length === 0) return null;
      return h(
        'fieldset',
        { className: `chooser-${kind}` },
        h('legend', null, kind === 'attr' ? 'attributes' : kind),
        ids.map((id) => {
          const box = h('input', {
            className: 'col-pick',
            attrs: { type: 'checkbox', 'data-col': id, 'aria-label': `column ${id}` },
            on: {
              change: () => {
                const list = shownColumns().filter((c) => c !== id);
                if (box.checked) list.push(id);
                state.cols = list;
                columnsChanged();
              },
            },
          });
          box.checked = shown.has(id);
          return h('label', { className: 'col-option' }, box, kind === 'attr' ? id.slice(5) : id);
        }),
      );
    });
    const count = h(
      'p',
      { className: 'note info' },
      `${shown.size} of ${allColumns(keys).length} columns shown.`,
    );
    replace(chooserBody, count, sections);
  };
  chooserSearch.addEventListener('input', renderChooser);

  // -- parallel coordinates and scatter ------------------------------------------------------------
  const plotColumn = (id: string): PlotColumn | undefined => {
    const split = splitColumnId(id);
    if (!split) return undefined;
    const { kind, key } = split;
    if (kind === 'metrics') {
      const value = state.values.get(key);
      return {
        id,
        label: value && value.kind !== 'last' ? `${id} (${valueLabel(value)})` : id,
        value: (r) => metricOf(r, key),
      };
    }
    if (kind === 'params' || kind === 'tags') {
      return {
        id,
        label: id,
        value: (r) => {
          const v = kind === 'params' ? r.params?.[key] : r.tags?.[key];
          if (typeof v === 'number') return v;
          if (typeof v === 'string') {
            // params logged as text ('0.01') plot as numbers
            const n = Number(v);
            return v.trim() !== '' && Number.isFinite(n) ? n : v;
          }
          return v === undefined || v === null ? undefined : JSON.stringify(v);
        },
      };
    }
    return undefined;
  };
  const plotColumns = (): PlotColumn[] =>
    shownColumns()
      .filter((id) => id.startsWith('params.') || id.startsWith('metrics.'))
      .map(plotColumn)
      .filter((c): c is PlotColumn => c !== undefined);
  const colorSelect = h('select', { className: 'color-by', attrs: { 'aria-label': 'colour by' } });
  const scatterX = h('select', { className: 'scatter-x', attrs: { 'aria-label': 'scatter x' } });
  const scatterY = h('select', { className: 'scatter-y', attrs: { 'aria-label': 'scatter y' } });
  const chips = h('div', { className: 'chips' });
  const parallel = new ParallelPlot({
    onBrush: (column, brush) => {
      if (brush) brushes.set(column, brush);
      else brushes.delete(column);
      renderChips();
      void reload(true, false);
    },
  });
  const scatter = new ScatterPlot();
  const fillSelect = (
    select: HTMLSelectElement,
    ids: string[],
    fallback: string | undefined,
    none?: string,
  ): void => {
    const current = select.value || fallback || '';
    replace(
      select,
      none !== undefined ? h('option', { attrs: { value: '' } }, none) : null,
      ids.map((id) => h('option', { attrs: { value: id, selected: id === current } }, id)),
    );
  };
  const drawPlots = (): void => {
    renderChips();
    if (!plotsOpen()) return;
    const cols = plotColumns();
    const ids = cols.map((c) => c.id);
    const metrics = ids.filter((id) => id.startsWith('metrics.'));
    fillSelect(colorSelect, metrics, metrics[0], '(no colour)');
    fillSelect(scatterX, ids, ids.find((id) => id.startsWith('params.')) ?? ids[0]);
    fillSelect(scatterY, ids, metrics[0] ?? ids[1]);
    const colorBy = colorSelect.value ? plotColumn(colorSelect.value) : undefined;
    parallel.draw(allRuns, cols, colorBy, brushes);
    const x = plotColumn(scatterX.value);
    const y = plotColumn(scatterY.value);
    // the scatter shows the runs the table keeps
    const kept = allRuns.filter((r) => [...brushes].every(([id, b]) => inBrush(b, plotColumn(id)?.value(r))));
    if (x && y) scatter.draw(kept, x, y, colorBy);
  };
  for (const select of [colorSelect, scatterX, scatterY]) select.addEventListener('change', drawPlots);
  const renderChips = (): void => {
    replace(
      chips,
      [...brushes].map(([id, brush]) =>
        h(
          'span',
          { className: 'chip', attrs: { 'data-col': id } },
          brushLabel(id, brush),
          h(
            'button',
            {
              className: 'chip-remove',
              attrs: { type: 'button', 'aria-label': `remove the brush on ${id}` },
              on: {
                click: () => {
                  brushes.delete(id);
                  void reload(true, false);
                },
              },
            },
            '×',
          ),
        ),
      ),
    );
  };
  const plots = h(
    'details',
    { className: 'panel plots' },
    h('summary', null, 'Parallel coordinates · scatter'),
    h(
      'div',
      { className: 'plot-tools' },
      h('label', null, 'colour by ', colorSelect),
      h('label', null, ' scatter x ', scatterX),
      h('label', null, ' y ', scatterY),
    ),
    h(
      'p',
      { className: 'note info' },
      'One axis per chosen param and metric column; drag along an axis to keep the runs inside, click it to clear.',
    ),
    parallel.el,
    scatter.el,
  );
  // opened by the address (`plots=1`: a sweep's run page links its trials so); kept there
  plots.open = state.plots === true;
  plots.addEventListener('toggle', () => {
    if (plots.open !== (state.plots === true)) {
      state.plots = plots.open;
      save(false);
    }
    void reload(false);
  });

  // -- keys, columns hidden by the server ---------------------------------------------------------
  // a wide experiment (runs imported with thousands of tags) has a bounded set of columns
  const hiddenColumns = h('p', { className: 'note info hidden-columns', attrs: { hidden: true } });
  const capNote = h('p', { className: 'note info cap-note', attrs: { hidden: true } });
  const showHidden = (): void => {
    const hidden = keys.hidden ?? { metrics: 0, params: 0, tags: 0 };
    const parts = (['metrics', 'params', 'tags'] as const)
      .filter((kind) => hidden[kind] > 0)
      .map((kind) => `${formatCount(hidden[kind])} ${kind.slice(0, -1)} columns`);
    hiddenColumns.hidden = parts.length === 0;
    hiddenColumns.textContent =
      parts.length === 0
        ? ''
        : `Not offered: ${parts.join(', ')}. The columns have the keys most runs share; the filter takes any key.`;
  };

  const title = h('h2', null, experiment);
  const stateForView = (): Record<string, string> => {
    const q = new URLSearchParams(
      writeRunsState({ ...state, view: '', selected: [...selected].sort((a, b) => a - b) }),
    );
    return Object.fromEntries(q.entries());
  };
  const el = h(
    'div',
    { className: 'page runs-page' },
    h(
      'div',
      { className: 'toolbar' },
      title,
      compareButton,
      csv,
      viewsPanel(experiment, state.view, stateForView),
    ),
    form,
    filterError,
    h('div', { className: 'runs-tools' }, groupForm, chooser),
    plots,
    chips,
    hiddenColumns,
    capNote,
    stepNote,
    table.el,
  );

  const loadKeys = async (): Promise<void> => {
    keys = await getJson<KeysJson>(`${experimentPath(experiment)}/keys`);
    // the columns, the chooser and the group options in natural order (m1, m2, m10)
    keys = {
      ...keys,
      metrics: naturalSort(keys.metrics),
      params: naturalSort(keys.params),
      tags: naturalSort(keys.tags),
    };
    showHidden();
    replace(
      groupOptions,
      ['parent', 'name', ...keys.params.map((k) => `params.${k}`), ...keys.tags.map((k) => `tags.${k}`)].map(
        (v) => h('option', { attrs: { value: v } }),
      ),
    );
    table.setColumns(columns());
    renderChooser();
  };
  const refresh = async (): Promise<void> => {
    keysLoading = loadKeys();
    fetchRuns = true;
    try {
      await Promise.all([keysLoading, table.reload()]);
    } catch (error) {
      if (!(await withoutBadSort(error))) showFilterError(error);
    }
  };
  updateCsv();
  updateCompare();
  void refresh();
  return { el, live: experiment, refresh };
}
