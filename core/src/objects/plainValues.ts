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

/**
 * How deeply arrays, objects, Maps and Sets may nest in a value that is logged or stored (`[[1]]`
 * is 2 levels). JSON and v8 serialization overflow the stack at around 10,000 levels, far from
 * the call that logged the value: deeper values are refused at the call instead.
 */
export const MAX_VALUE_DEPTH = 100;

/**
 * Numbers (NaN included), strings, booleans, null, arrays and plain objects of these, acyclic,
 * nested at most MAX_VALUE_DEPTH levels.
 */
export function isJsonPlain(value: unknown, seen: object[] = []): boolean {
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
      return true;
    case 'object': {
      if (value === null) return true;
      // `seen` holds the containers above this one: deeper than the limit is not storable data
      if (seen.length >= MAX_VALUE_DEPTH || seen.includes(value)) return false;
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

/**
 * True when v8.serialize keeps the whole value: no functions, symbols or class instances, and
 * (what v8.serialize can take without overflowing the stack) at most MAX_VALUE_DEPTH levels.
 */
export function isStructuredClonable(value: unknown, seen = new Set<object>(), depth = 0): boolean {
  const t = typeof value;
  if (t === 'function' || t === 'symbol') return false;
  if (t !== 'object' || value === null) return true;
  const obj = value as object;
  if (seen.has(obj)) return true;
  seen.add(obj);
  if (ArrayBuffer.isView(obj)) return true;
  if (depth >= MAX_VALUE_DEPTH && isContainer(obj)) return false;
  const inner = depth + 1;
  const proto = Object.getPrototypeOf(obj);
  if (!CLONABLE_PROTOTYPES.has(proto) && !(obj instanceof Error)) return false;
  if (obj instanceof Map) {
    for (const [k, v] of obj)
      if (!isStructuredClonable(k, seen, inner) || !isStructuredClonable(v, seen, inner)) return false;
    return true;
  }
  if (obj instanceof Set) {
    for (const v of obj) if (!isStructuredClonable(v, seen, inner)) return false;
    return true;
  }
  return Object.values(obj).every((v) => isStructuredClonable(v, seen, inner));
}

/** Whether a value is a container its depth counts: an array, a plain object, a Map or a Set. */
function isContainer(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(value) || value instanceof Map || value instanceof Set) return true;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function childrenOf(container: object): Iterable<unknown> {
  if (Array.isArray(container) || container instanceof Set) return container;
  if (container instanceof Map) return [...container.keys(), ...container.values()];
  return Object.values(container);
}

/**
 * Whether arrays, plain objects, Maps and Sets nest more than `limit` levels anywhere in `value`
 * (`[[1]]` is 2). A container met again inside itself (a cycle, which v8.serialize allows) adds no
 * depth. It walks with a stack of its own, so any depth is measured without a stack overflow.
 */
export function nestingExceeds(value: unknown, limit: number): boolean {
  if (!isContainer(value)) return false;
  // the greatest depth at which each container was explored: a shared container is explored
  // again only when reached deeper, so the walk stays linear in practice and never loops
  const exploredAt = new Map<object, number>();
  const ancestors = new Set<object>();
  // [container, depth, leaving]: a leaving entry takes the container off the ancestors again
  const todo: Array<[object, number, boolean]> = [[value, 1, false]];
  while (todo.length) {
    const [obj, depth, leaving] = todo.pop()!;
    if (leaving) {
      ancestors.delete(obj);
      continue;
    }
    if (ancestors.has(obj) || (exploredAt.get(obj) ?? 0) >= depth) continue;
    if (depth > limit) return true;
    exploredAt.set(obj, depth);
    ancestors.add(obj);
    todo.push([obj, depth, true]);
    for (const child of childrenOf(obj)) if (isContainer(child)) todo.push([child, depth + 1, false]);
  }
  return false;
}

/** A Buffer, an ArrayBuffer or a plain Uint8Array: raw bytes. */
export function isBinary(value: unknown): value is Buffer | ArrayBuffer | Uint8Array {
  return (
    value instanceof ArrayBuffer ||
    // a page has no Buffer
    (typeof Buffer === 'function' && Buffer.isBuffer(value)) ||
    (value instanceof Uint8Array && Object.getPrototypeOf(value) === Uint8Array.prototype)
  );
}

/** Any typed array (Float32Array, Int32Array, …) other than raw bytes. */
export function isTypedArray(value: unknown): value is Exclude<NodeJS.TypedArray, Buffer> {
  return ArrayBuffer.isView(value) && !(value instanceof DataView) && !isBinary(value);
}
