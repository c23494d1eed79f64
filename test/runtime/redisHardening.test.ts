/**
 * The Redis runtime where an attack found it wanting (issue 19): a Redis that restarts empty
 * under a waiting caller, a caller that loses Redis while its task completes, a worker told
 * twice to stop mid-task, a database index Redis refuses, results larger than a task may carry.
 * Real redis-server, real `omega-track worker` processes, one SQLite store.
 */
import {
  MAX_TASK_BYTES,
  RuntimeUnavailableError,
  TaskError,
  TaskLostError,
  TrackingInputError,
  omega,
} from 'omega-track';
import { startRedisServer, startRedisServerOn } from '../helpers/redisServer';
import type { WorkerOptions } from '../helpers/runtimeWorkers';
import {
  WorkerProcess,
  activeTasks,
  linregData,
  linregEpochsFor,
  loadLinreg,
  waitFor,
} from '../helpers/runtimeWorkers';
import { redisRuntimeSuite } from '../helpers/redisRuntimeSuite';

jest.setTimeout(120_000);

/** The most a caller may wait for an answer, or a worker to exit: a guard against hanging, not a speed target. */
const HANG_GUARD_MS = 15_000;

const { LinearRegression, register } = loadLinreg();
const { X, Y } = linregData();
const rt = redisRuntimeSuite('omega-redis-hardening-');
const { pool, opened, client } = rt;

function worker(
  node: string,
  queue: string,
  url = rt.redis.url,
  more: Partial<WorkerOptions> = {},
): WorkerOptions {
  return { node, url, queue, store: rt.store, ...more };
}

/** Waits until a worker has taken a task of `queue` (attempt `attempt`) and says which. */
function taskTaken(queue: string, url: string, attempt = 1): Promise<{ taskid: string; node: string }> {
  return waitFor(
    `a worker to take a task of '${queue}'`,
    async () => {
      const [task] = (await activeTasks(url, queue)).filter((t) => t.attempt === attempt && t.node);
      return task ? { taskid: task.taskid, node: task.node! } : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 100, logs: () => pool.logs() },
  );
}

