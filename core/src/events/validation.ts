import { TrackingInputError } from '../errors/TrackingInputError';

/** Longest key, experiment or extra-field name accepted (SPEC §1). */
export const MAX_NAME_LENGTH = 250;

/** Throws unless `key` is a non-empty string of at most 250 characters. */
export function validateKey(key: unknown, what = 'key'): string {
  if (typeof key === 'number' && Number.isFinite(key)) key = String(key);
  if (typeof key !== 'string') throw new TrackingInputError(`${what} must be a string, got ${typeof key}`);
  if (key.length === 0) throw new TrackingInputError(`${what} must not be empty`);
  if (key.length > MAX_NAME_LENGTH)
    throw new TrackingInputError(
      `${what} is ${key.length} characters long; at most ${MAX_NAME_LENGTH} are allowed`,
    );
  return key;
}

/** Throws unless `step` is null/undefined or a finite integer. */
export function validateStep(step: unknown): number | null {
  if (step === undefined || step === null) return null;
  if (typeof step !== 'number' || !Number.isInteger(step))
    throw new TrackingInputError(
      `step must be an integer, got ${typeof step === 'number' ? step : typeof step}`,
    );
  return step;
}

/**
 * Throws unless `name` is a valid experiment name: 1–250 characters, no NUL, and no `..` path
 * segment (`/` is allowed, as in `myapp/regmodel`).
 */
export function validateExperimentName(name: unknown): string {
  validateKey(name, 'experiment name');
  const s = name as string;
  if (s.includes('\0')) throw new TrackingInputError('experiment name must not contain a NUL character');
  if (s.split('/').some((segment) => segment === '..' || segment === '.'))
    throw new TrackingInputError(`experiment name '${s}' must not contain a '.' or '..' path segment`);
  return s;
}

/**
 * Throws unless `value` can be stored as an event value: JSON data (numbers may be NaN or
 * ±Infinity; Dates become ISO strings) with no functions, symbols, bigints or cycles.
 */
export function validateValue(value: unknown, what = 'value'): void {
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
    case 'undefined':
      return;
    case 'object':
      if (value === null) return;
      checkObject(value, what, []);
      return;
    default:
      throw new TrackingInputError(`${what} cannot be stored: a ${typeof value} is not a JSON value`);
  }
}

/** The key valueCodec tags non-finite numbers with; a user object may not use it. */
const RESERVED_KEY = '$omega.nonfinite';

function checkObject(value: object, path: string, stack: object[]): void {
  if (stack.includes(value)) throw new TrackingInputError(`${path} is circular: it contains itself`);
  if (value instanceof Date) return;
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null)
    throw new TrackingInputError(
      `${path} cannot be stored as an event value: a ${value.constructor?.name ?? 'class instance'} is not JSON data (log it as an artifact)`,
    );
  if (!Array.isArray(value) && RESERVED_KEY in value)
    throw new TrackingInputError(`${path} uses the key '${RESERVED_KEY}', which omega-track reserves`);
  stack.push(value);
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [`[${i}]`, v])
    : Object.entries(value).map(([k, v]) => [`.${k}`, v]);
  for (const [suffix, v] of entries) {
    const t = typeof v;
    if (t === 'function' || t === 'symbol' || t === 'bigint')
      throw new TrackingInputError(`${path}${suffix} cannot be stored: a ${t} is not a JSON value`);
    if (t === 'object' && v !== null) checkObject(v as object, path + suffix, stack);
  }
  stack.pop();
}
