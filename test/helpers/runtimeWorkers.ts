import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Omega, ProviderRegistry } from 'omega-track';

const ROOT = path.join(__dirname, '..', '..');
/** The CLI as users run it: the worker processes use the built dist (`npx tsc -b` first). */
const CLI_BIN = path.join(ROOT, 'cli', 'bin', 'omega-track.js');
const BUILT = [
  path.join(ROOT, 'cli', 'dist', 'bin.js'),
  path.join(ROOT, 'cli', 'dist', 'runtime', 'taskProcessor.js'),
];
/** The example custom backend, built: what `--require` loads in the workers. */
export const LINREG_MODULE = path.join(ROOT, 'examples', 'dist', 'runtime', 'linearRegression.js');

/** How to start one `omega-track worker`. */
export interface WorkerOptions {
  /** The node name (OMEGA_NODE), stamped on the events of its tasks. */
  node: string;
  /** `redis://…` */
  url: string;
  queue: string;
  /** `sqlite:/path/omega.db`, shared with the test's own omega(). */
  store: string;
  concurrency?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  /** Modules for `--require` (default: the example linear-regression backend). */
  require?: string[];
  env?: NodeJS.ProcessEnv;
}

/** How a worker process ended. */
export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running `omega-track worker` process. */
export class WorkerProcess {
  readonly child: ChildProcess;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<WorkerExit>;
  private err = '';
  private out = '';

  constructor(readonly opts: WorkerOptions) {
    for (const file of BUILT)
      if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npx tsc -b\` first`);
    const args = [
      CLI_BIN,
      'worker',
      '--runtime',
      opts.url,
      '--queue',
      opts.queue,
      '--store',
      opts.store,
      '--concurrency',
      String(opts.concurrency ?? 1),
    ];
    if (opts.lockDurationMs !== undefined) args.push('--lock-duration', String(opts.lockDurationMs));
    if (opts.stalledIntervalMs !== undefined) args.push('--stalled-interval', String(opts.stalledIntervalMs));
    for (const mod of opts.require ?? [LINREG_MODULE]) args.push('--require', mod);
    this.child = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...opts.env, OMEGA_NODE: opts.node },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.err += d.toString()));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
      this.child.once('error', (error) => {
        this.err += `\n(spawn failed: ${error.message})`;
        resolve({ code: null, signal: null });
      });
    });
  }

  get node(): string {
    return this.opts.node;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** What the worker printed on stderr so far. */
  stderr(): string {
    return this.err;
  }

  /** Both streams, labelled, for failure messages. */
  logs(): string {
    const out = this.out.trim() ? `\n  stdout:\n${indent(this.out)}` : '';
    return `worker ${this.node} (pid ${this.pid}):\n  stderr:\n${indent(this.err)}${out}`;
  }

  running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Resolves once the worker printed its ready line ("omega-track worker: node NAME, …"); rejects
   * with its output when it exits first or takes longer than `timeoutMs`.
   */
  async ready(timeoutMs = 30_000): Promise<this> {
    const line = `omega-track worker: node ${this.node},`;
    const deadline = Date.now() + timeoutMs;
    while (!this.err.includes(line)) {
      if (!this.running()) throw new Error(`the worker exited before it was ready\n${this.logs()}`);
      if (Date.now() > deadline)
        throw new Error(`the worker was not ready within ${timeoutMs} ms\n${this.logs()}`);
      await new Promise((r) => setTimeout(r, 25));
    }
    return this;
  }

  /** Sends `signal` (SIGTERM: the worker finishes its tasks and exits; SIGKILL: it dies at once). */
  signal(signal: NodeJS.Signals): void {
    if (this.running()) this.child.kill(signal);
  }

  /** SIGKILL, and resolves once the process is gone. */
  async kill(): Promise<WorkerExit> {
    this.signal('SIGKILL');
    return this.exited;
  }
}

function indent(text: string): string {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
}

/** The worker processes of a test file: started through it, all killed by `stopAll()` in afterAll. */
export class WorkerPool {
  private readonly workers: WorkerProcess[] = [];

  /** Starts a worker and waits for its ready line. */
  async start(opts: WorkerOptions): Promise<WorkerProcess> {
    const worker = new WorkerProcess(opts);
    this.workers.push(worker);
    return worker.ready();
  }

