import type { Queue, QueueEvents } from 'bullmq';
import { describeValue } from '../../../diag/diag';
import { RuntimeUnavailableError } from '../../../errors/RuntimeUnavailableError';
import { TaskError } from '../../../errors/TaskError';
import { TaskLostError } from '../../../errors/TaskLostError';
import { TrackingError } from '../../../errors/TrackingError';
import { TrackingInputError } from '../../../errors/TrackingInputError';
import type { TaskStatus } from '../../taskStatus';
import { checkTaskInputSize, decodeWire, encodeWire } from '../../taskWire';
import type { TaskOutcome, TaskRequest } from '../../types';
import type { TaskExecutor } from '../TaskExecutor';
import {
  checkDatabase,
  connectTimeoutMs,
  displayUrl,
  loadBullmq,
  redisConnection,
  withTimeout,
} from './redisConnection';

/** How many tasks in flight the watchdog asks the queue about per second (a Lua call each). */
const CHECKS_PER_TICK = 50;
/** How long reading a lost task's outcome from the store may take before the caller is told it is lost. */
const LOOKUP_TIMEOUT_MS = 10_000;

/** How long finished jobs stay in Redis (for inspection with BullMQ tools). */
const KEEP_COMPLETED = { age: 3600, count: 10_000 };
const KEEP_FAILED = { age: 7 * 24 * 3600 };

interface Pending {
  task: TaskRequest;
  /** The queue has the job (add() answered): from then on, a job it no longer knows was lost. */
  added?: boolean;
  resolve: (outcome: TaskOutcome) => void;
  reject: (error: Error) => void;
  /** Settles with the task (never rejects): what close() waits for. */
  settled?: Promise<unknown>;
}

/** What a worker reports of a running task through the job's progress. */
export interface TaskProgress {
  node: string;
  attempt: number;
}

/** Options of a RedisExecutor. */
export interface RedisExecutorOptions {
  /**
   * Reads a task's outcome from the store (`om.runtime.task`): how a task the queue lost (Redis
   * restarted empty) is settled with the result its worker recorded. Without it, such a task
   * rejects with a TaskLostError.
   */
  lookup?: (task: TaskRequest) => Promise<TaskStatus>;
}

/**
 * Sends tasks to a BullMQ queue on Redis, where `omega-track worker` processes take them, and
 * waits for their outcome through the queue's events. Connecting, and reaching Redis at all,
 * fail within OMEGA_RUNTIME_CONNECT_TIMEOUT_MS (default 3 s) with a RuntimeUnavailableError;
 * losing Redis while tasks are in flight rejects them after as long again, with their taskid
 * (they may still complete). A watchdog asks the queue about the tasks in flight: a job that
 * finished unannounced settles from the job, and one the queue no longer knows (Redis restarted
 * empty) settles from the store (`lookup`) or with a TaskLostError. Every task settles.
 */
