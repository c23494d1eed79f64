import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import type { FitResult, ScoreResult, TaskInput } from '@omega-track/core';
import { ModelBackend, TrackingInputError } from '@omega-track/core';
import { loadTfjs } from './loadTfjs';
import type { Tfjs } from './loadTfjs';
import { TensorflowCallback } from './TensorflowCallback';

/** `fit` options the runtime does not hand to tfjs' `model.fit`, but to the callback (and `learningRate`, to the optimizer). */
const CALLBACK_OPTIONS = ['updateFreq', 'saveModel', 'modelName'] as const;

/**
 * Runs tasks on tfjs `LayersModel`s of `om.models` (kind `tfjs.layers`): `fit` with a
 * `TensorflowCallback` on the task's experiment when the task is tracked (epoch metrics land in
 * the caller's run while training goes on), `score` as `evaluate`'s loss and compiled metrics,
 * `predict` as nested arrays. A flat typed array is cut into rows of the model's input shape.
 */
export class TfjsLayersBackend extends ModelBackend<LayersModel> {
  override async fit(
    X: TaskInput,
    Y: TaskInput | undefined,
    opts: Record<string, unknown>,
  ): Promise<FitResult> {
    if (!Y) throw new TrackingInputError('fit of a tfjs model needs Y');
    const tf = loadTfjs();
    const fitArgs: Record<string, unknown> = { verbose: 0, ...opts };
    const callbackOpts: Record<string, unknown> = {};
    for (const key of CALLBACK_OPTIONS)
      if (key in fitArgs) {
        callbackOpts[key] = fitArgs[key];
        delete fitArgs[key];
      }
    if ('learningRate' in fitArgs) {
      setLearningRate(this.model, fitArgs.learningRate);
      delete fitArgs.learningRate;
    }
    return withTensors(tf, this.model, X, Y, async (x, y) => {
      const callbacks = this.context.tracked ? [new TensorflowCallback(this.tracking, callbackOpts)] : [];
      const history = await this.model.fit(x, y as Tensor, { ...fitArgs, callbacks });
      const metrics: Record<string, number[]> = {};
      for (const [key, values] of Object.entries(history.history))
        metrics[key] = values.map((v) => (typeof v === 'number' ? v : v.dataSync()[0]));
      return { epochs: history.epoch.length, history: metrics };
    });
  }

  override async score(
    X: TaskInput,
    Y: TaskInput | undefined,
    opts: Record<string, unknown>,
  ): Promise<ScoreResult> {
    if (!Y) throw new TrackingInputError('score of a tfjs model needs Y');
    const tf = loadTfjs();
    return withTensors(tf, this.model, X, Y, async (x, y) => {
      const out = this.model.evaluate(x, y as Tensor, { batchSize: numberOr(opts.batchSize, 32) });
      const scalars = Array.isArray(out) ? out : [out];
      const names = this.model.metricsNames.length === scalars.length ? this.model.metricsNames : ['loss'];
      const score: Record<string, number> = {};
      scalars.forEach((s, i) => {
        score[names[i] ?? `metric${i}`] = s.dataSync()[0];
        s.dispose();
      });
      return score;
    });
  }

  override async predict(X: TaskInput, opts: Record<string, unknown>): Promise<unknown> {
    const tf = loadTfjs();
    return withTensors(tf, this.model, X, undefined, async (x) => {
      const out = this.model.predict(x, { batchSize: numberOr(opts.batchSize, 32) });
      const tensors = Array.isArray(out) ? out : [out];
      try {
        const values = tensors.map((t) => t.arraySync());
        return Array.isArray(out) ? values : values[0];
      } finally {
        for (const t of tensors) t.dispose();
      }
    });
  }
}

/**
 * Sets the learning rate of the model's compiled optimizer: a fit option (`learningRate`), so that
 * a sweep over it needs no model per value. SGD and momentum have a setter; the others keep it
 * in a field of that name, read at each step.
 */
function setLearningRate(model: LayersModel, lr: unknown): void {
  if (typeof lr !== 'number' || !Number.isFinite(lr) || lr < 0)
    throw new TrackingInputError(`learningRate must be a number ≥ 0, got ${String(lr)}`);
  const optimizer = model.optimizer as unknown as
    { setLearningRate?: (lr: number) => void; learningRate?: number } | undefined;
  if (!optimizer) throw new TrackingInputError('learningRate needs a compiled model (it has no optimizer)');
  if (typeof optimizer.setLearningRate === 'function') optimizer.setLearningRate(lr);
  else optimizer.learningRate = lr;
}

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

/** Runs `fn` on X and Y as tensors and disposes of them after. */
async function withTensors<T>(
  tf: Tfjs,
  model: LayersModel,
  X: TaskInput,
  Y: TaskInput | undefined,
  fn: (x: Tensor, y: Tensor | undefined) => Promise<T>,
): Promise<T> {
  const x = toTensor(tf, X, 'X', model.inputs[0]?.shape);
  let y: Tensor | undefined;
  try {
    y = Y ? toTensor(tf, Y, 'Y', model.outputs[0]?.shape) : undefined;
    return await fn(x, y);
  } finally {
    x.dispose();
    y?.dispose();
  }
}

/**
 * A tensor of the input: with its shape when known; a nested array as it is; a flat typed array
 * cut into rows of the layer's shape (`[null, 4]`: rows of 4).
 */
function toTensor(
  tf: Tfjs,
  input: TaskInput,
  role: string,
  layerShape: (number | null)[] | undefined,
): Tensor {
  if (input.shape) return tf.tensor(input.values as Float32Array, input.shape);
  if (Array.isArray(input.values)) return tf.tensor(input.values as number[][]);
  const row = (layerShape ?? []).slice(1);
  if (row.length === 0 || row.some((d) => d === null)) return tf.tensor(input.values);
  const width = (row as number[]).reduce((a, b) => a * b, 1);
  const length = input.values.length;
  if (length % width !== 0)
    throw new TrackingInputError(
      `${role} has ${length} values, which do not make rows of the model's shape [${row.join(', ')}] (${width} values each); pass { values, shape } to say the shape`,
    );
  return tf.tensor(input.values, [length / width, ...(row as number[])]);
}
