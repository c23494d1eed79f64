import type { MetadataEntry, Store } from '../store/Store';

/** The part of a store that backends read and write content through. */
export type BlobStore = Pick<Store, 'putBlob' | 'getBlob'>;

/** What a backend may write for one entry: inline JSON, and blobs under the entry's own prefix. */
export interface ObjectWriteContext {
  store: BlobStore;
  /** A blob-key prefix that belongs to this entry alone; dropping the entry deletes it. */
  blobPrefix: string;
}

/** What a backend's `put` decided: the entry's kind, attributes, and inline content if any. */
export interface ObjectPutResult {
  kind: string;
  attributes?: Record<string, unknown>;
  data?: unknown;
}

/**
 * Stores one kind of object in the models or datasets store. Backends are asked in turn
 * (latest registered first) whether they support an object; the first that does stores it.
 */
export interface ObjectBackend {
  /** The entry kind this backend reads back, e.g. `json`, `typedarray`, `tfjs.layers`. */
  readonly kind: string;
  /**
   * Built-in backends for plain data say true here; an artifact is logged with format `model`
   * only when a non-generic models backend (such as tfjs) supports it.
   */
  readonly generic?: boolean;
  supports(obj: unknown): boolean;
  put(obj: unknown, ctx: ObjectWriteContext): Promise<ObjectPutResult>;
  get(entry: MetadataEntry, ctx: ObjectWriteContext): Promise<unknown>;
}
