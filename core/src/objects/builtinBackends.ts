import { TrackingError } from '../errors/TrackingError';
import type { ObjectBackend } from './ObjectBackend';
import { isBinary, isJsonPlain, isTypedArray } from './plainValues';
import { decodeValue, encodeValue } from '../events/valueCodec';
import { utf8Bytes, utf8Text } from '../process/bytes';

/** Inline JSON up to this size; larger content goes to the blob store (SPEC §4). */
export const INLINE_LIMIT_BYTES = 256 * 1024;

/** The typed array classes by name, as stored (`attributes.type`) and sent (runtime tasks). */
export const TYPED_ARRAYS: Record<string, new (buffer: ArrayBuffer) => ArrayBufferView> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
};

/** Raw bytes (Buffer, ArrayBuffer, Uint8Array), read back as a Buffer. */
export const blobBackend: ObjectBackend = {
  kind: 'blob',
  generic: true,
  supports: isBinary,
  async put(obj, { store, blobPrefix }) {
    const bytes = obj instanceof ArrayBuffer ? new Uint8Array(obj) : (obj as Uint8Array);
    await store.putBlob(`${blobPrefix}data`, bytes);
    return { kind: 'blob', attributes: { bytes: bytes.byteLength } };
  },
  async get(entry, { store, blobPrefix }) {
    return requireBlob(await store.getBlob(`${blobPrefix}data`), entry.name);
  },
};

/** Typed arrays, read back as the same typed array class. */
export const typedArrayBackend: ObjectBackend = {
  kind: 'typedarray',
  generic: true,
  supports: isTypedArray,
  async put(obj, { store, blobPrefix }) {
    const view = obj as ArrayBufferView;
    await store.putBlob(`${blobPrefix}data`, new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
    return {
      kind: 'typedarray',
      attributes: { type: view.constructor.name, length: (view as Uint8Array).length },
    };
  },
  async get(entry, { store, blobPrefix }) {
    const bytes = requireBlob(await store.getBlob(`${blobPrefix}data`), entry.name);
    const Ctor = TYPED_ARRAYS[String(entry.attributes.type)];
    if (!Ctor)
      throw new TrackingError(
        `entry '${entry.name}' has an unknown typed array type ${String(entry.attributes.type)}`,
      );
    // Copy into a fresh, aligned ArrayBuffer: a Buffer's offset may not suit e.g. Float64Array.
    const copy = new ArrayBuffer(bytes.byteLength);
    new Uint8Array(copy).set(bytes);
    return new Ctor(copy);
  },
};

/** JSON data (arrays, records, tables as arrays of rows), inline when small. */
export const jsonBackend: ObjectBackend = {
  kind: 'json',
  generic: true,
  supports: (obj) => isJsonPlain(obj),
  async put(obj, { store, blobPrefix }) {
    const text = encodeValue(obj);
    if (text.length <= INLINE_LIMIT_BYTES) return { kind: 'json', data: obj };
    await store.putBlob(`${blobPrefix}data`, utf8Bytes(text));
    return { kind: 'json', attributes: { bytes: text.length } };
  },
  async get(entry, { store, blobPrefix }) {
    if (entry.data !== undefined) return entry.data;
    return decodeValue(utf8Text(requireBlob(await store.getBlob(`${blobPrefix}data`), entry.name)));
  },
};

function requireBlob(blob: Buffer | undefined, name: string): Buffer {
  if (!blob) throw new TrackingError(`the content of '${name}' is missing from the blob store`);
  return blob;
}
