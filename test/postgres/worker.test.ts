/**
 * The runtime over Redis with the PostgreSQL store (issue 21): real `omega-track worker`
 * processes started with `--store postgres://…`, the caller's omega() on the same database; the
 * workers' task events land in the caller's run.
 */
import type { Omega, TrackingEvent } from 'omega-track';
import { omega, setDiagWriter } from 'omega-track';
import { freshDatabaseName, removeAllPostgresServers, startPostgresServer } from '../helpers/postgresServer';
import { startRedisServer, stopAllRedisServers } from '../helpers/redisServer';
import type { RedisServer } from '../helpers/redisServer';
import { LINREG_MODULE, WorkerPool, loadLinreg } from '../helpers/runtimeWorkers';

jest.setTimeout(90_000);
setDiagWriter(() => undefined);

const QUEUE = 'pg-worker-test';
const NODES = ['node-a', 'node-b'];

const { LinearRegression, register } = loadLinreg();
const pool = new WorkerPool();
let redis: RedisServer;
let om: Omega;

/** y = 1 + 2·x0 + 0.5·x1 exactly: the stored model scores R² = 1 on it. */
const X = [
  [1, 2],
  [3, 4],
  [5, 6],
  [7, 9],
];
const Y = X.map(([a, b]) => 1 + 2 * a + 0.5 * b);

beforeAll(async () => {
  const [pg, r] = await Promise.all([startPostgresServer(), startRedisServer()]);
  redis = r;
  const store = await pg.createDatabase(freshDatabaseName());
  om = omega({ store, runtime: redis.url, runtimeQueue: QUEUE });
  register(om.registry, om);
  await om.models.put(new LinearRegression([2, 0.5], 1), 'linreg');
  await pool.startAll(
    NODES.map((node) => ({ node, url: redis.url, queue: QUEUE, store, require: [LINREG_MODULE] })),
  );
});

afterAll(async () => {
  try {
    await pool.stopAll();
    await Promise.race([om?.close(), new Promise((r) => setTimeout(r, 5000).unref())]);
  } finally {
    await stopAllRedisServers();
    await removeAllPostgresServers();
  }
});

test('2 workers on a postgres:// store, 10 score tasks in one run: 10 results, each task’s events in the caller’s run', async () => {
  const exp = om.runtime.experiment('scored');
  const results = await exp.run(() =>
    Promise.all(Array.from({ length: 10 }, () => om.runtime.model('linreg').score(X, Y))),
  );
  expect(results).toHaveLength(10);
  for (const r of results) expect(r).toBeCloseTo(1, 10);
  const rows = await exp.data({ run: 'all' });
  expect(new Set(rows.map((r) => r.run))).toEqual(new Set([1]));
  const tasks = new Map<string, TrackingEvent[]>();
  for (const row of rows)
    if (row.taskid !== undefined)
      tasks.set(row.taskid as string, [...(tasks.get(row.taskid as string) ?? []), row]);
  expect(tasks.size).toBe(10);
  for (const events of tasks.values()) {
    expect(events.map((e) => e.event).sort()).toEqual(['artifact', 'metric', 'task_call', 'task_success']);
    expect(NODES).toContain(events[0].node);
  }
});
