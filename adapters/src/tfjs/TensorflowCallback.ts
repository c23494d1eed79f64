import type { LayersModel } from '@tensorflow/tfjs';
import type { ErrorHandler } from '@omega-track/core';
import {
  OmegaTrackingProxy,
  TrackingInputError,
  TrackingProvider,
  activeExperiment,
  defaultErrorHandler,
} from '@omega-track/core';
import { describeValue, diag, yieldToLoop } from '@omega-track/core/internal';
import type { Tfjs } from './loadTfjs';
import { loadTfjs } from './loadTfjs';
import type { TfjsModelLike, TrainingLogs } from './tfjsTypes';

/** What the callback records into: an experiment handle or a provider. */
export type TrackingTarget = Pick<
  TrackingProvider,
  'experiment' | 'currentRun' | 'logMetrics' | 'logParams' | 'logArtifact' | 'flush'
>;

/** Options of `new TensorflowCallback(exp, opts)` (or `new TensorflowCallback(opts)`). */
export interface TensorflowCallbackOptions {
  /** `'epoch'` (default): metrics per epoch; `'batch'`: also every batch; N: also every N-th batch. */
  updateFreq?: 'epoch' | 'batch' | number;
  /** Log the trained model as an artifact at the end of training (format `model`). */
  saveModel?: boolean;
  /** The artifact name of the saved model (default `model`). */
  modelName?: string;
  /** How long the flush at the end of training may wait (default 5000 ms). */
  flushTimeoutMs?: number;
  /** Where failures go (default: one diagnostic line each); they never reach `fit`. */
  onError?: ErrorHandler;
}

/** The option names a TensorflowCallback takes: anything else is a mistake worth saying. */
const OPTION_NAMES: ReadonlySet<string> = new Set([
  'updateFreq',
  'saveModel',
  'modelName',
  'flushTimeoutMs',
  'onError',
]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** An experiment handle, a provider, or an object with the members the callback records through. */
function isTrackingTarget(value: unknown): value is TrackingTarget {
  if (value instanceof OmegaTrackingProxy || value instanceof TrackingProvider) return true;
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.experiment === 'string' &&
    ['logMetrics', 'logParams', 'logArtifact', 'flush'].every((m) => typeof v[m] === 'function')
  );
}

function checkOptions(opts: unknown, what: string): TensorflowCallbackOptions {
  if (opts === undefined || opts === null) return {};
  if (!isPlainObject(opts))
    throw new TrackingInputError(`${what}: options must be an object, got ${describeValue(opts)}`);
  for (const name of Object.keys(opts))
    if (!OPTION_NAMES.has(name))
      throw new TrackingInputError(
        `${what}: unknown option '${name}' (the options are ${[...OPTION_NAMES].join(', ')})`,
      );
  const freq = opts.updateFreq ?? 'epoch';
  if (
    freq !== 'epoch' &&
    freq !== 'batch' &&
    !(typeof freq === 'number' && Number.isInteger(freq) && freq > 0)
  )
    throw new TrackingInputError(
      `${what}: updateFreq must be 'epoch', 'batch' or a positive integer, got ${describeValue(freq)}`,
    );
  if (opts.saveModel !== undefined && typeof opts.saveModel !== 'boolean')
    throw new TrackingInputError(
      `${what}: saveModel must be true or false, got ${describeValue(opts.saveModel)}`,
    );
  if (opts.modelName !== undefined && (typeof opts.modelName !== 'string' || opts.modelName === ''))
    throw new TrackingInputError(
      `${what}: modelName must be a non-empty string, got ${describeValue(opts.modelName)}`,
    );
  const timeout = opts.flushTimeoutMs;
  if (timeout !== undefined && !(typeof timeout === 'number' && Number.isFinite(timeout) && timeout >= 0))
    throw new TrackingInputError(
      `${what}: flushTimeoutMs must be a number of milliseconds, got ${describeValue(timeout)}`,
    );
  if (opts.onError !== undefined && typeof opts.onError !== 'function')
    throw new TrackingInputError(`${what}: onError must be a function, got ${describeValue(opts.onError)}`);
  return opts;
}

/**
 * The arguments of `new TensorflowCallback(...)`, `tensorflowCallback(...)` and `autolog(...)`:
 * `(exp?, opts?)` or `(opts)` — options first is natural in plain JavaScript. Anything that is
 * neither an experiment handle (or provider) nor an options object is a TrackingInputError.
 */
