import util from 'node:util';
import v8 from 'node:v8';

/**
 * Serialization of artifacts that are neither JSON nor bytes (Maps, Sets, Dates, class
 * instances): in Node, v8's structured serialization, and a readable `repr` for what it cannot
 * take. The browser build replaces this module: a page has no v8 serializer.
 */
export const serializer = {
  /** Whether `serialize` is available here. */
  available: true,
  serialize(obj: unknown): Uint8Array {
    return v8.serialize(obj);
  },
  /** v8.deserialize rebuilds data only; unlike pickle it cannot run code. */
  deserialize(bytes: Uint8Array): unknown {
    return v8.deserialize(bytes);
  },
  repr(obj: unknown): string {
    return util.inspect(obj, { depth: 4, breakLength: Infinity });
  },
};
