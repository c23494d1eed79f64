/**
 * The artifacts of a run in the UI: their list, and each one downloaded as what it is — a tfjs
 * model as one zip of `model.json` and its weights that `tf.loadLayersModel` accepts, a typed
 * array as a NumPy `.npy` file (dtype and shape), bytes under their own name, JSON as `.json`.
 * Content is reached only through the artifact's own references (restoreArtifacts, the model's
 * entry), never through anything the request names.
 */
import v8 from 'node:v8';
import type { MetadataEntry, Store, TrackingEvent } from '@omega-track/core';
import { ARTEFACT_PREFIX, artifactReferences } from '@omega-track/core/internal';
import { toNpy } from './npyFile';
import type { Reply } from './respond';
import { HttpError, jsonText } from './respond';
import type { SeriesSource } from './series';
import { zipStore } from './zipStore';

/** The artifact events: `logArtifact` and `logData`. */
export const ARTIFACT_EVENTS = ['artifact', 'data'];
/** Bytes per element of the typed arrays a dataset artifact can hold. */
const TYPED_ARRAY_BYTES: Record<string, number> = {
  Int8Array: 1,
  Uint8Array: 1,
  Uint8ClampedArray: 1,
  Int16Array: 2,
  Uint16Array: 2,
  Int32Array: 4,
  Uint32Array: 4,
  Float32Array: 4,
  Float64Array: 8,
  BigInt64Array: 8,
  BigUint64Array: 8,
};
/** The parts of a tfjs model that can be downloaded one by one: its topology and its weights. */
export const TFJS_PARTS = ['model.json', 'weights.bin'];
/** The weights file a downloaded model.json names (as the models store keeps them: one file). */
const WEIGHTS_FILE = 'weights.bin';
/** A file name extension: a dot and up to 8 letters or digits, one a letter at least (not `lr.0.01`). */
const EXTENSION = /\.(?=[A-Za-z0-9]*[A-Za-z])[A-Za-z0-9]{1,8}$/;

/** `key` as a file name ending in `ext`: as it is when it ends so already (`checkpoint.bin`). */
export function withExtension(key: string, ext: string): string {
  return key.toLowerCase().endsWith(ext.toLowerCase()) ? key : `${key}${ext}`;
}

/** The file name of bytes logged as `key`: the key when it names its type (`model.pt`), else `.bin`. */
export function bytesName(key: string): string {
  return EXTENSION.test(key) ? key : `${key}.bin`;
}

/** Whether a query flag is on (`raw=1`); absent is off; anything but 1/0/true/false a 400. */
function flag(q: URLSearchParams, name: string): boolean {
  const text = q.get(name);
  if (text === null || text === '' || text === '0' || text === 'false') return false;
  if (text === '1' || text === 'true') return true;
  throw new HttpError(400, `${name} takes 1 or 0, got '${text}'`);
}

/**
 * The `model.json` file of a stored tfjs model: the model artifacts tfjs saved (topology, weight
 * specs, training config) with the weights manifest naming `weightsFile`, as `tf.io.browserFiles`,
 * `file://` and `http://` loaders read it.
 */
