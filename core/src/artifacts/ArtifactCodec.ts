import { randomUUID } from 'node:crypto';
import util from 'node:util';
import v8 from 'node:v8';
import { TrackingError } from '../errors/TrackingError';
import { validateKey } from '../events/validation';
import { encodeValue } from '../events/valueCodec';
import type { ArtifactValue } from '../events/types';
import { INLINE_LIMIT_BYTES } from '../objects/builtinBackends';
import { Metadata } from '../objects/Metadata';
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

/**
 * Chooses an artifact's format (SPEC §4) and serializes it at once, so a later change to the
 * object does not change what was logged. The name is only ever a label: storage keys are
 * random ids, so `../../etc/passwd` is stored as a name and reaches no file.
 */
export function encodeArtifact(
  obj: unknown,
  name: string,
  experiment: string,
  stores: ArtifactStores,
): EncodedArtifact {
  validateKey(name, 'artifact name');
  const id = randomUUID().replace(/-/g, '');
  if (obj instanceof Metadata) return inline(name, 'metadata', obj.toJSON());
  const modelBackend = stores.models.backendFor(obj);
  if (modelBackend && !modelBackend.generic) {
    const target = ARTEFACT_PREFIX + id;
    return {
      value: { name, format: 'model', data: target },
      write: async () =>
        void (await stores.models.put(obj, target, { attributes: { experiment, artifact: name } })),
    };
  }
  if (isBinary(obj)) {
    const key = artifactBlobPrefix(experiment) + id;
    const bytes = Buffer.from(obj instanceof ArrayBuffer ? new Uint8Array(obj) : (obj as Uint8Array));
    return {
      value: { name, format: 'binary', data: { blob: key, bytes: bytes.length } },
      write: () => stores.store.putBlob(key, bytes),
    };
  }
  if (
    isTypedArray(obj) ||
    (isJsonPlain(obj) && (isLargeArray(obj) || encodeValue(obj).length > INLINE_LIMIT_BYTES))
  ) {
    const target = ARTEFACT_PREFIX + id;
    // Snapshot now: the caller may keep mutating its array after logging it.
    const snapshot = isTypedArray(obj) ? obj.slice() : structuredClone(obj);
    return {
      value: { name, format: 'dataset', data: target },
      write: async () =>
        void (await stores.datasets.put(snapshot, target, { attributes: { experiment, artifact: name } })),
    };
  }
  if (isJsonPlain(obj)) return inline(name, 'type', obj);
  if (isStructuredClonable(obj)) {
    const key = artifactBlobPrefix(experiment) + id;
    const bytes = v8.serialize(obj);
    return {
      value: { name, format: 'serialized', data: { blob: key, bytes: bytes.length } },
      write: () => stores.store.putBlob(key, bytes),
    };
  }
  return inline(name, 'repr', util.inspect(obj, { depth: 4, breakLength: Infinity }));
}

function inline(name: string, format: ArtifactValue['format'], data: unknown): EncodedArtifact {
  return { value: { name, format, data }, write: undefined };
}

function isLargeArray(obj: unknown): boolean {
  return Array.isArray(obj) && obj.length > LARGE_ARRAY;
}

/** Turns a logged artifact value back into the object (SPEC §4 restore rules). */
export async function decodeArtifact(value: unknown, stores: ArtifactStores): Promise<unknown> {
  const v = value as Partial<ArtifactValue> | null;
  if (!v || typeof v !== 'object' || typeof v.format !== 'string') return value;
  switch (v.format) {
    case 'type':
    case 'repr':
      return v.data;
    case 'metadata':
      return Metadata.fromJSON(v.data as Record<string, unknown>);
    case 'model':
      return stores.models.get(String(v.data));
    case 'dataset':
      return stores.datasets.get(String(v.data));
    case 'binary':
      return requireBlob(await stores.store.getBlob(blobKey(v.data)), v.name);
    case 'serialized':
      // v8.deserialize rebuilds data only; unlike pickle it cannot run code.
      return v8.deserialize(requireBlob(await stores.store.getBlob(blobKey(v.data)), v.name));
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

function blobKey(data: unknown): string {
  return String((data as { blob?: unknown } | null)?.blob);
}

function requireBlob(blob: Buffer | undefined, name: unknown): Buffer {
  if (!blob)
    throw new TrackingError(`the content of artifact '${String(name)}' is missing from the blob store`);
  return blob;
}
