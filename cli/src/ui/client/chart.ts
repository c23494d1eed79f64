/**
 * Line charts with uPlot. A ChartCard fetches its lines when asked (the grid or board asks when it
 * comes near the screen), asks the server for about two points per pixel of its width (the server
 * downsamples, keeping extremes), and re-queries the zoomed x range at full detail when the user
 * drags over the plot; a double-click goes back to the whole range. Smoothing and log scale are
 * applied here, on the points received, so changing them needs no request. With a ChartSync the
 * cursor, the zoom and the hidden lines are those of the whole page, and the page's one legend
 * replaces uPlot's own; a smoothed line keeps its raw line, faint, behind it; a group's line
 * carries its band (±std or min–max) as a filled area.
 */
import uPlot from 'uplot';
import type { XMode } from './api';
import { alignSeries, sortedByX } from './align';
import type { XY } from './align';
import type { ChartSync, XRange } from './chartSync';
import { fade } from './colors';
import { h, replace } from './dom';
import { axisLabels, formatDuration, formatNumber, formatTime } from './format';
import { smoothEma } from './smoothing';

export type { XRange } from './chartSync';

export interface ChartLine {
  /** The line's identity in the page legend (a run, a group); its label when not given. */
  id?: string;
  label: string;
  color: string;
  x: ArrayLike<number>;
  /** null where the line has no value (a group's grid point no member covers). */
  y: ArrayLike<number | null>;
  /** Points sent (after downsampling) and points the series has in the range. */
  shown: number;
  total: number;
  nonFinite: { x: number; value: string }[];
  /** A group's band around its mean line, on the same x. */
  band?: { lower: ArrayLike<number | null>; upper: ArrayLike<number | null> };
  /** A member of a group, drawn thin and faint under the group's line. */
  member?: boolean;
}

export interface ChartView {
  xMode: XMode;
  /** EMA weight, 0 (none) to 0.99. */
  smoothing: number;
  log: boolean;
}

export type ChartLoader = (range: XRange | undefined, points: number) => Promise<ChartLine[]>;

const HEIGHT = 240;
/** Opacity of the raw line behind a smoothed one, and of a band's fill. */
const RAW_ALPHA = 0.25;
const BAND_ALPHA = 0.18;
/** The most lines whose points follow the cursor (see the cursor options). */
const MAX_CURSOR_POINTS = 30;

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

/** The axis and grid colours of the theme (style.css), read when a chart is built. */
function themeColors(): { text: string; grid: string } {
  const style = getComputedStyle(document.documentElement);
  return {
    text: style.getPropertyValue('--muted').trim() || '#647084',
    grid: style.getPropertyValue('--grid').trim() || 'rgba(0, 0, 0, 0.1)',
  };
}

/** The charts on screen, rebuilt when the colour scheme changes (their axes take its colours). */
const built = new Set<ChartCard>();
if (typeof matchMedia === 'function')
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', () => {
    // a copy: a rebuilt chart leaves the set and enters it again (the loop would never end)
    for (const card of [...built]) card.rebuild();
  });

/** What each uPlot series of a chart stands for. */
interface SeriesRole {
  id: string;
  role: 'line' | 'raw' | 'upper' | 'lower' | 'member';
  /** The x of the line's points that have no neighbour to join (drawn as a marker). */
  isolated?: number[];
}

/** Diameter (CSS px) of the marker of a point a line cannot join to another. */
const MARKER_SIZE = 6;

/**
 * The x of the points of a line with a value but none before or after it (a metric logged once,
 * a group's mean between grid points no member covers): a line through one point draws nothing.
 */
export function isolatedPoints(s: XY): number[] {
  const { x, y } = sortedByX(s);
  const out: number[] = [];
  for (let i = 0; i < y.length; i++)
    if (y[i] !== null && (i === 0 || y[i - 1] === null) && (i === y.length - 1 || y[i + 1] === null))
      out.push(x[i]);
  return out;
}

