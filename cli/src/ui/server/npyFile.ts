/**
 * A typed array as a NumPy `.npy` file (format version 1.0): what a typed-array artifact is
 * downloaded as, so that `numpy.load` (or any reader of the format) gets its dtype and shape back
 * instead of bare bytes. Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
 */
import os from 'node:os';

/** NumPy's type code of each typed array, without the byte order (added per machine). */
const DTYPES: Record<string, string> = {
  Int8Array: 'i1',
  Uint8Array: 'u1',
  Uint8ClampedArray: 'u1',
  Int16Array: 'i2',
  Uint16Array: 'u2',
  Int32Array: 'i4',
  Uint32Array: 'u4',
  Float32Array: 'f4',
  Float64Array: 'f8',
  BigInt64Array: 'i8',
  BigUint64Array: 'u8',
};

/** The `descr` of a typed array's elements (`<f4`), or undefined for a type NumPy has no code for. */
export function npyDescr(array: ArrayBufferView): string | undefined {
  const code = DTYPES[array.constructor.name];
  if (code === undefined) return undefined;
  // typed arrays hold their elements in the machine's byte order; one byte has none ('|')
  if (code.endsWith('1')) return `|${code}`;
  return `${os.endianness() === 'LE' ? '<' : '>'}${code}`;
}

/**
 * The bytes of a `.npy` file of `array` with `shape` (default: one dimension, its length).
 * Undefined when the array's type has no NumPy dtype.
 */
export function toNpy(array: ArrayBufferView, shape?: readonly number[]): Buffer | undefined {
  const descr = npyDescr(array);
  if (descr === undefined) return undefined;
  const length = (array as unknown as { length: number }).length;
  const dims = shape ?? [length];
  const shapeText = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  // magic (6) + version (2) + header length (2) + header, padded with spaces to a multiple of 64
  // and ended by a newline, so that the data starts aligned
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const data = Buffer.from(array.buffer, array.byteOffset, array.byteLength);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), data]);
}