export function callbackArguments(
  first: unknown,
  second: unknown,
  what = 'TensorflowCallback',
): { exp: TrackingTarget | undefined; opts: TensorflowCallbackOptions } {
  if (first === undefined || first === null) return { exp: undefined, opts: checkOptions(second, what) };
  if (isTrackingTarget(first)) return { exp: first, opts: checkOptions(second, what) };
  if (isPlainObject(first)) {
    if (second !== undefined)
      throw new TrackingInputError(
        `${what}: the first argument is an options object, so there is no second one (pass (exp, options) or (options))`,
      );
    return { exp: undefined, opts: checkOptions(first, what) };
  }
  throw new TrackingInputError(
    typeof first === 'string'
      ? `${what} takes the experiment handle, not its name: pass om.runtime.experiment('${first}')`
      : `${what} takes an experiment handle (om.runtime.experiment(...)), a provider, or an options object, got ${describeValue(first)}`,
  );
}

/** Log keys tfjs adds to batch logs that are bookkeeping, not metrics. */
const NOT_METRICS = new Set(['batch', 'size', 'num_steps']);

let linkedTo: Tfjs | undefined;

/** Models being trained with an explicit TensorflowCallback: autolog leaves those to it. */
const explicitlyTracked = new WeakSet<object>();

/** Whether an explicit TensorflowCallback tracks the current training of `model`. */
export function trackedExplicitly(model: object | null): boolean {
  return model !== null && explicitlyTracked.has(model);
}

/**
 * tfjs only treats a callback as one when it is an instance of its BaseCallback. tfjs is an
 * optional peer loaded at run time, so the class cannot `extends` it statically: on first use
 * the class's prototype chain is attached to `tf.Callback.prototype` of the loaded module.
 */
function linkToTfjs(tf: Tfjs): void {
  if (linkedTo === tf) return;
  Object.setPrototypeOf(TensorflowCallback.prototype, tf.Callback.prototype);
  linkedTo = tf;
}

/** Reads a log value that may still be a tf.Scalar (tfjs resolves them lazily). */
async function numberOf(value: unknown): Promise<number | undefined> {
  if (typeof value === 'number') return value;
  const scalar = value as { data?: () => Promise<ArrayLike<number>> } | null;
  if (scalar && typeof scalar.data === 'function') return (await scalar.data())[0];
  return undefined;
}

/**
 * Tracks TensorFlow.js training (`model.fit`, `model.fitDataset`) into an experiment: params at
 * train begin, one metric per log key at each epoch end (step = epoch, `phase: 'epoch'`),
 * optionally per batch (step = global batch count, `phase: 'batch'`), a flush at train end, and
 * optionally the trained model. It only enqueues, never waits on storage during training, and
 * never throws into `fit`. Without an experiment it uses the one active in `exp.run(...)`.
 */
export class TensorflowCallback {
  // The fields tfjs reads on every callback (BaseCallback / tf.Callback).
  validationData: unknown = null;
  params: Record<string, unknown> = {};
  model: TfjsModelLike | null = null;

  private readonly explicit: TrackingTarget | undefined;
  private readonly updateEvery: number | undefined;
  private readonly opts: TensorflowCallbackOptions;
  private readonly onError: ErrorHandler;
  private exp: TrackingTarget | undefined;
  private globalBatch = 0;
  private warnedInactive = false;

  /** Tracks into the experiment active in `exp.run(...)` at train begin. */
  constructor(opts?: TensorflowCallbackOptions);
  /** Tracks into `exp` (default: the experiment active in `exp.run(...)` at train begin). */
  constructor(exp?: TrackingTarget | OmegaTrackingProxy, opts?: TensorflowCallbackOptions);
  constructor(first?: unknown, second?: unknown) {
    // arguments are checked before tfjs is loaded: a mistake is reported as such, tfjs or not
    const { exp, opts } = callbackArguments(first, second);
    linkToTfjs(loadTfjs());
    const freq = opts.updateFreq ?? 'epoch';
    this.updateEvery = freq === 'epoch' ? undefined : freq === 'batch' ? 1 : freq;
    this.explicit = exp;
    this.opts = opts;
    this.onError = opts.onError ?? defaultErrorHandler;
  }

  setParams(params: Record<string, unknown>): void {
    this.params = params;
  }

  setModel(model: TfjsModelLike): void {
    this.model = model;
    if (!this.viaAutolog()) explicitlyTracked.add(model);
  }

  /** Whether tfjs created this callback through autolog (then an explicit one takes precedence). */
  protected viaAutolog(): boolean {
    return false;
  }

