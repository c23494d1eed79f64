/**
 * Line charts with uPlot. A ChartCard fetches its lines only when it comes on screen (a shared
 * IntersectionObserver), asks the server for about two points per pixel of its width (the server
 * downsamples, keeping extremes), and re-queries the zoomed x range at full detail when the user
 * drags over the plot; a double-click goes back to the whole range. Smoothing and log scale are
 * applied here, on the points received, so changing them needs no request.
 */
import uPlot from 'uplot';
import type { XMode } from './api';
import { alignSeries } from './align';
import { h, replace } from './dom';
import { formatAxis, formatDuration, formatNumber, formatTime } from './format';
import { smoothEma } from './smoothing';

export interface ChartLine {
  label: string;
  color: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** Points sent (after downsampling) and points the series has in the range. */
  shown: number;
  total: number;
  nonFinite: { x: number; value: string }[];
}

export interface ChartView {
  xMode: XMode;
  /** EMA weight, 0 (none) to 0.99. */
  smoothing: number;
  log: boolean;
}

export interface XRange {
  from: number;
  to: number;
}

export type ChartLoader = (range: XRange | undefined, points: number) => Promise<ChartLine[]>;

const HEIGHT = 240;

let firstChartMarked = false;

/** Marks the first chart drawn since the page loaded (read by the benchmark). */
function markFirstChart(): void {
  if (firstChartMarked) return;
  firstChartMarked = true;
  performance.mark('omega:first-chart');
}

function xLabel(mode: XMode): string {
  return mode === 'step' ? 'step' : mode === 'time' ? 'time' : 'since start';
}

function formatX(mode: XMode, v: number): string {
  if (mode === 'time') return formatTime(v);
  if (mode === 'relative') return formatDuration(v);
  return formatNumber(v);
}

export class ChartCard {
  readonly el: HTMLElement;
  private readonly plotHolder: HTMLElement;
  private readonly info: HTMLElement;
  private readonly zoomHint: HTMLElement;
  private plot: uPlot | undefined;
  private signature = '';
  private lines: ChartLine[] | undefined;
  private zoom: XRange | undefined;
  private sequence = 0;
  private loading: Promise<void> | undefined;
  private again = false;
  visible = false;
  stale = true;

  constructor(
    readonly title: string,
    private readonly loader: ChartLoader,
    private readonly view: () => ChartView,
  ) {
    this.plotHolder = h('div', { className: 'plot', style: { 'min-height': `${HEIGHT + 40}px` } });
    this.info = h('p', { className: 'chart-info' });
    this.zoomHint = h('button', {
      className: 'zoom-reset',
      attrs: { type: 'button', hidden: true },
      title: 'show the whole range again (or double-click the chart)',
      on: { click: () => this.resetZoom() },
    });
    this.zoomHint.textContent = 'reset zoom';
    this.el = h(
      'section',
      { className: 'chart-card', attrs: { 'data-key': title, 'data-state': 'waiting' } },
      h('header', null, h('h3', null, title), this.zoomHint),
      this.plotHolder,
      this.info,
    );
  }

  /** Fetches the lines (again) and draws them; calls made meanwhile run once after it. */
  load(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.stale = false;
    this.loading = this.fetchAndDraw().finally(() => {
      this.loading = undefined;
      if (this.again) {
        this.again = false;
        void this.load();
      }
    });
    return this.loading;
  }

  private async fetchAndDraw(): Promise<void> {
    const sequence = ++this.sequence;
    const width = this.width();
    const points = Math.min(4000, Math.max(400, Math.round(width * 2)));
    if (!this.lines) this.el.dataset.state = 'loading';
    try {
      const lines = await this.loader(this.zoom, points);
      if (sequence !== this.sequence) return;
      this.lines = lines;
      this.draw();
    } catch (error) {
      if (sequence !== this.sequence) return;
      this.el.dataset.state = 'error';
      this.info.textContent = error instanceof Error ? error.message : String(error);
      this.info.className = 'chart-info error';
    }
  }

