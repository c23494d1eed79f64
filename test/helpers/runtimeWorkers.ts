import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

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
