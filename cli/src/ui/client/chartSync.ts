/**
 * What the charts of one page share (issue 24): the cursor (uPlot's cursor sync under one key),
 * the zoomed x range, the lines hidden by a click in the legend, and that legend itself — one per
 * page, above the charts, instead of one under every chart. A chart registers while it is built
 * (the virtualized grid builds only those near the screen) and reads the shared state when it is.
 */
import { h, replace } from './dom';

export interface XRange {
  from: number;
  to: number;
}

/** One line of the page legend: a run, or a group of runs. */
export interface LegendEntry {
  /** Matches `ChartLine.id` on every chart. */
  id: string;
  label: string;
  color: string;
  /** Shown after the label (a status badge, the experiment of the run). */
  extra?: Node | null;
}

/** What a chart does when the shared state changes. */
export interface SyncedChart {
  applyZoom(): void;
  applyVisibility(): void;
}

let nextKey = 0;

export class ChartSync {
  /** uPlot's cursor sync key of this page's charts. */
  readonly key = `omega-charts-${++nextKey}`;
  readonly legendEl: HTMLElement;
  zoom: XRange | undefined;
  readonly hidden = new Set<string>();
  private readonly charts = new Set<SyncedChart>();
  private readonly values = new Map<string, HTMLElement>();
  private readonly items = new Map<string, HTMLElement>();
  private readonly xValue: HTMLElement;
  /** Called after the zoom changed (the page keeps it nowhere else; charts refetch themselves). */
  onZoom: (() => void) | undefined;

  constructor() {
    this.xValue = h('span', { className: 'legend-x' });
    this.legendEl = h('div', {
      className: 'chart-legend',
      attrs: { role: 'group', 'aria-label': 'lines of the charts (click to hide or show)' },
    });
  }

  /** The legend's lines, in order; hidden ids that are gone are forgotten. */
  setEntries(entries: readonly LegendEntry[]): void {
    this.values.clear();
    this.items.clear();
    const ids = new Set(entries.map((e) => e.id));
    for (const id of [...this.hidden]) if (!ids.has(id)) this.hidden.delete(id);
    replace(
      this.legendEl,
      this.xValue,
      entries.map((e) => {
        const value = h('span', { className: 'legend-value' });
        const item = h(
          'button',
          {
            className: `legend-item${this.hidden.has(e.id) ? ' off' : ''}`,
            attrs: {
              type: 'button',
              'data-id': e.id,
              'aria-pressed': !this.hidden.has(e.id) ? 'true' : 'false',
            },
            title: 'hide or show on every chart',
            on: { click: () => this.toggle(e.id) },
          },
          h('span', { className: 'swatch', style: { background: e.color } }),
          h('span', { className: 'legend-label' }, e.label),
          e.extra ?? null,
          value,
        );
        this.values.set(e.id, value);
        this.items.set(e.id, item);
        return item;
      }),
    );
  }

  register(chart: SyncedChart): void {
    this.charts.add(chart);
  }

  unregister(chart: SyncedChart): void {
    this.charts.delete(chart);
  }

  /** Zooms every chart to `range` (undefined: the whole range again). */
  setZoom(range: XRange | undefined): void {
    this.zoom = range;
    for (const c of this.charts) c.applyZoom();
    this.onZoom?.();
  }

  /** Hides a line on every chart, or shows it again. */
  toggle(id: string): void {
    if (this.hidden.has(id)) this.hidden.delete(id);
    else this.hidden.add(id);
    const item = this.items.get(id);
    if (item) {
      item.classList.toggle('off', this.hidden.has(id));
      item.setAttribute('aria-pressed', this.hidden.has(id) ? 'false' : 'true');
    }
    for (const c of this.charts) c.applyVisibility();
  }

  /** The values under the cursor of the chart hovered (the others follow its cursor). */
  showValues(x: string, values: ReadonlyMap<string, string>): void {
    this.xValue.textContent = x;
    for (const [id, el] of this.values) el.textContent = values.get(id) ?? '';
  }

  clearValues(): void {
    this.xValue.textContent = '';
    for (const el of this.values.values()) el.textContent = '';
  }
}
