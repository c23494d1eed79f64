import { TrackingError } from '../errors/TrackingError';
import { TrackingInputError } from '../errors/TrackingInputError';
import { validateKey } from '../events/validation';
import type { ObjectStore } from '../objects/ObjectStore';
import type { TaskData, TypedArray } from './types';

/**
 * A task's X or Y as a model backend gets it: the values, flat and row-major in a typed array or
 * as a nested JS array, with the shape where it is known.
 */
export interface TaskInput {
  values: TypedArray | unknown[];
  /** Known for tensors, typed arrays given with one, and datasets stored with a `shape` attribute. */
  shape?: number[];
  /** The `om.datasets` entry the values were read from, if any. */
  dataset?: string;
}

/** What a caller may pass as X or Y. */
export type TaskArgument =
  string | unknown[] | TypedArray | { values: TypedArray | unknown[]; shape?: number[] } | TensorLike;

/** The part of a tfjs Tensor the runtime reads (duck-typed: the client need not load tfjs). */
export interface TensorLike {
  shape: number[];
  dtype: string;
  dataSync(): TypedArray | string[];
}

/** Any typed array, bytes included (isTypedArray of the object stores leaves bytes to blobs). */
function isTypedArray(x: unknown): x is TypedArray {
  return (
    ArrayBuffer.isView(x) &&
    !(x instanceof DataView) &&
    !(x instanceof BigInt64Array) &&
    !(x instanceof BigUint64Array)
  );
}

function isTensorLike(x: unknown): x is TensorLike {
  const t = x as Partial<TensorLike> | null;
  return typeof t === 'object' && t !== null && Array.isArray(t.shape) && typeof t.dataSync === 'function';
}

function checkShape(shape: unknown, role: string): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0))
    throw new TrackingInputError(`${role}: shape must be an array of non-negative integers`);
  return shape as number[];
}

/**
 * Turns what the caller passed as X or Y into what travels with the task: names stay names,
 * tensors become their values and shape (read here, so nothing of the caller's tfjs travels).
 */
export function encodeTaskArgument(x: unknown, role: 'X' | 'Y'): TaskData | undefined {
  if (x === undefined || x === null) return undefined;
  if (typeof x === 'string') return { dataset: validateKey(x, `${role} (a dataset name)`) };
  if (isTypedArray(x)) return { typed: x };
  if (Array.isArray(x)) return { array: x };
  if (isTensorLike(x)) {
    if (x.dtype === 'string') throw new TrackingInputError(`${role}: string tensors cannot be task input`);
    return { typed: x.dataSync() as TypedArray, shape: [...x.shape] };
  }
  if (typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype && 'values' in x) {
    const { values, shape } = x as { values: unknown; shape?: unknown };
    const data = encodeTaskArgument(values, role);
    if (!data || 'dataset' in data)
      throw new TrackingInputError(`${role}: { values, shape } needs values as an array or a typed array`);
    if (shape === undefined) return data;
    const dims = checkShape(shape, role);
    let typed: TypedArray;
    if ('typed' in data) typed = data.typed;
    else {
      const flat = data.array.flat(Infinity);
      if (!flat.every((v) => typeof v === 'number'))
        throw new TrackingInputError(`${role}: { values, shape } takes numbers only`);
      typed = Float64Array.from(flat);
    }
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== typed.length)
      throw new TrackingInputError(
        `${role}: shape [${dims.join(', ')}] holds ${size} values, but ${typed.length} were given`,
      );
    return { typed, shape: dims };
  }
  throw new TrackingInputError(
    `${role} must be an array, a typed array, a tensor, { values, shape } or the name of an om.datasets entry; got ${describeKind(x)}`,
  );
}

/** Reads a task's X or Y where the task runs: a dataset name is looked up in `om.datasets`. */
export async function resolveTaskInput(
  data: TaskData | undefined,
  datasets: ObjectStore,
): Promise<TaskInput | undefined> {
  if (data === undefined) return undefined;
  if ('array' in data) return { values: data.array };
  if ('typed' in data) return data.shape ? { values: data.typed, shape: data.shape } : { values: data.typed };
  const meta = await datasets.metadata(data.dataset);
  if (!meta) throw new TrackingError(`om.datasets has no entry '${data.dataset}'`);
  const values = await datasets.get(data.dataset);
  if (!Array.isArray(values) && !isTypedArray(values))
    throw new TrackingError(
      `om.datasets entry '${data.dataset}' holds a ${describeKind(values)}, not an array or a typed array`,
    );
  const shape = meta.attributes.shape;
  return {
    values: values as TypedArray | unknown[],
    dataset: data.dataset,
    ...(Array.isArray(shape) ? { shape: checkShape(shape, data.dataset) } : {}),
  };
}

/**
 * A description of a task's X or Y for its `task_call` event: what it is and its shape, never the
 * values (SPEC §7: the arguments described, not the raw data).
 */
export function describeTaskData(data: TaskData | undefined): Record<string, unknown> | null {
  if (data === undefined) return null;
  if ('dataset' in data) return { dataset: data.dataset };
  if ('typed' in data) return { type: data.typed.constructor.name, shape: data.shape ?? [data.typed.length] };
  return { type: 'Array', shape: arrayShape(data.array) };
}

/** The shape of a nested array, read along its first elements. */
export function arrayShape(values: unknown[]): number[] {
  const shape: number[] = [];
  let level: unknown = values;
  while (Array.isArray(level)) {
    shape.push(level.length);
    level = level[0];
  }
  return shape;
}

function describeKind(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x !== 'object') return typeof x;
  return x.constructor?.name ?? 'object';
}
