import type { SweepEarlyStop } from '../sweep/types';

/** The methods a runtime task can call on a model. */
export type TaskMethod = 'fit' | 'score' | 'predict';

/** The task methods, in the order the docs list them. */
export const TASK_METHODS: readonly TaskMethod[] = ['fit', 'score', 'predict'];

/** Any typed array (the views `om.datasets` and tensors' `dataSync()` give). */
export type TypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;

/**
 * The input of a task (X or Y) as it travels: the name of an `om.datasets` entry (large data goes
 * by name), a typed array with its shape (a tensor arrives as one), or a JSON array.
 */
export type TaskData = { dataset: string } | { typed: TypedArray; shape?: number[] } | { array: unknown[] };

/**
 * The run a task joins: the client's run number and the time its `start` event was recorded,
 * which tells that run apart from another run of that number (an experiment dropped and made
 * again, a store that is not the client's).
 */
export interface TaskRun {
  run: number;
  /** The run's start time in ms since the epoch; undefined where the provider does not say. */
  started?: number;
}

/** What a task carries of the caller's tracking (SPEC §7). */
export interface TaskTracking {
  experiment: string;
  /** The provider name the caller's experiment uses. */
  provider: string;
  /** The caller's run, when the task was issued inside one; without it the task runs in a run of its own. */
  run?: TaskRun;
}

/**
 * What a task of a model sweep's trial carries of its sweep: the worker decides early stopping
 * of the trial's `fit` from the other trials' values of `metric` in the store.
 */
export interface TaskSweep {
  /** The sweep's run (the trials are its child runs). */
  run: number;
  metric: string;
  goal: 'minimize' | 'maximize';
  earlyStop?: SweepEarlyStop;
}

/** One task as an executor carries it from the caller to wherever it runs. */
export interface TaskRequest {
  /** Unique per task; the BullMQ job id; stamped as `taskid` on the task's events. */
  taskid: string;
  method: TaskMethod;
  /** The `om.models` entry. */
  model: string;
  X?: TaskData;
  Y?: TaskData;
  /** Method options (e.g. `epochs`, `batchSize` for tfjs `fit`): JSON only. */
  opts: Record<string, unknown>;
  tracking?: TaskTracking;
  /** The caller's user id, stamped on the task's events. */
  userid: string;
  /** `fit`: the `om.models` name the fitted model is saved under (default: `model`, replaced). */
  saveAs?: string;
  /** A model sweep's trial: see TaskSweep. */
  sweep?: TaskSweep;
}

/** What comes back from a task that succeeded. */
export interface TaskOutcome {
  /** The method's result as plain JS values. */
  result: unknown;
  taskid: string;
  /** The node the task ran on (OMEGA_NODE or the host name of the worker). */
  node: string;
  /** 1 for the first attempt; more when a worker died and another took the task over. */
  attempt: number;
}
