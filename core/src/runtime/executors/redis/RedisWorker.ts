import type { Worker } from 'bullmq';
import { describeValue } from '../../../diag/diag';
import { RuntimeUnavailableError } from '../../../errors/RuntimeUnavailableError';
import { TrackingError } from '../../../errors/TrackingError';
import {
  checkDatabase,
  connectTimeoutMs,
  displayUrl,
  loadBullmq,
  redisConnection,
  withTimeout,
} from './redisConnection';

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
  /**
   * Stops within seconds: the running tasks are handed back to the queue (another worker takes
   * them at once, as their next attempt) and their threads ended. With Redis gone they cannot
   * be handed back: another worker takes them over once their lock expires.
   */
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
      worker.waitUntilReady().then(async () => checkDatabase(await worker.client, opts.url)),
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
    abort: () => abort(worker),
  };
}

/** The parts of a BullMQ Worker (protected or private in its types) that abort() works with. */
interface WorkerInternals {
  connection?: { close(force?: boolean): Promise<void> };
  blockingConnection?: { close(force?: boolean): Promise<void> };
  lockManager?: { trackedJobs?: Map<string, { token: string }>; close(): Promise<void> | void };
  stalledCheckStopper?: () => void;
  childPool?: { clean(): Promise<void> };
}

/** Resolves with `promise`, or undefined after `ms`: a step of abort() that must not hold it up. */
function soon<T>(promise: Promise<T> | undefined, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise?.catch(() => undefined),
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms))),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Stops a worker within seconds, whatever its close is doing (BullMQ's `close(true)` returns a
 * close already under way, the graceful one of the first SIGTERM that waits for the running
 * tasks, and a close waits for Redis without end when Redis has gone away):
 * 1. no new tasks (a close is under way), no more lock renewals;
 * 2. each running task goes back to the queue's wait list, its lock released, so another worker
 *    takes it now (a Redis gone: it stays active, and is taken over once its lock expires);
 * 3. the connections close before the task threads end: BullMQ then records nothing for the
 *    jobs those threads ran. (Before, the threads ended first, and BullMQ's moveToFailed on a
 *    connection disconnected underneath retried without a pause for ever, the process alive at
 *    100 % CPU: a connection error is one it retries, and a closing worker does not wait.)
 * 4. the task threads end.
 */
async function abort(worker: Worker): Promise<void> {
  const internals = worker as unknown as WorkerInternals;
  if (!worker.closing) void worker.close().catch(() => undefined);
  const held = [...(internals.lockManager?.trackedJobs?.entries() ?? [])].map(([id, { token }]) => ({
    id,
    token,
  }));
  await soon(Promise.resolve(internals.lockManager?.close()), 200);
  internals.stalledCheckStopper?.();
  const { Job } = loadBullmq();
  await Promise.all(
    held.map(({ id, token }) =>
      soon(
        (async () => {
          const job = await Job.fromId(worker, id);
          await job?.moveToWait(token);
        })(),
        1000,
      ),
    ),
  );
  await Promise.all(
    [internals.connection, internals.blockingConnection].map((connection) =>
      soon(connection?.close(true), 1000),
    ),
  );
  await soon(internals.childPool?.clean(), 3000);
}
