import type { MetadataEntry, Store } from '../store/Store';

/** The part of a store that backends read and write content through. */
export type BlobStore = Pick<Store, 'putBlob' | 'getBlob'>;

/** What a backend may write for one entry: inline JSON, and blobs under the entry's own prefix. */
export interface ObjectWriteContext {
  store: BlobStore;
  /** A blob-key prefix that belongs to this entry alone; dropping the entry deletes it. */
  blobPrefix: string;
  /** The name of the entry being written or read (after the backend's `entryName`). */
  name?: string;
}

/** What a backend's `put` decided: the entry's kind, attributes, and inline content if any. */
export interface ObjectPutResult {
  kind: string;
  /** Attributes that describe the content; they win over attributes given to `put`. */
  attributes?: Record<string, unknown>;
  data?: unknown;
}

/** Options of `drop`. */
export interface DropOptions {
  /** Required where dropping deletes more than the entry: an experiment's events and artifacts. */
  force?: boolean;
}

/**
 * Stores one kind of object in the models or datasets store. Backends are asked in turn
 * (latest registered first) whether they support an object; the first that does stores it.
 */
export interface ObjectBackend {
  /** The entry kind this backend reads back, e.g. `json`, `typedarray`, `tfjs.layers`. */
  readonly kind: string;
  /**
   * True where the objects are not models to log as artifacts of format `model`: the built-in
   * backends for plain data, and experiment configurations. An artifact is logged with format
   * `model` only when a non-generic models backend (such as tfjs) supports it.
   */
  readonly generic?: boolean;
  supports(obj: unknown): boolean;
  /**
   * The name an entry given as `name` is stored under (e.g. `x` → `experiments/x`); throws
   * TrackingInputError for a name this kind cannot have. Default: `name` as given.
   */
  entryName?(name: string): string;
  put(obj: unknown, ctx: ObjectWriteContext): Promise<ObjectPutResult>;
  get(entry: MetadataEntry, ctx: ObjectWriteContext): Promise<unknown>;
  /**
   * Drops an entry of this kind where that means more than deleting the entry and its blobs
   * (an experiment's events and artifacts); returns whether there was anything. Default: the entry
   * and its blobs go.
   */
  drop?(entry: MetadataEntry, opts: DropOptions): Promise<boolean>;
}
