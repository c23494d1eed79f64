import type { RunFilter } from '../filter/runFilter';
import type { RunStatsRow } from './chunks/runStats';
import type { EventColumnBatch, PendingEvent, ResolvedQuery, TrackingEvent } from '../events/types';

/**
 * Which collection of metadata entries: models (experiments live here too), datasets, or
 * `system` — the store's own records (a team server's tokens), which `om.models` / `om.datasets`
 * never list and a server never serves; `views` — the web UI's saved views, per experiment.
 */
export type Bucket = 'models' | 'datasets' | 'system' | 'views';

/**
 * Names one write so that it is stored once however often it is sent (a batch resent after a
 * lost answer). `id` is unique per content forever; `digest` fingerprints the content (a team
 * server takes the sha256 of the request body). The store records both, with the write's
 * result, in the transaction of the write itself: the same id and digest again stores nothing
 * and answers as the first time; the same id with another digest is a StoreError `conflict`.
 */
export interface WriteId {
  id: string;
  digest: string;
}

/** A named entry of the models or datasets store: what it is and where its content lives. */
export interface MetadataEntry {
  name: string;
  /** What the entry holds, e.g. `experiment.tracker`, `json`, `typedarray`, `blob`, `tfjs.layers`. */
  kind: string;
  /** Free-form JSON attributes (the experiment configuration, a model's tracking links, …). */
  attributes: Record<string, unknown>;
  /** Small JSON content stored inline, when the entry has any. */
  data?: unknown;
  /** Key of the entry's content in the blob store, when it has any. */
  blob?: string;
  created: Date;
  modified: Date;
}

/** The last sign of life of a run's holders. */
export interface RunLiveness {
  /** When a process holding the run last said it was alive (ms since the epoch). */
  lastBeat: number;
  /** How often that process beats (ms): a run is CRASHED only after several missed beats. */
  intervalMs: number;
}

/**
 * Where a provider's events live: run numbers and the event log of each experiment. Every Store
 * is one; a provider may keep its events elsewhere (the MLflow provider does) behind another.
 */
