import { TrackingInputError } from '../../errors/TrackingInputError';
import type { ExperimentOptions } from '../../experiments/ExperimentBackend';
import type { Experiment } from '../../Omega';
import type { TrackingProvider } from '../../providers/TrackingProvider';
import type { ProviderTypes } from '../../registry/ProviderRegistry';
import type { RuntimeContext } from '../../runtime/TaskRunner';

/** Options of the runtime (`omega({ runtime, runtimeQueue })`). */
export interface RuntimeOptions {
  /** `local` (default; OMEGA_RUNTIME) or `redis://[user:password@]host:port[/db]` (`rediss://` for TLS). */
  runtime?: string;
  /** The BullMQ queue tasks go to (default OMEGA_RUNTIME_QUEUE, else `omega-track`). */
  runtimeQueue?: string;
}

/** The queue tasks go to when none is named. */
export const DEFAULT_RUNTIME_QUEUE = 'omega-track';

/**
 * The runtime side of `om` in a page (it replaces core/src/runtime/OmegaRuntime.ts): experiments.
 * Runtime tasks (`model(name).fit/score/predict`, `task(taskid)`) load an `om.models` entry and
 * run it with a model backend (tfjs-node's) in a Node process or a worker: a page has neither
 * model backends nor a queue to reach, so they are refused with a TrackingInputError that says
 * what to do instead (a page trains its own tfjs model, tracked with TensorflowCallback or
 * autolog). That keeps the task runner, the executors and the task wire format out of the page's
 * bundle.
 */
export class OmegaRuntime {
  /** The runtime URL (`local` or `redis://…`), as given. */
  readonly url: string;
  readonly queue: string;

  constructor(
    readonly context: RuntimeContext,
    opts: RuntimeOptions = {},
  ) {
    this.url = opts.runtime ?? 'local';
    this.queue = opts.runtimeQueue ?? DEFAULT_RUNTIME_QUEUE;
  }

  /**
   * The experiment `name`: a proxy that resolves its provider from the stored configuration
   * (created on first use with `opts.provider`, or `default`). `{ impliedRun: false }` makes its
   * `run(fn)` / `enter()` join the latest STARTED run.
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

  /** Refused in a page: see the class. */
  model(name: string): never {
    throw refused(`model('${name}')`);
  }

  /** Refused in a page: see the class. */
  registerBackend(kind: string): never {
    throw refused(`registerBackend('${kind}')`);
  }

  /**
   * Refused in a page: `task(taskid)` is how the caller of a runtime task finds an outcome it
   * did not get, and a page issues no tasks (Node's `om.runtime.task` reads any task's outcome).
   */
  task(taskid: string): Promise<never> {
    return Promise.reject(refused(`task('${taskid}')`));
  }

  /** Nothing to wait for: a page issues no tasks. */
  async close(): Promise<void> {}
}

/** The one error of every runtime call a page cannot make (one text: the page's bundle is small). */
function refused(call: string): TrackingInputError {
  return new TrackingInputError(
    `om.runtime.${call} cannot be used in a page: runtime tasks run stored models in a Node process or worker; a page trains its own tfjs model and tracks it with TensorflowCallback or autolog`,
  );
}
