/**
 * What every way of moving runs shares (`import`, `export`, `copy`): a source gives experiments
 * and their runs, one run at a time, with the events in logging order; `transferRuns` writes them
 * into a store, each run all or none, and a second pass over the same source stores nothing twice.
 */
import type { Bucket, MetadataEntry, PendingEvent, RunInfo } from '@omega-track/core';

/**
 * Reads the artifact content a run's events refer to (SPEC §4: a `model`/`dataset` artifact names
 * an entry `.experiments/.artefacts/<id>` whose blobs lie under the entry's `blob` prefix; a
 * `binary`/`serialized` artifact names one blob) from wherever the run comes from: a store, an
 * export directory, an MLflow artifact store.
 */
export interface ContentSource {
  getEntry(bucket: Bucket, name: string): Promise<MetadataEntry | undefined>;
  /** The keys of the blobs under `prefix`, sorted. */
  listBlobs(prefix: string): Promise<string[]>;
  getBlob(key: string): Promise<Uint8Array | undefined>;
}

/** One run on its way: where it comes from, its start event and the rest of its events. */
export interface SourceRun {
  /** The experiment it goes to. */
  experiment: string;
  /**
   * The run number it keeps (copies and export files: the same number in the target, or the run
   * is not copied and that is said). Undefined: the target gives it the next number (imports
   * from MLflow and TensorBoard).
   */
  run?: number;
  /**
   * Where it comes from, for imports that get a new number: `mlflow:<uri>#<run_id>`,
   * `tensorboard:<absolute dir>`. Stored as the run's tag `import.source`; a run of the target
   * experiment with that tag is this run already imported, and is not imported again.
   * Undefined for exact copies (identity is then the run number and its start event).
   */
  origin?: string;
  /** The origin of its parent run in the same source (imports): the writer puts the parent's number in the start event. */
  parentOrigin?: string;
  /** The start event (`event: 'start'`); for kept numbers its value carries `parent` as stored. */
  start: Omit<PendingEvent, 'run'>;
  /**
   * Every other event of the run in logging order, in batches of any size. The writer sets each
   * event's `run`. Reading may throw (a corrupt record): nothing of the run is then kept.
   */
  events(): AsyncIterable<PendingEvent[]>;
  /** How many events `events()` gives, when the source knows (progress). */
  eventCount?: number;
  /** The run as `runs()` lists it in the source, when the source has one (export writes it). */
  info?: RunInfo;
  /** Where the artifact content the events refer to is read; undefined when the events refer to none. */
  content?: ContentSource;
}

/** One experiment of a source. */
export interface SourceExperiment {
  name: string;
  /**
   * Its entry as the source stores it (`experiments/<name>` of the models bucket), copied as it
   * is when the target has none; undefined: the target gets a default experiment entry.
   */
  entry?: MetadataEntry;
  /** How many runs `runs()` gives, when known (progress). */
  runCount?: number;
  /** Its runs; a run's parent comes before the run. */
  runs(): AsyncIterable<SourceRun>;
}

/** Where a source says what it could not take (the CLI lists these and exits non-zero). */
export interface TransferLog {
  /** Something was left out: `what` names it (a file, a run), `why` says why. */
  skipped(what: string, why: string): void;
  /** Something worth saying that lost nothing (e.g. a run already imported). */
  note(message: string): void;
}

/** A source of runs: a store, an export directory, an MLflow server, a TensorBoard log directory. */
export interface TransferSource {
  /** How the CLI names it: `sqlite:.omega/omega.db`, `mlflow http://host:5000`, `tensorboard ./logs`. */
  readonly describe: string;
  /** Its experiments, each once. Reading problems that lose something go to `log.skipped`. */
  experiments(log: TransferLog): AsyncIterable<SourceExperiment>;
  /** Releases what it holds (connections, open files). Idempotent. */
  close?(): Promise<void>;
}

/** Where a transfer counts what it has moved (the CLI's progress bar). */
export interface TransferProgress {
  /** `n` more events were written (or exported). */
  events(n: number): void;
  /** One more run is done (written, found already there, or skipped). */
  run(): void;
}
