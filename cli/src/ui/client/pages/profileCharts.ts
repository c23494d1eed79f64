/**
 * The profile page's charts: the profiler's keys sorted into groups and units (what they mean is
 * the profiler's table, providers/src/profiling/metrics.ts), y ticks chosen so that each one reads
 * differently once formatted with its unit (never `1.21G` three times), and one uPlot per group
 * and unit, drawn as soon as its data is there — all of them, so a full-page capture shows them.
 */
import uPlot from 'uplot';
import { h } from '../dom';

/** What a profile key's values are in. */
export type ProfileUnit = '%' | 'bytes' | 'bytes/s' | 'GHz' | 'load' | 'count' | '';

/** A profile key's group (a section of the page) and unit (keys of one unit share a chart). */
export interface KeyInfo {
  group: string;
  unit: ProfileUnit;
}

/** The groups in page order. */
export const PROFILE_GROUPS = ['CPU', 'Memory', 'Disk', 'Network', 'Process', 'GPU', 'Other'];

/** The keys the profiler logs (metrics.ts), by base name (a GPU key's device suffix `[1]` aside). */
const KEYS: Record<string, KeyInfo> = {
  cpu_load: { group: 'CPU', unit: '%' },
  cpu_load_user: { group: 'CPU', unit: '%' },
  cpu_load_system: { group: 'CPU', unit: '%' },
  cpu_count: { group: 'CPU', unit: 'count' },
  cpu_freq: { group: 'CPU', unit: 'GHz' },
  cpu_avg: { group: 'CPU', unit: 'load' },
  memory_used: { group: 'Memory', unit: 'bytes' },
  memory_total: { group: 'Memory', unit: 'bytes' },
  memory_load: { group: 'Memory', unit: '%' },
  disk_use: { group: 'Disk', unit: '%' },
  disk_total: { group: 'Disk', unit: 'bytes' },
  disk_read_rate: { group: 'Disk', unit: 'bytes/s' },
  disk_write_rate: { group: 'Disk', unit: 'bytes/s' },
  net_rx_rate: { group: 'Network', unit: 'bytes/s' },
  net_tx_rate: { group: 'Network', unit: 'bytes/s' },
  gpu_util: { group: 'GPU', unit: '%' },
  gpu_mem_used: { group: 'GPU', unit: 'bytes' },
  gpu_mem_total: { group: 'GPU', unit: 'bytes' },
  process_cpu: { group: 'Process', unit: '%' },
  process_rss: { group: 'Process', unit: 'bytes' },
  process_heap_used: { group: 'Process', unit: 'bytes' },
  js_heap_used: { group: 'Process', unit: 'bytes' },
  js_heap_total: { group: 'Process', unit: 'bytes' },
  js_heap_limit: { group: 'Process', unit: 'bytes' },
  tfjs_bytes: { group: 'Process', unit: 'bytes' },
  tfjs_tensors: { group: 'Process', unit: 'count' },
  tfjs_data_buffers: { group: 'Process', unit: 'count' },
  tfjs_gpu_bytes: { group: 'Process', unit: 'bytes' },
};

/** Keys that describe the machine rather than its load: facts, even where they moved a little. */
export const CONSTANT_KEYS = new Set([
  'cpu_count',
  'memory_total',
  'disk_total',
  'gpu_mem_total',
  'js_heap_limit',
]);

/** The group and unit of a key; one the profiler does not log goes to Other, unit unknown. */
export function keyInfo(key: string): KeyInfo {
  const known = KEYS[key.replace(/\[[^\]]*\]$/, '')];
  if (known) return known;
  const prefix = PROFILE_GROUPS.find((g) => key.toLowerCase().startsWith(g.toLowerCase()));
  return { group: prefix ?? 'Other', unit: '' };
}

/** The axis label of a unit. */
export function unitLabel(unit: ProfileUnit): string {
  return unit === 'load' ? 'load average' : unit;
}

