import * as tf from '@tensorflow/tfjs';
import type { OmegaProfilingTracker, TaskInput, TrackingEvent } from 'omega-track';
import { ModelBackend, TaskError, TrackingError, TrackingInputError } from 'omega-track';
import { NODE_NAME, currentUserId } from 'omega-track/internal';
import { runFixture } from '../helpers/child';
import { omegaPerTest } from '../helpers/omegaPerTest';
import path from 'node:path';
import { omega } from 'omega-track';

/**
 * A model that predicts the mean of Y, stored as plain JSON (kind `json`): a custom backend that
 * logs nothing itself, so the events of a task are exactly the ones SPEC §7 lists.
 */
class MeanBackend extends ModelBackend<{ mean: number }> {
  override async fit(_X: TaskInput, Y: TaskInput | undefined): Promise<Record<string, unknown>> {
    const y = Array.from(Y!.values as number[]);
    this.model = { mean: y.reduce((a, b) => a + b, 0) / y.length };
    return { mean: this.model.mean };
  }
  override async score(X: TaskInput, Y: TaskInput | undefined): Promise<number> {
    const y = Array.from(Y!.values as number[]);
    return -y.reduce((a, v) => a + (v - this.model.mean) ** 2, 0) / y.length;
  }
  override async predict(X: TaskInput): Promise<number[]> {
    return Array.from({ length: (X.values as unknown[]).length }, () => this.model.mean);
  }
}

/** A backend that only predicts. */
class PredictOnly extends ModelBackend<{ mean: number }> {
  override async predict(): Promise<number[]> {
    return [this.model.mean];
  }
}

const { om, dir } = omegaPerTest();

async function setup(): Promise<void> {
  om().runtime.registerBackend('json', MeanBackend);
  await om().models.put({ mean: 0 }, 'mean');
}

const shape = (rows: TrackingEvent[]): string[] =>
  rows.map((r) => (r.event === 'metric' || r.event.startsWith('task_') ? `${r.event}:${r.key}` : r.event));

const taskEvents = (rows: TrackingEvent[]): TrackingEvent[] =>
  rows.filter((r) => r.event !== 'start' && r.event !== 'stop');

function tinyTfjsModel(inputs = 4): tf.LayersModel {
  const model = tf.sequential({ layers: [tf.layers.dense({ units: 1, inputShape: [inputs] })] });
  model.compile({ optimizer: tf.train.sgd(0.05), loss: 'meanSquaredError', metrics: ['mae'] });
  return model;
}