  async onTrainBegin(_logs?: TrainingLogs): Promise<void> {
    this.globalBatch = 0;
    this.exp = this.explicit ?? activeExperiment();
    let currentRun: number | undefined;
    try {
      currentRun = this.exp?.currentRun;
    } catch (error) {
      // a handle whose experiment is not open yet (e.g. `recreate`): not tracked, never thrown into fit
      this.onError(error, 'TensorflowCallback');
    }
    if (!this.exp || currentRun === undefined) {
      if (!this.warnedInactive)
        diag(
          this.exp
            ? `TensorflowCallback: experiment '${this.exp.experiment}' has no active run; this training is not tracked`
            : 'TensorflowCallback: no experiment given and none active (call fit inside exp.run(...)); this training is not tracked',
        );
      this.warnedInactive = true;
      this.exp = undefined;
      return;
    }
    this.guard('train begin', () => this.exp?.logParams(this.describeTraining()));
  }

  async onEpochBegin(_epoch: number, _logs?: TrainingLogs): Promise<void> {}

  async onBatchBegin(_batch: number, _logs?: TrainingLogs): Promise<void> {}

  async onBatchEnd(_batch: number, logs?: TrainingLogs): Promise<void> {
    const step = this.globalBatch++;
    // per-epoch tracking never touches batch logs: reading them would cost a readback per batch
    if (!this.exp || this.updateEvery === undefined || step % this.updateEvery !== 0) return;
    await this.logValues(logs, { step, phase: 'batch' }, 'batch end');
  }

  async onEpochEnd(epoch: number, logs?: TrainingLogs): Promise<void> {
    if (this.exp) await this.logValues(logs, { step: epoch, phase: 'epoch' }, 'epoch end');
    // tfjs yields to the event loop only through its own callback wrapper, which a list of
    // callbacks like this one bypasses: without a turn of the loop per epoch, the provider's
    // timed writes (and heartbeats) wait for the end of training, and nobody sees it live
    await yieldToLoop();
  }

  async onTrainEnd(_logs?: TrainingLogs): Promise<void> {
    if (this.model && !this.viaAutolog()) explicitlyTracked.delete(this.model);
    const exp = this.exp;
    if (!exp) return;
    if (this.opts.saveModel && this.model)
      this.guard('saving the model', () => exp.logArtifact(this.model, this.opts.modelName ?? 'model'));
    try {
      await exp.flush({ timeoutMs: this.opts.flushTimeoutMs ?? 5000 });
    } catch (error) {
      this.onError(error, 'TensorflowCallback: flush at train end');
    }
  }

  private async logValues(
    logs: TrainingLogs | undefined,
    opts: { step: number; phase: string },
    where: string,
  ): Promise<void> {
    try {
      const metrics: Record<string, number> = {};
      for (const [key, value] of Object.entries(logs ?? {})) {
        if (NOT_METRICS.has(key)) continue;
        const n = await numberOf(value);
        if (n !== undefined) metrics[key] = n;
      }
      this.exp?.logMetrics(metrics, opts);
    } catch (error) {
      this.onError(error, `TensorflowCallback: ${where}`);
    }
  }

  private guard(where: string, fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.onError(error, `TensorflowCallback: ${where}`);
    }
  }

  /** The training parameters logged at train begin. */
  private describeTraining(): Record<string, unknown> {
    const p = this.params;
    const out: Record<string, unknown> = {
      epochs: p.epochs ?? null,
      batchSize: p.batchSize ?? null,
      samples: p.samples ?? null,
      steps: p.steps ?? null,
      metrics: p.metrics ?? [],
    };
    // tfjs hands the callback a LayersModel; the public type is structural (no tfjs needed to compile)
    const model = this.model as LayersModel | null;
    if (model) {
      const optimizer = model.optimizer;
      out.optimizer = optimizer?.getClassName() ?? null;
      out.optimizerConfig = optimizer ? JSON.parse(JSON.stringify(optimizer.getConfig())) : null;
      const loss = model.loss as unknown;
      out.loss =
        typeof loss === 'string'
          ? loss
          : Array.isArray(loss)
            ? loss.map(String)
            : typeof loss === 'function'
              ? loss.name || 'custom'
              : null;
      out.layers = model.layers.length;
      out.parameters = model.countParams();
    }
    return out;
  }
}

/** `new TensorflowCallback(exp, opts)`, as a function (like `tf.callbacks.earlyStopping()`). */
export function tensorflowCallback(opts?: TensorflowCallbackOptions): TensorflowCallback;
/** `new TensorflowCallback(exp, opts)`, as a function (like `tf.callbacks.earlyStopping()`). */
export function tensorflowCallback(
  exp?: TrackingTarget | OmegaTrackingProxy,
  opts?: TensorflowCallbackOptions,
): TensorflowCallback;
export function tensorflowCallback(first?: unknown, second?: unknown): TensorflowCallback {
  const { exp, opts } = callbackArguments(first, second, 'tensorflowCallback');
  return new TensorflowCallback(exp, opts);
}
