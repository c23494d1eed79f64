/**
 * A scatter of the table's runs over any two of its columns (a param against a metric, two
 * metrics), coloured by a chosen metric; log axes where the values span more than 2 decades.
 */
import { h } from './dom';
import type { PlotColumn } from './plotScale';
import { rampColor, scaleOf, svg, ticksOf, toUnit } from './plotScale';
import type { RunRow } from './runColumns';

const WIDTH = 520;
const HEIGHT = 340;
const LEFT = 64;
const BOTTOM = 40;
const PAD = 14;

export class ScatterPlot {
  readonly el = h('div', { className: 'scatter' });

  /** Draws the runs at (x, y); those without either value are left out and counted. */
  draw(runs: readonly RunRow[], x: PlotColumn, y: PlotColumn, colorBy: PlotColumn | undefined): void {
    this.el.replaceChildren();
    const xs = runs.map((r) => x.value(r));
    const ys = runs.map((r) => y.value(r));
    const xScale = scaleOf(xs);
    const yScale = scaleOf(ys);
    if (!xScale || !yScale) {
      this.el.append(h('p', { className: 'note info' }, `No values to plot for ${x.label} and ${y.label}.`));
      return;
    }
    const colorValues = colorBy ? runs.map((r) => colorBy.value(r)) : [];
    const colorScale = colorBy ? scaleOf(colorValues) : undefined;
    const plotW = WIDTH - LEFT - PAD;
    const plotH = HEIGHT - BOTTOM - PAD;
    const px = (u: number): number => LEFT + u * plotW;
    const py = (u: number): number => PAD + (1 - u) * plotH;
    const root = svg('svg', {
      width: WIDTH,
      height: HEIGHT,
      class: 'scatter-svg',
      'data-x': x.id,
      'data-y': y.id,
    });
    root.append(svg('rect', { x: LEFT, y: PAD, width: plotW, height: plotH, class: 'frame' }));
    for (const t of ticksOf(xScale)) {
      root.append(
        svg('line', { x1: px(t.unit), x2: px(t.unit), y1: PAD, y2: PAD + plotH, class: 'grid-line' }),
      );
      root.append(
        svg(
          'text',
          { x: px(t.unit), y: PAD + plotH + 14, 'text-anchor': 'middle', class: 'tick-label' },
          t.label,
        ),
      );
    }
    for (const t of ticksOf(yScale)) {
      root.append(
        svg('line', { x1: LEFT, x2: LEFT + plotW, y1: py(t.unit), y2: py(t.unit), class: 'grid-line' }),
      );
      root.append(
        svg('text', { x: LEFT - 4, y: py(t.unit) + 3, 'text-anchor': 'end', class: 'tick-label' }, t.label),
      );
    }
    const logNote = (kind: string): string => (kind === 'log' ? ' (log)' : '');
    root.append(
      svg(
        'text',
        { x: LEFT + plotW / 2, y: HEIGHT - 6, 'text-anchor': 'middle', class: 'axis-label' },
        x.label + logNote(xScale.kind),
      ),
      svg(
        'text',
        {
          x: 12,
          y: PAD + plotH / 2,
          'text-anchor': 'middle',
          class: 'axis-label',
          transform: `rotate(-90 12 ${PAD + plotH / 2})`,
        },
        y.label + logNote(yScale.kind),
      ),
    );
    let missing = 0;
    runs.forEach((run, i) => {
      const ux = toUnit(xScale, xs[i]);
      const uy = toUnit(yScale, ys[i]);
      if (ux === undefined || uy === undefined) {
        missing++;
        return;
      }
      const dot = svg('circle', {
        cx: px(ux).toFixed(1),
        cy: py(uy).toFixed(1),
        r: 4,
        fill: rampColor(colorScale ? toUnit(colorScale, colorValues[i]) : 0.3),
        class: 'dot',
        'data-run': run.run,
      });
      dot.append(
        svg(
          'title',
          {},
          `run ${run.run}${run.name ? ` · ${run.name}` : ''}: ${String(xs[i])}, ${String(ys[i])}`,
        ),
      );
      root.append(dot);
    });
    this.el.append(root);
    if (missing > 0)
      this.el.append(
        h('p', { className: 'note info' }, `${missing} run(s) without both values are not shown.`),
      );
  }
}
