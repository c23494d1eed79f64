/**
 * Parallel coordinates over the runs of the table: one vertical axis per chosen column (params and
 * metrics), one line per run, coloured by a chosen metric. Dragging along an axis brushes a range
 * of it (the table keeps the runs inside every brush); a click on an axis clears its brush. Plain
 * SVG: a sweep of a few thousand runs is a few thousand paths.
 */
import { h } from './dom';
import type { Brush, PlotColumn, Scale } from './plotScale';
import { brushBetween, inBrush, rampColor, scaleOf, svg, ticksOf, toUnit } from './plotScale';
import type { RunRow } from './runColumns';

export interface ParallelOptions {
  /** A brush was drawn on (or, undefined, cleared from) the axis of a column. */
  onBrush(column: string, brush: Brush | undefined): void;
}

const HEIGHT = 300;
const TOP = 34;
const BOTTOM = 16;
const SIDE = 50;
/** How far the brushing area reaches past the ends of an axis (px). */
const OVERHANG = 8;

export class ParallelPlot {
  readonly el = h('div', { className: 'parallel' });

  constructor(private readonly options: ParallelOptions) {}

  /** Draws `runs` on the axes of `columns`; runs outside any of `brushes` are greyed. */
  draw(
    runs: readonly RunRow[],
    columns: readonly PlotColumn[],
    colorBy: PlotColumn | undefined,
    brushes: ReadonlyMap<string, Brush>,
  ): void {
    this.el.replaceChildren();
    const axes = columns
      .map((column) => ({ column, values: runs.map((r) => column.value(r)) }))
      .map((a) => ({ ...a, scale: scaleOf(a.values) }))
      .filter((a): a is { column: PlotColumn; values: Array<number | string | undefined>; scale: Scale } =>
        Boolean(a.scale),
      );
    if (axes.length === 0) {
      this.el.append(h('p', { className: 'note info' }, 'No numeric or text values in the chosen columns.'));
      return;
    }
    const width = Math.max(360, Math.min(1400, (this.el.parentElement?.clientWidth ?? 900) - 20));
    const gap = axes.length > 1 ? (width - 2 * SIDE) / (axes.length - 1) : 0;
    const xOf = (i: number): number => (axes.length > 1 ? SIDE + i * gap : width / 2);
    const plotH = HEIGHT - TOP - BOTTOM;
    const yOf = (unit: number): number => TOP + (1 - unit) * plotH;
    const root = svg('svg', {
      width,
      height: HEIGHT,
      viewBox: `0 0 ${width} ${HEIGHT}`,
      class: 'parallel-svg',
    });

    const colorValues = colorBy ? runs.map((r) => colorBy.value(r)) : [];
    const colorScale = colorBy ? scaleOf(colorValues) : undefined;
    const lines = svg('g', { class: 'lines' });
    const dimmed: SVGElement[] = [];
    const lit: SVGElement[] = [];
    runs.forEach((run, r) => {
      let d = '';
      let pen = false;
      axes.forEach((a, i) => {
        const u = toUnit(a.scale, a.values[r]);
        if (u === undefined) {
          pen = false;
          return;
        }
        d += `${pen ? 'L' : 'M'}${xOf(i).toFixed(1)},${yOf(u).toFixed(1)}`;
        pen = true;
      });
      if (!d) return;
      const inside = [...brushes].every(([id, b]) =>
        inBrush(b, columns.find((c) => c.id === id)?.value(run)),
      );
      const color = inside
        ? rampColor(colorScale ? toUnit(colorScale, colorValues[r]) : 0.3)
        : 'var(--border, #dfe3ea)';
      const path = svg('path', {
        d,
        stroke: color,
        class: inside ? 'run-line' : 'run-line out',
        'data-run': run.run,
      });
      path.append(svg('title', {}, `run ${run.run}${run.name ? ` · ${run.name}` : ''}`));
      (inside ? lit : dimmed).push(path);
    });
    // the runs inside the brushes on top of the others
    lines.append(...dimmed, ...lit);
    root.append(lines);

    axes.forEach((a, i) => {
      const x = xOf(i);
      const g = svg('g', { class: 'axis', 'data-col': a.column.id, 'data-scale': a.scale.kind });
      g.append(svg('line', { x1: x, x2: x, y1: TOP, y2: TOP + plotH, class: 'axis-line' }));
      for (const t of ticksOf(a.scale)) {
        const y = yOf(t.unit);
        g.append(svg('line', { x1: x - 3, x2: x, y1: y, y2: y, class: 'tick' }));
        g.append(svg('text', { x: x - 5, y: y + 3, 'text-anchor': 'end', class: 'tick-label' }, t.label));
      }
      const label = a.column.label + (a.scale.kind === 'log' ? ' (log)' : '');
      g.append(svg('text', { x, y: TOP - 18, 'text-anchor': 'middle', class: 'axis-label' }, label));
      const brush = svg('rect', {
        x: x - 8,
        width: 16,
        y: 0,
        height: 0,
        class: 'brush',
        visibility: 'hidden',
      });
      const shown = brushes.get(a.column.id);
      if (shown) {
        const units =
          shown.kind === 'range'
            ? [toUnit(a.scale, shown.lo), toUnit(a.scale, shown.hi)]
            : shown.values.map((v) => toUnit(a.scale, v));
        const known = units.filter((u): u is number => u !== undefined);
        if (known.length > 0) {
          const top = yOf(Math.min(1, Math.max(...known)));
          const bottom = yOf(Math.max(0, Math.min(...known)));
          brush.setAttribute('y', String(top - 2));
          brush.setAttribute('height', String(Math.max(4, bottom - top + 4)));
          brush.setAttribute('visibility', 'visible');
        }
      }
      g.append(brush);
      // the area that takes the drag: wider than the line, and past its ends (a drag from just
      // above the top takes the top value in)
      const area = svg('rect', {
        x: x - 14,
        width: 28,
        y: TOP - OVERHANG,
        height: plotH + 2 * OVERHANG,
        class: 'brush-area',
      });
      g.append(area);
      this.brushable(area, brush, a.column.id, a.scale, yOf, plotH);
      root.append(g);
    });
    this.el.append(root);
  }

  private brushable(
    area: SVGRectElement,
    brush: SVGRectElement,
    column: string,
    scale: Scale,
    yOf: (unit: number) => number,
    plotH: number,
  ): void {
    let start: number | undefined;
    const unitAt = (event: PointerEvent): number => {
      const box = area.getBoundingClientRect();
      const scale = box.height / (plotH + 2 * OVERHANG);
      const inside = (event.clientY - box.top - OVERHANG * scale) / Math.max(1, plotH * scale);
      return 1 - Math.min(1, Math.max(0, inside));
    };
    area.addEventListener('pointerdown', (event) => {
      start = unitAt(event);
      area.setPointerCapture(event.pointerId);
      event.preventDefault();
    });
    area.addEventListener('pointermove', (event) => {
      if (start === undefined) return;
      const now = unitAt(event);
      brush.setAttribute('y', String(yOf(Math.max(start, now))));
      brush.setAttribute('height', String(Math.abs(now - start) * plotH));
      brush.setAttribute('visibility', 'visible');
    });
    area.addEventListener('pointerup', (event) => {
      if (start === undefined) return;
      const end = unitAt(event);
      const from = start;
      start = undefined;
      // a click (no drag) clears the axis' brush
      if (Math.abs(end - from) * plotH < 3) this.options.onBrush(column, undefined);
      else this.options.onBrush(column, brushBetween(scale, from, end));
    });
  }
}