  /** Starts several at once (they load in parallel) and waits for all. */
  startAll(opts: WorkerOptions[]): Promise<WorkerProcess[]> {
    return Promise.all(opts.map((o) => this.start(o)));
  }

  /** The output of every worker started, for failure messages. */
  logs(): string {
    return this.workers.map((w) => w.logs()).join('\n');
  }

  /**
   * Kills every worker still running (SIGKILL: after a test, nothing they might still do matters,
   * and a worker waiting on a stopped Redis would not exit on SIGTERM soon).
   */
  async stopAll(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.kill()));
  }
}

/**
 * Polls `check` until it returns a value other than undefined/false, and resolves with it; fails
 * after `timeoutMs` with `what` and the workers' output (a wait for a condition, never a timing
 * assertion).
 */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  opts: { timeoutMs?: number; intervalMs?: number; logs?: () => string } = {},
): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${opts.logs ? `\n${opts.logs()}` : ''}`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 50));
  }
}

/** The example backend's exports the tests use (loaded from its build, as the workers load it). */
export interface LinregModule {
  LinearRegression: new (weights?: number[], bias?: number) => { weights: number[]; bias: number };
  LinearRegressionBackend: new (
    model: unknown,
    context: Record<string, unknown>,
  ) => { fit(X: unknown, Y: unknown, opts: Record<string, unknown>): Promise<unknown> };
  register: (registry: ProviderRegistry, om: Omega) => void;
}

/**
 * The example linear-regression backend, required from its build like the workers' `--require`
 * (under jest its `omega-track` import maps to the sources, so it registers with the test's omega()).
 */
export function loadLinreg(): LinregModule {
  if (!fs.existsSync(LINREG_MODULE)) throw new Error(`${LINREG_MODULE} is missing: run \`npx tsc -b\` first`);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(LINREG_MODULE) as LinregModule;
}

/** Training data for the linear regression: y = 1 + 3·x0 − 2·x1, 200 rows. */
export function linregData(): { X: number[][]; Y: number[] } {
  const X = Array.from({ length: 200 }, (_, i) => [i / 200, (i % 7) / 7]);
  return { X, Y: X.map(([a, b]) => 1 + 3 * a - 2 * b) };
}

/**
 * How many epochs of the example fit on `linregData()` take about `ms` here, measured in this
 * process: the tests that need a task still running when they act (kill, SIGTERM, outlast the
 * lock) size it to the machine instead of guessing, so a fast machine does not finish early.
 */
export async function linregEpochsFor(ms: number): Promise<number> {
  const { LinearRegressionBackend } = loadLinreg();
  const { X, Y } = linregData();
  // a backend outside any task: untracked, nothing to log to
  const backend = new LinearRegressionBackend(undefined, { tracked: false });
  const probe = 20_000;
  let elapsed = Infinity;
  for (let i = 0; i < 3; i++) {
    // the first rounds warm the JIT up; the fastest round is what an idle worker thread does
    const t0 = performance.now();
    await backend.fit({ values: X }, { values: Y }, { epochs: probe });
    elapsed = Math.min(elapsed, performance.now() - t0);
  }
  // whole thousands: the example logs its loss every tenth of the epochs, 10 times exactly
  return Math.max(probe, Math.round((probe * ms) / Math.max(elapsed, 1) / 1000) * 1000);
}

/** A task a worker is running right now, as BullMQ has it in Redis. */
export interface ActiveTask {
  taskid: string;
  /** What the worker reported when it took the task (processRedisJob's job progress). */
  node?: string;
  attempt?: number;
}

/**
 * The queue's active jobs and the node and attempt each worker reported, read from Redis with
 * BullMQ: how a test knows a task is running (and where) even while the worker's task thread is
 * too busy training to write events.
 */
export async function activeTasks(url: string, queue: string): Promise<ActiveTask[]> {
  const { Queue } = await import('bullmq');
  const { port, hostname } = new URL(url);
  const q = new Queue(queue, { connection: { host: hostname, port: Number(port) } });
  try {
    const jobs = await q.getJobs(['active']);
    return jobs.map((job) => {
      const progress = (typeof job.progress === 'object' ? job.progress : {}) as Partial<ActiveTask>;
      return { taskid: String(job.id), node: progress.node, attempt: progress.attempt };
    });
  } finally {
    await q.close();
  }
}
