import path from 'node:path';
import type { Omega } from 'omega-track';
import { omega } from 'omega-track';
import { startRedisServer, stopAllRedisServers } from './redisServer';
import type { RedisServer } from './redisServer';
import { WorkerPool, loadLinreg } from './runtimeWorkers';
import { tempDir } from './tmp';

/** What a Redis runtime suite shares: its redis-server, its store, its workers and callers. */
export interface RedisRuntimeSuite {
  /** The suite's redis-server (set once beforeAll ran). */
  readonly redis: RedisServer;
  /** The suite's embedded store URL, shared by callers and workers. */
  readonly store: string;
  /** Worker processes, stopped after the suite. */
  readonly pool: WorkerPool;
  /** Every omega() of the suite, closed after it. */
  readonly opened: Omega[];
  /** The suite's own omega() on the store, sending tasks to `queue` at `url` (default: its Redis). */
  client: (queue: string, url?: string) => Omega;
}

/**
 * Sets up a suite of the runtime over Redis: a redis-server and a store file before it; after
 * it, the workers stopped, the callers closed (close() waits for tasks in flight, which after a
 * failed test may never finish: 5 s at most) and everything removed.
 */
export function redisRuntimeSuite(prefix: string): RedisRuntimeSuite {
  const { register } = loadLinreg();
  const pool = new WorkerPool();
  const opened: Omega[] = [];
  let redis: RedisServer | undefined;
  let tmp: ReturnType<typeof tempDir> | undefined;

  beforeAll(async () => {
    redis = await startRedisServer();
    tmp = tempDir(prefix);
  });

  afterAll(async () => {
    try {
      await pool.stopAll();
      await Promise.race([
        Promise.allSettled(opened.map((om) => om.close())),
        new Promise((r) => setTimeout(r, 5000).unref()),
      ]);
    } finally {
      await stopAllRedisServers();
      tmp?.cleanup();
    }
  });

  const suite: RedisRuntimeSuite = {
    get redis(): RedisServer {
      if (!redis) throw new Error('the suite has not started yet');
      return redis;
    },
    get store(): string {
      if (!tmp) throw new Error('the suite has not started yet');
      return `sqlite:${path.join(tmp.dir, 'omega.db')}`;
    },
    pool,
    opened,
    client: (queue, url = suite.redis.url) => {
      const om = omega({ store: suite.store, runtime: url, runtimeQueue: queue });
      register(om.registry, om);
      opened.push(om);
      return om;
    },
  };
  return suite;
}
