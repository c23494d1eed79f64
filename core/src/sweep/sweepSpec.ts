import { describeValue } from '../diag/diag';
import { TrackingInputError } from '../errors/TrackingInputError';
import type { SweepEarlyStop, SweepSpec, SweepValue } from './types';

/** A dimension of the space, checked: a list of values or a numeric range. */
export type Dimension =
  | { name: string; kind: 'choice'; values: SweepValue[] }
  | { name: string; kind: 'range'; min: number; max: number; log: boolean; int: boolean; steps?: number };

/** A spec checked and with its defaults: what the controller and samplers work from. */
export interface CheckedSpec {
  spec: SweepSpec;
  dimensions: Dimension[];
  method: SweepSpec['method'];
  metric: string;
  goal: SweepSpec['goal'];
  maxTrials: number;
  parallel: number;
  earlyStop: SweepEarlyStop | undefined;
  seed: number;
}

const METHODS = ['grid', 'random', 'tpe'];
const GOALS = ['minimize', 'maximize'];
/** A grid larger than this is a mistake (a range with int over a wide span), said as such. */
const MAX_GRID = 100_000;

function bad(field: string, why: string): TrackingInputError {
  return new TrackingInputError(`sweep spec: ${field} ${why}`);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function positiveInt(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1)
    throw bad(field, `must be a whole number of at least 1, got ${describeValue(value)}`);
  return value;
}

function checkValues(values: readonly unknown[], field: string): SweepValue[] {
  if (values.length === 0) throw bad(field, 'is an empty list');
  for (const v of values) {
    if (!(v === null || ['string', 'number', 'boolean'].includes(typeof v)))
      throw bad(field, `holds ${describeValue(v)}: values are text, numbers, booleans or null`);
    // a run's params keep no NaN or Infinity (they would read back as null)
    if (typeof v === 'number' && !Number.isFinite(v))
      throw bad(field, `holds ${String(v)}: numbers must be finite`);
  }
  return [...values] as SweepValue[];
}

/** The spec's fields: anything else is a mistake worth saying (`maxTrails` ran 10 trials). */
export const SPEC_FIELDS = [
  'space',
  'method',
  'metric',
  'goal',
  'maxTrials',
  'parallel',
  'earlyStop',
  'seed',
];
const RANGE_FIELDS = ['min', 'max', 'scale', 'int', 'steps'];

/** Refuses fields of `record` outside `known`, naming the first. */
function onlyKnown(record: Record<string, unknown>, known: readonly string[], field: string): void {
  const unknown = Object.keys(record).find((k) => !known.includes(k));
  if (unknown !== undefined)
    throw bad(
      field ? `${field}.${unknown}` : unknown,
      `is not a field of ${field || 'a sweep spec'} (known: ${known.join(', ')})`,
    );
}

function checkDimension(name: string, dim: unknown): Dimension {
  const field = `space.${name}`;
  if (Array.isArray(dim)) return { name, kind: 'choice', values: checkValues(dim, field) };
  if (!isRecord(dim))
    throw bad(
      field,
      `must be a list, { min, max, scale?, int? } or { choice: [...] }, got ${describeValue(dim)}`,
    );
  if ('choice' in dim) {
    if (!Array.isArray(dim.choice)) throw bad(`${field}.choice`, 'must be a list');
    return { name, kind: 'choice', values: checkValues(dim.choice, `${field}.choice`) };
  }
  onlyKnown(dim, RANGE_FIELDS, field);
  const { min, max, scale = 'linear', int = false, steps } = dim;
  if (typeof min !== 'number' || !Number.isFinite(min)) throw bad(`${field}.min`, 'must be a finite number');
  if (typeof max !== 'number' || !Number.isFinite(max)) throw bad(`${field}.max`, 'must be a finite number');
  if (min >= max) throw bad(field, `has min ${min} ≥ max ${max}`);
  if (scale !== 'linear' && scale !== 'log')
    throw bad(`${field}.scale`, `must be 'linear' or 'log', got ${describeValue(scale)}`);
  if (scale === 'log' && min <= 0) throw bad(field, `is on a log scale, so min must be > 0, got ${min}`);
  if (typeof int !== 'boolean') throw bad(`${field}.int`, 'must be true or false');
  if (int && Math.ceil(min) > Math.floor(max)) throw bad(field, `holds no whole number (int: true)`);
  const out: Dimension = { name, kind: 'range', min, max, log: scale === 'log', int };
  if (steps !== undefined) out.steps = positiveInt(steps, `${field}.steps`);
  return out;
}

/** How many values a dimension has on a grid, counted without making them. */
function gridCount(dim: Dimension): number {
  if (dim.kind === 'choice') return dim.values.length;
  if (dim.steps !== undefined) return dim.steps;
  return Math.max(0, Math.floor(dim.max) - Math.ceil(dim.min) + 1);
}