export interface EventLog {
  /**
   * How often a provider writes its queue unless told otherwise (`flushIntervalMs`), when this
   * log wants another interval than the default 1 s: the HTTP store's writes are cheap appends to
   * a local spool, and the sooner they go, the sooner other machines and the live view see them.
   */
  readonly flushIntervalMs?: number;
  /**
   * Allocates the next run number of `experiment` (max + 1, and at least `atLeast`) and writes
   * its start event, as one atomic step: concurrent callers, in any process, get distinct numbers.
   * With `writeId`, a repeat of the same write (same id and digest) allocates nothing and
   * resolves to the run number the first one got; another digest under that id is a StoreError
   * `conflict`. (Every Store honours `writeId`; a provider's own log may ignore it.)
   */
  startRun(
    experiment: string,
    start: Omit<PendingEvent, 'run'>,
    atLeast?: number,
    writeId?: WriteId,
  ): Promise<number>;
  /**
   * Appends events in order, all or none. With `writeId`, a repeat of the same write (same id
   * and digest) stores nothing and resolves to `{ duplicate: true }`; another digest under that
   * id is a StoreError `conflict` and nothing is stored. Without it, resolves to undefined.
   */
  appendEvents(
    experiment: string,
    events: readonly PendingEvent[],
    writeId?: WriteId,
  ): Promise<void | { duplicate: true }>;
  /**
   * Synchronous append for the last moment of a process (`process.on('exit')`), where no
   * promise can settle. Logs that cannot write synchronously leave it undefined.
   */
  appendEventsSync?(experiment: string, events: readonly PendingEvent[]): void;
  /** Matching events sorted by time, ties in insertion order. */
  queryEvents(experiment: string, query: ResolvedQuery): Promise<TrackingEvent[]>;
  /** The same rows as `queryEvents`, in batches. */
  iterateEvents(experiment: string, query: ResolvedQuery, batchSize: number): AsyncIterable<TrackingEvent[]>;
  /**
   * The matching events column by column, a batch per stored chunk, in logging order (not sorted
   * by time): numbers, steps and times in typed arrays, no object per event. For reading many
   * numbers (`summary()`, long series). `limit`/`offset` are not taken (TrackingInputError).
   * Optional: readers fall back to `queryEvents` where a log has no columnar form.
   */
  queryColumns?(experiment: string, query: ResolvedQuery): AsyncIterable<EventColumnBatch>;
  /** The highest run number of the experiment, undefined when it has none. */
  latestRun(experiment: string): Promise<number | undefined>;
  /** Deletes every event and the run counter of the experiment; returns how many events went. */
  deleteEvents(experiment: string): Promise<number>;
  /** Deletes the events of one run; its number is never given out again. Returns how many went. */
  deleteRun?(experiment: string, run: number): Promise<number>;
  /**
   * The per-run aggregates kept as events are written (latest value per event and key; metrics
   * also min, max, count), for `runs()`; `unaggregated` lists the runs written before the log
   * kept them, whose table comes from their events. With `runs`, only those runs.
   */
  runStats?(
    experiment: string,
    runs?: readonly number[],
  ): Promise<{ rows: RunStatsRow[]; unaggregated: number[] }>;
  /**
   * The runs that may match a run filter, found where the log keeps its aggregates: a superset
   * of the matches (runs() filters the table exactly afterwards), so that runs() reads only
   * those; undefined when the filter does not narrow them. Logs that read their whole run table
   * cheaply (the embedded store) leave it undefined.
   */
  runsMatching?(experiment: string, filter: RunFilter): Promise<number[] | undefined>;
  /**
   * The runs of `experiment` that hold at least one event named `event` (the UI marks runs with a
   * profile), from the chunk index alone: no event is read. Logs without an index leave it undefined.
   */
  runsWithEvent?(experiment: string, event: string): Promise<number[]>;
  /**
   * A cheap watermark of what the log holds of `experiment` (or of one run): `mark` changes
   * whenever events are added or deleted; `runs` counts the runs with events; `lastDt` is the
   * latest time of the last written batch (undefined when there is none). For watchers (the web
   * UI's live updates, its caches); logs that cannot tell cheaply leave it undefined.
   */
  changeMark?(
    experiment: string,
    run?: number,
  ): Promise<{ mark: string; runs: number; lastDt: number | undefined }>;
  /**
   * Records that the process `owner` holds `runs` and is alive now; it beats again within
   * `intervalMs`. Logs that keep no heartbeats leave it undefined (their runs never read CRASHED).
   */
  beat?(experiment: string, runs: readonly number[], owner: string, intervalMs: number): Promise<void>;
  /** The latest heartbeat per run of the experiment (runs nobody beat for are absent). */
  liveness?(experiment: string): Promise<Map<number, RunLiveness>>;
  /**
   * Events of `experiment` this process wrote that the log does not hold yet, per run (a team
   * server's store: what waits in the local spool). runs() shows them as `pending`. Logs that
   * write at once leave it undefined.
   */
  pendingEvents?(experiment: string): Map<number, number>;
}

/**
 * The storage behind omega-track: metadata entries, one event log per experiment, and blobs.
 * Every store passes the same contract suite (`test/storeContract`).
 */
export interface Store extends EventLog {
  /** The URL the store was opened with, password removed. */
  readonly url: string;

  putEntry(bucket: Bucket, entry: MetadataEntry): Promise<void>;
  getEntry(bucket: Bucket, name: string): Promise<MetadataEntry | undefined>;
  /** Synchronous `getEntry`, where the store can read synchronously (the embedded store). */
  getEntrySync?(bucket: Bucket, name: string): MetadataEntry | undefined;
  /** Entries whose name starts with `prefix` (all when omitted), sorted by name. */
  listEntries(bucket: Bucket, prefix?: string): Promise<MetadataEntry[]>;
  deleteEntry(bucket: Bucket, name: string): Promise<boolean>;

  putBlob(key: string, data: Uint8Array): Promise<void>;
  getBlob(key: string): Promise<Buffer | undefined>;
  /** Deletes every blob whose key starts with `prefix`; returns how many. */
  deleteBlobs(prefix: string): Promise<number>;
  /**
   * The keys of the blobs whose key starts with `prefix`, sorted (what `copy` and `export` read
   * of a model artifact, whose backend wrote files of its own under the entry's prefix).
   */
  listBlobs(prefix: string): Promise<string[]>;

  /**
   * Waits until what was written is where other processes read it: for the HTTP store, until its
   * spool has shipped (at most its ship timeout; resolves false when something is left).
   * Stores that write in place leave it undefined.
   */
  settle?(): Promise<boolean>;

  /** Releases connections. Idempotent. */
  close(): Promise<void>;
}
