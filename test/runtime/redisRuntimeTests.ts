/**
 * The runtime over Redis: a real redis-server, real `omega-track worker` processes (each with its
 * own OMEGA_NODE) and the test's own omega(), all on one store — an SQLite file, or a team server
 * on one (`omega-track server`; callers and workers log through it with `--store http://…`). What a
 * caller sees: the results, and the events the workers record into the caller's runs (SPEC §7).
 */
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Omega, OmegaTrackingProxy, TrackingEvent } from 'omega-track';
import { TaskError, omega } from 'omega-track';
import { startRedisServer, stopAllRedisServers } from '../helpers/redisServer';
import type { RedisServer } from '../helpers/redisServer';
import { LINREG_MODULE, WorkerPool, loadLinreg, waitFor } from '../helpers/runtimeWorkers';

const COUNTING_MODULE = path.join(__dirname, '..', 'fixtures', 'countingBackend.js');
import { tempDir } from '../helpers/tmp';
import { startTeamServer } from '../helpers/teamServer';
import type { TeamServer } from '../helpers/teamServer';

// tfjs prints an 'install tfjs-node' banner unless it knows it runs under test
tf.env().set('IS_TEST', true);

jest.setTimeout(90_000);

/**
 * The suite, on an SQLite store the callers and workers open directly (`embedded`), or through a
 * team server on one (`server`).
 */