/** The values of a dimension on a grid: a list's values, a range's steps or its whole numbers. */
export function gridValues(dim: Dimension): SweepValue[] {
  if (dim.kind === 'choice') return dim.values;
  if (dim.steps !== undefined) {
    if (dim.steps === 1) return [dim.int ? Math.round(dim.min) : dim.min];
    const lo = dim.log ? Math.log(dim.min) : dim.min;
    const hi = dim.log ? Math.log(dim.max) : dim.max;
    const values = Array.from({ length: dim.steps }, (_, i) => {
      const x = lo + ((hi - lo) * i) / (dim.steps! - 1);
      const v = dim.log ? Math.exp(x) : x;
      return dim.int ? Math.round(v) : v;
    });
    return [...new Set(values)];
  }
  const values: number[] = [];
  for (let v = Math.ceil(dim.min); v <= dim.max; v++) values.push(v);
  return values;
}

function checkEarlyStop(value: unknown): SweepEarlyStop | undefined {
  if (value === undefined || value === null) return undefined;
  if (!isRecord(value))
    throw bad('earlyStop', `must be { type: 'median' | 'asha', … }, got ${describeValue(value)}`);
  if (value.type === 'median') {
    const out: SweepEarlyStop = { type: 'median' };
    if (value.minSteps !== undefined) out.minSteps = positiveInt(value.minSteps, 'earlyStop.minSteps');
    if (value.minTrials !== undefined) out.minTrials = positiveInt(value.minTrials, 'earlyStop.minTrials');
    return out;
  }
  if (value.type === 'asha') {
    const minResource = positiveInt(value.minResource, 'earlyStop.minResource');
    const maxResource = positiveInt(value.maxResource, 'earlyStop.maxResource');
    if (maxResource < minResource) throw bad('earlyStop', 'has maxResource < minResource');
    const eta = value.reductionFactor ?? 3;
    if (typeof eta !== 'number' || !(eta >= 2))
      throw bad('earlyStop.reductionFactor', `must be a number ≥ 2, got ${describeValue(eta)}`);
    return { type: 'asha', minResource, maxResource, reductionFactor: eta };
  }
  throw bad('earlyStop.type', `must be 'median' or 'asha', got ${describeValue(value.type)}`);
}

/**
 * Checks a sweep spec and fills in its defaults; every mistake is a TrackingInputError naming the
 * field, thrown before any run is started.
 */
export function checkSweepSpec(spec: unknown): CheckedSpec {
  if (!isRecord(spec))
    throw bad('', `must be an object { space, method, metric, goal, … }, got ${describeValue(spec)}`);
  onlyKnown(spec, SPEC_FIELDS, '');
  const { space, method, metric, goal } = spec;
  if (!METHODS.includes(method as string))
    throw bad('method', `must be one of ${METHODS.join(', ')}, got ${describeValue(method)}`);
  if (typeof metric !== 'string' || metric.length === 0) throw bad('metric', 'must be a metric name');
  if (!GOALS.includes(goal as string))
    throw bad('goal', `must be 'minimize' or 'maximize', got ${describeValue(goal)}`);
  if (!isRecord(space) || Object.keys(space).length === 0)
    throw bad('space', 'must map at least one param name to its values');
  const dimensions = Object.entries(space).map(([name, dim]) => checkDimension(name, dim));
  let gridSize = 1;
  if (method === 'grid') {
    for (const dim of dimensions) {
      if (dim.kind === 'range' && !dim.int && dim.steps === undefined)
        throw bad(`space.${dim.name}`, 'is a continuous range: a grid needs a list, int: true or steps');
      // counted before the values are made: an int range of 0…1e9 is a billion of them
      if (gridSize * gridCount(dim) > MAX_GRID)
        throw bad('space', `makes a grid of more than ${MAX_GRID.toLocaleString('en-US')} points`);
      gridSize *= gridValues(dim).length;
    }
  }
  const maxTrials =
    spec.maxTrials === undefined
      ? method === 'grid'
        ? gridSize
        : 10
      : positiveInt(spec.maxTrials, 'maxTrials');
  const parallel = spec.parallel === undefined ? 1 : positiveInt(spec.parallel, 'parallel');
  let seed: number;
  // a grid draws nothing: its seed is 0, so equal grids record equal params
  if (spec.seed === undefined) seed = method === 'grid' ? 0 : Math.floor(Math.random() * 2 ** 31);
  else if (typeof spec.seed !== 'number' || !Number.isSafeInteger(spec.seed))
    throw bad('seed', `must be a whole number, got ${describeValue(spec.seed)}`);
  else seed = spec.seed;
  return {
    spec: spec as unknown as SweepSpec,
    dimensions,
    method: method as SweepSpec['method'],
    metric,
    goal: goal as SweepSpec['goal'],
    maxTrials: method === 'grid' ? Math.min(maxTrials, gridSize) : maxTrials,
    parallel,
    earlyStop: checkEarlyStop(spec.earlyStop),
    seed,
  };
}

/** The spec as the sweep run's params record it (defaults filled in: what resume reads back). */
export function specParams(spec: CheckedSpec): Record<string, unknown> {
  const params: Record<string, unknown> = {
    space: spec.spec.space,
    method: spec.method,
    metric: spec.metric,
    goal: spec.goal,
    maxTrials: spec.maxTrials,
    parallel: spec.parallel,
    seed: spec.seed,
  };
  if (spec.earlyStop) params.earlyStop = spec.earlyStop;
  return params;
}
