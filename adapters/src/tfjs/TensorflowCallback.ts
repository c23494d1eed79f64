import type { LayersModel, Logs } from '@tensorflow/tfjs';
import type { ErrorHandler, OmegaTrackingProxy, TrackingProvider } from '@omega-track/core';
import { TrackingInputError, activeExperiment, defaultErrorHandler, diag } from '@omega-track/core';
import type { Tfjs } from './loadTfjs';
import { loadTfjs } from './loadTfjs';

/** What the callback records into: an experiment handle or a provider. */
export type TrackingTarget = Pick<
  TrackingProvider,
  'experiment' | 'currentRun' | 'logMetrics' | 'logParams' | 'logArtifact' | 'flush'
>;

/** Options of `new TensorflowCallback(exp, opts)`. */
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
  model: LayersModel | null = null;

  private readonly explicit: TrackingTarget | undefined;
  private readonly updateEvery: number | undefined;
  private readonly opts: TensorflowCallbackOptions;
  private readonly onError: ErrorHandler;
  private exp: TrackingTarget | undefined;
  private globalBatch = 0;
  private warnedInactive = false;

  constructor(exp?: TrackingTarget | OmegaTrackingProxy, opts: TensorflowCallbackOptions = {}) {
    linkToTfjs(loadTfjs());
    const freq = opts.updateFreq ?? 'epoch';
    if (
      freq !== 'epoch' &&
      freq !== 'batch' &&
      !(typeof freq === 'number' && Number.isInteger(freq) && freq > 0)
    )
      throw new TrackingInputError(
        `updateFreq must be 'epoch', 'batch' or a positive integer, got ${String(freq)}`,
      );
    this.updateEvery = freq === 'epoch' ? undefined : freq === 'batch' ? 1 : freq;
    this.explicit = exp;
    this.opts = opts;
    this.onError = opts.onError ?? defaultErrorHandler;
  }

  setParams(params: Record<string, unknown>): void {
    this.params = params;
  }

  setModel(model: LayersModel): void {
    this.model = model;
    if (!this.viaAutolog()) explicitlyTracked.add(model);
  }

  /** Whether tfjs created this callback through autolog (then an explicit one takes precedence). */
  protected viaAutolog(): boolean {
    return false;
  }

  async onTrainBegin(_logs?: Logs): Promise<void> {
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

  async onEpochBegin(_epoch: number, _logs?: Logs): Promise<void> {}

  async onBatchBegin(_batch: number, _logs?: Logs): Promise<void> {}

  async onBatchEnd(_batch: number, logs?: Logs): Promise<void> {
    const step = this.globalBatch++;
    // per-epoch tracking never touches batch logs: reading them would cost a readback per batch
    if (!this.exp || this.updateEvery === undefined || step % this.updateEvery !== 0) return;
    await this.logValues(logs, { step, phase: 'batch' }, 'batch end');
  }

  async onEpochEnd(epoch: number, logs?: Logs): Promise<void> {
    if (this.exp) await this.logValues(logs, { step: epoch, phase: 'epoch' }, 'epoch end');
  }

  async onTrainEnd(_logs?: Logs): Promise<void> {
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
    logs: Logs | undefined,
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
    const model = this.model;
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
export function tensorflowCallback(
  exp?: TrackingTarget | OmegaTrackingProxy,
  opts?: TensorflowCallbackOptions,
): TensorflowCallback {
  return new TensorflowCallback(exp, opts);
}
