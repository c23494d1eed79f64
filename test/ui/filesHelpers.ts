/**
 * For the tests of artifact downloads: a store with a tfjs model, bytes under several names and
 * typed arrays logged as artifacts, and readers of what the downloads are (zip, .npy) written
 * apart from the server's writers, after the formats' specifications.
 */
import zlib from 'node:zlib';
import * as tf from '@tensorflow/tfjs';
import { omega } from 'omega-track';

/** The experiment `prepareFilesStore` logs into (run 1). */
export const FILES_EXP = 'files';

/** The typed arrays logged, by artifact key, with the dtype and values a `.npy` must hold. */
export const ARRAYS: Record<
  string,
  { array: ArrayBufferView; descr: string; values: Array<number | bigint> }
> = {
  f32: {
    array: new Float32Array([1.5, -2.25, 3e-8, 65504]),
    descr: '<f4',
    values: [1.5, -2.25, Math.fround(3e-8), 65504],
  },
  i32: {
    array: new Int32Array([-2147483648, 0, 7, 2147483647]),
    descr: '<i4',
    values: [-2147483648, 0, 7, 2147483647],
  },
  f64: { array: new Float64Array([Math.PI, -1e300, 0.1]), descr: '<f8', values: [Math.PI, -1e300, 0.1] },
  u8c: { array: new Uint8ClampedArray([0, 128, 255]), descr: '|u1', values: [0, 128, 255] },
  i64: {
    array: new BigInt64Array([-(2n ** 63n), 5n, 2n ** 62n]),
    descr: '<i8',
    values: [-(2n ** 63n), 5n, 2n ** 62n],
  },
  i16: { array: new Int16Array([-3, 300]), descr: '<i2', values: [-3, 300] },
};

/** Bytes logged under names with and without an extension: the file each downloads as. */
export const BYTES: Record<string, string> = {
  'checkpoint.bin': 'checkpoint.bin',
  'weights.BIN': 'weights.BIN',
  'model.pt': 'model.pt',
  state: 'state.bin',
  'lr.0.01': 'lr.0.01.bin',
};

/** What was logged: the model's weights (by variable name, as numbers) and a prediction. */
export interface LoggedModel {
  weights: Record<string, number[]>;
  input: number[][];
  prediction: number[];
}

/** Logs run 1 of `files`: a tfjs model `mnist-model`, bytes (BYTES) and typed arrays (ARRAYS). */
export async function prepareFilesStore(store: string): Promise<LoggedModel> {
  const om = omega({ store });
  const exp = om.runtime.experiment(FILES_EXP);
  const model = tf.sequential({
    layers: [
      tf.layers.dense({ units: 5, inputShape: [3], activation: 'relu', name: 'hidden' }),
      tf.layers.dense({ units: 2, activation: 'softmax', name: 'out' }),
    ],
  });
  // weights that are not the initializer's: a loaded model with fresh weights would differ
  model.setWeights(model.getWeights().map((w, i) => tf.randomNormal(w.shape, 0, 1, 'float32', 42 + i)));
  const input = [
    [0.1, 0.2, 0.3],
    [-1, 2, 0.5],
  ];
  const logged: LoggedModel = {
    weights: weightsOf(model),
    input,
    prediction: Array.from((model.predict(tf.tensor2d(input)) as tf.Tensor).dataSync()),
  };
  await exp.start();
  exp.logArtifact(model, 'mnist-model');
  for (const key of Object.keys(BYTES)) exp.logArtifact(Buffer.from(`bytes of ${key}`), key);
  for (const [key, a] of Object.entries(ARRAYS)) exp.logArtifact(a.array, key);
  await exp.stop();
  await om.close();
  return logged;
}

/**
 * The files of a zip archive, read from its central directory; each entry's CRC-32 is checked
 * (with zlib's, not the server's) and stored or deflated data is accepted.
 */
