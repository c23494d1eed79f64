import type { Worker } from 'bullmq';
import { describeValue } from '../../../diag/diag';
import { RuntimeUnavailableError } from '../../../errors/RuntimeUnavailableError';
import { TrackingError } from '../../../errors/TrackingError';
import { connectTimeoutMs, displayUrl, loadBullmq, redisConnection, withTimeout } from './redisConnection';

/** Options of `startRedisWorker` (and of `omega-track worker`). */
export interface RedisWorkerOptions {
  /** `redis://…` of the queue. */
  url: string;
  queue: string;
  /** Tasks run at once in this process, each in a worker thread of its own (default 1). */
  concurrency?: number;
  /**
   * The module that runs one job in a worker thread (BullMQ's sandboxed processor): its default
   * export calls `processRedisJob`. `omega-track` ships one that uses `omega()`.
   */
  processorFile: string;
  /**
   * How long a worker's lock on a task lasts without renewal (default 30 s, BullMQ's): a worker
   * that dies is noticed after this. The lock is renewed every half of it from this process's
   * main thread, which training in the task's own thread cannot starve.
   */
  lockDurationMs?: number;
  /** How often workers look for tasks whose worker died (default 30 s, BullMQ's). */
  stalledIntervalMs?: number;
  /** How often a task may be taken over from a dead worker before it fails (default 1, BullMQ's). */
  maxStalledCount?: number;
}

/** A running worker. */
export interface RedisWorkerHandle {
  readonly worker: Worker;
  /** Takes no new tasks, lets the running ones finish, and closes the connections. */
  close(): Promise<void>;
  /** Stops at once: running tasks are abandoned, and another worker takes them over once their lock expires. */
  abort(): Promise<void>;
}

/**
 * Starts a BullMQ worker on the queue: each task runs in a sandboxed worker thread (the
 * processor file), so CPU-bound training never holds up the renewal of the task's lock, and a
 * worker killed mid-task leaves its task to another worker (BullMQ's stalled-job recovery).
 * Rejects with RuntimeUnavailableError when Redis does not answer within the connect timeout.
 */
export async function startRedisWorker(opts: RedisWorkerOptions): Promise<RedisWorkerHandle> {
  const { Worker } = loadBullmq();
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1)
    throw new TrackingError(
      `concurrency must be a whole number of at least 1, got ${String(opts.concurrency)}`,
    );
  const url = displayUrl(opts.url);
  const worker = new Worker(opts.queue, opts.processorFile, {
    connection: redisConnection(opts.url),
    concurrency,
    useWorkerThreads: true,
    ...(opts.lockDurationMs ? { lockDuration: opts.lockDurationMs } : {}),
    ...(opts.stalledIntervalMs ? { stalledInterval: opts.stalledIntervalMs } : {}),
    ...(opts.maxStalledCount !== undefined ? { maxStalledCount: opts.maxStalledCount } : {}),
    autorun: false,
  });
  let lastError: string | undefined;
  worker.on('error', (error) => {
    lastError = describeValue(error);
  });
  try {
    await withTimeout(
      worker.waitUntilReady(),
      connectTimeoutMs(),
      () =>
        new RuntimeUnavailableError(
          url,
          `no connection within ${connectTimeoutMs()} ms${lastError ? `; ${lastError}` : ''}`,
        ),
    );
  } catch (error) {
    await worker.close(true).catch(() => undefined);
    throw error;
  }
  void worker.run().catch((error: unknown) => {
    lastError = describeValue(error);
  });
  return {
    worker,
    close: () => worker.close(),
    abort: async () => {
      const closing = worker.close(true).then(
        () => true,
        () => true,
      );
      let timer: NodeJS.Timeout | undefined;
      const closed = await Promise.race([
        closing,
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), connectTimeoutMs()))),
      ]).finally(() => clearTimeout(timer));
      if (!closed) await tearDown(worker);
    },
  };
}

/** The parts of a BullMQ Worker (protected or private in its types) that keep a process alive. */
interface WorkerInternals {
  connection?: { client: Promise<{ disconnect(): void }> };
  blockingConnection?: { client: Promise<{ disconnect(): void }> };
  lockManager?: { close(): Promise<void> | void };
  stalledCheckStopper?: () => void;
  childPool?: { clean(): Promise<void> };
}

/**
 * Stops a worker whose close does not finish. BullMQ's `close(true)` returns a close already
 * under way (the graceful one of the first SIGTERM, which waits for running tasks), and a close
 * waits for Redis without end when Redis has gone away. Here the task threads are terminated
 * and the connections' clients disconnected (that also ends their reconnecting), so nothing
 * keeps the process alive; the tasks left running go to another worker once their lock expires.
 */
async function tearDown(worker: Worker): Promise<void> {
  const internals = worker as unknown as WorkerInternals;
  // a client that never connected has nothing to disconnect: its promise may never settle
  const soon = <T>(promise: Promise<T> | undefined): Promise<T | undefined> =>
    Promise.race([
      promise,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 200).unref()),
    ]);
  await Promise.allSettled([
    ...[internals.connection, internals.blockingConnection].map(async (connection) =>
      (await soon(connection?.client))?.disconnect(),
    ),
    soon(Promise.resolve(internals.lockManager?.close())),
    soon(internals.childPool?.clean()),
  ]);
  internals.stalledCheckStopper?.();
}