describe('runtime tasks, local executor (SPEC §7)', () => {
  beforeAll(() => tf.enableProdMode());

  test('fit and score inside exp.run: the exact event sequence, all in the caller run', async () => {
    await setup();
    const exp = om().runtime.experiment('seq');
    const model = om().runtime.model('mean');
    const run = await exp.run(async (e) => {
      const fitted = await model.fit([[1], [2], [3]], [1, 2, 3]);
      expect(fitted).toEqual({ mean: 2 });
      expect(await model.score([[1], [2], [3]], [1, 2, 3])).toBeCloseTo(-2 / 3);
      e.logMetric('mymetric', 0.78);
      return e.currentRun;
    });
    const rows = await exp.data({ run: 'all' });
    expect(rows.every((r) => r.run === run)).toBe(true);
    expect(shape(rows)).toEqual([
      'start',
      'task_call:fit',
      'artifact',
      'task_success:fit',
      'task_call:score',
      'artifact',
      'metric:score',
      'task_success:score',
      'metric:mymetric',
      'stop',
    ]);
    // the fitted model went back to om.models
    expect(await om().models.get('mean')).toEqual({ mean: 2 });
  });

  test('every task event carries its taskid, attempt, the caller userid and the node; arguments are described, not stored', async () => {
    await setup();
    const exp = om().runtime.experiment('stamps');
    await exp.run(async () => {
      await om()
        .runtime.model('mean')
        .fit(new Float32Array([5, 6, 7]), [5, 6, 7]);
      await om()
        .runtime.model('mean')
        .predict([[1], [2]]);
    });
    const rows = taskEvents(await exp.data());
    const ids = [...new Set(rows.map((r) => r.taskid))];
    expect(ids).toHaveLength(2);
    for (const r of rows) {
      expect(typeof r.taskid).toBe('string');
      expect(r.attempt).toBe(1);
      expect(r.userid).toBe(currentUserId());
      expect(r.node).toBe(NODE_NAME);
    }
    const call = rows.find((r) => r.event === 'task_call' && r.key === 'fit')!;
    expect(call.value).toEqual({
      model: 'mean',
      args: { X: { type: 'Float32Array', shape: [3] }, Y: { type: 'Array', shape: [3] } },
      opts: {},
    });
    const related = rows.find((r) => r.event === 'artifact')!;
    expect(related.key).toBe('related');
    expect((related.value as { format: string; data: { name: string; kind: string } }).format).toBe(
      'metadata',
    );
    expect((related.value as { data: { name: string; kind: string } }).data).toMatchObject({
      name: 'mean',
      kind: 'json',
    });
    const success = rows.find((r) => r.event === 'task_success' && r.key === 'predict')!;
    // a description of the predictions, marked as one (om.runtime.task gives it as `summary`)
    expect(success.value).toEqual({
      result: { type: 'Array', shape: [2] },
      summary: true,
      taskid: success.taskid,
    });
    // a recording call after the task carries none of the task's fields
    const after = await exp.data({ event: 'stop' });
    expect(after[0].taskid).toBeUndefined();
  });

  test('a model linked with exp.track is tracked outside any run, each task in a run of its own', async () => {
    await setup();
    const exp = om().runtime.experiment('tracked');
    const link = await exp.track('mean');
    expect(link).toEqual({ default: 'tracked', experiments: ['tracked'] });
    const meta = await om().models.metadata('mean');
    expect((meta!.attributes.tracking as Record<string, unknown>).default).toBe('tracked');
    await om()
      .runtime.model('mean')
      .score([[1]], [1]);
    await om()
      .runtime.model('mean')
      .score([[1]], [1]);
    const runs = await exp.runs();
    expect(runs.map((r) => [r.run, r.status])).toEqual([
      [1, 'STOPPED'],
      [2, 'STOPPED'],
    ]);
    expect(shape(await exp.data({ run: 1 }))).toEqual([
      'start',
      'task_call:score',
      'artifact',
      'metric:score',
      'task_success:score',
      'stop',
    ]);
    // a fit keeps the link: the attributes of the entry stay when the model is stored back
    await om()
      .runtime.model('mean')
      .fit([[1]], [4]);
    expect(
      ((await om().models.metadata('mean'))!.attributes.tracking as Record<string, unknown>).default,
    ).toBe('tracked');
  });

  test('exp.track of a model that does not exist, or with a reserved label, is an error', async () => {
    const exp = om().runtime.experiment('tracked');
    await expect(exp.track('nope')).rejects.toThrow(/om.models has no entry 'nope'/);
    await setup();
    await expect(exp.track('mean', { label: 'experiments' })).rejects.toThrow(TrackingInputError);
  });

  test('untracked tasks (no run, no link) record nothing and still return', async () => {
    await setup();
    expect(
      await om()
        .runtime.model('mean')
        .fit([[1]], [3]),
    ).toEqual({ mean: 3 });
    expect(
      await om()
        .runtime.model('mean')
        .predict([[0], [0]]),
    ).toEqual([3, 3]);
    expect(await om().experiments.list()).toEqual([]);
  });

  test('enter() and start(): tasks join that run', async () => {
    await setup();
    const exp = om().runtime.experiment('entered');
    const e = await exp.enter();
    await om()
      .runtime.model('mean')
      .score([[1]], [1]);
    await e[Symbol.asyncDispose]();
    await exp.start();
    await om()
      .runtime.model('mean')
      .score([[1]], [1]);
    await exp.stop();
    const rows = await exp.data({ run: 'all' });
    expect(rows.filter((r) => r.event === 'metric').map((r) => r.run)).toEqual([1, 2]);
    expect(rows.filter((r) => r.event === 'start')).toHaveLength(2);
  });

  test('two runs of one experiment in flight at once: each task lands in its own caller run', async () => {
    await setup();
    const a = om().runtime.experiment('two');
    const b = om().runtime.experiment('two');
    const issue = (exp: typeof a): Promise<number | undefined> =>
      exp.run(async (e) => {
        for (let i = 0; i < 5; i++) {
          await om()
            .runtime.model('mean')
            .score([[i]], [i]);
          await new Promise((r) => setImmediate(r));
        }
        return e.currentRun;
      });
    const [runA, runB] = await Promise.all([issue(a), issue(b)]);
    expect(runA).not.toBe(runB);
    const rows = await a.data({ run: 'all', event: 'task_success' });
    expect(rows.filter((r) => r.run === runA)).toHaveLength(5);
    expect(rows.filter((r) => r.run === runB)).toHaveLength(5);
  });

  test('with the profiling provider, the profiler runs while a task runs in a run of its own', async () => {
    class Busy extends ModelBackend<{ mean: number }> {
      override async predict(): Promise<number> {
        await new Promise((r) => setTimeout(r, 400));
        return 1;
      }
    }
    om().runtime.registerBackend('json', Busy);
    await om().models.put({ mean: 0 }, 'busy');
    const exp = om().runtime.experiment<OmegaProfilingTracker>('prof', { provider: 'profiling' });
    exp.profiler.interval = 0.05;
    await exp.track('busy');
    await exp.flush();
    await om()
      .runtime.model('busy')
      .predict([[1]]);
    const rows = await exp.data({ run: 'all' });
    expect(new Set(rows.map((r) => r.run))).toEqual(new Set([1]));
    expect(rows.filter((r) => r.event === 'profile').length).toBeGreaterThan(0);
    expect(rows.map((r) => r.event)).toEqual(expect.arrayContaining(['task_call', 'task_success', 'stop']));
  });

  test('the local executor runs one task at a time per model', async () => {
    let running = 0;
    let most = 0;
    class Slow extends ModelBackend<{ mean: number }> {
      override async predict(): Promise<number> {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 20));
        running--;
        return 1;
      }
    }
    om().runtime.registerBackend('json', Slow);
    await om().models.put({ mean: 0 }, 'slow');
    await om().models.put({ mean: 0 }, 'other');
    await Promise.all(
      [1, 2, 3].map(() =>
        om()
          .runtime.model('slow')
          .predict([[1]]),
      ),
    );
    expect(most).toBe(1);
    most = 0;
    await Promise.all([
      om()
        .runtime.model('slow')
        .predict([[1]]),
      om()
        .runtime.model('other')
        .predict([[1]]),
    ]);
    expect(most).toBe(2);
  });
});