const BYTE_SCALES: Array<[number, string]> = [
  [1e12, 'TB'],
  [1e9, 'GB'],
  [1e6, 'MB'],
  [1e3, 'kB'],
  [1, 'B'],
];

/** Decimals that tell apart values `step` apart: 2 → 0, 0.5 → 1, 0.02 → 2. */
function decimalsFor(step: number): number {
  if (!(step > 0) || !Number.isFinite(step)) return 0;
  return Math.max(0, Math.ceil(-Math.log10(step) - 1e-9));
}

/**
 * Labels for tick values (equally spaced, as `niceTicks` makes them) in `unit`: the unit in each,
 * bytes scaled (kB … TB) only as far as the decimals stay few, and always as many decimals as
 * the spacing needs, so that no two labels read the same.
 */
export function tickLabels(values: readonly number[], unit: ProfileUnit): string[] {
  const step = values.length > 1 ? Math.abs(values[1] - values[0]) : Math.abs(values[0] ?? 1) || 1;
  if (unit === 'bytes' || unit === 'bytes/s') {
    const top = Math.max(...values.map(Math.abs));
    const suffix = unit === 'bytes/s' ? '/s' : '';
    let i = BYTE_SCALES.findIndex(([s]) => top >= s);
    if (i < 0) i = BYTE_SCALES.length - 1;
    // a scale that needs more than 2 decimals to tell the ticks apart is too coarse: go down
    while (i < BYTE_SCALES.length - 1 && decimalsFor(step / BYTE_SCALES[i][0]) > 2) i++;
    const [scale, name] = BYTE_SCALES[i];
    const d = decimalsFor(step / scale);
    return values.map((v) => `${(v / scale).toFixed(d)} ${name}${suffix}`);
  }
  const d = decimalsFor(step);
  const tail = unit === '%' ? '%' : unit === 'GHz' ? ' GHz' : '';
  return values.map((v) => `${v.toFixed(d)}${tail}`);
}

/** A value with its unit, for legends and the facts table. */
export function formatWithUnit(value: number, unit: ProfileUnit): string {
  if (!Number.isFinite(value)) return String(value);
  if (unit === 'bytes' || unit === 'bytes/s') {
    const [scale, name] = BYTE_SCALES.find(([s]) => Math.abs(value) >= s) ?? [1, 'B'];
    const shown = scale === 1 ? String(Math.round(value)) : String(Number((value / scale).toPrecision(4)));
    return `${shown} ${name}${unit === 'bytes/s' ? '/s' : ''}`;
  }
  const text = Number.isInteger(value) ? String(value) : String(Number(value.toPrecision(4)));
  return unit === '%' ? `${text}%` : unit === 'GHz' ? `${text} GHz` : text;
}

/** Tick values from `min` to `max`, about `target` of them, at multiples of 1, 2 or 5 × 10^k. */
export function niceTicks(min: number, max: number, target: number, minStep = 0): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (!(max > min)) return [min];
  const raw = (max - min) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = Math.max(minStep, (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag);
  const first = Math.ceil(min / step - 1e-9);
  const out: number[] = [];
  for (let k = first; k * step <= max + step * 1e-9; k++) out.push(Number((k * step).toPrecision(12)));
  return out;
}

/** One line of a chart: a key's points over time (ms since the epoch). */
export interface ProfileLine {
  label: string;
  x: readonly number[];
  y: readonly number[];
}

/** Series colours: far apart in hue, and readable on light and dark backgrounds. */
const LINE_COLORS = ['#3b82f6', '#e4572e', '#17a673', '#a855f7', '#d4a017', '#0ea5b7', '#e83e8c', '#6b7f2a'];

/** The lines on one x: every time any line has a point; null where a line has none. */
function aligned(lines: readonly ProfileLine[]): uPlot.AlignedData {
  const xs = [...new Set(lines.flatMap((l) => l.x))].sort((a, b) => a - b);
  const at = new Map(xs.map((x, i) => [x, i]));
  const ys = lines.map((l) => {
    const y: (number | null)[] = new Array<number | null>(xs.length).fill(null);
    for (let i = 0; i < l.x.length; i++) y[at.get(l.x[i])!] = l.y[i];
    return y;
  });
  return [xs, ...ys] as uPlot.AlignedData;
}