export class RedisExecutor implements TaskExecutor {
  readonly name: string;
  private connected: Promise<{ queue: Queue; events: QueueEvents }> | undefined;
  private readonly pending = new Map<string, Pending>();
  /** The last fit sent per model, settled or not (see submit). */
  private readonly fits = new Map<string, Promise<void>>();
  private watchdog: NodeJS.Timeout | undefined;
  private lastError: string | undefined;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly queueName: string,
    private readonly opts: RedisExecutorOptions = {},
  ) {
    redisConnection(url); // a malformed URL is reported here, not at the first task
    this.name = displayUrl(url);
  }

  /**
   * Fits of one model from this process go one after the other, and later tasks on that model
   * wait for the fit before them: each fit starts from the model the one before stored (as
   * the local executor runs them), instead of workers training copies side by side and the
   * last to finish overwriting the others. Other tasks on a model run side by side.
   */
  submit(task: TaskRequest): Promise<TaskOutcome> {
    const before = this.fits.get(task.model) ?? Promise.resolve();
    const sent = before.then(() => this.send(task));
    if (task.method === 'fit') {
      const settled = sent.then(
        () => undefined,
        () => undefined,
      );
      this.fits.set(task.model, settled);
      void settled.then(() => {
        if (this.fits.get(task.model) === settled) this.fits.delete(task.model);
      });
    }
    return sent;
  }

  private async send(task: TaskRequest): Promise<TaskOutcome> {
    if (this.closed) throw new TrackingError(`the runtime at ${this.name} is closed`);
    let wire: string;
    try {
      wire = encodeWire(task);
    } catch (error) {
      // a BigInt, a cycle: nothing that JSON can carry
      throw new TrackingInputError(`this ${task.method} task cannot be sent: ${describeValue(error)}`);
    }
    checkTaskInputSize(wire, task.method);
    const { queue } = await this.connect();
    const entry = { task } as Pending;
    const done = new Promise<TaskOutcome>((resolve, reject) => {
      entry.resolve = resolve;
      entry.reject = reject;
    });
    entry.settled = done.catch(() => undefined);
    this.pending.set(task.taskid, entry);
    this.watch();
    try {
      await withTimeout(
        queue.add(
          task.method,
          { wire },
          { jobId: task.taskid, removeOnComplete: KEEP_COMPLETED, removeOnFail: KEEP_FAILED },
        ),
        connectTimeoutMs(),
        // the add waits in the client for Redis to come back, and may still land: it may still run
        () => this.unavailable('no answer to adding the task', task.taskid),
      );
      entry.added = true;
    } catch (error) {
      this.pending.delete(task.taskid);
      throw error instanceof TrackingError ? error : this.unavailable(describeValue(error), task.taskid);
    }
    return done;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    // fits waiting for an earlier fit are sent before the door closes
    await Promise.all([...this.fits.values()]);
    this.closed = true;
    // tasks in flight are waited for: their results may still come
    await Promise.all([...this.pending.values()].map((p) => p.settled ?? Promise.resolve()));
    clearInterval(this.watchdog);
    const connected = this.connected;
    this.connected = undefined;
    if (!connected) return;
    const { queue, events } = await connected.catch(() => ({ queue: undefined, events: undefined }));
    if (queue && events) await closeConnected(queue, events);
  }

  private connect(): Promise<{ queue: Queue; events: QueueEvents }> {
    return (this.connected ??= this.open().catch((error: unknown) => {
      this.connected = undefined;
      throw error;
    }));
  }

  private async open(): Promise<{ queue: Queue; events: QueueEvents }> {
    const { Queue, QueueEvents } = loadBullmq();
    const connection = redisConnection(this.url);
    const queue = new Queue(this.queueName, { connection });
    const events = new QueueEvents(this.queueName, { connection });
    // without listeners, an 'error' event would throw; the watchdog reports lasting trouble
    const onError = (error: Error): void => {
      this.lastError = error.message || (error as { code?: string }).code || String(error);
    };
    queue.on('error', onError);
    events.on('error', onError);
    events.on('completed', ({ jobId, returnvalue }) => this.completed(jobId, returnvalue));
    events.on('failed', ({ jobId, failedReason }) => void this.failed(jobId, failedReason));
    try {
      await withTimeout(
        Promise.all([queue.waitUntilReady(), events.waitUntilReady()]),
        connectTimeoutMs(),
        () => this.unavailable(`no connection within ${connectTimeoutMs()} ms`),
      );
    } catch (error) {
      await closeUnready(queue, events);
      throw error instanceof TrackingError ? error : this.unavailable(describeValue(error));
    }
    try {
      await withTimeout(checkDatabase(await queue.client, this.url), connectTimeoutMs(), () =>
        this.unavailable(`no answer to selecting the database`),
      );
    } catch (error) {
      // connected: closed as such (a forced close leaves QueueEvents retrying its reads)
      await closeConnected(queue, events);
      throw error instanceof TrackingError ? error : this.unavailable(describeValue(error));
    }
    return { queue, events };
  }

  private completed(jobId: string, returnvalue: unknown): void {
    const p = this.pending.get(jobId);
    if (!p) return;
    this.pending.delete(jobId);
    try {
      const outcome = (
        typeof returnvalue === 'string' ? decodeWire(returnvalue) : returnvalue
      ) as TaskOutcome;
      p.resolve(outcome);
    } catch (error) {
      p.reject(TaskError.of(error, { taskid: jobId, method: p.task.method, model: p.task.model }));
    }
  }

  /** A failed job: the worker's message, with the node and attempt it reported while it ran. */
  private async failed(jobId: string, failedReason: string): Promise<void> {
    const p = this.pending.get(jobId);
    if (!p) return;
    this.pending.delete(jobId);
    let progress: Partial<TaskProgress> = {};
    try {
      // a Redis gone meanwhile would keep the caller waiting for the details without end
      const job = await withTimeout(
        this.connect().then(({ queue }) => queue.getJob(jobId)),
        connectTimeoutMs(),
        () => new Error('no answer'),
      );
      if (job && typeof job.progress === 'object') progress = job.progress;
      if (job && progress.attempt === undefined) progress.attempt = job.attemptsStarted;
    } catch {
      // the failure is reported all the same, without where it happened
    }
    p.reject(
      new TaskError(failedReason || 'the worker gave no reason', {
        taskid: jobId,
        method: p.task.method,
        model: p.task.model,
        node: progress.node,
        attempt: progress.attempt,
      }),
    );
  }

  /**
   * While tasks are in flight, asks Redis every second for the queue length and for the jobs of
   * a few tasks in flight (CHECKS_PER_TICK, in turn). When Redis has not answered for the connect
   * timeout, the tasks waiting are rejected rather than left hanging; a job that finished without
   * its event reaching us settles from the job; a job the queue no longer knows (a Redis that
   * restarted within the connect timeout answers, but empty) settles from the store.
   */
  private watch(): void {
    if (this.watchdog) return;
    let failingSince: number | undefined;
    let busy = false;
    this.watchdog = setInterval(() => {
      if (this.pending.size === 0) {
        clearInterval(this.watchdog);
        this.watchdog = undefined;
        return;
      }
      if (busy || !this.connected) return;
      busy = true;
      void this.connected
        .then(async ({ queue }) => {
          await withTimeout(queue.count(), 1000, () => new Error('no answer from Redis'));
          failingSince = undefined;
          await this.reconcile(queue);
        })
        .catch((error: unknown) => {
          failingSince ??= Date.now();
          if (Date.now() - failingSince < connectTimeoutMs()) return;
          const reason = `lost the connection while tasks were waiting (${this.lastError ?? describeValue(error)})`;
          for (const [id, p] of this.pending) {
            this.pending.delete(id);
            p.reject(this.unavailable(reason, id));
          }
        })
        .finally(() => {
          busy = false;
        });
    }, 1000);
    this.watchdog.unref();
  }

  /** Asks the queue about the jobs of the tasks in flight longest unasked, and settles those that ended. */
  private async reconcile(queue: Queue): Promise<void> {
    const batch: Array<[string, Pending]> = [];
    for (const [id, p] of this.pending) {
      if (batch.length === CHECKS_PER_TICK) break;
      if (p.added) batch.push([id, p]);
    }
    // asked ones go to the back of the map, so with many in flight each is asked in turn
    for (const [id, p] of batch) {
      this.pending.delete(id);
      this.pending.set(id, p);
    }
    await Promise.all(
      batch.map(async ([id, p]) => {
        const state = await withTimeout(queue.getJobState(id), 1000, () => new Error('no answer from Redis'));
        if (this.pending.get(id) !== p) return; // its event came meanwhile
        if (state === 'unknown') return this.lost(id, p);
        if (state !== 'completed' && state !== 'failed') return;
        const job = await withTimeout(queue.getJob(id), 1000, () => new Error('no answer from Redis'));
        if (!job) return this.lost(id, p);
        if (state === 'completed') this.completed(id, job.returnvalue);
        else await this.failed(id, job.failedReason);
      }),
    );
  }

  /**
   * Settles a task whose job the queue no longer has: with its outcome as the store has it (the
   * worker writes it before the job completes), else with a TaskLostError carrying its taskid.
   */
  private async lost(id: string, p: Pending): Promise<void> {
    if (this.pending.get(id) !== p) return;
    this.pending.delete(id);
    let stored: TaskStatus = { taskid: id, status: 'unknown' };
    if (this.opts.lookup)
      stored = await withTimeout(
        this.opts.lookup(p.task),
        LOOKUP_TIMEOUT_MS,
        () => new Error('no answer'),
      ).catch(() => stored);
    switch (stored.status) {
      case 'success':
        // a result the store keeps only as a summary (a prediction) is lost with the job
        if ('result' in stored)
          return p.resolve({
            result: stored.result,
            taskid: id,
            node: stored.node ?? '',
            attempt: stored.attempt ?? 1,
          });
        return p.reject(new TaskLostError(this.name, id, 'success', p.task));
      case 'failure':
        return p.reject(
          new TaskError(stored.error ?? 'the worker gave no reason', {
            taskid: id,
            method: p.task.method,
            model: p.task.model,
            node: stored.node,
            attempt: stored.attempt,
          }),
        );
      default:
        return p.reject(new TaskLostError(this.name, id, stored.status, p.task));
    }
  }

  /** Redis did not answer; `taskid` when a task was (or may have been) handed over: it may still run. */
  private unavailable(reason: string, taskid?: string): RuntimeUnavailableError {
    const detail =
      this.lastError && !reason.includes(this.lastError) ? `${reason}; ${this.lastError}` : reason;
    return new RuntimeUnavailableError(this.name, detail, taskid);
  }
}

