/**
 * JSON text for event values that keeps NaN and ±Infinity (plain JSON turns them into null,
 * which omega-ml did and SPEC §1 fixes). Non-finite numbers are written as a tagged object;
 * values without any pay nothing extra.
 */
const TAG = '$omega.nonfinite';

function hasNonFinite(value: unknown): boolean {
  if (typeof value === 'number') return !Number.isFinite(value);
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value)) return value.some(hasNonFinite);
  if (value instanceof Date) return false;
  for (const v of Object.values(value)) if (hasNonFinite(v)) return true;
  return false;
}

function replacer(_key: string, v: unknown): unknown {
  return typeof v === 'number' && !Number.isFinite(v) ? { [TAG]: String(v) } : v;
}

function reviver(_key: string, v: unknown): unknown {
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const tagged = (v as Record<string, unknown>)[TAG];
    if (typeof tagged === 'string' && Object.keys(v).length === 1) return Number(tagged);
  }
  return v;
}

/** Encodes a value as JSON text, keeping non-finite numbers. `undefined` becomes null. */
export function encodeValue(value: unknown): string {
  if (value === undefined) return 'null';
  return hasNonFinite(value) ? JSON.stringify(value, replacer) : JSON.stringify(value);
}

/** Decodes text written by `encodeValue`. */
export function decodeValue(text: string): unknown {
  return text.includes(TAG) ? JSON.parse(text, reviver) : JSON.parse(text);
}

/**
 * Makes a value safe for stores that take structured documents (MongoDB, MLflow JSON): the
 * same transformation as encode + decode, but leaving the non-finite tags in place.
 */
export function toStorableDocument(value: unknown): unknown {
  if (value === undefined) return null;
  return JSON.parse(encodeValue(value));
}
