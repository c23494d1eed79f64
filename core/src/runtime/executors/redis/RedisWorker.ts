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
    abort: () => worker.close(true),
  };
}
