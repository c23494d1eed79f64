import { randomUUID } from '../process/randomId';
import { TrackingError } from '../errors/TrackingError';
import { TrackingInputError } from '../errors/TrackingInputError';
import { validateDepth, validateKey } from '../events/validation';
import { copyBytes } from '../process/bytes';
import { serializer } from './serializeObject';
import { encodeValue } from '../events/valueCodec';
import type { ArtifactValue } from '../events/types';
import { INLINE_LIMIT_BYTES } from '../objects/builtinBackends';
import { Metadata } from '../objects/Metadata';
import type { ObjectBackend } from '../objects/ObjectBackend';
import type { ObjectStore } from '../objects/ObjectStore';
import { isBinary, isJsonPlain, isStructuredClonable, isTypedArray } from '../objects/plainValues';
import type { Store } from '../store/Store';

/** Where artifacts that go to `om.models` / `om.datasets` are kept (as in omega-ml). */
export const ARTEFACT_PREFIX = '.experiments/.artefacts/';

/** Arrays longer than this are stored as datasets rather than inline JSON. */
const LARGE_ARRAY = 10_000;

/** Where an experiment's artifact blobs live; the name is encoded so `a` never covers `a/b`. */
export function artifactBlobPrefix(experiment: string): string {
  return `.experiments/${encodeURIComponent(experiment)}/`;
}

/** The stores an artifact can be written to. */
export interface ArtifactStores {
  store: Store;
  models: ObjectStore;
  datasets: ObjectStore;
}

/** An artifact ready to log: the event value, and the writes that must land before the event does. */
export interface EncodedArtifact {
  value: ArtifactValue;
  write: (() => Promise<void>) | undefined;
}

/** What an object is as an artifact (SPEC §4), with its content serialized where that applies. */
export type ArtifactContent =
  | { format: 'metadata' | 'type' | 'repr'; data: unknown }
  | { format: 'model'; model: unknown; backend: ObjectBackend }
  | { format: 'binary' | 'serialized'; bytes: Buffer }
  | { format: 'blob'; blob: Blob }
  | { format: 'dataset'; snapshot: unknown };

/**
 * Chooses an artifact's format (SPEC §4) and serializes it at once, so a later change to the
 * object does not change what was logged. Every provider stores the result its own way.
 */
export function classifyArtifact(obj: unknown, models: ObjectStore): ArtifactContent {
  if (obj instanceof Metadata) return { format: 'metadata', data: structuredClone(obj.toJSON()) };
  const modelBackend = models.backendFor(obj);
  if (modelBackend && !modelBackend.generic) return { format: 'model', model: obj, backend: modelBackend };
  if (isBinary(obj)) return { format: 'binary', bytes: copyBytes(obj) };
  // a Blob (a page's File, a fetch's blob()) cannot change: its bytes are read when it is written
  if (typeof Blob !== 'undefined' && obj instanceof Blob) return { format: 'blob', blob: obj };
  if (isTypedArray(obj)) return { format: 'dataset', snapshot: obj.slice() };
  // JSON and v8 serialization overflow the stack on very deep values: refused here, at the call
  validateDepth(obj, 'artifact');
  if (isJsonPlain(obj)) {
    // the caller may keep mutating its array after logging it: large ones are copied now
    if (isLargeArray(obj) || encodeValue(obj).length > INLINE_LIMIT_BYTES)
      return { format: 'dataset', snapshot: structuredClone(obj) };
    return { format: 'type', data: structuredClone(obj) };
  }
  if (serializer.available && isStructuredClonable(obj))
    return { format: 'serialized', bytes: copyBytes(serializer.serialize(obj)) };
  return { format: 'repr', data: serializer.repr(obj) };
}

/**
 * Encodes an artifact for the embedded/MongoDB stores. The name is only ever a label: storage
 * keys are random ids, so `../../etc/passwd` is stored as a name and reaches no file.
 */
export function encodeArtifact(
  obj: unknown,
  name: string,
  experiment: string,
  stores: ArtifactStores,
): EncodedArtifact {
  validateKey(name, 'artifact name');
  const id = randomUUID().replace(/-/g, '');
  const content = classifyArtifact(obj, stores.models);
  switch (content.format) {
    case 'metadata':
    case 'type':
    case 'repr':
      return inline(name, content.format, content.data);
    case 'model':
    case 'dataset': {
      const target = ARTEFACT_PREFIX + id;
      const store = content.format === 'model' ? stores.models : stores.datasets;
      const obj = content.format === 'model' ? content.model : content.snapshot;
      return {
        value: { name, format: content.format, data: target },
        write: eagerWrite(() =>
          store.put(obj, target, {
            attributes: { experiment, artifact: name },
            // beside the experiment's other artifact content: a token scoped to the experiment
            // reaches it, and dropping the experiment removes it with the rest
            blobPrefix: `${artifactBlobPrefix(experiment)}${id}/`,
          }),
        ),
      };
    }
    case 'binary':
    case 'serialized': {
      const key = artifactBlobPrefix(experiment) + id;
      const bytes = content.bytes;
      return {
        value: { name, format: content.format, data: { blob: key, bytes: bytes.length } },
        write: () => stores.store.putBlob(key, bytes),
      };
    }
    case 'blob': {
      // logged as bytes, with the Blob's media type: restored as a Blob of that type
      const key = artifactBlobPrefix(experiment) + id;
      const blob = content.blob;
      return {
        value: { name, format: 'binary', data: { blob: key, bytes: blob.size, type: blob.type } },
        write: async () => stores.store.putBlob(key, new Uint8Array(await blob.arrayBuffer())),
      };
    }
  }
}