/** A CSS variable of the page's theme (style.css), for what uPlot paints on its canvas. */
function themeColor(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

const HEIGHT = 200;
/** Pixels of the y axis's unit label. */
const LABEL_SIZE = 18;

/** One chart of a group: the keys of one unit, its y axis in that unit. */
export class ProfileChart {
  readonly el: HTMLElement;
  private readonly holder: HTMLElement;
  private plot: uPlot | undefined;

  constructor(
    readonly title: string,
    readonly unit: ProfileUnit,
    private readonly lines: readonly ProfileLine[],
  ) {
    this.holder = h('div', { className: 'profile-plot' });
    this.el = h(
      'section',
      {
        className: 'profile-chart',
        attrs: {
          'data-unit': unit,
          'data-keys': lines.map((l) => l.label).join(' '),
          'data-state': 'waiting',
        },
      },
      h('h4', null, title),
      this.holder,
    );
  }

  /** Draws the chart at the width of its place (call once it is in the document). */
  draw(): void {
    this.plot?.destroy();
    const width = Math.max(280, Math.floor(this.holder.clientWidth || 560));
    const unit = this.unit;
    const muted = themeColor('--muted', '#647084');
    const grid = themeColor('--grid', themeColor('--line', '#dfe3ea'));
    const axis = {
      stroke: muted,
      grid: { stroke: grid, width: 1 },
      ticks: { stroke: grid, width: 1 },
    };
    let yLabels: string[] = [];
    this.plot = new uPlot(
      {
        width,
        height: HEIGHT,
        ms: 1,
        scales: {
          x: { time: true },
          y: {
            range: (_u, min, max) => {
              if (!(max > min)) return [min - 1, max + 1];
              const pad = (max - min) * 0.08;
              // shares, sizes and rates are levels: their axis starts at zero, so 1.21 GB moving by
              // a few kB reads as a flat 1.2 GB (not as ticks 2 kB apart) and two runs' levels
              // compare at a glance
              const floor = unit !== '' && unit !== 'load' && min >= 0 ? 0 : min - pad;
              return [floor, max + pad];
            },
          },
        },
        axes: [
          { ...axis },
          {
            ...axis,
            label: unitLabel(unit),
            labelSize: LABEL_SIZE,
            // whole bytes and counts: ticks never fall between two
            splits: (_u, _i, min, max) =>
              niceTicks(min, max, 5, unit === 'bytes' || unit === 'count' ? 1 : 0),
            values: (_u, splits) => {
              yLabels = tickLabels(splits, unit);
              this.el.dataset.yticks = JSON.stringify(yLabels);
              return yLabels;
            },
            // wide enough for the unit label beside the longest tick label
            size: (_u, values) =>
              LABEL_SIZE + 14 + 7 * Math.max(3, ...(values ?? []).map((v) => String(v).length)),
          },
        ],
        series: [
          { label: 'time' },
          ...this.lines.map((l, i): uPlot.Series => ({
            label: l.label,
            stroke: LINE_COLORS[i % LINE_COLORS.length],
            width: 1.5,
            spanGaps: true,
            points: { show: false },
            value: (_u, v) => (v === null || v === undefined ? '—' : formatWithUnit(v, unit)),
          })),
        ],
        legend: { live: true },
        cursor: { drag: { x: true, y: false } },
      },
      aligned(this.lines),
      this.holder,
    );
    this.el.dataset.state = 'drawn';
  }

  /** Follows the width of its place. */
  resize(): void {
    if (!this.plot) return;
    this.plot.setSize({ width: Math.max(280, Math.floor(this.holder.clientWidth || 560)), height: HEIGHT });
  }

  dispose(): void {
    this.plot?.destroy();
    this.plot = undefined;
  }
}