export class ChartCard {
  readonly el: HTMLElement;
  private readonly plotHolder: HTMLElement;
  private readonly info: HTMLElement;
  private readonly zoomHint: HTMLElement;
  private plot: uPlot | undefined;
  private roles: SeriesRole[] = [];
  private signature = '';
  private lines: ChartLine[] | undefined;
  private ownZoom: XRange | undefined;
  private sequence = 0;
  private loading: Promise<void> | undefined;
  private again = false;
  private hovered = false;
  visible = false;
  stale = true;

  constructor(
    readonly title: string,
    private readonly loader: ChartLoader,
    private readonly view: () => ChartView,
    private readonly sync?: ChartSync,
  ) {
    this.plotHolder = h('div', {
      className: 'plot',
      style: { 'min-height': `${sync ? HEIGHT : HEIGHT + 40}px` },
      on: {
        mouseenter: () => (this.hovered = true),
        mouseleave: () => {
          this.hovered = false;
          this.sync?.clearValues();
        },
      },
    });
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
    sync?.register(this);
    if (sync?.zoom) this.markZoomed(true);
  }

  private get zoom(): XRange | undefined {
    return this.sync ? this.sync.zoom : this.ownZoom;
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
    const counted = lines.filter((l) => !l.member);
    const shown = counted.reduce((n, l) => n + l.shown, 0);
    const total = counted.reduce((n, l) => n + l.total, 0);
    this.el.dataset.points = String(shown);
    this.el.dataset.total = String(total);
    this.el.dataset.series = String(counted.length);
    this.el.dataset.members = String(lines.length - counted.length);
    this.renderInfo(lines, shown, total);
    if (lines.every((l) => l.x.length === 0)) {
      this.destroyPlot();
      replace(this.plotHolder, h('p', { className: 'note info' }, 'No finite values in this range.'));
      this.el.dataset.state = 'empty';
      return;
    }
    const { series, roles } = this.layout(lines, view);
    const data = alignSeries(series) as uPlot.AlignedData;
    const signature = [
      view.xMode,
      view.log,
      view.smoothing > 0,
      ...lines.map(
        (l) => `${l.id ?? l.label}\u0000${l.label}\u0000${l.color}\u0000${!!l.band}\u0000${!!l.member}`,
      ),
    ].join('\u0001');
    const zoom = this.zoom;
    if (this.plot && signature === this.signature) {
      // the same series (the signature says so), maybe other isolated points: read by the markers
      this.roles = roles;
      this.plot.setData(data, !zoom);
      if (zoom) this.plot.setScale('x', { min: zoom.from, max: zoom.to });
    } else {
      this.destroyPlot();
      this.signature = signature;
      this.roles = roles;
      replace(this.plotHolder);
      this.plot = new uPlot(this.options(lines, roles, view), data, this.plotHolder);
      built.add(this);
      if (zoom) this.plot.setScale('x', { min: zoom.from, max: zoom.to });
    }
    this.el.dataset.raw = String(roles.filter((r) => r.role === 'raw').length);
    this.el.dataset.bands = String(roles.filter((r) => r.role === 'upper').length);
    this.el.dataset.state = 'drawn';
  }

  /**
   * The uPlot series of the lines, in drawing order: members first, then per line its band
   * (upper, lower), its raw values when smoothed, and the line on top.
   */
  private layout(lines: ChartLine[], view: ChartView): { series: XY[]; roles: SeriesRole[] } {
    const series: XY[] = [];
    const roles: SeriesRole[] = [];
    const logged = (y: (number | null)[]): (number | null)[] =>
      // a log scale cannot place zero or negative values: they are left out of the line
      view.log ? y.map((v) => (v !== null && v > 0 ? v : null)) : y;
    const plain = (y: ArrayLike<number | null>): (number | null)[] => logged(Array.from(y));
    const ordered = [...lines.filter((l) => l.member), ...lines.filter((l) => !l.member)];
    for (const l of ordered) {
      const id = l.id ?? l.label;
      if (l.member) {
        const member = { x: l.x, y: logged(smoothEma(l.y, view.smoothing)) };
        series.push(member);
        roles.push({ id, role: 'member', isolated: isolatedPoints(member) });
        continue;
      }
      if (l.band) {
        series.push({ x: l.x, y: plain(l.band.upper) }, { x: l.x, y: plain(l.band.lower) });
        roles.push({ id, role: 'upper' }, { id, role: 'lower' });
      }
      if (view.smoothing > 0) {
        series.push({ x: l.x, y: plain(l.y) });
        roles.push({ id, role: 'raw' });
      }
      const line = { x: l.x, y: logged(smoothEma(l.y, view.smoothing)) };
      series.push(line);
      roles.push({ id, role: 'line', isolated: isolatedPoints(line) });
    }
    return { series, roles };
  }

