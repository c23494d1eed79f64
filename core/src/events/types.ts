/** Status of a run: no events yet, running, stopped normally, or stopped by an error. */
export type RunStatus = 'PENDING' | 'STARTED' | 'STOPPED' | 'FAILED' | 'CRASHED';

/** Any JSON-like value an event can carry; numbers may be NaN or ±Infinity. */
export type EventValue = unknown;

/**
 * One logged item as read back: the base fields of SPEC §1 plus any extra fields given with
 * the call or by `logExtra`.
 */
export interface TrackingEvent {
  experiment: string;
  run: number;
  event: string;
  key: string;
  value: EventValue;
  step: number | null;
  /** When the event happened (UTC, millisecond precision). */
  dt: Date;
  node: string;
  userid: string;
  [extra: string]: unknown;
}

/**
 * An event on its way to a store: `dt` in epoch milliseconds, extras kept apart from the base
 * fields so stores can index the base fields and keep the extras as one JSON document.
 */
export interface PendingEvent {
  run: number;
  event: string;
  key: string;
  value: EventValue;
  step: number | null;
  dt: number;
  node: string;
  userid: string;
  extra: Record<string, unknown> | undefined;
}

/** Options of a recording call: a step number, or `{ step, dt, ...extraFields }`. */
export type EventOptions =
  number | ({ step?: number | null; dt?: Date | number | string } & Record<string, unknown>);

/** A run selector: a number (negative counts back from the latest), a list, a range, or all runs. */
export type RunSelector = number | number[] | { from: number; to: number } | 'all' | '*';

/** A point in time: a Date, an ISO string, or a span before now such as `'15m'`, `'2d'`, `'1M'`. */
export type TimeSpec = Date | string;

/** What `data()`, `iterate()`, `runs()` and `summary()` select (SPEC §3). */
export interface EventQuery {
  run?: RunSelector;
  event?: string | string[];
  key?: string | string[];
  step?: number | number[];
  since?: TimeSpec;
  end?: TimeSpec;
  limit?: number;
  offset?: number;
  /** Equality on extra fields, e.g. `{ taskid: 'abc' }`. */
  [extra: string]: unknown;
}

/**
 * What `runs()` takes: the runs to consider (`run`, as in EventQuery) and a search over them —
 * `filter` in MLflow's search syntax, `orderBy`, and `limit` / `offset` counting runs.
 */
export interface RunQuery extends EventQuery {
  filter?: string;
  orderBy?: string | readonly string[];
}

/**
 * A query with every relative part resolved, as stores receive it: concrete run numbers,
 * absolute times, and extra-field filters separated out.
 */
export interface ResolvedQuery {
  runs?: number[] | { from: number; to: number };
  events?: string[];
  keys?: string[];
  steps?: number[];
  since?: number;
  end?: number;
  extras?: Record<string, Array<string | number | boolean | null>>;
  limit?: number;
  offset?: number;
}

/** One run as listed by `runs()`. */
export interface RunInfo {
  run: number;
  status: RunStatus;
  started: Date | undefined;
  stopped: Date | undefined;
  /** Milliseconds from start to stop (or to now while the run is STARTED). */
  duration: number | undefined;
  node: string | undefined;
  userid: string | undefined;
  /** The run this one is a child of (a `run(fn)` inside another run of the experiment). */
  parent?: number;
  /** The error message a FAILED run stopped with. */
  error?: string;
  /** The run's name (`setName`, `start({ name })`), the latest given. */
  name?: string;
  /** The run's tags, the latest value per key. */
  tags?: Record<string, unknown>;
  /** The run's note (`setNote`), the latest given. */
  note?: string;
  /** The latest value of each param. */
  params?: Record<string, unknown>;
  /** Per metric key: its last value (by time), the smallest, largest and mean, and how many there are. */
  metrics?: Record<string, MetricAggregate>;
  /** The experiment the run belongs to (in results of `om.runs.search` across experiments). */
  experiment?: string;
  /**
   * Events of the run this process logged that the store does not hold yet (a team server's
   * store: they wait in the local spool, e.g. during an outage); absent when none wait.
   */
  pending?: number;
}

/** What `runs()` keeps of one metric key of a run (MLflow's latest_metrics, with min, max and mean). */
export interface MetricAggregate {
  /** The latest value by time (NaN and ±Infinity as logged). */
  last: number;
  /** The step of the latest value, null when it had none. */
  step: number | null;
  /** Smallest and largest finite value (NaN when there is none). */
  min: number;
  max: number;
  /** Mean of the finite values (NaN when there is none). */
  mean: number;
  /** Numeric values logged. */
  count: number;
}

/**
 * Statistics of one key in one run, as given by `summary()`. `count` counts every numeric value
 * (NaN and ±Infinity included); the statistics (mean, std, min, quartiles, max) use the `finite`
 * ones only, so one diverged step does not blank out a run. With no finite value they are NaN.
 */
export interface MetricSummary {
  run: number;
  event: string;
  key: string;
  /** Numeric values logged, NaN and ±Infinity included. */
  count: number;
  /** Finite values among them: the ones the statistics are computed from. */
  finite: number;
  mean: number;
  /** Sample standard deviation (n − 1); 0 for a single value. */
  std: number;
  min: number;
  /** Quartiles by linear interpolation, as pandas and numpy compute them by default. */
  p25: number;
  p50: number;
  p75: number;
  max: number;
  /** The latest numeric value (by time, ties in logging order), also when it is not finite. */
  last: unknown;
  /** The run's duration in milliseconds, when it has started. */
  duration: number | undefined;
}

/**
 * Events of one run read column by column (`EventLog.queryColumns`), for reading many numbers
 * without an object per event: typed arrays of equal `length`, one slot per event, in logging
 * order within the batch (batches come in logging order too; neither is sorted by time).
 */
export interface EventColumnBatch {
  run: number;
  /** How many events the batch holds. */
  length: number;
  /** The event names and keys that `event` and `key` index into. */
  names: readonly string[];
  event: Uint32Array;
  key: Uint32Array;
  /** Each event's value where it is a number (NaN and ±Infinity included), else NaN: see `numeric`. */
  values: Float64Array;
  /** 1 where the event's value is a number, 0 where it is not; undefined when every value is one. */
  numeric: Uint8Array | undefined;
  /** Each event's step; NaN where it has none. */
  step: Float64Array;
  /**
   * Set when the steps count up by one from this number (event i has step `stepStart + i`, the
   * common run of a training loop): a reader that builds its own x column fills it from this and
   * never asks for `step`, which the store then does not make.
   */
  stepStart?: number;
  /** Each event's time in epoch milliseconds, as stored (not necessarily a valid Date). */
  dt: Float64Array;
}

/** The value of an `artifact` or `data` event. */
export interface ArtifactValue {
  name: string;
  format: ArtifactFormat;
  data: unknown;
}

/** How an artifact was stored (SPEC §4). */
export type ArtifactFormat = 'type' | 'metadata' | 'model' | 'dataset' | 'binary' | 'serialized' | 'repr';

/** The fields every event has; an extra field may not use these names. */
export const BASE_FIELDS: ReadonlySet<string> = new Set([
  'experiment',
  'run',
  'event',
  'key',
  'value',
  'step',
  'dt',
  'node',
  'userid',
]);
