import { ModelBackend, omega } from 'omega-track';
import type { ObjectBackend, TaskInput } from 'omega-track';

/** A model that predicts the mean of what it was fitted on. */
class MeanModel {
  constructor(public mean = 0) {}
}

// how om.models stores the model: inline JSON of kind 'example.mean'
const meanObjects: ObjectBackend = {
  kind: 'example.mean',
  supports: (obj) => obj instanceof MeanModel,
  put: async (obj) => ({ kind: 'example.mean', data: { mean: (obj as MeanModel).mean } }),
  get: async (entry) => new MeanModel((entry.data as { mean: number }).mean),
};

// how tasks fit, score and predict it
class MeanBackend extends ModelBackend<MeanModel> {
  override async fit(X: TaskInput, Y: TaskInput | undefined): Promise<{ mean: number }> {
    const y = Array.from(Y?.values ?? [], Number);
    this.model = new MeanModel(y.reduce((a, b) => a + b, 0) / y.length); // stored back after fit
    this.tracking.logMetric('n', y.length); // the task's experiment (notrack if untracked)
    return { mean: this.model.mean };
  }
  override async score(X: TaskInput, Y: TaskInput | undefined): Promise<number> {
    const y = Array.from(Y?.values ?? [], Number);
    return y.reduce((a, b) => a + (b - this.model.mean) ** 2, 0) / y.length; // also metric `score`
  }
  override async predict(X: TaskInput): Promise<number[]> {
    return Array.from({ length: X.values.length }, () => this.model.mean);
  }
}

const om = omega();
om.models.registerBackend(meanObjects);
om.runtime.registerBackend('example.mean', MeanBackend); // in the caller and (via --require) in workers
await om.models.put(new MeanModel(), 'mean');
await om.runtime.experiment('means').run(async () => {
  await om.runtime.model('mean').fit([1, 2, 3], [2, 4, 6]);
  console.log(await om.runtime.model('mean').predict([0, 0]), await om.runtime.model('mean').score([1], [4]));
});
await om.close();