  private options(lines: ChartLine[], roles: SeriesRole[], view: ChartView): uPlot.Options {
    const mode = view.xMode;
    const theme = themeColors();
    const byId = new Map(lines.filter((l) => !l.member).map((l) => [l.id ?? l.label, l]));
    const memberColor = new Map(lines.filter((l) => l.member).map((l) => [l.id ?? l.label, l.color]));
    const value = (_u: uPlot, v: number | null | undefined): string =>
      v === null || v === undefined ? '—' : formatNumber(v);
    const hidden = (id: string): boolean => this.sync?.hidden.has(id) ?? false;
    // the isolated points of a series (this.roles: those of the data drawn now), as indexes of
    // the aligned data; uPlot draws markers at these alone (points.show stays false)
    const isolated = (u: uPlot, si: number): number[] | null => {
      const xs = this.roles[si - 1]?.isolated;
      if (!xs || xs.length === 0) return null;
      const at = u.data[0];
      const idxs: number[] = [];
      for (const x of xs) {
        let lo = 0;
        let hi = at.length;
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (at[mid] < x) lo = mid + 1;
          else hi = mid;
        }
        if (at[lo] === x && u.data[si][lo] !== null && u.data[si][lo] !== undefined) idxs.push(lo);
      }
      return idxs.length > 0 ? idxs : null;
    };
    const series: uPlot.Series[] = roles.map((r): uPlot.Series => {
      const line = byId.get(r.id);
      const color = line?.color ?? memberColor.get(r.id) ?? '#888';
      const label = line?.label ?? r.id;
      const base = { spanGaps: true, points: { show: false }, show: !hidden(r.id), value };
      const marked = (stroke: string): uPlot.Series.Points => ({
        show: false,
        filter: isolated,
        size: MARKER_SIZE,
        width: 1,
        stroke,
        fill: stroke,
      });
      switch (r.role) {
        case 'member':
          return {
            ...base,
            label: `${label} (member)`,
            stroke: fade(color, 0.45),
            width: 1,
            points: marked(fade(color, 0.45)),
          };
        case 'upper':
        case 'lower':
          return { ...base, label: `${label} (${r.role})`, stroke: fade(color, 0.35), width: 0.5 };
        case 'raw':
          return { ...base, label: `${label} (raw)`, stroke: fade(color, RAW_ALPHA), width: 1 };
        case 'line':
          return { ...base, label, stroke: color, width: line?.band ? 2 : 1.5, points: marked(color) };
      }
    });
    const bands: uPlot.Band[] = [];
    roles.forEach((r, i) => {
      if (r.role === 'upper')
        bands.push({ series: [i + 1, i + 2], fill: fade(byId.get(r.id)?.color ?? '#888', BAND_ALPHA) });
    });
    const axis = (values?: uPlot.Axis['values']): uPlot.Axis => ({
      stroke: theme.text,
      grid: { stroke: theme.grid, width: 1 },
      ticks: { stroke: theme.grid, width: 1 },
      ...(values ? { values } : {}),
    });
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
          ? axis((_u: uPlot, splits: number[]) => splits.map((v) => formatDuration(v)))
          : mode === 'step'
            ? axis((_u: uPlot, splits: number[]) => axisLabels(splits))
            : axis(),
        {
          ...axis((_u: uPlot, splits: number[]) => {
            const labels = axisLabels(splits);
            this.el.dataset.yticks = JSON.stringify(labels);
            return labels;
          }),
          size: 64,
        },
      ],
      series: [
        { label: xLabel(mode), value: (_u, v) => (v === null || v === undefined ? '—' : formatX(mode, v)) },
        ...series,
      ],
      bands,
      // with a page legend, uPlot's own under each chart is left out
      legend: { show: !this.sync, live: true },
      cursor: {
        drag: { x: true, y: false, setScale: false },
        // a point per line under the cursor is a DOM element moved at every mouse move: past
        // MAX_CURSOR_POINTS lines (a compare of 200 runs) hover took 150 ms a move; the page
        // legend still gives every line's value
        points: { show: series.length <= MAX_CURSOR_POINTS },
        // runs are downsampled apart, so at the hovered x most runs have no point of their own
        // (a null from alignSeries): the legend shows each run's nearest point instead
        hover: { skip: [null, undefined] },
        // the charts of a page move their cursors together (by x value, not by pixel)
        ...(this.sync ? { sync: { key: this.sync.key, setSeries: false } } : {}),
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
        setCursor: [(u) => this.onCursor(u)],
        setScale: [
          (u, key) => {
            if (key !== 'x') return;
            this.el.dataset.xmin = String(u.scales.x.min);
            this.el.dataset.xmax = String(u.scales.x.max);
          },
        ],
        draw: [() => markFirstChart()],
      },
    };
  }

  /** The hovered chart puts its values into the page legend. */
  private onCursor(u: uPlot): void {
    const sync = this.sync;
    if (!sync || !this.hovered) return;
    const idx = u.cursor.idx;
    if (idx === null || idx === undefined) {
      sync.clearValues();
      return;
    }
    const values = new Map<string, string>();
    this.roles.forEach((r, i) => {
      if (r.role !== 'line') return;
      const j = u.cursor.idxs?.[i + 1] ?? idx;
      const v = j === null || j === undefined ? null : u.data[i + 1][j];
      values.set(r.id, v === null || v === undefined ? '—' : formatNumber(v));
    });
    const x = u.data[0][idx];
    sync.showValues(
      x === undefined ? '' : `${xLabel(this.view().xMode)} ${formatX(this.view().xMode, x)}`,
      values,
    );
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
    if (this.sync) {
      this.sync.setZoom({ from, to });
      return;
    }
    this.ownZoom = { from, to };
    this.applyZoom();
  }

  /** The zoom changed (here or on another chart of the page): shown at once, then refetched. */
  applyZoom(): void {
    const zoom = this.zoom;
    this.markZoomed(!!zoom);
    if (zoom) this.plot?.setScale('x', { min: zoom.from, max: zoom.to });
    // the points at hand are shown at once, then replaced by the range at full detail
    if (this.lines || this.loading) void this.load();
  }

  private markZoomed(on: boolean): void {
    this.zoomHint.hidden = !on;
    if (on) this.el.dataset.zoomed = 'true';
    else delete this.el.dataset.zoomed;
  }

  /** The lines hidden in the page legend changed. */
  applyVisibility(): void {
    const plot = this.plot;
    const sync = this.sync;
    if (!plot || !sync) return;
    plot.batch(() => {
      this.roles.forEach((r, i) => {
        const show = !sync.hidden.has(r.id);
        if (plot.series[i + 1].show !== show) plot.setSeries(i + 1, { show });
      });
    });
  }

  resetZoom(): void {
    if (!this.zoom) return;
    if (this.sync) {
      this.sync.setZoom(undefined);
      return;
    }
    this.ownZoom = undefined;
    this.applyZoom();
  }

  /** The x mode changed: the old zoom range means nothing in the new units. */
  clearZoom(): void {
    if (this.sync) this.sync.zoom = undefined;
    this.ownZoom = undefined;
    this.markZoomed(false);
    this.lines = undefined;
  }

  /** Built again from the lines at hand (the theme's colours changed). */
  rebuild(): void {
    this.destroyPlot();
    this.draw();
  }

  private renderInfo(lines: ChartLine[], shown: number, total: number): void {
    const parts: string[] = [];
    parts.push(
      shown < total
        ? `${shown.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} points shown (downsampled, extremes kept)`
        : `${total.toLocaleString('en-US')} point${total === 1 ? '' : 's'}`,
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
    built.delete(this);
    this.signature = '';
    this.roles = [];
  }

  dispose(): void {
    this.sequence++;
    this.destroyPlot();
    this.lines = undefined;
    this.sync?.unregister(this);
  }
}
