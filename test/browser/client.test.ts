/**
 * `omega-track/browser` in real Chromium against a real `omega-track server`: a page imports the
 * client from the server as a plain module script and trains a tfjs model with
 * TensorflowCallback; what the server stored is read back from its store in Node.
 */
import { omega } from 'omega-track';
import type { BrowserRig } from './pageHarness';
import { createToken, startBrowserRig } from './pageHarness';

jest.setTimeout(180_000);

let rig: BrowserRig;

beforeAll(async () => {
  rig = await startBrowserRig();
});

afterAll(async () => {
  await rig?.close();
});

async function serverData(experiment: string, query: Record<string, unknown> = {}): Promise<any[]> {
  const om = omega({ store: rig.store, create: false });
  try {
    return (await om.runtime.experiment(experiment).data(query as never)) as any[];
  } finally {
    await om.close();
  }
}

test('a page trains a tfjs model for 3 epochs with TensorflowCallback inside exp.run(): the server holds the run, its params and 3 × its epoch metrics, written by the token', async () => {
  const token = createToken(rig.store, 'demo-page', 'write', ['--experiments', 'demo/*']);
  await rig.open('/train.html');
  const result = await rig.page.evaluate(
    async ({ url, token }) => {
      const g = globalThis as any;
      const { omega, TensorflowCallback } = g.ot;
      const tf = g.tf;
      const om = omega({ store: url, token, tf });
      const exp = om.runtime.experiment('demo/xor');
      const run = await exp.run(async (e: any) => {
        e.logParams({ lr: 0.1, units: 8, epochs: 3 });
        const model = tf.sequential();
        model.add(tf.layers.dense({ units: 8, activation: 'relu', inputShape: [2] }));
        model.add(tf.layers.dense({ units: 1, activation: 'sigmoid' }));
        model.compile({ optimizer: tf.train.adam(0.1), loss: 'binaryCrossentropy', metrics: ['accuracy'] });
        const xs = tf.tensor2d([0, 0, 0, 1, 1, 0, 1, 1], [4, 2]);
        const ys = tf.tensor2d([0, 1, 1, 0], [4, 1]);
        await model.fit(xs, ys, { epochs: 3, batchSize: 4, callbacks: [new TensorflowCallback(e)] });
        return e.currentRun;
      });
      await om.close();
      return { run, backend: tf.getBackend() };
    },
    { url: rig.server.url, token },
  );
  expect(typeof result.run).toBe('number');
  const rows = await serverData('demo/xor', { run: result.run });
  const params = rows.filter((r) => r.event === 'param');
  expect(Object.fromEntries(params.map((r) => [r.key, r.value]))).toMatchObject({
    lr: 0.1,
    units: 8,
    epochs: 3,
    optimizer: 'Adam',
  });
  for (const key of ['loss', 'acc']) {
    const epochs = rows.filter((r) => r.event === 'metric' && r.key === key && r.phase === 'epoch');
    expect(epochs.map((r) => r.step)).toEqual([0, 1, 2]);
    for (const r of epochs) expect(Number.isFinite(r.value)).toBe(true);
  }
  const writers = new Set(rows.map((r) => r.writer));
  expect(writers).toEqual(new Set(['demo-page']));
  const om = omega({ store: rig.store, create: false });
  const runs = await om.runtime.experiment('demo/xor').runs();
  await om.close();
  expect(runs.find((r: any) => r.run === result.run)?.status).toBe('STOPPED');
});
