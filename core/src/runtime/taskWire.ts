import { TaskResultTooLargeError, mebibytes } from '../errors/TaskResultTooLargeError';
import { TrackingError } from '../errors/TrackingError';
import { TrackingInputError } from '../errors/TrackingInputError';
import { TYPED_ARRAYS } from '../objects/builtinBackends';
import type { TaskRequest, TypedArray } from './types';

/**
 * The most a task may carry through Redis, each way: its X and Y (larger ones go by name through
 * om.datasets), and its result (a larger one is saved by the backend in om.datasets, by name).
 */
export const MAX_TASK_BYTES = 8 * 1024 * 1024;

const TYPED = '$omega.typed';
const NONFINITE = '$omega.nonfinite';

function replacer(this: unknown, key: string, v: unknown): unknown {
  // JSON.stringify hands Buffers in as their toJSON form: look at the holder's own value
  const own = (this as Record<string, unknown>)[key];
  if (ArrayBuffer.isView(own) && !(own instanceof DataView)) {
    const view = own as TypedArray;
    const name = own.constructor.name === 'Buffer' ? 'Uint8Array' : own.constructor.name;
    return {
      [TYPED]: name,
      b64: Buffer.from(view.buffer, view.byteOffset, view.byteLength).toString('base64'),
    };
  }
  return typeof v === 'number' && !Number.isFinite(v) ? { [NONFINITE]: String(v) } : v;
}

function reviver(_key: string, v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
  const record = v as Record<string, unknown>;
  const nonfinite = record[NONFINITE];
  if (typeof nonfinite === 'string') return Number(nonfinite);
  const typed = record[TYPED];
  if (typeof typed === 'string' && typeof record.b64 === 'string') {
    // bigint arrays are no task input (encodeTaskArgument refuses them)
    const Ctor =
      typed.startsWith('Big') || !Object.hasOwn(TYPED_ARRAYS, typed)
        ? undefined
        : (TYPED_ARRAYS[typed] as new (b: ArrayBuffer) => TypedArray);
    if (!Ctor) throw new TrackingError(`a task carries an unknown typed array type '${typed}'`);
    const bytes = Buffer.from(record.b64, 'base64');
    // an ArrayBuffer of exactly these bytes, aligned for any element size
    const copy = new ArrayBuffer(bytes.byteLength);
    new Uint8Array(copy).set(bytes);
    return new Ctor(copy);
  }
  return v;
}

/**
 * A value as JSON text that keeps typed arrays (base64) and NaN / ±Infinity: what travels
 * through Redis (tasks, their results), where plain JSON would turn a Float32Array into a record
 * and NaN into null.
 */
export function encodeWire(value: unknown): string {
  return JSON.stringify(value === undefined ? null : value, replacer);
}

/** Decodes text written by `encodeWire`. */
export function decodeWire(text: string): unknown {
  return JSON.parse(text, reviver);
}

/** Decodes a task written by `encodeWire`, checking that it is one. */
export function decodeTaskWire(text: unknown): TaskRequest {
  const task = typeof text === 'string' ? (decodeWire(text) as TaskRequest) : undefined;
  if (
    !task ||
    typeof task.taskid !== 'string' ||
    typeof task.model !== 'string' ||
    typeof task.method !== 'string'
  )
    throw new TrackingError('this job is not an omega-track task (is another application using the queue?)');
  return task;
}

/** The size of wire text in bytes (UTF-8, as Redis stores it). */
function wireBytes(wire: string): number {
  // a string of n UTF-16 units takes at least n bytes: only a long one needs counting
  return wire.length * 3 <= MAX_TASK_BYTES ? wire.length : Buffer.byteLength(wire, 'utf8');
}

/**
 * Checks the wire text of a task's input against MAX_TASK_BYTES: a TrackingInputError that says
 * how to send large data (by om.datasets name) when it is over.
 */
export function checkTaskInputSize(wire: string, method: string): void {
  const bytes = wireBytes(wire);
  if (bytes > MAX_TASK_BYTES)
    throw new TrackingInputError(
      `this ${method} task carries ${mebibytes(bytes)} MiB, more than the ${mebibytes(MAX_TASK_BYTES)} MiB a task may carry through Redis: store X and Y with om.datasets.put(X, 'name') and pass their names`,
    );
}

/**
 * Checks the wire text of a task's result against MAX_TASK_BYTES, the cap of its input: a
 * TaskResultTooLargeError that says how to return large results (by om.datasets name) when it is over.
 */
export function checkTaskResultSize(wire: string, method: string): void {
  const bytes = wireBytes(wire);
  if (bytes > MAX_TASK_BYTES) throw new TaskResultTooLargeError(method, bytes, MAX_TASK_BYTES);
}