  /** Draws the loaded lines with the current view (smoothing and log scale need no fetch). */
  draw(): void {
    const lines = this.lines;
    if (!lines) return;
    const view = this.view();
    const shown = lines.reduce((n, l) => n + l.shown, 0);
    const total = lines.reduce((n, l) => n + l.total, 0);
    this.el.dataset.points = String(shown);
    this.el.dataset.total = String(total);
    this.el.dataset.series = String(lines.length);
    this.renderInfo(lines, shown, total);
    if (lines.every((l) => l.x.length === 0)) {
      this.destroyPlot();
      replace(this.plotHolder, h('p', { className: 'note info' }, 'No finite values in this range.'));
      this.el.dataset.state = 'empty';
      return;
    }
    const data = alignSeries(
      lines.map((l) => {
        let y: (number | null)[] = smoothEma(l.y, view.smoothing);
        // a log scale cannot place zero or negative values: they are left out of the line
        if (view.log) y = y.map((v) => (v !== null && v > 0 ? v : null));
        return { x: l.x, y };
      }),
    ) as uPlot.AlignedData;
    const signature = [view.xMode, view.log, ...lines.map((l) => `${l.label}\u0000${l.color}`)].join(
      '\u0001',
    );
    if (this.plot && signature === this.signature) {
      this.plot.setData(data, !this.zoom);
      if (this.zoom) this.plot.setScale('x', { min: this.zoom.from, max: this.zoom.to });
    } else {
      this.destroyPlot();
      this.signature = signature;
      replace(this.plotHolder);
      this.plot = new uPlot(this.options(lines, view), data, this.plotHolder);
      if (this.zoom) this.plot.setScale('x', { min: this.zoom.from, max: this.zoom.to });
    }
    this.el.dataset.state = 'drawn';
  }

  private options(lines: ChartLine[], view: ChartView): uPlot.Options {
    const mode = view.xMode;
    return {
      width: this.width(),
      height: HEIGHT,
      // x values are ms since the epoch in time mode (uPlot's default is seconds)
      ms: 1,
      scales: {
        x: { time: mode === 'time' },
        y: view.log ? { distr: 3, log: 10 } : {},
      },
      axes: [
        mode === 'relative'
          ? { values: (_u: uPlot, splits: number[]) => splits.map((v) => formatDuration(v)) }
          : mode === 'step'
            ? { values: (_u: uPlot, splits: number[]) => splits.map((v) => formatAxis(v)) }
            : {},
        { size: 64, values: (_u: uPlot, splits: number[]) => splits.map((v) => formatAxis(v)) },
      ],
      series: [
        { label: xLabel(mode), value: (_u, v) => (v === null || v === undefined ? '—' : formatX(mode, v)) },
        ...lines.map((l): uPlot.Series => ({
          label: l.label,
          stroke: l.color,
          width: 1.5,
          spanGaps: true,
          points: { show: false },
          value: (_u, v) => (v === null || v === undefined ? '—' : formatNumber(v)),
        })),
      ],
      legend: { live: true },
      cursor: {
        drag: { x: true, y: false, setScale: false },
        // runs are downsampled apart, so at the hovered x most runs have no point of their own
        // (a null from alignSeries): the legend shows each run's nearest point instead
        hover: { skip: [null, undefined] },
        // a double-click shows the whole range again, fetched anew (uPlot's own would only
        // fit the zoomed points it has)
        bind: {
          dblclick: () => () => {
            this.resetZoom();
            return null;
          },
        },
      },
      hooks: {
        setSelect: [(u) => this.onSelect(u)],
        draw: [() => markFirstChart()],
      },
    };
  }

  private onSelect(u: uPlot): void {
    const { left, width } = u.select;
    if (width < 3) return;
    let from = u.posToVal(left, 'x');
    let to = u.posToVal(left + width, 'x');
    u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
    if (this.view().xMode === 'step') {
      from = Math.floor(from);
      to = Math.ceil(to);
    }
    if (!(to > from)) return;
    this.zoom = { from, to };
    this.zoomHint.hidden = false;
    this.el.dataset.zoomed = 'true';
    // shown at once with the points at hand, then replaced by the range at full detail
    u.setScale('x', { min: from, max: to });
    void this.load();
  }

