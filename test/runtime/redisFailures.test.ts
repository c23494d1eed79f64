/**
 * The runtime over Redis when things go wrong, the way BullMQ really behaves: a worker killed
 * mid-task, a task that trains longer than the lock, a worker told to stop mid-task, Redis
 * unreachable. Real redis-server, real `omega-track worker` processes, one SQLite store.
 */
import type { TrackingEvent } from 'omega-track';
import { RuntimeUnavailableError } from 'omega-track';
import { freePort, startRedisServer } from '../helpers/redisServer';
import type { WorkerOptions } from '../helpers/runtimeWorkers';
import { activeTasks, linregData, linregEpochsFor, loadLinreg, waitFor } from '../helpers/runtimeWorkers';
import { redisRuntimeSuite } from '../helpers/redisRuntimeSuite';

jest.setTimeout(90_000);

/** The most a caller may wait for "Redis is unreachable": a guard against hanging, not a speed target. */
const HANG_GUARD_MS = 10_000;

const { LinearRegression } = loadLinreg();
const { X, Y } = linregData();
const rt = redisRuntimeSuite('omega-redis-failures-');
const { pool, client } = rt;

function worker(node: string, queue: string, more: Partial<WorkerOptions> = {}): WorkerOptions {
  return { node, url: rt.redis.url, queue, store: rt.store, ...more };
}

/** Waits until a worker has taken a task of `queue` (attempt `attempt`) and says which. */
function taskTaken(
  queue: string,
  attempt = 1,
  url = rt.redis.url,
): Promise<{ taskid: string; node: string }> {
  return waitFor(
    `a worker to take a task of '${queue}'`,
    async () => {
      const [task] = (await activeTasks(url, queue)).filter((t) => t.attempt === attempt && t.node);
      return task ? { taskid: task.taskid, node: task.node! } : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, logs: () => pool.logs() },
  );
}

const ofTask = (rows: TrackingEvent[], taskid: string): TrackingEvent[] =>
  rows.filter((r) => r.taskid === taskid);

const brief = (rows: TrackingEvent[]): string[] =>
  rows.map((r) => `${r.event}@${String(r.attempt)}/${r.node}`);