export function modelJsonFile(stored: Buffer, weightsFile = WEIGHTS_FILE): Buffer {
  let artifacts: Record<string, unknown>;
  try {
    artifacts = JSON.parse(stored.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new HttpError(500, "the model's stored model.json is not JSON");
  }
  const { weightSpecs, weightsManifest, ...rest } = artifacts;
  // one group, one file: the store keeps the weights as one concatenated buffer
  const weights = Array.isArray(weightSpecs)
    ? weightSpecs
    : Array.isArray(weightsManifest)
      ? (weightsManifest as Array<{ weights?: unknown[] }>).flatMap((g) => g.weights ?? [])
      : [];
  return Buffer.from(JSON.stringify({ ...rest, weightsManifest: [{ paths: [weightsFile], weights }] }));
}

/** Whether `value` is plain data (arrays and plain objects), as opposed to a live object (a model). */
function isPlainData(value: object): boolean {
  if (Array.isArray(value)) return true;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** The artifact handlers of the UI API over one store (the models and datasets entries are there). */
export class ArtifactDownloads {
  constructor(private readonly store: Store) {}

  /** The artifact events of a run, in logging order. */
  private async rows(
    source: SeriesSource,
    run: number,
    key?: string,
    event?: string,
  ): Promise<TrackingEvent[]> {
    return source.reader.data({
      run,
      event: event ?? ARTIFACT_EVENTS,
      ...(key !== undefined ? { key } : {}),
    });
  }

  /** The artifact entry (a model or dataset in this store) an artifact value names, if any. */
  private async entryOf(
    source: SeriesSource,
    value: unknown,
    bucket: 'models' | 'datasets',
  ): Promise<MetadataEntry | null | undefined> {
    const refs = artifactReferences(value);
    const ref = bucket === 'models' ? refs.model : refs.dataset;
    if (!source.store || !ref?.startsWith(ARTEFACT_PREFIX)) return undefined;
    // null: the artifact names an entry that is gone
    return (await this.store.getEntry(bucket, ref)) ?? null;
  }

  /** What the models store says of a model artifact (its kind, class, layers, parameters). */
  private async modelInfo(
    source: SeriesSource,
    value: unknown,
  ): Promise<Record<string, unknown> | undefined> {
    const data = (value as { data?: unknown }).data;
    if (data && typeof data === 'object' && typeof (data as { kind?: unknown }).kind === 'string')
      return { kind: (data as { kind: string }).kind };
    const entry = await this.entryOf(source, value, 'models');
    if (entry === undefined) return undefined;
    if (entry === null) return { missing: true };
    return {
      kind: entry.kind,
      ...entry.attributes,
      ...(entry.kind === 'tfjs.layers' ? { parts: TFJS_PARTS } : {}),
    };
  }

  /** The size of an artifact's content in bytes, and the file it downloads as, where known without reading it. */
  private async describe(
    source: SeriesSource,
    key: string,
    value: { format?: unknown; data?: unknown },
    model: Record<string, unknown> | undefined,
  ): Promise<{ size?: number; file?: string }> {
    const format = value.format;
    const bytes = (value.data as { bytes?: unknown } | null)?.bytes;
    if (format === 'binary')
      return { size: typeof bytes === 'number' ? bytes : undefined, file: bytesName(key) };
    if (format === 'serialized')
      return { size: typeof bytes === 'number' ? bytes : undefined, file: `${key}.v8` };
    if (format === 'type' || format === 'metadata' || format === 'repr')
      return { size: Buffer.byteLength(jsonText(value.data) ?? '') };
    if (format === 'model') return model?.kind === 'tfjs.layers' ? { file: withExtension(key, '.zip') } : {};
    if (format !== 'dataset') return {};
    const entry = await this.entryOf(source, value, 'datasets');
    if (!entry) return { file: withExtension(key, '.json') };
    const type = TYPED_ARRAY_BYTES[String(entry.attributes.type)];
    const length = entry.attributes.length;
    // a typed array: its length in elements of its type
    if (entry.kind === 'typedarray' && type !== undefined)
      return {
        ...(typeof length === 'number' ? { size: length * type } : {}),
        file: withExtension(key, '.npy'),
      };
    const size = entry.attributes.bytes;
    if (typeof size === 'number') return { size, file: withExtension(key, '.json') };
    if (entry.data !== undefined)
      return { size: Buffer.byteLength(jsonText(entry.data) ?? ''), file: withExtension(key, '.json') };
    return { file: withExtension(key, '.json') };
  }

  /** `GET /api/experiments/:exp/runs/:run/artifacts`: the run's artifacts. */
  async list(source: SeriesSource, run: number): Promise<Reply> {
    const seen = new Map<string, number>();
    const artifacts = [];
    for (const row of await this.rows(source, run)) {
      const value = (row.value ?? {}) as { format?: unknown; data?: unknown };
      // the position among the run's artifacts of that key, logArtifact's and logData's alike
      const index = seen.get(row.key) ?? 0;
      seen.set(row.key, index + 1);
      const model = value.format === 'model' ? await this.modelInfo(source, value) : undefined;
      const { size, file } = await this.describe(source, row.key, value, model);
      artifacts.push({
        key: row.key,
        event: row.event,
        index,
        format: typeof value.format === 'string' ? value.format : 'unknown',
        dt: row.dt,
        step: row.step,
        ...(size !== undefined ? { size } : {}),
        ...(file !== undefined ? { file } : {}),
        ...(model !== undefined ? { model } : {}),
      });
    }
    return { kind: 'json', body: { artifacts } };
  }

  /**
   * `GET /api/experiments/:exp/runs/:run/artifacts/:key?index=&event=&part=&raw=` (or
   * `…/runs/:run/artifact?key=…`, which reaches keys such as `..` too): the `index`-th artifact of
   * `key` in the run (as the list counts them; `event` narrows to logArtifact's or logData's),
   * inline formats as JSON, content as a download of what it is; `part` one file of a tfjs model,
   * `raw=1` a typed array's bare bytes (type in `X-Omega-Array-Type`).
   */
  async one(source: SeriesSource, run: number, key: string, q: URLSearchParams): Promise<Reply> {
    const event = q.get('event') || undefined;
    if (event !== undefined && !ARTIFACT_EVENTS.includes(event))
      throw new HttpError(400, `event takes artifact or data, got '${event}'`);
    const index = q.get('index');
    if (index !== null && index.trim() !== '' && !/^\d+$/.test(index.trim()))
      throw new HttpError(400, `index takes a whole number from 0, got '${index}'`);
    const at = index === null || index.trim() === '' ? 0 : Number(index);
    const raw = flag(q, 'raw');
    const part = q.get('part') || undefined;
    const rows = await this.rows(source, run, key, event);
    const row = rows[at];
    if (!row)
      throw new HttpError(
        404,
        rows.length === 0
          ? `run ${run} of '${source.experiment}' has no artifact '${key}'`
          : `run ${run} of '${source.experiment}' has ${rows.length} artifact${rows.length > 1 ? 's' : ''} '${key}' (index 0 to ${rows.length - 1}), no #${at}`,
        { key, index: at, count: rows.length },
      );
    const value = (row.value ?? {}) as { format?: unknown; data?: unknown };
    const format = typeof value.format === 'string' ? value.format : undefined;
    if (part !== undefined && format !== 'model')
      throw new HttpError(
        404,
        `'${key}' is a ${format ?? 'plain'} artifact, not a model: it has no part '${part}'`,
      );
    if (format === undefined || format === 'type' || format === 'metadata' || format === 'repr')
      return {
        kind: 'json',
        body: { format: format ?? 'unknown', value: format === undefined ? row.value : value.data },
      };
    if (format === 'model') {
      const model = await this.tfjsModel(source, key, value, part);
      if (model) return model;
    }
    const [restored] = await source.reader.restoreArtifacts([{ ...row, value: row.value }]);
    return this.contentReply(restored, format, key, raw);
  }

  /**
   * A tfjs model artifact in the store: one zip of a loadable `model.json` and its weights, or one
   * of them (`part`). Undefined for a model this store does not hold as tfjs (restored instead).
   */
  private async tfjsModel(
    source: SeriesSource,
    key: string,
    value: unknown,
    part: string | undefined,
  ): Promise<Reply | undefined> {
    const entry = await this.entryOf(source, value, 'models');
    if (entry === null) throw new HttpError(404, `the model of artifact '${key}' is no longer in the store`);
    if (!entry || entry.kind !== 'tfjs.layers' || !entry.blob) {
      if (part !== undefined)
        throw new HttpError(
          404,
          `the model of artifact '${key}' is not a tfjs model: it has no part '${part}'`,
        );
      return undefined;
    }
    if (part !== undefined && !TFJS_PARTS.includes(part))
      throw new HttpError(
        404,
        `the model '${key}' has no part '${part}': its parts are ${TFJS_PARTS.join(' and ')}`,
        {
          parts: TFJS_PARTS,
        },
      );
    const read = async (name: string): Promise<Buffer> => {
      const data = await this.store.getBlob(entry.blob + name);
      if (!data) throw new HttpError(404, `the model's ${name} is missing from the store`);
      return data;
    };
    if (part === 'weights.bin')
      return { kind: 'download', filename: WEIGHTS_FILE, data: await read(WEIGHTS_FILE) };
    const modelJson = modelJsonFile(await read('model.json'));
    if (part === 'model.json') return { kind: 'download', filename: 'model.json', data: modelJson };
    const zip = zipStore(
      [
        { name: 'model.json', data: modelJson },
        { name: WEIGHTS_FILE, data: await read(WEIGHTS_FILE) },
      ],
      entry.modified,
    );
    return { kind: 'download', filename: withExtension(key, '.zip'), data: zip };
  }

  /**
   * Restored artifact content as a download: bytes under their own name, typed arrays as `.npy`
   * (their bare bytes with `raw`), JSON, v8 serialization.
   */
  private async contentReply(restored: unknown, format: string, key: string, raw: boolean): Promise<Reply> {
    if (Buffer.isBuffer(restored) || restored instanceof Uint8Array)
      return { kind: 'download', filename: bytesName(key), data: restored };
    if (restored instanceof ArrayBuffer)
      return { kind: 'download', filename: bytesName(key), data: new Uint8Array(restored) };
    // bytes logged with a media type (a page's File or Blob) come back as a Blob
    if (typeof Blob !== 'undefined' && restored instanceof Blob)
      return {
        kind: 'download',
        filename: bytesName(key),
        data: new Uint8Array(await restored.arrayBuffer()),
      };
    if (ArrayBuffer.isView(restored)) {
      const headers = { 'X-Omega-Array-Type': restored.constructor.name };
      const npy = raw ? undefined : toNpy(restored);
      if (npy) return { kind: 'download', filename: withExtension(key, '.npy'), data: npy, headers };
      return {
        kind: 'download',
        filename: bytesName(key),
        data: new Uint8Array(restored.buffer, restored.byteOffset, restored.byteLength),
        headers,
      };
    }
    if (format === 'serialized')
      return { kind: 'download', filename: `${key}.v8`, data: v8.serialize(restored) };
    const text = jsonText(restored);
    if (text === undefined || (typeof restored === 'object' && restored !== null && !isPlainData(restored)))
      throw new HttpError(409, `this ${format} artifact is listed, not downloadable here`);
    return { kind: 'download', filename: withExtension(key, '.json'), data: Buffer.from(text) };
  }
}