  resetZoom(): void {
    if (!this.zoom) return;
    this.zoom = undefined;
    this.zoomHint.hidden = true;
    delete this.el.dataset.zoomed;
    void this.load();
  }

  /** The x mode changed: the old zoom range means nothing in the new units. */
  clearZoom(): void {
    this.zoom = undefined;
    this.zoomHint.hidden = true;
    delete this.el.dataset.zoomed;
    this.lines = undefined;
  }

  private renderInfo(lines: ChartLine[], shown: number, total: number): void {
    const parts: string[] = [];
    parts.push(
      shown < total
        ? `${shown.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} points shown (downsampled, extremes kept)`
        : `${total.toLocaleString('en-US')} points`,
    );
    for (const l of lines) {
      if (l.nonFinite.length === 0) continue;
      const sample = l.nonFinite
        .slice(0, 3)
        .map((p) => `${p.value} at ${formatX(this.view().xMode, p.x)}`)
        .join(', ');
      parts.push(
        `${l.label}: ${l.nonFinite.length} non-finite (${sample}${l.nonFinite.length > 3 ? ', …' : ''})`,
      );
    }
    this.info.className = 'chart-info';
    this.info.textContent = parts.join(' · ');
  }

  private width(): number {
    return Math.max(280, Math.floor(this.plotHolder.clientWidth || this.el.clientWidth || 600));
  }

  resize(): void {
    if (this.plot) this.plot.setSize({ width: this.width(), height: HEIGHT });
  }

  private destroyPlot(): void {
    this.plot?.destroy();
    this.plot = undefined;
    this.signature = '';
  }

  dispose(): void {
    this.sequence++;
    this.destroyPlot();
  }
}

/**
 * The charts of a page: each is fetched and drawn when it first comes near the screen, and
 * refreshed by live updates only while it is on screen (off-screen ones are marked stale and
 * refreshed when they come back).
 */
export class ChartBoard {
  private readonly cards = new Map<Element, ChartCard>();
  private readonly observer: IntersectionObserver;
  private readonly onResize = (): void => {
    if (this.resizeTimer !== undefined) clearTimeout(this.resizeTimer);
    this.resizeTimer = setTimeout(() => this.cards.forEach((c) => c.resize()), 150);
  };
  private resizeTimer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    this.observer = new IntersectionObserver(
      (entries) => {
        for (const entry of entries) {
          const card = this.cards.get(entry.target);
          if (!card) continue;
          card.visible = entry.isIntersecting;
          if (card.visible && card.stale) void card.load();
        }
      },
      { rootMargin: '200px 0px' },
    );
    window.addEventListener('resize', this.onResize);
  }

  add(card: ChartCard): void {
    this.cards.set(card.el, card);
    this.observer.observe(card.el);
  }

  all(): ChartCard[] {
    return [...this.cards.values()];
  }

  /** New data: on-screen charts fetch again, the others when they come on screen. */
  async refresh(): Promise<void> {
    const loads: Promise<void>[] = [];
    for (const card of this.cards.values()) {
      card.stale = true;
      if (card.visible) loads.push(card.load());
    }
    await Promise.all(loads);
  }

  /** Smoothing or log scale changed: redraw from the points at hand. */
  redraw(): void {
    for (const card of this.cards.values()) card.draw();
  }

  /** The x mode changed: everything is fetched again. */
  refetchAll(): void {
    for (const card of this.cards.values()) {
      card.clearZoom();
      card.stale = true;
      if (card.visible) void card.load();
    }
  }

  dispose(): void {
    this.observer.disconnect();
    window.removeEventListener('resize', this.onResize);
    if (this.resizeTimer !== undefined) clearTimeout(this.resizeTimer);
    for (const card of this.cards.values()) card.dispose();
    this.cards.clear();
  }
}