export function readZip(zip: Buffer): Map<string, Buffer> {
  const end = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (end < 0) throw new Error('not a zip: no end of central directory');
  const count = zip.readUInt16LE(end + 10);
  let at = zip.readUInt32LE(end + 16);
  const files = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central directory entry ${i}`);
    const method = zip.readUInt16LE(at + 10);
    const crc = zip.readUInt32LE(at + 16);
    const size = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extra = zip.readUInt16LE(at + 30);
    const comment = zip.readUInt16LE(at + 32);
    const local = zip.readUInt32LE(at + 42);
    const name = zip.subarray(at + 46, at + 46 + nameLength).toString('utf8');
    if (zip.readUInt32LE(local) !== 0x04034b50) throw new Error(`bad local header of ${name}`);
    const start = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
    const stored = zip.subarray(start, start + size);
    const data = method === 0 ? stored : zlib.inflateRawSync(stored);
    if (zlib.crc32(data) !== crc) throw new Error(`CRC-32 of ${name} does not match`);
    files.set(name, Buffer.from(data));
    at += 46 + nameLength + extra + comment;
  }
  return files;
}

/** A parsed `.npy` file (format 1.0): its header fields and its values. */
export interface Npy {
  version: string;
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** Where the data starts (a multiple of 16, as the format asks). */
  dataOffset: number;
  values: Array<number | bigint>;
}

const NPY_TYPES: Record<string, (b: ArrayBuffer) => ArrayLike<number | bigint>> = {
  '<f4': (b) => new Float32Array(b),
  '<f8': (b) => new Float64Array(b),
  '<i4': (b) => new Int32Array(b),
  '<i2': (b) => new Int16Array(b),
  '<i8': (b) => new BigInt64Array(b),
  '|u1': (b) => new Uint8Array(b),
  '|i1': (b) => new Int8Array(b),
};

/** Parses a `.npy` file as NumPy would read it (little-endian dtypes of the tests). */
export function parseNpy(file: Buffer): Npy {
  if (file.subarray(0, 6).toString('latin1') !== '\x93NUMPY') throw new Error('no .npy magic');
  const version = `${file[6]}.${file[7]}`;
  const headerLength = file.readUInt16LE(8);
  const header = file.subarray(10, 10 + headerLength).toString('latin1');
  if (!header.endsWith('\n')) throw new Error('the header does not end with a newline');
  const m =
    /^\{'descr': '([<>|][a-z]\d+)', 'fortran_order': (True|False), 'shape': \(([\d, ]*)\), \}\s*$/.exec(
      header,
    );
  if (!m) throw new Error(`unexpected header ${JSON.stringify(header)}`);
  const shape = m[3]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map(Number);
  const dataOffset = 10 + headerLength;
  const make = NPY_TYPES[m[1]];
  if (!make) throw new Error(`no reader for ${m[1]}`);
  const data = file.subarray(dataOffset);
  const copy = new ArrayBuffer(data.length);
  new Uint8Array(copy).set(data);
  return {
    version,
    descr: m[1],
    fortranOrder: m[2] === 'True',
    shape,
    dataOffset,
    values: Array.from(make(copy)),
  };
}

/**
 * Loads a tfjs model from the files of a download as `tf.loadLayersModel` loads `model.json` and
 * its weights from disk or a server: the weights files are the ones the manifest names (by base
 * name, as `tf.io.browserFiles` finds them), concatenated in its order.
 */
export async function loadFromFiles(files: Map<string, Buffer>): Promise<tf.LayersModel> {
  const json = files.get('model.json');
  if (!json) throw new Error(`no model.json among ${[...files.keys()].join(', ')}`);
  const modelJson = JSON.parse(json.toString('utf8')) as tf.io.ModelJSON;
  const handler: tf.io.IOHandler = {
    load: async () => {
      const groups = modelJson.weightsManifest;
      const parts: Buffer[] = [];
      for (const g of groups)
        for (const p of g.paths) {
          const base = p.split('/').pop()!;
          const data = files.get(base);
          if (!data) throw new Error(`the manifest names ${p}, which the download does not hold`);
          parts.push(data);
        }
      const all = Buffer.concat(parts);
      return tf.io.getModelArtifactsForJSON(modelJson, async () => [
        groups.flatMap((g) => g.weights),
        all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength),
      ]);
    },
  };
  return tf.loadLayersModel(handler);
}

/**
 * The weights of a model by variable name, as numbers; the suffix tfjs adds to the names of a
 * second model of the same layer names in one process (`hidden/kernel_1`) is left out.
 */
export function weightsOf(model: tf.LayersModel): Record<string, number[]> {
  return Object.fromEntries(
    model.weights.map((w) => [w.name.replace(/_\d+$/, ''), Array.from(w.read().dataSync())]),
  );
}

/** The model's prediction for `input`, as numbers. */
export function predict(model: tf.LayersModel, input: number[][]): number[] {
  return Array.from((model.predict(tf.tensor2d(input)) as tf.Tensor).dataSync());
}
