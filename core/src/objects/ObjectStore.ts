import { randomUUID } from '../process/randomId';
import { TrackingError } from '../errors/TrackingError';
import { TrackingInputError } from '../errors/TrackingInputError';
import { validateKey } from '../events/validation';
import type { Bucket, MetadataEntry, Store } from '../store/Store';
import { blobBackend, jsonBackend, typedArrayBackend } from './builtinBackends';
import { Metadata } from './Metadata';
import type { DropOptions, ObjectBackend, ObjectWriteContext } from './ObjectBackend';
import { parseNamePattern } from './namePattern';

/** Options of `put`. */
export interface PutOptions {
  /** Attributes merged into the entry's metadata. */
  attributes?: Record<string, unknown>;
  /**
   * Where the entry's content goes in the blob store (a key prefix ending in `/`); default
   * `<bucket>/<random id>/`. An artifact's model or dataset goes under its experiment's own
   * artifact prefix, where a team server lets a token of that experiment write and read it.
   */
  blobPrefix?: string;
}

/**
 * `om.models` and `om.datasets`: named objects with metadata, stored through pluggable
 * backends. Plain data (JSON, typed arrays, bytes) is built in; packages add backends for their
 * own objects (the tfjs adapter adds `LayersModel`).
 */
export class ObjectStore {
  private readonly backends: ObjectBackend[] = [blobBackend, typedArrayBackend, jsonBackend];

  constructor(
    readonly store: Store,
    readonly bucket: Bucket,
  ) {}

  /** Adds a backend; it is asked before those registered earlier. Registering a kind twice replaces it. */
  registerBackend(backend: ObjectBackend): void {
    const i = this.backends.findIndex((b) => b.kind === backend.kind);
    if (i >= 0) this.backends.splice(i, 1);
    this.backends.unshift(backend);
  }

  /** The backend that would store `obj`, if any. */
  backendFor(obj: unknown): ObjectBackend | undefined {
    return this.backends.find((b) => b.supports(obj));
  }

  /** The backend that reads entries of `kind`, if one is registered. */
  backendOf(kind: string): ObjectBackend | undefined {
    return this.backends.find((b) => b.kind === kind);
  }

  /**
   * Stores `obj` under `name`, replacing what was there; returns its metadata. A backend may
   * store its kind under a name of its own form: a `TrackingProvider` or an experiment handle
   * goes to `experiments/<name>` (its configuration, never code).
   */
  async put(obj: unknown, name: string, opts: PutOptions = {}): Promise<Metadata> {
    validateKey(name, 'name');
    const backend = this.backendFor(obj);
    if (!backend)
      throw new TrackingInputError(
        `om.${this.bucket} cannot store a ${describe(obj)}; supported kinds: ${this.backends.map((b) => b.kind).join(', ')}`,
      );
    name = backend.entryName?.(name) ?? name;
    if (
      opts.blobPrefix !== undefined &&
      (typeof opts.blobPrefix !== 'string' || !opts.blobPrefix.endsWith('/'))
    )
      throw new TrackingInputError(
        `blobPrefix must be a key prefix ending in '/', got ${String(opts.blobPrefix)}`,
      );
    const previous = await this.store.getEntry(this.bucket, name);
    // an entry that owns more than its content (an experiment: events, artifacts) is not
    // replaced by another kind of object, which would orphan what it owns
    if (previous && previous.kind !== backend.kind && this.backendOf(previous.kind)?.drop)
      throw new TrackingInputError(
        `om.${this.bucket} entry '${name}' is of kind '${previous.kind}': drop it first (om.${this.bucket}.drop('${name}', { force: true }))`,
      );
    const ctx = this.context(opts.blobPrefix ?? `${this.bucket}/${randomUUID()}/`, name);
    const result = await backend.put(obj, ctx);
    const now = new Date();
    const entry: MetadataEntry = {
      name,
      kind: result.kind,
      // what the backend says about the content (a typed array's type, an experiment's
      // configuration) wins: a given attribute of that name would make the entry unreadable
      attributes: { ...previous?.attributes, ...opts.attributes, ...result.attributes },
      blob: ctx.blobPrefix,
      created: previous?.created ?? now,
      modified: now,
    };
    if (result.data !== undefined) entry.data = result.data;
    await this.store.putEntry(this.bucket, entry);
    // The new content is in place: only now is it safe to drop the old one.
    if (previous?.blob && previous.blob !== ctx.blobPrefix) await this.store.deleteBlobs(previous.blob);
    return new Metadata(entry);
  }

  /** Loads the object stored under `name`; throws a TrackingError when there is none. */
  async get<T = unknown>(name: string): Promise<T> {
    const entry = await this.store.getEntry(this.bucket, name);
    if (!entry) throw new TrackingError(`om.${this.bucket} has no entry '${name}'`);
    const backend = this.backendOf(entry.kind);
    if (!backend)
      throw new TrackingError(
        `om.${this.bucket} entry '${name}' is of kind '${entry.kind}', which no registered backend reads`,
      );
    return (await backend.get(entry, this.context(entry.blob ?? '', entry.name))) as T;
  }

  /** The metadata of `name`, undefined when there is none. */
  async metadata(name: string): Promise<Metadata | undefined> {
    const entry = await this.store.getEntry(this.bucket, name);
    return entry ? new Metadata(entry) : undefined;
  }

  /** Writes changed metadata (attributes) back. */
  async putMetadata(meta: MetadataEntry): Promise<void> {
    await this.store.putEntry(this.bucket, { ...meta, modified: new Date() });
  }

  async exists(name: string): Promise<boolean> {
    return (await this.store.getEntry(this.bucket, name)) !== undefined;
  }

  /**
   * Names of the entries, sorted: all of them, those matching `pattern` when it holds a wildcard
   * (`*`, `?`, `[…]`, as omega-ml's `list('experiments/*')`; see `parseNamePattern`), else those
   * starting with it (a plain name or prefix, e.g. `'experiments/'`).
   */
  async list(pattern?: string): Promise<string[]> {
    if (pattern === undefined) return (await this.store.listEntries(this.bucket)).map((e) => e.name);
    const parsed = parseNamePattern(pattern);
    if (!parsed.wildcard) return (await this.store.listEntries(this.bucket, pattern)).map((e) => e.name);
    // the store narrows by the pattern's literal prefix (a parameter, never query text); the
    // rest of the pattern is matched here
    const names = (await this.store.listEntries(this.bucket, parsed.prefix)).map((e) => e.name);
    return names.filter((n) => parsed.matches(n));
  }

  /**
   * Deletes an entry and its content; returns whether there was one. An experiment
   * (`experiments/<name>`) goes with its events and artifacts, and only with `{ force: true }`.
   */
  async drop(name: string, opts: DropOptions = {}): Promise<boolean> {
    const entry = await this.store.getEntry(this.bucket, name);
    if (!entry) return false;
    const backend = this.backendOf(entry.kind);
    if (backend?.drop) return backend.drop(entry, opts);
    await this.store.deleteEntry(this.bucket, name);
    if (entry.blob) await this.store.deleteBlobs(entry.blob);
    return true;
  }

  private context(blobPrefix: string, name: string): ObjectWriteContext {
    return { store: this.store, blobPrefix, name };
  }
}

function describe(obj: unknown): string {
  if (obj === null) return 'null';
  if (typeof obj !== 'object') return typeof obj;
  return obj.constructor?.name ?? 'object';
}
