import * as tf from '@tensorflow/tfjs';
import { redisRuntimeSuite } from '../helpers/redisRuntimeSuite';

// tfjs prints an 'install tfjs-node' banner unless it knows it runs under test
tf.env().set('IS_TEST', true);
jest.setTimeout(90_000);

const QUEUE = 'sweep-test';
const suite = redisRuntimeSuite('omega-sweep-');

/** A compiled tfjs model: 4 inputs, 4 hidden units, 1 output, fixed initial weights. */
function tinyModel(): tf.LayersModel {
  const model = tf.sequential({
    layers: [
      tf.layers.dense({
        units: 4,
        activation: 'relu',
        inputShape: [4],
        kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }),
      }),
      tf.layers.dense({ units: 1, kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.sgd(0.01), loss: 'meanSquaredError' });
  return model;
}

const X = Array.from({ length: 64 }, (_, i) =>
  Array.from({ length: 4 }, (_, j) => Math.sin(i * (j + 1)) / 2),
);
const Y = X.map((row) => [row.reduce((a, b) => a + b, 0)]);

test('2 workers, parallel 4, 12 tfjs trials: every child run ends with its metrics; median stopping stops the diverging ones early', async () => {
  await suite.pool.startAll(
    ['sweep-a', 'sweep-b'].map((node) => ({
      node,
      url: suite.redis.url,
      queue: QUEUE,
      store: suite.store,
      concurrency: 2,
    })),
  );
  const om = suite.client(QUEUE);
  await om.models.put(tinyModel(), 'tiny');
  const exp = om.runtime.experiment('redis-sweep');
  // nine sensible learning rates, then three that make SGD diverge at once (the grid runs in order)
  const learningRate = [0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 50, 100, 200];
  const result = await om.runtime.model('tiny').sweep(
    X,
    Y,
    {
      space: { learningRate },
      method: 'grid',
      metric: 'loss',
      goal: 'minimize',
      parallel: 4,
      earlyStop: { type: 'median', minTrials: 3 },
    },
    { experiment: 'redis-sweep', fit: { epochs: 3, batchSize: 16 } },
  );
  expect(result.trials).toHaveLength(12);
  const runs = await exp.runs();
  const children = runs.filter((r) => r.parent === result.run);
  expect(children).toHaveLength(12);
  for (const child of children) {
    expect(['STOPPED', 'FAILED']).toContain(child.status);
    expect(child.metrics?.loss.count).toBeGreaterThanOrEqual(1);
    expect(child.metrics?.score).toBeDefined();
  }
  // the tasks ran on the workers, in the trials' runs
  const nodes = new Set(
    (await exp.data({ run: children.map((c) => c.run), event: 'task_success' })).map((r) => r.node),
  );
  expect([...nodes].sort()).toEqual(['sweep-a', 'sweep-b']);
  const stopped = children.filter((c) => c.tags?.['sweep.stopped'] !== undefined);
  const diverging = stopped.filter((c) => (c.params?.learningRate as number) > 1);
  expect(diverging.length).toBeGreaterThanOrEqual(1);
  for (const c of diverging) {
    expect(String(c.tags?.['sweep.stopped'])).toMatch(/^median: loss/);
    // stopped at the end of an epoch before the last: fit ended early, cleanly
    expect(c.metrics?.loss.count).toBeLessThan(3);
    expect(c.status).toBe('STOPPED');
  }
  // (a sensible trial may be stopped too, when the trials beside it were better at that step)
  for (const c of children.filter((c) => c.tags?.['sweep.stopped'] === undefined))
    expect(c.metrics?.loss.count).toBe(3);
  expect(result.trials.find((t) => t.run === diverging[0].run)?.stopped).toBe(
    diverging[0].tags?.['sweep.stopped'],
  );
  expect(result.best?.params.learningRate).toBeLessThan(1);
});