export function redisRuntimeTests(through: 'embedded' | 'server'): void {
  const QUEUE = 'redis-test';
  const NODES = ['node-a', 'node-b'];
  const TASK_EVENTS = ['artifact', 'metric', 'task_call', 'task_success'];

  const { LinearRegression, register } = loadLinreg();
  const pool = new WorkerPool();
  let redis: RedisServer;
  let tmp: ReturnType<typeof tempDir>;
  let store: string;
  let om: Omega;
  let server: TeamServer | undefined;

  /** y = 1 + 2·x0 + 0.5·x1 exactly: the stored model scores R² = 1 on it. */
  const X = [
    [1, 2],
    [3, 4],
    [5, 6],
    [7, 9],
  ];
  const Y = X.map(([a, b]) => 1 + 2 * a + 0.5 * b);

  beforeAll(async () => {
    redis = await startRedisServer();
    tmp = tempDir('omega-redis-');
    store = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
    if (through === 'server') {
      server = await startTeamServer({ store });
      store = server.url;
      process.env.OMEGA_SPOOL_DIR = path.join(tmp.dir, 'spool');
    }
    om = omega({ store, runtime: redis.url, runtimeQueue: QUEUE });
    register(om.registry, om);
    await om.models.put(new LinearRegression([2, 0.5], 1), 'linreg');
    // concurrency 1: a worker holds one task at a time, so the other one takes the next
    await pool.startAll(
      NODES.map((node) => ({
        node,
        url: redis.url,
        queue: QUEUE,
        store,
        require: [LINREG_MODULE, COUNTING_MODULE],
        env: { OMEGA_SPOOL_DIR: path.join(tmp.dir, `spool-${node}`) },
      })),
    );
  });

  afterAll(async () => {
    try {
      await pool.stopAll();
      // close() waits for tasks in flight: after a failed test some may never finish
      await Promise.race([om?.close(), new Promise((r) => setTimeout(r, 5000).unref())]);
    } finally {
      await stopAllRedisServers();
      await server?.close();
      tmp?.cleanup();
    }
  });

  /** Events of one task, by taskid (events without one are the caller's: start, stop). */
  function byTask(rows: TrackingEvent[]): Map<string, TrackingEvent[]> {
    const tasks = new Map<string, TrackingEvent[]>();
    for (const row of rows) {
      if (row.taskid === undefined) continue;
      const id = row.taskid as string;
      tasks.set(id, [...(tasks.get(id) ?? []), row]);
    }
    return tasks;
  }

  const kinds = (rows: TrackingEvent[]): string[] => rows.map((r) => r.event).sort();

  /** A compiled tfjs model: 4 inputs, 8 hidden units, 1 output. */
  function tinyModel(): tf.LayersModel {
    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          units: 8,
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

  /** n rows of 4 features and their target (deterministic, no tfjs randomness). */
  function tfData(n: number, features = 4): { X: number[][]; Y: number[][] } {
    const X = Array.from({ length: n }, (_, i) =>
      Array.from({ length: features }, (_, j) => Math.sin(i * (j + 1)) / 2),
    );
    return { X, Y: X.map((row) => [row.reduce((a, b) => a + b, 0)]) };
  }

  test('2 workers, 20 score tasks at once in one run: 20 results, 20 × 4 task events with taskid and node', async () => {
    const exp = om.runtime.experiment('twenty');
    const results = await exp.run(() =>
      Promise.all(Array.from({ length: 20 }, () => om.runtime.model('linreg').score(X, Y))),
    );
    expect(results).toHaveLength(20);
    for (const r of results) expect(r).toBeCloseTo(1, 10);

    const rows = await exp.data({ run: 'all' });
    expect(rows).toHaveLength(20 * 4 + 2);
    expect(new Set(rows.map((r) => r.run))).toEqual(new Set([1]));
    const caller = rows.filter((r) => r.taskid === undefined);
    expect(kinds(caller)).toEqual(['start', 'stop']);
    const tasks = byTask(rows);
    expect(tasks.size).toBe(20);
    const nodes = new Set<string>();
    for (const events of tasks.values()) {
      expect(kinds(events)).toEqual(TASK_EVENTS);
      // one task runs on one worker: all its events carry that worker's node
      expect(new Set(events.map((e) => e.node)).size).toBe(1);
      expect(NODES).toContain(events[0].node);
      nodes.add(events[0].node);
      for (const e of events) {
        expect(e.attempt).toBe(1);
        expect(e.userid).toBe(caller[0].userid);
      }
      expect(events.find((e) => e.event === 'task_call')).toMatchObject({ key: 'score' });
      expect(events.find((e) => e.event === 'artifact')).toMatchObject({ key: 'related' });
      expect(events.find((e) => e.event === 'metric')).toMatchObject({ key: 'score' });
      expect(events.find((e) => e.event === 'metric')!.value).toBeCloseTo(1, 10);
    }
    // deterministic with concurrency 1: the first task of a fresh worker starts its task thread
    // and opens the store (hundreds of ms), and meanwhile the other worker takes the next task
    expect([...nodes].sort()).toEqual(NODES);
  });

  test("two runs of one experiment in flight at once: each task's events land in its caller's run", async () => {
    const a = om.runtime.experiment('pair');
    const b = om.runtime.experiment('pair');
    // both runs are started before either issues a task, so both are in flight throughout
    let arrive!: () => void;
    let bothStarted = 0;
    const barrier = new Promise<void>((resolve) => (arrive = resolve));
    const caller = (exp: OmegaTrackingProxy, who: string): Promise<number> =>
      exp.run(async (e) => {
        if (++bothStarted === 2) arrive();
        await barrier;
        for (let round = 0; round < 3; round++)
          await Promise.all([0, 1].map((i) => om.runtime.model('linreg').score(X, Y, { who, round, i })));
        return e.currentRun!;
      });
    const [runA, runB] = await Promise.all([caller(a, 'A'), caller(b, 'B')]);
    expect(new Set([runA, runB])).toEqual(new Set([1, 2]));

    const rows = await a.data({ run: 'all' });
    const tasks = byTask(rows);
    expect(tasks.size).toBe(12);
    const perRun = new Map<number, number>();
    for (const events of tasks.values()) {
      expect(kinds(events)).toEqual(TASK_EVENTS);
      const call = events.find((e) => e.event === 'task_call')!;
      const who = (call.value as { opts: { who: string } }).opts.who;
      const expected = who === 'A' ? runA : runB;
      for (const e of events) expect(e.run).toBe(expected);
      perRun.set(expected, (perRun.get(expected) ?? 0) + 1);
    }
    expect(perRun).toEqual(
      new Map([
        [runA, 6],
        [runB, 6],
      ]),
    );
    for (const run of [runA, runB]) {
      const own = rows.filter((r) => r.run === run && r.taskid === undefined);
      expect(kinds(own)).toEqual(['start', 'stop']);
    }
  });

  test('outside any run, a model linked with exp.track() is scored in a run of its own', async () => {
    await om.models.put(new LinearRegression([2, 0.5], 1), 'linked');
    const exp = om.runtime.experiment('linked-exp');
    await exp.track('linked');
    const score = await om.runtime.model('linked').score(X, Y);
    expect(score).toBeCloseTo(1, 10);

    const rows = await exp.data({ run: 'all' });
    expect(rows.map((r) => [r.run, r.event, r.key])).toEqual([
      [1, 'start', 'start'],
      [1, 'task_call', 'score'],
      [1, 'artifact', 'related'],
      [1, 'metric', 'score'],
      [1, 'task_success', 'score'],
      [1, 'stop', 'stop'],
    ]);
    const taskEvents = rows.filter((r) => r.event !== 'start' && r.event !== 'stop');
    expect(new Set(taskEvents.map((r) => r.taskid)).size).toBe(1);
    expect(taskEvents[0].taskid).toEqual(expect.any(String));
    // the worker started and stopped that run itself
    for (const r of rows) expect(NODES).toContain(r.node);
    const [info] = await exp.runs({ run: 1 });
    expect(info.status).toBe('STOPPED');
  });

  test("live: the client reads the first epoch's metrics while the worker is still training", async () => {
    await om.models.put(tinyModel(), 'tf-live');
    // 5000 rows in batches of 16: an epoch takes ~0.4 s on the CPU backend (≥ 0.3 s on a fast
    // machine), so 8 epochs last several of the worker's flush intervals (1 s)
    const { X: tx, Y: ty } = tfData(5000);
    const epochs = 8;
    const exp = om.runtime.experiment('live');
    await exp.run(async (e) => {
      let finished = false;
      const fit = om.runtime
        .model('tf-live')
        .fit(tx, ty, { epochs, batchSize: 16 })
        .finally(() => (finished = true));
      fit.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
      const seen = await waitFor(
        'the first epoch metric',
        async () => {
          const rows = await e.data({ event: 'metric' });
          return rows.some((r) => r.step === 0) || finished ? { rows, whileRunning: !finished } : undefined;
        },
        { timeoutMs: 60_000, intervalMs: 100, logs: () => pool.logs() },
      );
      const first = seen.rows.filter((r) => r.step === 0);
      expect(first.map((r) => r.key)).toContain('loss');
      for (const r of first) {
        expect(r.phase).toBe('epoch');
        expect(r.taskid).toEqual(expect.any(String));
        expect(NODES).toContain(r.node);
      }
      // read while training went on: before the task returned, and not only once the last epoch
      // was done (the flush at train end comes just before the task returns, which is not live)
      expect({
        whileRunning: seen.whileRunning,
        stepsSeen: [...new Set(seen.rows.map((r) => r.step))],
      }).toEqual({ whileRunning: true, stepsSeen: expect.not.arrayContaining([epochs - 1]) });
      const result = await fit;
      expect(result).toMatchObject({ epochs });
    });
    const losses = await exp.data({ event: 'metric', key: 'loss' });
    expect(losses.map((r) => r.step)).toEqual([...Array(epochs).keys()]);
  });

  test('a task on a model that does not exist: TaskError naming it, task_call and task_failure recorded', async () => {
    const exp = om.runtime.experiment('fail-unknown');
    const error = await exp.run(() =>
      om.runtime
        .model('no-such-model')
        .score(X, Y)
        .then(
          () => undefined,
          (e: unknown) => e,
        ),
    );
    expect(error).toBeInstanceOf(TaskError);
    const err = error as TaskError;
    expect(err.message).toContain("'no-such-model'");
    expect(err.message).toMatch(/no entry/);
    expect(err).toMatchObject({ method: 'score', model: 'no-such-model', attempt: 1 });
    expect(NODES).toContain(err.node);

    const rows = await exp.data({ run: 'all' });
    expect(kinds(rows.filter((r) => r.taskid !== undefined))).toEqual(['task_call', 'task_failure']);
    const failure = rows.find((r) => r.event === 'task_failure')!;
    expect(failure.taskid).toBe(err.taskid);
    expect(JSON.stringify(failure.value)).toContain('no-such-model');
  });

  test("X of the wrong shape for a tfjs model: TaskError with tfjs' message, task_call, artifact, task_failure", async () => {
    await om.models.put(tinyModel(), 'tf-shape');
    const { X: wrong, Y: wy } = tfData(5, 3); // 3 features for a model of 4
    const exp = om.runtime.experiment('fail-shape');
    const error = await exp.run(() =>
      om.runtime
        .model('tf-shape')
        .fit(wrong, wy, { epochs: 1 })
        .then(
          () => undefined,
          (e: unknown) => e,
        ),
    );
    expect(error).toBeInstanceOf(TaskError);
    const err = error as TaskError;
    expect(err.message).toMatch(/shape \[4\].*\[5,3\]/);
    expect(err).toMatchObject({ method: 'fit', model: 'tf-shape' });

    const rows = await exp.data({ run: 'all' });
    const taskRows = rows.filter((r) => r.taskid !== undefined);
    expect(kinds(taskRows)).toEqual(['artifact', 'task_call', 'task_failure']);
    for (const r of taskRows) expect(r.taskid).toBe(err.taskid);
    expect(JSON.stringify(rows.find((r) => r.event === 'task_failure')!.value)).toMatch(/\[5,3\]/);
  });

  test('fits of one model from one caller run one after the other on two workers: none is lost', async () => {
    const countingOm = omega({ store, runtime: redis.url, runtimeQueue: QUEUE });
    try {
      // the caller needs the backend only to store the model: a plain JSON entry
      await countingOm.models.put({ fits: 0 }, 'counted');
      const results = await Promise.all(
        Array.from({ length: 6 }, () => countingOm.runtime.model('counted').fit([[1]], [1])),
      );
      expect(results.map((r) => r.fits).sort()).toEqual([1, 2, 3, 4, 5, 6]);
      expect(await countingOm.models.get('counted')).toEqual({ fits: 6 });
      // a predict issued after them sees the last fit's model
      expect(await countingOm.runtime.model('counted').predict([[1]])).toEqual([6]);
    } finally {
      await countingOm.close();
    }
  });
}