/**
 * Closes a Queue and QueueEvents whose connection never became ready. BullMQ's `disconnect()`
 * and `QueueEvents.close()` first wait for that connection, that is forever when Redis cannot be
 * reached, and its client would go on reconnecting and keep the process alive. Closing the
 * underlying connection with `force` disconnects the client without waiting for it.
 */
async function closeUnready(...parts: Array<Queue | QueueEvents>): Promise<void> {
  await Promise.allSettled(
    parts.map((part) => {
      // `connection` is BullMQ's protected RedisConnection (QueueBase); close(true) is its forced close
      const connection = (part as unknown as { connection?: { close(force?: boolean): Promise<void> } })
        .connection;
      return typeof connection?.close === 'function' ? connection.close(true) : part.close();
    }),
  );
}

/**
 * Closes a Queue and QueueEvents that were connected. A graceful close sends QUIT, which waits
 * forever for a Redis that has gone away (BullMQ's connections retry every command without
 * end). After the connect timeout their clients are disconnected instead: that stops the
 * reconnecting, so nothing keeps the process alive, but ioredis leaves the QUIT of a client that
 * was between reconnects unanswered, so the graceful close is not waited for any longer.
 */
async function closeConnected(queue: Queue, events: QueueEvents): Promise<void> {
  const graceful = Promise.allSettled([events.close(), queue.close()]);
  let timer: NodeJS.Timeout | undefined;
  const lost = await Promise.race([
    graceful.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), connectTimeoutMs()))),
  ]).finally(() => clearTimeout(timer));
  if (!lost) return;
  await Promise.allSettled([queue, events].map(async (part) => (await part.client).disconnect()));
}
