import type { Metadata } from '../objects/Metadata';
import type { ObjectStore } from '../objects/ObjectStore';
import type { OmegaTrackingProxy } from '../proxy/OmegaTrackingProxy';
import type { TrackingProvider } from '../providers/TrackingProvider';
import type { TaskInput } from './taskData';

/**
 * Where a backend logs: the task's experiment (joined to the caller's run, or a run of the task's
 * own), or the `notrack` provider when the task is not tracked. Either way `logMetric` & co work.
 */
export type TaskTrackingHandle = OmegaTrackingProxy | TrackingProvider;

/** What a model backend is given for one task. */
export interface ModelBackendContext {
  /** The model's `om.models` entry. */
  meta: Metadata;
  /** See `TaskTrackingHandle`. */
  tracking: TaskTrackingHandle;
  /** Whether `tracking` is a real experiment (false: the notrack provider). */
  tracked: boolean;
  models: ObjectStore;
  datasets: ObjectStore;
}

/** What `fit` gives back: the result for the caller (plain JS values). */
export interface FitResult {
  [key: string]: unknown;
}

/** A score: one number, or named numbers (tfjs: the loss and each compiled metric). */
export type ScoreResult = number | Record<string, number>;

/**
 * Runs `fit`, `score` and `predict` for one kind of model (the `kind` of its `om.models` entry,
 * e.g. `tfjs.layers`). One instance serves one task: `model` is the object loaded from
 * `om.models`, and after `fit` resolves the runtime stores `this.model` back under the same
 * name. `this.tracking` is the task's experiment, as omega-ml's `self.tracking`: log to it freely.
 *
 * A method a kind does not support is left out; calling it gives the caller a TaskError. Results
 * must be plain JS values (numbers, arrays, records): they travel back through Redis as JSON.
 * Register a class with `om.runtime.registerBackend(kind, Class)` (in every worker too:
 * `omega-track worker --require ./my-backend.js`).
 */
export abstract class ModelBackend<M = unknown> {
  constructor(
    public model: M,
    readonly context: ModelBackendContext,
  ) {}

  /** The task's experiment, or the notrack provider (see `TaskTrackingHandle`). */
  get tracking(): TaskTrackingHandle {
    return this.context.tracking;
  }

  fit?(X: TaskInput, Y: TaskInput | undefined, opts: Record<string, unknown>): Promise<FitResult | void>;
  score?(X: TaskInput, Y: TaskInput | undefined, opts: Record<string, unknown>): Promise<ScoreResult>;
  predict?(X: TaskInput, opts: Record<string, unknown>): Promise<unknown>;
}

/** A model backend class, as registered by kind. */
export type ModelBackendClass<M = unknown> = new (model: M, context: ModelBackendContext) => ModelBackend<M>;