/**
 * Starts a write now — a model is saved as it is when logged, not as it is when the queue is
 * written — and hands the queue a function that waits for it, and tries again if it failed.
 */
export function eagerWrite(start: () => Promise<unknown>): () => Promise<void> {
  let attempt = start();
  // handled here so an early failure is not an unhandled rejection; the queue sees it when it waits
  attempt.catch(() => undefined);
  let first = true;
  return async () => {
    if (!first) attempt = start();
    first = false;
    await attempt;
  };
}

function inline(name: string, format: ArtifactValue['format'], data: unknown): EncodedArtifact {
  return { value: { name, format, data }, write: undefined };
}

function isLargeArray(obj: unknown): boolean {
  return Array.isArray(obj) && obj.length > LARGE_ARRAY;
}

/**
 * Turns a logged artifact value back into the object (SPEC §4 restore rules); a value without a
 * format is returned as it is. The value may come from a caller (a row of `data()`): one whose
 * content reference points anywhere but artifact storage is a TrackingInputError.
 */
export async function decodeArtifact(value: unknown, stores: ArtifactStores): Promise<unknown> {
  const v = value as Partial<ArtifactValue> | null;
  if (!v || typeof v !== 'object' || typeof v.format !== 'string') return value;
  switch (v.format) {
    case 'type':
    case 'repr':
      return v.data;
    case 'metadata':
      if (typeof v.data !== 'object' || v.data === null) throw badReference(v);
      return Metadata.fromJSON(v.data as Record<string, unknown>);
    case 'model':
      return stores.models.get(artefactEntry(v));
    case 'dataset':
      return stores.datasets.get(artefactEntry(v));
    case 'binary': {
      const bytes = requireBlob(await stores.store.getBlob(artefactBlob(v)), v.name);
      const type = (v.data as { type?: unknown }).type;
      return typeof type === 'string' ? new Blob([new Uint8Array(bytes)], { type }) : bytes;
    }
    case 'serialized':
      return serializer.deserialize(requireBlob(await stores.store.getBlob(artefactBlob(v)), v.name));
    default:
      return v.data;
  }
}

/** The store entries and blobs an artifact value refers to, for clean-up. */
export function artifactReferences(value: unknown): { model?: string; dataset?: string; blob?: string } {
  const v = value as Partial<ArtifactValue> | null;
  if (!v || typeof v !== 'object') return {};
  if (v.format === 'model') return { model: String(v.data) };
  if (v.format === 'dataset') return { dataset: String(v.data) };
  if (v.format === 'binary' || v.format === 'serialized') return { blob: blobKey(v.data) };
  return {};
}

/** The entry a `model`/`dataset` value names, which must be one encodeArtifact wrote. */
function artefactEntry(v: Partial<ArtifactValue>): string {
  if (typeof v.data !== 'string' || !v.data.startsWith(ARTEFACT_PREFIX)) throw badReference(v);
  return v.data;
}

/** The blob a `binary`/`serialized` value names, which must be an experiment's artifact blob. */
function artefactBlob(v: Partial<ArtifactValue>): string {
  const key = (v.data as { blob?: unknown } | null)?.blob;
  // every experiment's artifact blobs live under `.experiments/` (artifactBlobPrefix)
  if (typeof key !== 'string' || !key.startsWith('.experiments/')) throw badReference(v);
  return key;
}

function badReference(v: Partial<ArtifactValue>): TrackingInputError {
  return new TrackingInputError(
    `artifact '${String(v.name)}' of format '${String(v.format)}' does not refer to stored artifact content: restore a value as data() gave it`,
  );
}

function blobKey(data: unknown): string {
  return String((data as { blob?: unknown } | null)?.blob);
}

function requireBlob(blob: Buffer | undefined, name: unknown): Buffer {
  if (!blob)
    throw new TrackingError(`the content of artifact '${String(name)}' is missing from the blob store`);
  return blob;
}
