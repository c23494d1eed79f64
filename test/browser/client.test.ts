/**
 * `omega-track/browser` in real Chromium against a real `omega-track server`: a page imports the
 * client from the server as a plain module script and trains a tfjs model with
 * TensorflowCallback; what the server stored is read back from its store in Node.
 */
import { clientPage, createToken, suiteRig } from './pageHarness';

jest.setTimeout(180_000);

const rig = suiteRig();

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
  const rows = await rig.serverData('demo/xor', { run: result.run });
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
  const runs = await rig.readStore((om) => om.runtime.experiment('demo/xor').runs());
  expect(runs.find((r: any) => r.run === result.run)?.status).toBe('STOPPED');
});

/** Waits until `check` returns a value, polling; fails with what it saw last. */
async function eventually<T>(
  check: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (error) {
      last = error;
    }
    if (Date.now() > end)
      throw new Error(`${what} did not happen in time${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

test('the server stops while the page logs 5,000 metrics, the page is reloaded, the server starts again: all 5,000 are stored exactly once, in order; the run of the closed page reads CRASHED', async () => {
  const token = createToken(rig.store, 'outage-page', 'write', ['--experiments', 'demo/*']);
  // the page loads its own copy of the client: it must load while the team server is down
  await rig.open('/outage.html', clientPage(''));
  const run = await rig.page.evaluate(
    async ({ url, token }) => {
      const g = globalThis as any;
      const om = g.ot.omega({ store: url, token });
      const exp = om.runtime.experiment('demo/outage', { heartbeatIntervalMs: 200 });
      await exp.start();
      g.om = om;
      g.exp = exp;
      return exp.currentRun as number;
    },
    { url: rig.server.url, token },
  );
  await rig.server.close();
  const spooled = await rig.page.evaluate(async () => {
    const g = globalThis as any;
    for (let i = 0; i < 5000; i++) g.exp.logMetric('x', i, i);
    // the provider's queue goes into the IndexedDB spool (the server is down: nothing ships)
    await g.exp.flush();
    return g.om.store.spoolPending().events as number;
  });
  expect(spooled).toBeGreaterThanOrEqual(5000);
  // a reload: the page that logged is gone; the new one opens a store of the same server
  await rig.reloadAndOpenStore(token);
  await rig.server.restart();
  const rows = await eventually(async () => {
    const r = await rig.serverData('demo/outage', { run, event: 'metric' });
    return r.length >= 5000 ? r : undefined;
  }, 'the 5,000 metrics reaching the server');
  // a moment more: nothing arrives twice
  await new Promise((r) => setTimeout(r, 1500));
  const again = await rig.serverData('demo/outage', { run, event: 'metric' });
  expect(again).toHaveLength(5000);
  expect(again.map((r) => r.value)).toEqual(Array.from({ length: 5000 }, (_, i) => i));
  expect(rows.every((r) => r.writer === 'outage-page')).toBe(true);
  // the page that held the run is gone and its heartbeats with it
  const status = await eventually(async () => {
    const runs = await rig.readStore((om) =>
      om.runtime.experiment('demo/outage', { crashAfterMs: 1500 }).runs(),
    );
    const s = runs.find((r: any) => r.run === run)?.status;
    return s === 'CRASHED' ? s : undefined;
  }, 'the closed page run reading CRASHED');
  expect(status).toBe('CRASHED');
});

test('the recording and reading API works in a page: enter/stop, tags, params, JSON / typed array / Blob artifacts restored, data(), runs(), autolog; the page has no Node globals', async () => {
  const token = createToken(rig.store, 'api-page', 'write', ['--experiments', 'demo/*']);
  await rig.open('/api.html');
  const out = await rig.page.evaluate(
    async ({ url, token }) => {
      const g = globalThis as any;
      const { omega, autolog } = g.ot;
      const tf = g.tf;
      const om = omega({ store: url, token, tf });
      const exp = om.runtime.experiment('demo/api');
      await exp.enter();
      exp.setTags({ team: 'web', browser: true });
      exp.logParam('lr', 0.01);
      exp.logMetric('loss', 0.5, 0);
      exp.logArtifact({ classes: ['cat', 'dog'] }, 'labels');
      exp.logArtifact(new Float32Array([1.5, 2.5, 3.5]), 'weights');
      exp.logArtifact(new Blob(['hello page'], { type: 'text/plain' }), 'note');
      // autolog: a fit with no callback of ours is tracked too
      autolog(exp);
      const model = tf.sequential();
      model.add(tf.layers.dense({ units: 1, inputShape: [1] }));
      model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
      await model.fit(tf.tensor2d([1, 2, 3, 4], [4, 1]), tf.tensor2d([2, 4, 6, 8], [4, 1]), { epochs: 2 });
      autolog.disable();
      const run = exp.currentRun;
      await exp.stop();
      const labels = await exp.restoreArtifact('labels', { run });
      const weights = await exp.restoreArtifact('weights', { run });
      const note = await exp.restoreArtifact('note', { run });
      const rows = await exp.data({ run });
      const runs = await exp.runs();
      await om.close();
      return {
        run,
        labels,
        weights: { type: weights?.constructor?.name, values: Array.from(weights as Float32Array) },
        note: { type: note?.constructor?.name, mime: (note as Blob).type, text: await (note as Blob).text() },
        events: rows.map((r: any) => `${r.event}:${r.key}`),
        runs: runs.map((r: any) => ({ run: r.run, status: r.status, tags: r.tags })),
        globals: {
          process: typeof g.process,
          Buffer: typeof g.Buffer,
          require: typeof g.require,
        },
      };
    },
    { url: rig.server.url, token },
  );
  expect(out.globals).toEqual({
    process: 'undefined',
    Buffer: 'undefined',
    require: 'undefined',
  });
  expect(out.labels).toEqual({ classes: ['cat', 'dog'] });
  expect(out.weights).toEqual({ type: 'Float32Array', values: [1.5, 2.5, 3.5] });
  expect(out.note).toEqual({ type: 'Blob', mime: 'text/plain', text: 'hello page' });
  expect(out.events).toEqual(
    expect.arrayContaining([
      'param:lr',
      'metric:loss',
      'artifact:labels',
      'artifact:weights',
      'artifact:note',
    ]),
  );
  // autolog's fit: 2 epochs of loss
  expect(out.events.filter((e: string) => e === 'metric:loss').length).toBeGreaterThanOrEqual(3);
  expect(out.runs).toEqual(
    expect.arrayContaining([
      expect.objectContaining({
        run: out.run,
        status: 'STOPPED',
        tags: expect.objectContaining({ team: 'web' }),
      }),
    ]),
  );
  // what the page logged reads back the same in Node, from the server's store
  await rig.readStore(async (om) => {
    const exp = om.runtime.experiment('demo/api');
    const weights = await exp.restoreArtifact<Float32Array>('weights', { run: out.run });
    expect(Array.from(weights!)).toEqual([1.5, 2.5, 3.5]);
    const note = await exp.restoreArtifact<Blob>('note', { run: out.run });
    expect(await note!.text()).toBe('hello page');
  });
});

test('trouble is said in a page: shipping failures reach omega({ onError }), else the console; errors keep their class names in the minified bundle', async () => {
  const token = createToken(rig.store, 'trouble-page', 'write', ['--experiments', 'demo/*']);
  await rig.open('/trouble.html', clientPage(''));
  const consoleLines: string[] = [];
  const onConsole = (m: { text(): string }): void => void consoleLines.push(m.text());
  rig.page.on('console', onConsole);
  try {
    const names = await rig.page.evaluate(
      async ({ url, token }) => {
        const g = globalThis as any;
        g.errors = [];
        const collected = g.ot.omega({
          store: url,
          token,
          onError: (e: unknown, context?: string) => g.errors.push(`${context}: ${String(e)}`),
        });
        g.withHandler = collected.runtime.experiment('demo/trouble-a');
        await g.withHandler.start();
        g.plain = g.ot.omega({ store: url, token }).runtime.experiment('demo/trouble-b');
        await g.plain.start();
        return [
          new g.ot.StoreError('forbidden', url, 'x').name,
          new g.ot.TrackingInputError('x').name,
          new g.ot.TrackingError('x').name,
        ];
      },
      { url: rig.server.url, token },
    );
    expect(names).toEqual(['StoreError', 'TrackingInputError', 'TrackingError']);
    await rig.server.kill('SIGKILL');
    await rig.page.evaluate(() => {
      const g = globalThis as any;
      g.withHandler.logMetric('loss', 1);
      g.plain.logMetric('loss', 1);
    });
    await rig.page.waitForFunction(() => (globalThis as any).errors.length > 0, undefined, {
      timeout: 10_000,
    });
    const errors = await rig.page.evaluate(() => (globalThis as any).errors as string[]);
    expect(errors.join('\n')).toMatch(/shipping/);
    await eventually(
      async () =>
        consoleLines.some((l) => l.startsWith('[omega-track]') && /shipping/.test(l)) ? true : undefined,
      'a diagnostic line on the console',
      10_000,
    );
  } finally {
    rig.page.off('console', onConsole);
    await rig.server.restart();
  }
});
