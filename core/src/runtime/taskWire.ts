import { TrackingError } from '../errors/TrackingError';
import { TYPED_ARRAYS } from '../objects/builtinBackends';
import type { TaskRequest, TypedArray } from './types';

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