test('a worker killed with SIGKILL mid-task: the other worker runs it again, the caller gets the result', async () => {
  const queue = 'kill';
  const epochs = await linregEpochsFor(6000);
  // a short lock and a frequent stalled check: the dead worker's task is taken over within ~3 s
  const lock = { lockDurationMs: 2000, stalledIntervalMs: 1000 };
  const workers = await pool.startAll([worker('kill-1', queue, lock), worker('kill-2', queue, lock)]);
  const om = client(queue);
  await om.models.put(new LinearRegression(), 'kill-m');
  const exp = om.runtime.experiment('killed');
  let killed!: { taskid: string; node: string };
  const result = await exp.run(async (e) => {
    const fit = om.runtime.model('kill-m').fit(X, Y, { epochs });
    fit.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    killed = await taskTaken(queue);
    // a worker that records as it goes has written the task_call within its flush interval (1 s)
    await waitFor(
      'task_call of attempt 1',
      async () => (await e.data({ event: 'task_call', taskid: killed.taskid })).length > 0,
      { timeoutMs: 1500 },
    ).catch(() => undefined);
    const victim = workers.find((w) => w.node === killed.node)!;
    expect(await victim.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    return fit;
  });
  const survivor = workers.find((w) => w.node !== killed.node)!.node;
  expect(result).toMatchObject({ epochs });
  const saved = await om.models.get<InstanceType<typeof LinearRegression>>('kill-m');
  expect(saved.weights[0]).toBeCloseTo(3, 1);
  expect(saved.weights[1]).toBeCloseTo(-2, 1);
  expect(saved.bias).toBeCloseTo(1, 1);

  const rows = await exp.data({ run: 'all' });
  expect(new Set(rows.map((r) => r.run))).toEqual(new Set([1]));
  const task = ofTask(rows, killed.taskid);
  const successes = task.filter((r) => r.event === 'task_success');
  expect(brief(successes)).toEqual([`task_success@2/${survivor}`]);
  expect(brief(task.filter((r) => r.event === 'task_call' && r.attempt === 2))).toEqual([
    `task_call@2/${survivor}`,
  ]);
  expect(task.filter((r) => r.event === 'task_failure')).toEqual([]);
  // the killed attempt is visible in the run: its task_call, with attempt 1 and the dead node
  expect(brief(task.filter((r) => r.event === 'task_call'))).toEqual([
    `task_call@1/${killed.node}`,
    `task_call@2/${survivor}`,
  ]);
});

test('a task that trains longer than the lock duration runs exactly once', async () => {
  const queue = 'long-lock';
  const lockDurationMs = 1000;
  // ~4 s of CPU-bound training, four lock durations; two workers, so a task wrongly taken for
  // stalled would be picked up again at once
  const epochs = await linregEpochsFor(4000);
  const opts = { lockDurationMs, stalledIntervalMs: 500 };
  await pool.startAll([worker('lock-1', queue, opts), worker('lock-2', queue, opts)]);
  const om = client(queue);
  await om.models.put(new LinearRegression(), 'lock-m');
  const exp = om.runtime.experiment('long-lock');
  const result = await exp.run(() => om.runtime.model('lock-m').fit(X, Y, { epochs }));
  expect(result).toMatchObject({ epochs });

  const rows = await exp.data({ run: 'all' });
  const calls = rows.filter((r) => r.event === 'task_call');
  const successes = rows.filter((r) => r.event === 'task_success');
  expect(calls).toHaveLength(1);
  expect(successes).toHaveLength(1);
  expect(new Set(rows.filter((r) => r.taskid !== undefined).map((r) => r.attempt))).toEqual(new Set([1]));
  expect(rows.filter((r) => r.event === 'task_failure')).toEqual([]);
  // the test tests what it says only if the training did outlast the lock, several times over
  expect(successes[0].dt.getTime() - calls[0].dt.getTime()).toBeGreaterThan(2 * lockDurationMs);
});

test('a worker sent SIGTERM mid-task finishes the task, records it, and exits with 0', async () => {
  const queue = 'sigterm';
  const epochs = await linregEpochsFor(3000);
  const [w] = await pool.startAll([worker('term-1', queue)]);
  const om = client(queue);
  await om.models.put(new LinearRegression(), 'term-m');
  const exp = om.runtime.experiment('sigterm');
  let taken!: { taskid: string; node: string };
  let signalledAt = 0;
  const result = await exp.run(async () => {
    const fit = om.runtime.model('term-m').fit(X, Y, { epochs });
    fit.catch(() => undefined); // awaited below; a failure must not go unhandled meanwhile
    taken = await taskTaken(queue);
    signalledAt = Date.now();
    w.signal('SIGTERM');
    return fit;
  });
  expect(result).toMatchObject({ epochs });
  const exit = await Promise.race([
    w.exited,
    new Promise((r) => setTimeout(() => r('still running 30 s after SIGTERM'), 30_000).unref()),
  ]);
  expect({ exit, stderr: w.stderr() }).toEqual({
    exit: { code: 0, signal: null },
    stderr: expect.stringMatching(/SIGTERM: finishing the running tasks[\s\S]*stopped/),
  });

  const rows = ofTask(await exp.data({ run: 'all' }), taken.taskid);
  expect(rows.map((r) => r.event)).toEqual([
    'task_call',
    'artifact',
    ...Array<string>(10).fill('metric'),
    'task_success',
  ]);
  for (const r of rows) expect(r).toMatchObject({ attempt: 1, node: 'term-1' });
  // the task was still running when the signal came
  expect(rows[rows.length - 1].dt.getTime()).toBeGreaterThanOrEqual(signalledAt);
});

test('Redis unreachable: RuntimeUnavailableError within seconds, with the URL and never its password', async () => {
  const closed = await freePort();
  const om = client('nowhere', `redis://:secret@127.0.0.1:${closed}`);
  await om.models.put(new LinearRegression([2, 0.5], 1), 'm');
  const t0 = Date.now();
  const error = await om.runtime
    .model('m')
    .score(X, Y)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(Date.now() - t0).toBeLessThan(HANG_GUARD_MS);
  expect(error).toBeInstanceOf(RuntimeUnavailableError);
  const err = error as RuntimeUnavailableError;
  expect(err.message).toContain(`127.0.0.1:${closed}`);
  expect(err.url).toContain(`127.0.0.1:${closed}`);
  for (const text of [err.message, err.url, String(err.stack), JSON.stringify(err)])
    expect(text).not.toContain('secret');
});

test('Redis stopped while a task runs and before the next: both callers get RuntimeUnavailableError within seconds, and nothing hangs', async () => {
  const own = await startRedisServer();
  const queue = 'stopped';
  const w = await pool.start({ ...worker('stop-1', queue), url: own.url });
  const om = client(queue, own.url);
  await om.models.put(new LinearRegression([3, -2], 1), 'stop-m');
  // connected and working first
  expect(await om.runtime.model('stop-m').score(X, Y)).toBeCloseTo(1, 5);

  const epochs = await linregEpochsFor(20_000);
  const inFlight = om.runtime
    .model('stop-m')
    .fit(X, Y, { epochs })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  await taskTaken(queue, 1, own.url);
  let t0 = Date.now();
  await own.stop();
  const lost = await inFlight;
  expect(Date.now() - t0).toBeLessThan(HANG_GUARD_MS);
  expect(lost).toBeInstanceOf(RuntimeUnavailableError);
  expect((lost as Error).message).toContain(`127.0.0.1:${own.port}`);

  t0 = Date.now();
  const next = await om.runtime
    .model('stop-m')
    .score(X, Y)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(Date.now() - t0).toBeLessThan(HANG_GUARD_MS);
  expect(next).toBeInstanceOf(RuntimeUnavailableError);
  expect((next as Error).message).toContain(`127.0.0.1:${own.port}`);

  // and closing does not hang on the lost connection either
  t0 = Date.now();
  await om.close();
  expect(Date.now() - t0).toBeLessThan(HANG_GUARD_MS);

  // the worker, still training, cannot finish gracefully without Redis; a second SIGTERM stops it
  w.signal('SIGTERM');
  await waitFor(
    'the worker to take the first SIGTERM',
    () => /finishing the running tasks/.test(w.stderr()),
    {
      logs: () => w.logs(),
    },
  );
  t0 = Date.now();
  w.signal('SIGTERM');
  const exit = await Promise.race([
    w.exited,
    new Promise((r) => setTimeout(() => r('still running'), HANG_GUARD_MS).unref()),
  ]);
  expect({ exit, stderr: w.stderr() }).toEqual({
    exit: { code: 0, signal: null },
    stderr: expect.stringMatching(/stopping now[\s\S]*stopped/),
  });
});
