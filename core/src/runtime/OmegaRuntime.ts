import { env } from '../process/env';
// exp.sweep: installed with the runtime (Node), out of the page's bundle
import '../sweep/installSweep';
import { TrackingError } from '../errors/TrackingError';
import { TrackingInputError } from '../errors/TrackingInputError';
import type { ExperimentOptions } from '../experiments/ExperimentBackend';
import type { Experiment } from '../Omega';
import type { TrackingProvider } from '../providers/TrackingProvider';
import type { ProviderTypes } from '../registry/ProviderRegistry';
import { redactUrls } from '../diag/diag';
import { LocalExecutor } from './executors/local/LocalExecutor';
import { RedisExecutor } from './executors/redis/RedisExecutor';
import type { TaskExecutor } from './executors/TaskExecutor';
import type { ModelBackendClass } from './ModelBackend';
import { OmegaModelProxy } from './OmegaModelProxy';
import type { OmegaTrackingProxy } from '../proxy/OmegaTrackingProxy';
import { TaskRunner } from './TaskRunner';
import type { RuntimeContext } from './TaskRunner';
import { findTask } from './taskStatus';
import type { TaskStatus } from './taskStatus';
import type { TaskOutcome, TaskRequest } from './types';

/** Options of the runtime (`omega({ runtime, runtimeQueue })`). */
export interface RuntimeOptions {
  /** `local` (default; OMEGA_RUNTIME) or `redis://[user:password@]host:port[/db]` (`rediss://` for TLS). */
  runtime?: string;
  /** The BullMQ queue tasks go to (default OMEGA_RUNTIME_QUEUE, else `omega-track`). */
  runtimeQueue?: string;
}

/** The queue tasks go to when none is named. */
export const DEFAULT_RUNTIME_QUEUE = 'omega-track';

/** How many issued tasks `task(taskid)` remembers the experiment of (the latest ones). */
const REMEMBERED_TASKS = 10_000;

/**
 * The runtime side of `om`: experiments, and models whose `fit`, `score` and `predict` run as
 * tasks on the runtime's executor (in-process by default, BullMQ workers with `redis://…`).
 */
export class OmegaRuntime {
  /** The runtime URL (`local` or `redis://…`), as given. */
  readonly url: string;
  readonly queue: string;
  private executor_: TaskExecutor | undefined;
  /** Tasks issued and not settled: close() waits for them, also those still being prepared. */
  private readonly inFlight = new Set<Promise<unknown>>();
  /** The experiment each task issued here records into, so `task(taskid)` reads there first. */
  private readonly issued = new Map<string, string | undefined>();
  private closed = false;

  constructor(
    readonly context: RuntimeContext,
    opts: RuntimeOptions = {},
  ) {
    this.url = opts.runtime ?? (env().OMEGA_RUNTIME || 'local');
    this.queue = opts.runtimeQueue ?? (env().OMEGA_RUNTIME_QUEUE || DEFAULT_RUNTIME_QUEUE);
    if (this.url !== 'local' && !/^rediss?:\/\//.test(this.url))
      throw new TrackingInputError(
        `runtime '${redactUrls(this.url)}' is neither 'local' nor a redis:// or rediss:// URL`,
      );
  }

  /**
   * The experiment `name`: a proxy that resolves its provider from the stored configuration
   * (created on first use with `opts.provider`, OMEGA_TRACKING_PROVIDER, or `default`).
   * `{ impliedRun: false }` makes its `run(fn)` / `enter()` join the latest STARTED run.
   * Given a registered provider's name, the handle has that provider's own members
   * (`experiment('x', { provider: 'profiling' }).profiler`); else name the class:
   * `experiment<OmegaProfilingTracker>('x')`.
   */
  experiment<N extends keyof ProviderTypes>(
    name: string,
    opts: ExperimentOptions & { provider: N },
  ): Experiment<ProviderTypes[N] extends TrackingProvider ? ProviderTypes[N] : TrackingProvider>;
  experiment<P extends TrackingProvider = TrackingProvider>(
    name: string,
    opts?: ExperimentOptions,
  ): Experiment<P>;
  experiment(name: string, opts: ExperimentOptions = {}): Experiment {
    return this.context.experiments.proxy(name, opts);
  }

  /** The model `name` of `om.models`, whose methods run as runtime tasks. */
  model(name: string): OmegaModelProxy {
    if (typeof name !== 'string' || name.length === 0)
      throw new TrackingInputError('om.runtime.model needs the name of an om.models entry');
    return new OmegaModelProxy(name, this);
  }

  /** Registers the backend that runs models of `kind` (see ModelBackend). */
  registerBackend<M>(kind: string, backendClass: ModelBackendClass<M>): this {
    this.context.backends.register(kind, backendClass);
    return this;
  }

  /**
   * Where the task `taskid` stands, as the store has it: `{ taskid, status, result?, error?,
   * experiment?, run?, … }` with status `success`, `failure`, `pending` (started, no outcome yet)
   * or `unknown` (nothing recorded). How a caller finds the outcome of a task whose answer it
   * did not get (a RuntimeUnavailableError or TaskLostError carries the `taskid`). The task's
   * experiment is read when this process issued it or `opts.experiment` names it, else every
   * experiment. Untracked tasks record nothing: they stay `unknown`.
   */
  task(taskid: string, opts: { experiment?: string } = {}): Promise<TaskStatus> {
    const experiment = opts.experiment ?? this.issued.get(taskid);
    // issued here untracked: it recorded nothing anywhere
    if (experiment === undefined && this.issued.has(taskid))
      return Promise.resolve({ taskid, status: 'unknown' });
    return findTask(this.context.experiments, taskid, experiment === undefined ? undefined : [experiment]);
  }

  /** Hands `task` to the executor; remembers where it records for `task(taskid)`. */
  submit(task: TaskRequest, exp?: OmegaTrackingProxy): Promise<TaskOutcome> {
    this.issued.set(task.taskid, task.tracking?.experiment);
    if (this.issued.size > REMEMBERED_TASKS) this.issued.delete(this.issued.keys().next().value!);
    return this.executor().submit(task, exp);
  }

  /** The executor tasks go to, created on first use. */
  executor(): TaskExecutor {
    return (this.executor_ ??=
      this.url === 'local'
        ? new LocalExecutor(new TaskRunner(this.context))
        : new RedisExecutor(this.url, this.queue, {
            // an untracked task records nothing: no store to read it from
            lookup: async (task) =>
              task.tracking
                ? findTask(this.context.experiments, task.taskid, [task.tracking.experiment])
                : { taskid: task.taskid, status: 'unknown' },
          }));
  }

  /** Runs a task's call, counted as in flight until it settles; refused once closed. */
  track<T>(call: () => Promise<T>): Promise<T> {
    if (this.closed)
      return Promise.reject(new TrackingError('om is closed: runtime tasks can no longer be issued'));
    const promise = call();
    this.inFlight.add(promise);
    void promise.then(
      () => this.inFlight.delete(promise),
      () => this.inFlight.delete(promise),
    );
    return promise;
  }

  /** Waits for tasks in flight and closes the executor's connections. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.inFlight]);
    const executor = this.executor_;
    this.executor_ = undefined;
    await executor?.close();
  }
}
