/**
 * A custom runtime model backend, end to end: a plain-JS linear regression (least squares by
 * gradient descent) that `om.models` stores (an ObjectBackend of kind `example.linreg`) and that
 * runtime tasks fit, score and predict (a ModelBackend registered for that kind). Workers load it
 * with `omega-track worker --require ./dist/runtime/linearRegression.js`.
 */
import type { Omega, ObjectBackend, ProviderRegistry, TaskInput } from 'omega-track';
import { ModelBackend, TrackingInputError } from 'omega-track';

/** y ≈ x · weights + bias. */
export class LinearRegression {
  constructor(
    public weights: number[] = [],
    public bias = 0,
  ) {}

  predictRow(row: readonly number[]): number {
    let y = this.bias;
    for (let i = 0; i < row.length; i++) y += row[i] * (this.weights[i] ?? 0);
    return y;
  }
}

/** Stores LinearRegression models in om.models as inline JSON of kind `example.linreg`. */
export const linearRegressionObjectBackend: ObjectBackend = {
  kind: 'example.linreg',
  supports: (obj) => obj instanceof LinearRegression,
  async put(obj) {
    const model = obj as LinearRegression;
    return {
      kind: 'example.linreg',
      data: { weights: model.weights, bias: model.bias },
      attributes: { features: model.weights.length },
    };
  },
  async get(entry) {
    const { weights, bias } = entry.data as { weights: number[]; bias: number };
    return new LinearRegression(weights, bias);
  },
};

/** The rows of X (a nested array, or a flat typed array with its shape) as arrays of numbers. */
function rowsOf(X: TaskInput, features?: number): number[][] {
  if (Array.isArray(X.values))
    return X.values.map((r) => (Array.isArray(r) ? (r as number[]) : [r as number]));
  const width = X.shape?.[1] ?? features ?? 1;
  const rows: number[][] = [];
  for (let i = 0; i < X.values.length; i += width) rows.push(Array.from(X.values.subarray(i, i + width)));
  return rows;
}

function targetsOf(Y: TaskInput | undefined, n: number): number[] {
  if (!Y) throw new TrackingInputError('this model needs Y');
  const y = Array.isArray(Y.values)
    ? Y.values.map((v) => (Array.isArray(v) ? Number(v[0]) : Number(v)))
    : Array.from(Y.values);
  if (y.length !== n) throw new TrackingInputError(`X has ${n} rows but Y has ${y.length} values`);
  return y;
}

/** fit (gradient descent, loss logged per epoch), score (R²), predict for `example.linreg`. */
export class LinearRegressionBackend extends ModelBackend<LinearRegression> {
  override async fit(
    X: TaskInput,
    Y: TaskInput | undefined,
    opts: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const rows = rowsOf(X);
    const y = targetsOf(Y, rows.length);
    const features = rows[0]?.length ?? 0;
    if (rows.some((r) => r.length !== features))
      throw new TrackingInputError('every row of X needs the same number of features');
    const epochs = typeof opts.epochs === 'number' ? opts.epochs : 200;
    const lr = typeof opts.lr === 'number' ? opts.lr : 0.05;
    const model = (this.model = new LinearRegression(new Array<number>(features).fill(0), 0));
    let loss = NaN;
    for (let epoch = 0; epoch < epochs; epoch++) {
      const grad = new Array<number>(features).fill(0);
      let gradBias = 0;
      loss = 0;
      for (let i = 0; i < rows.length; i++) {
        const err = model.predictRow(rows[i]) - y[i];
        loss += err * err;
        gradBias += err;
        for (let j = 0; j < features; j++) grad[j] += err * rows[i][j];
      }
      loss /= rows.length;
      for (let j = 0; j < features; j++) model.weights[j] -= (lr * 2 * grad[j]) / rows.length;
      model.bias -= (lr * 2 * gradBias) / rows.length;
      // a backend logs to the task's experiment as any code does (nothing when the task is not tracked)
      if (this.context.tracked && (epoch + 1) % Math.max(1, Math.floor(epochs / 10)) === 0)
        this.tracking.logMetric('loss', loss, { step: epoch });
    }
    return { epochs, loss };
  }

  /** R² of the predictions. */
  override async score(X: TaskInput, Y: TaskInput | undefined): Promise<number> {
    const rows = rowsOf(X, this.model.weights.length);
    const y = targetsOf(Y, rows.length);
    const mean = y.reduce((a, b) => a + b, 0) / y.length;
    let residual = 0;
    let total = 0;
    rows.forEach((row, i) => {
      residual += (y[i] - this.model.predictRow(row)) ** 2;
      total += (y[i] - mean) ** 2;
    });
    return total === 0 ? 0 : 1 - residual / total;
  }

  override async predict(X: TaskInput): Promise<number[]> {
    const rows = rowsOf(X, this.model.weights.length);
    if (rows.some((r) => r.length !== this.model.weights.length))
      throw new TrackingInputError(`X must have ${this.model.weights.length} features per row`);
    return rows.map((row) => this.model.predictRow(row));
  }
}

/** Registers both backends (what `--require` calls in the CLI and in each worker). */
export function register(_registry: ProviderRegistry, om: Omega): void {
  om.models.registerBackend(linearRegressionObjectBackend);
  om.runtime.registerBackend('example.linreg', LinearRegressionBackend);
}