/** How a promise settled, or 'still waiting' after `ms`. */
async function settled<T>(
  promise: Promise<T>,
  ms = HANG_GUARD_MS,
): Promise<{ result: T } | { error: unknown } | 'still waiting'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    ),
    new Promise<'still waiting'>((resolve) => (timer = setTimeout(() => resolve('still waiting'), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** Runs `fn` with OMEGA_RUNTIME_CONNECT_TIMEOUT_MS set for this process (the caller). */
async function withConnectTimeout<T>(ms: number, fn: () => Promise<T>): Promise<T> {
  const before = process.env.OMEGA_RUNTIME_CONNECT_TIMEOUT_MS;
  process.env.OMEGA_RUNTIME_CONNECT_TIMEOUT_MS = String(ms);
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.OMEGA_RUNTIME_CONNECT_TIMEOUT_MS;
    else process.env.OMEGA_RUNTIME_CONNECT_TIMEOUT_MS = before;
  }
}

describe('a Redis that restarts empty under a waiting caller', () => {
  test('restarted after the worker finished: the caller gets the result, read back from the store', async () => {
    const own = await startRedisServer();
    const queue = 'restart-done';
    await pool.start(worker('rd-1', queue, own.url));
    // long enough for Redis to stay down until the fit has finished, without the caller giving up
    const outcome = await withConnectTimeout(20_000, async () => {
      const om = client(queue, own.url);
      await om.models.put(new LinearRegression(), 'rd-m');
      const epochs = await linregEpochsFor(1500);
      const exp = om.runtime.experiment('restart-done');
      return exp.run(async (e) => {
        const fit = om.runtime.model('rd-m').fit(X, Y, { epochs });
        const answer = settled(fit, 30_000);
        const { taskid } = await taskTaken(queue, own.url);
        await own.stop();
        // the worker finishes the fit and records it without Redis
        await waitFor(
          'the task_success of the fit',
          async () => (await e.data({ event: 'task_success', taskid })).length > 0,
          { timeoutMs: 15_000, logs: () => pool.logs() },
        );
        await startRedisServerOn(own.port);
        return {
          taskid,
          epochs,
          answer: await answer,
          rows: () => e.data({ event: 'task_success', taskid }),
        };
      });
    });
    const [success] = await outcome.rows();
    expect(outcome.answer).toEqual({ result: (success.value as { result: unknown }).result });
    expect(outcome.answer).toMatchObject({ result: { epochs: outcome.epochs } });
  });

  test('restarted while the task still runs: a TaskLostError with its taskid, and om.runtime.task tells the outcome once it is done', async () => {
    const own = await startRedisServer();
    const queue = 'restart-running';
    await pool.start(worker('rr-1', queue, own.url));
    const om = client(queue, own.url);
    await om.models.put(new LinearRegression(), 'rr-m');
    const epochs = await linregEpochsFor(10_000);
    const exp = om.runtime.experiment('restart-running');
    const { taskid, answer } = await exp.run(async () => {
      const fit = om.runtime.model('rr-m').fit(X, Y, { epochs });
      const answer = settled(fit);
      const { taskid } = await taskTaken(queue, own.url);
      // as in the report: Redis killed into the fit, back 0.3 s later
      await own.stop();
      await new Promise((r) => setTimeout(r, 300));
      await startRedisServerOn(own.port);
      return { taskid, answer: await answer };
    });
    expect(answer).toEqual({ error: expect.any(TaskLostError) });
    const error = (answer as { error: TaskLostError }).error;
    expect(error).toBeInstanceOf(RuntimeUnavailableError);
    expect(error).toMatchObject({ taskid, status: 'pending' });
    expect(error.message).toContain(`task ${taskid}`);
    expect(error.message).toMatch(/lost[\s\S]*may still run and complete[\s\S]*om\.runtime\.task/);

    const done = await waitFor(
      'the lost task to complete in the store',
      async () => {
        const status = await om.runtime.task(taskid);
        return status.status === 'success' ? status : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, logs: () => pool.logs() },
    );
    expect(done).toMatchObject({
      taskid,
      status: 'success',
      method: 'fit',
      model: 'rr-m',
      experiment: 'restart-running',
      node: 'rr-1',
      attempt: 1,
      result: { epochs },
    });
  });
});

test('Redis lost while a task runs: RuntimeUnavailableError says it may still complete and carries its taskid; om.runtime.task reports the success later', async () => {
  const own = await startRedisServer();
  const queue = 'lost-conn';
  await pool.start(worker('lc-1', queue, own.url));
  const om = client(queue, own.url);
  await om.models.put(new LinearRegression(), 'lc-m');
  const epochs = await linregEpochsFor(8000);
  const exp = om.runtime.experiment('lost-conn');
  const { taskid, answer } = await exp.run(async () => {
    const fit = om.runtime.model('lc-m').fit(X, Y, { epochs });
    const answer = settled(fit);
    const { taskid } = await taskTaken(queue, own.url);
    await own.stop();
    return { taskid, answer: await answer };
  });
  expect(answer).toEqual({ error: expect.any(RuntimeUnavailableError) });
  const error = (answer as { error: RuntimeUnavailableError }).error;
  expect(error.taskid).toBe(taskid);
  expect(error.message).toContain('lost the connection while tasks were waiting');
  expect(error.message).toContain(`task ${taskid} may still run and complete`);
  expect(error.message).toContain(`om.runtime.task('${taskid}')`);

  await startRedisServerOn(own.port);
  const done = await waitFor(
    'the task to complete in the store',
    async () => {
      const status = await om.runtime.task(error.taskid!);
      return status.status === 'success' ? status : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, logs: () => pool.logs() },
  );
  expect(done).toMatchObject({
    taskid,
    status: 'success',
    result: { epochs },
    run: 1,
    experiment: 'lost-conn',
  });
  // another process, which did not issue it, finds it too (in every experiment)
  const other = omega({ store: rt.store });
  opened.push(other);
  expect(await other.runtime.task(taskid)).toEqual(done);
});

test('a second SIGTERM to a worker with a running task ends it within seconds; another worker runs the task and the caller gets the result', async () => {
  const queue = 'twice';
  const first = await pool.start(worker('twice-1', queue));
  const om = client(queue);
  await om.models.put(new LinearRegression(), 'twice-m');
  // still training well after the second signal (as in the report: a 30 s fit)
  const epochs = await linregEpochsFor(15_000);
  const exp = om.runtime.experiment('twice');
  const { taskid, answer } = await exp.run(async () => {
    const fit = om.runtime.model('twice-m').fit(X, Y, { epochs });
    const answer = settled(fit, 60_000);
    const { taskid } = await taskTaken(queue, rt.redis.url);
    // the second worker comes once the first has the task: it can only get it handed back
    await pool.start(worker('twice-2', queue));
    first.signal('SIGTERM');
    await waitFor(
      'the worker to take the first SIGTERM',
      () => /finishing the running tasks/.test(first.stderr()),
      {
        logs: () => first.logs(),
      },
    );
    first.signal('SIGTERM');
    const exit = await settled(first.exited);
    expect({ exit, stderr: first.stderr() }).toEqual({
      exit: { result: { code: 0, signal: null } },
      stderr: expect.stringMatching(/stopping now[\s\S]*stopped/),
    });
    return { taskid, answer: await answer };
  });
  expect(answer).toEqual({ result: expect.objectContaining({ epochs }) });
  const rows = (await exp.data({ run: 'all', event: ['task_call', 'task_success', 'task_failure'] })).filter(
    (r) => r.taskid === taskid,
  );
  expect(rows.map((r) => `${r.event}@${String(r.attempt)}/${r.node}`)).toEqual([
    'task_call@1/twice-1',
    'task_call@2/twice-2',
    'task_success@2/twice-2',
  ]);
});

describe('a database index Redis refuses', () => {
  test('the caller refuses redis://…/99 with a TrackingInputError, and no task runs in database 0', async () => {
    const queue = 'db99';
    // a worker of database 0 on that queue: before, the task went to it
    await pool.start(worker('db0-1', queue));
    const om = client(queue, `${rt.redis.url}/99`);
    await om.models.put(new LinearRegression([3, -2], 1), 'db-m');
    const exp = om.runtime.experiment('db99');
    const answer = await exp.run(() => settled(om.runtime.model('db-m').score(X, Y)));
    expect(answer).toEqual({ error: expect.any(TrackingInputError) });
    const { message } = (answer as { error: Error }).error;
    expect(message).toContain(`runtime URL '${rt.redis.url}/99'`);
    expect(message).toContain('Redis refuses database 99');
    expect(message).toContain('DB index is out of range');
    expect(await exp.data({ run: 'all', event: 'task_call' })).toEqual([]);
    // a database Redis has works
    const ok = client(queue, `${rt.redis.url}/0`);
    expect(await ok.runtime.model('db-m').score(X, Y)).toBeCloseTo(1, 5);
  });

  test('omega-track worker refuses redis://…/99 and exits with 1', async () => {
    const w = new WorkerProcess(worker('db99-w', 'db99-w', `${rt.redis.url}/99`));
    try {
      const exit = await settled(w.exited);
      expect({ exit, stderr: w.stderr() }).toEqual({
        exit: { result: { code: 1, signal: null } },
        stderr: expect.stringContaining('Redis refuses database 99 (ERR DB index is out of range)'),
      });
    } finally {
      await w.kill();
    }
  });
});

describe('results as large as inputs may be', () => {
  test('a result over the cap fails the task with a TaskError saying how to return large results; the worker goes on', async () => {
    const queue = 'big-result';
    await pool.start(worker('big-1', queue));
    const om = client(queue);
    await om.models.put(new LinearRegression([3, -2], 1), 'big-m');
    // 800,000 predictions of ~18 characters: over 8 MiB as JSON, from an input sent by name
    const rows = 800_000;
    const values = new Float64Array(rows * 2).map((_, i) => (i % 1000) / 997);
    await om.datasets.put(values, 'big-x', { attributes: { shape: [rows, 2] } });
    const exp = om.runtime.experiment('big-result');
    const answer = await exp.run(() => settled(om.runtime.model('big-m').predict('big-x'), 60_000));
    // (a result is not shown whole: 800,000 numbers)
    expect(typeof answer === 'object' && 'result' in answer ? 'a result' : answer).toEqual({
      error: expect.any(TaskError),
    });
    const error = (answer as { error: TaskError }).error;
    expect(error.reason).toMatch(
      new RegExp(
        `the predict result is [\\d.]+ MiB, more than the ${MAX_TASK_BYTES / 2 ** 20} MiB a task may carry`,
      ),
    );
    expect(error.reason).toContain('datasets.put(values, name)');
    expect(error.node).toBe('big-1');
    // the run says it failed, not that it succeeded
    const events = (await exp.data({ run: 'all' }))
      .filter((r) => r.taskid === error.taskid)
      .map((r) => r.event);
    expect(events).toEqual(['task_call', 'artifact', 'task_failure']);
    // a smaller one goes through, on the same worker
    await om.datasets.put(values.subarray(0, 2000), 'small-x', { attributes: { shape: [1000, 2] } });
    expect(await om.runtime.model('big-m').predict('small-x')).toHaveLength(1000);
  });

  test('inputs share the cap: one over it is refused before it is sent', async () => {
    const om = client('big-input');
    await om.models.put(new LinearRegression([3, -2], 1), 'in-m');
    const X = new Float64Array(MAX_TASK_BYTES / 8 + 1024);
    const error = await om.runtime
      .model('in-m')
      .predict(X)
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(TrackingInputError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `more than the ${MAX_TASK_BYTES / 2 ** 20} MiB a task may carry through Redis: store X and Y with om\\.datasets\\.put`,
      ),
    );
  });
});

describe('om.runtime.task', () => {
  test('reads a task from the store: a fit with its result, a prediction by its shape, a failure with its error; unknown ids are unknown', async () => {
    // the local runtime records the same events, in this process
    const om = omega({ store: rt.store });
    register(om.registry, om);
    opened.push(om);
    await om.models.put(new LinearRegression([3, -2], 1), 'local-m');
    const exp = om.runtime.experiment('task-status');
    await exp.run(async () => {
      await om.runtime.model('local-m').fit(X, Y, { epochs: 20 });
      await om.runtime.model('local-m').predict(X);
      await om.runtime
        .model('local-m')
        .predict([[1, 2, 3]])
        .catch(() => undefined);
    });
    const calls = await exp.data({ run: 'all', event: 'task_call' });
    const [fit, predict, failed] = await Promise.all(calls.map((c) => om.runtime.task(c.taskid as string)));
    expect(fit).toMatchObject({
      status: 'success',
      method: 'fit',
      model: 'local-m',
      experiment: 'task-status',
      run: 1,
      result: { epochs: 20 },
    });
    expect(predict).toMatchObject({
      status: 'success',
      method: 'predict',
      summary: { type: 'Array', shape: [200] },
    });
    expect(predict).not.toHaveProperty('result');
    expect(failed).toMatchObject({
      status: 'failure',
      method: 'predict',
      error: 'X must have 2 features per row',
    });
    expect(await om.runtime.task('no-such-task')).toEqual({ taskid: 'no-such-task', status: 'unknown' });
    await expect(om.runtime.task('')).rejects.toThrow(TrackingInputError);
  });
});
