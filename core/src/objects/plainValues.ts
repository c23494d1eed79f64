/**
 * Classifies values for storage: JSON-plain data is stored as JSON; data that only the
 * structured-clone algorithm can represent is stored with v8.serialize; the rest is not data.
 */

const CLONABLE_PROTOTYPES: ReadonlySet<object | null> = new Set<object | null>([
  Object.prototype,
  null,
  Array.prototype,
  Map.prototype,
  Set.prototype,
  Date.prototype,
  RegExp.prototype,
  ArrayBuffer.prototype,
  Error.prototype,
]);

/** Numbers (NaN included), strings, booleans, null, arrays and plain objects of these, acyclic. */
export function isJsonPlain(value: unknown, seen: object[] = []): boolean {
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
      return true;
    case 'object': {
      if (value === null) return true;
      if (seen.includes(value)) return false;
      const proto = Object.getPrototypeOf(value);
      if (Array.isArray(value)) {
        seen.push(value);
        const ok = value.every((v) => isJsonPlain(v, seen));
        seen.pop();
        return ok;
      }
      if (proto !== Object.prototype && proto !== null) return false;
      seen.push(value);
      const ok = Object.values(value).every((v) => isJsonPlain(v, seen));
      seen.pop();
      return ok;
    }
    default:
      return false;
  }
}

/** True when v8.serialize keeps the whole value: no functions, symbols or class instances. */
export function isStructuredClonable(value: unknown, seen = new Set<object>()): boolean {
  const t = typeof value;
  if (t === 'function' || t === 'symbol') return false;
  if (t !== 'object' || value === null) return true;
  const obj = value as object;
  if (seen.has(obj)) return true;
  seen.add(obj);
  if (ArrayBuffer.isView(obj)) return true;
  const proto = Object.getPrototypeOf(obj);
  if (!CLONABLE_PROTOTYPES.has(proto) && !(obj instanceof Error)) return false;
  if (obj instanceof Map) {
    for (const [k, v] of obj)
      if (!isStructuredClonable(k, seen) || !isStructuredClonable(v, seen)) return false;
    return true;
  }
  if (obj instanceof Set) {
    for (const v of obj) if (!isStructuredClonable(v, seen)) return false;
    return true;
  }
  return Object.values(obj).every((v) => isStructuredClonable(v, seen));
}

/** A Buffer, an ArrayBuffer or a plain Uint8Array: raw bytes. */
export function isBinary(value: unknown): value is Buffer | ArrayBuffer | Uint8Array {
  return (
    value instanceof ArrayBuffer ||
    Buffer.isBuffer(value) ||
    (value instanceof Uint8Array && Object.getPrototypeOf(value) === Uint8Array.prototype)
  );
}

/** Any typed array (Float32Array, Int32Array, …) other than raw bytes. */
export function isTypedArray(value: unknown): value is Exclude<NodeJS.TypedArray, Buffer> {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) && !isBinary(value);
}