describe('runtime tasks on tfjs models (tfjs.layers)', () => {
  beforeAll(() => tf.enableProdMode());

  test('fit trains with the callback into the caller run, saves the model back; score and predict', async () => {
    const model = tinyTfjsModel(4);
    await om().models.put(model, 'reg');
    const before = (await om().models.get<tf.LayersModel>('reg')).getWeights()[0].arraySync();
    const X = Array.from({ length: 64 }, (_, i) => [i / 64, 1, 0, -i / 64]);
    const Y = X.map((r) => [r[0] * 2]);
    const exp = om().runtime.experiment('tfjs');
    const { fit, score, predicted } = await exp.run(async () => {
      const m = om().runtime.model('reg');
      const fit = await m.fit(X, Y, { epochs: 3, batchSize: 16 });
      const score = await m.score(X, Y);
      const predicted = await m.predict(tf.tensor2d(X.slice(0, 2)));
      return { fit, score, predicted };
    });
    expect(fit.epochs).toBe(3);
    expect((fit.history as Record<string, number[]>).loss).toHaveLength(3);
    expect(Object.keys(score as object).sort()).toEqual(['loss', 'mae']);
    expect(predicted).toHaveLength(2);
    expect((predicted as number[][])[0]).toHaveLength(1);
    const after = (await om().models.get<tf.LayersModel>('reg')).getWeights()[0].arraySync();
    expect(after).not.toEqual(before);
    const rows = await exp.data();
    const fitTask = rows.find((r) => r.event === 'task_call' && r.key === 'fit')!.taskid;
    // the callback's epoch metrics carry the task's id
    const epochLoss = rows.filter((r) => r.event === 'metric' && r.key === 'loss' && r.phase === 'epoch');
    expect(epochLoss).toHaveLength(3);
    expect(epochLoss.every((r) => r.taskid === fitTask)).toBe(true);
    const scoreMetric = rows.find((r) => r.event === 'metric' && r.key === 'score')!;
    expect(scoreMetric.value).toBeCloseTo((score as Record<string, number>).loss);
  });

  test('a flat typed array is cut into rows of the input shape; a dataset name is read from om.datasets', async () => {
    await om().models.put(tinyTfjsModel(2), 'flat');
    const predicted = await om()
      .runtime.model('flat')
      .predict<number[][]>(new Float32Array([1, 2, 3, 4, 5, 6]));
    expect(predicted).toHaveLength(3);
    await om().datasets.put(
      [
        [1, 2],
        [3, 4],
      ],
      'xs',
    );
    expect(await om().runtime.model('flat').predict('xs')).toHaveLength(2);
    await om().datasets.put(new Float32Array([1, 2, 3, 4]), 'flatxs', { attributes: { shape: [2, 2] } });
    expect(await om().runtime.model('flat').predict('flatxs')).toHaveLength(2);
    await expect(
      om()
        .runtime.model('flat')
        .predict(new Float32Array([1, 2, 3])),
    ).rejects.toThrow(/3 values, which do not make rows of the model's shape \[2\]/);
  });
});

describe('runtime tasks that fail', () => {
  test('an unknown model rejects with a TaskError and records task_call, task_failure', async () => {
    const exp = om().runtime.experiment('fail');
    const error = await exp
      .run(() =>
        om()
          .runtime.model('missing')
          .predict([[1]]),
      )
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(TaskError);
    expect((error as TaskError).message).toBe(
      "predict of model 'missing' failed: om.models has no entry 'missing'",
    );
    expect((error as TaskError).model).toBe('missing');
    expect(shape(await exp.data())).toEqual(['start', 'task_call:predict', 'task_failure:predict', 'stop']);
    const failure = (await exp.data({ event: 'task_failure' }))[0];
    expect(failure.value).toEqual({ error: "om.models has no entry 'missing'", taskid: failure.taskid });
    // the caller's run failed with the error, as any exp.run whose function throws
    expect((await exp.runs())[0].status).toBe('FAILED');
  });

  test('X of the wrong shape for a tfjs model: TaskError with the shape, task_failure after the artifact', async () => {
    await om().models.put(tinyTfjsModel(4), 'four');
    const exp = om().runtime.experiment('shape');
    await exp.run(async () => {
      await expect(
        om()
          .runtime.model('four')
          .predict([[1, 2, 3]]),
      ).rejects.toThrow(/predict of model 'four' failed: .*expected .*shape \[null,4\].*\[1,3\]/);
    });
    expect(shape(await exp.data())).toEqual([
      'start',
      'task_call:predict',
      'artifact',
      'task_failure:predict',
      'stop',
    ]);
  });

  test('a model kind no backend runs, and a method the backend lacks, are TaskErrors naming them', async () => {
    await om().models.put(new Float64Array([1, 2]), 'vector');
    await expect(
      om()
        .runtime.model('vector')
        .predict([[1]]),
    ).rejects.toThrow(/no runtime backend runs models of kind 'typedarray'; registered kinds: tfjs.layers/);
    om().runtime.registerBackend('json', PredictOnly);
    await om().models.put({ mean: 1 }, 'po');
    await expect(
      om()
        .runtime.model('po')
        .fit([[1]], [1]),
    ).rejects.toThrow(/models of kind 'json' do not support fit/);
    expect(
      await om()
        .runtime.model('po')
        .predict([[1]]),
    ).toEqual([1]);
  });

  test('bad arguments are TrackingInputErrors before any task runs', async () => {
    await setup();
    const m = om().runtime.model('mean');
    await expect(m.predict(undefined as never)).rejects.toThrow(TrackingInputError);
    await expect(m.predict((() => 1) as never)).rejects.toThrow(
      /X must be an array, a typed array, a tensor/,
    );
    await expect(m.predict({ a: 1 } as never)).rejects.toThrow(TrackingInputError);
    await expect(m.fit([[1]], [1], { cb: () => 1 })).rejects.toThrow(/options must be a JSON object/);
    await expect(m.predict('')).rejects.toThrow(TrackingInputError);
    expect(() => om().runtime.model('')).toThrow(TrackingInputError);
    // a dataset that does not exist fails the task (the worker looks it up)
    await expect(m.predict('no-such-dataset')).rejects.toThrow(/om.datasets has no entry 'no-such-dataset'/);
  });

  test('a backend that throws: the caller gets its message; what was logged before stays', async () => {
    class Throws extends ModelBackend<unknown> {
      override async predict(): Promise<never> {
        this.tracking.logMetric('before', 1);
        throw new Error('backend broke');
      }
    }
    om().runtime.registerBackend('json', Throws);
    await om().models.put({ x: 1 }, 'bad');
    const exp = om().runtime.experiment('throws');
    await exp.run(async () => {
      await expect(
        om()
          .runtime.model('bad')
          .predict([[1]]),
      ).rejects.toThrow("predict of model 'bad' failed: backend broke");
    });
    expect(shape(await exp.data())).toEqual([
      'start',
      'task_call:predict',
      'artifact',
      'metric:before',
      'task_failure:predict',
      'stop',
    ]);
  });

  test('the runtime URL is checked when om is made; registering a backend checks the class', () => {
    expect(() => om().runtime.registerBackend('json', class {} as never)).toThrow(
      /must be a class extending ModelBackend/,
    );
    expect(() => om().runtime.registerBackend('bad kind', MeanBackend)).toThrow(TrackingInputError);
  });
});

describe('runtime results and arguments at the edges', () => {
  test('a backend result that is not plain JSON is its TaskError; typed arrays come back as arrays', async () => {
    class Odd extends ModelBackend<{ kind: string }> {
      override async predict(): Promise<unknown> {
        return this.model.kind === 'map' ? new Map([[1, 2]]) : new Float32Array([1, 2]);
      }
    }
    om().runtime.registerBackend('json', Odd);
    await om().models.put({ kind: 'map' }, 'map');
    await om().models.put({ kind: 'typed' }, 'typed');
    await expect(
      om()
        .runtime.model('map')
        .predict([[1]]),
    ).rejects.toThrow(/returned a Map, not plain JSON values/);
    expect(
      await om()
        .runtime.model('typed')
        .predict([[1]]),
    ).toEqual([1, 2]);
  });

  test('{ values, shape } must agree; a Map or a Set is no X', async () => {
    await setup();
    const m = om().runtime.model('mean');
    await expect(m.predict({ values: [1, 2, 3, 4], shape: [3, 3] })).rejects.toThrow(
      /shape \[3, 3\] holds 9 values, but 4 were given/,
    );
    await expect(m.predict({ values: [['a', 'b']], shape: [1, 2] })).rejects.toThrow(/takes numbers only/);
    await expect(m.predict(new Map() as never)).rejects.toThrow(/got Map/);
    await expect(m.predict(new Set() as never)).rejects.toThrow(/got Set/);
  });

  test('om.close() waits for tasks issued just before it; after it, tasks are refused', async () => {
    await setup();
    const exp = om().runtime.experiment('closing');
    await exp.track('mean');
    const pending = om()
      .runtime.model('mean')
      .score([[1]], [1]);
    await om().close();
    await expect(pending).resolves.toBe(-1);
    await expect(
      om()
        .runtime.model('mean')
        .predict([[1]]),
    ).rejects.toThrow(/om is closed/);
    // the task's events were written before the store closed
    const again = omega({ store: `sqlite:${path.join(dir(), 'omega.db')}` });
    try {
      const events = await again.runtime.experiment('closing').data({ run: 'all' });
      expect(events.map((e) => e.event)).toEqual([
        'start',
        'task_call',
        'artifact',
        'metric',
        'task_success',
        'stop',
      ]);
    } finally {
      await again.close();
    }
  });
});

describe('runtime configuration', () => {
  test('without bullmq installed, the Redis runtime says how to install it', async () => {
    const { stdout } = await runFixture('runtime-without-bullmq.js', []);
    expect(JSON.parse(stdout)).toEqual({
      name: 'ProviderPackageNotInstalledError',
      message:
        "The Redis runtime needs the package 'bullmq', which is not installed. Run: npm install bullmq",
    });
  });

  test('an unknown runtime scheme is a TrackingInputError with the password hidden', async () => {
    const { omega } = await import('omega-track');
    expect(() => omega({ store: 'memory:', runtime: 'amqp://user:secret@host/' })).toThrow(
      TrackingInputError,
    );
    try {
      omega({ store: 'memory:', runtime: 'amqp://user:secret@host/' });
    } catch (error) {
      expect((error as Error).message).not.toContain('secret');
      expect(error).toBeInstanceOf(TrackingError);
    }
  });
});
