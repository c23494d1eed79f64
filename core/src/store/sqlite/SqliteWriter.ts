import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { StoreError } from '../../errors/StoreError';
import type { SqliteWrites, WriteOp } from './SqliteWrites';
import { applyWrite } from './SqliteWrites';
import { storeErrorFromReply, toStoreError } from './sqliteErrors';
import { IDLE, RING, RING_SIZE, STOPPED } from './writerState';
import type { WriterConfig, WriterReply, WriterRequest } from './writerState';

/** Requests handed to the thread at once; more wait here (keeps the committed-ring unambiguous). */
const MAX_IN_THREAD = 1024;

/** The compiled worker beside this file; from TypeScript sources (ts-jest), the built one. */
function workerScript(): string {
  const beside = path.join(__dirname, 'sqliteWriterWorker.js');
  if (fs.existsSync(beside)) return beside;
  return path.join(__dirname, '..', '..', '..', 'dist', 'store', 'sqlite', 'sqliteWriterWorker.js');
}

interface Outstanding {
  seq: number;
  write: WriteOp;
  doing: string;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The main thread's side of the writer thread: sends write operations, settles their promises
 * with the answers, keeps the thread alive (ref'd) only while writes are outstanding, and, when
 * the process exits, stops the thread and writes what it did not commit on the caller's
 * connection — exactly those requests, so nothing is lost and nothing is written twice.
 */
export class SqliteWriter {
  private worker: Worker | undefined;
  private readonly shared = new SharedArrayBuffer(4 * (RING + RING_SIZE));
  private readonly state = new Int32Array(this.shared);
  private seq = 0;
  private readonly outstanding = new Map<number, Outstanding>();
  /** Requests not yet handed to the thread (beyond MAX_IN_THREAD), in order. */
  private readonly waiting: Outstanding[] = [];
  private takenOver = false;
  private onDrained: (() => void) | undefined;

  constructor(
    private readonly file: string,
    private readonly busyTimeoutMs: number,
  ) {}

  /** Runs a write on the writer thread; rejects with a StoreError naming the file. */
  submit(write: WriteOp, doing: string): Promise<unknown> {
    if (this.takenOver)
      return Promise.reject(new StoreError('io', this.file, `store ${this.file} is closing`));
    return new Promise((resolve, reject) => {
      const request: Outstanding = { seq: ++this.seq, write, doing, resolve, reject };
      this.outstanding.set(request.seq, request);
      if (this.outstanding.size - this.waiting.length > MAX_IN_THREAD) this.waiting.push(request);
      else this.post(request);
      this.worker?.ref();
    });
  }

  /** Whether writes are under way or waiting. */
  get busy(): boolean {
    return this.outstanding.size > 0;
  }

  /**
   * The process is exiting (no promise can settle any more): stops the thread — waiting at most
   * `waitMs` for a write under way to end — and runs every write it did not commit, in order,
   * on `writes` (the main thread's connection). Errors are collected, never thrown. Idempotent.
   */
  takeOver(writes: SqliteWrites, waitMs: number): Array<{ write: WriteOp; error: StoreError }> {
    if (this.takenOver) return [];
    this.takenOver = true;
    const deadline = Date.now() + waitMs;
    for (;;) {
      const previous = Atomics.compareExchange(this.state, 0, IDLE, STOPPED);
      if (previous !== IDLE && previous !== STOPPED) {
        const left = deadline - Date.now();
        if (left <= 0) break;
        Atomics.wait(this.state, 0, previous, left);
        continue;
      }
      break;
    }
    const failures: Array<{ write: WriteOp; error: StoreError }> = [];
    const requests = [...this.outstanding.values()].sort((a, b) => a.seq - b.seq);
    this.outstanding.clear();
    this.waiting.length = 0;
    for (const r of requests) {
      if (Atomics.load(this.state, RING + (r.seq % RING_SIZE)) === r.seq) continue; // committed
      try {
        applyWrite(writes, r.write);
      } catch (error) {
        failures.push({ write: r.write, error: toStoreError(error, this.file, r.doing) });
      }
    }
    void this.worker?.terminate();
    this.worker = undefined;
    return failures;
  }

  /** Stops the thread once the writes under way are done. */
  async close(): Promise<void> {
    if (this.outstanding.size) await new Promise<void>((resolve) => (this.onDrained = resolve));
    const worker = this.worker;
    this.worker = undefined;
    if (worker) await worker.terminate();
  }

  private post(request: Outstanding): void {
    const message: WriterRequest = { seq: request.seq, write: request.write };
    this.thread().postMessage(message);
  }

  private thread(): Worker {
    if (this.worker) return this.worker;
    const config: WriterConfig = { file: this.file, busyTimeoutMs: this.busyTimeoutMs, shared: this.shared };
    const worker = new Worker(workerScript(), { workerData: config });
    worker.on('message', (reply: WriterReply) => this.settle(reply));
    worker.on('error', (error) => this.fail(worker, error));
    worker.on('exit', () => this.fail(worker, new Error('the writer thread ended')));
    this.worker = worker;
    return worker;
  }

  private settle(reply: WriterReply): void {
    const request = this.outstanding.get(reply.seq);
    if (!request) return;
    this.outstanding.delete(reply.seq);
    const next = this.waiting.shift();
    if (next) this.post(next);
    if (this.outstanding.size === 0) {
      this.worker?.unref();
      this.onDrained?.();
      this.onDrained = undefined;
    }
    if (reply.ok) request.resolve(reply.result);
    else request.reject(storeErrorFromReply(reply.code, reply.message, this.file, request.doing));
  }

  /** The thread died: what it held fails (the callers keep their data and retry on a new one). */
  private fail(worker: Worker, error: unknown): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    const requests = [...this.outstanding.values()];
    this.outstanding.clear();
    this.waiting.length = 0;
    // the ring describes the dead thread's commits; a new thread starts from a clean state
    this.onDrained?.();
    this.onDrained = undefined;
    for (const r of requests) {
      const committed = Atomics.load(this.state, RING + (r.seq % RING_SIZE)) === r.seq;
      // a write the thread committed before it died must not be written again by a retry
      if (committed && r.write.op !== 'startRun') r.resolve(undefined);
      else r.reject(toStoreError(error, this.file, r.doing));
    }
    this.state.fill(0);
  }
}
