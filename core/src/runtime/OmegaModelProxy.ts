import { randomUUID } from '../process/randomId';
import { TrackingInputError } from '../errors/TrackingInputError';
import { ExperimentBackend } from '../experiments/ExperimentBackend';
import { isJsonPlain } from '../objects/plainValues';
import { activeExperiment, enteredExperiment } from '../proxy/activeExperiment';
import { currentUserId } from '../providers/identity';
import type { TrackingProvider } from '../providers/TrackingProvider';
import type { ScoreResult } from './ModelBackend';
import type { OmegaRuntime } from './OmegaRuntime';
import { encodeTaskArgument } from './taskData';
import type { TaskArgument } from './taskData';
import type { TaskMethod, TaskRequest, TaskTracking } from './types';

/** Start times of runs a process issued tasks in, so each task need not read them again. */
const runStarts = new WeakMap<TrackingProvider, Map<number, number | undefined>>();

/**
 * `om.runtime.model(name)`: calls `fit`, `score` and `predict` on the `om.models` entry `name` as
 * runtime tasks, on the runtime's executor (in-process, or a worker over Redis). Inside
 * `exp.run(...)` (or after `enter()` / `start()`) a task carries that experiment, its provider and
 * the exact run, and the worker records into that run; outside any run, a model linked with
 * `exp.track(name)` is tracked in a run of its own per task. X and Y are arrays, typed arrays,
 * tensors, `{ values, shape }`, or names of `om.datasets` entries (large data goes by name).
 */
export class OmegaModelProxy {
  constructor(
    readonly name: string,
    private readonly runtime: OmegaRuntime,
  ) {}

  /** Trains the model; the fitted model is stored back under its name. Resolves with the backend's result (tfjs: the history). */
  fit(
    X: TaskArgument,
    Y?: TaskArgument,
    opts: Record<string, unknown> = {},
  ): Promise<Record<string, unknown>> {
    return this.call('fit', X, Y, opts) as Promise<Record<string, unknown>>;
  }

  /** Scores the model on X, Y (tfjs: `evaluate`'s loss and metrics); also logged as metric `score`. */
  score(X: TaskArgument, Y?: TaskArgument, opts: Record<string, unknown> = {}): Promise<ScoreResult> {
    return this.call('score', X, Y, opts) as Promise<ScoreResult>;
  }

  /**
   * Predictions for X as plain JS values (tfjs: nested arrays, one row per sample). `T` is what
   * the caller knows the model returns (`predict<number[][]>(X)`): not checked.
   */
  predict<T = unknown>(X: TaskArgument, opts: Record<string, unknown> = {}): Promise<T> {
    return this.call('predict', X, undefined, opts) as Promise<T>;
  }

  private call(method: TaskMethod, X: unknown, Y: unknown, opts: unknown): Promise<unknown> {
    return this.runtime.track(() => this.issue(method, X, Y, opts));
  }

  private async issue(method: TaskMethod, X: unknown, Y: unknown, opts: unknown): Promise<unknown> {
    if (X === undefined || X === null) throw new TrackingInputError(`${method} needs X`);
    if (typeof opts !== 'object' || opts === null || Array.isArray(opts) || !isJsonPlain(opts))
      throw new TrackingInputError(`${method} options must be a JSON object (e.g. { epochs: 5 })`);
    const { experiments } = this.runtime.context;
    const exp = activeExperiment() ?? enteredExperiment((e) => e.ownedBy(experiments));
    const task: TaskRequest = {
      taskid: randomUUID(),
      method,
      model: this.name,
      opts: opts as Record<string, unknown>,
      userid: currentUserId(),
    };
    const x = encodeTaskArgument(X, 'X');
    const y = encodeTaskArgument(Y, 'Y');
    if (x) task.X = x;
    if (y) task.Y = y;
    const tracking = await this.tracking(exp);
    if (tracking) task.tracking = tracking;
    const outcome = await this.runtime.submit(task, exp);
    return outcome.result;
  }

  /** What the task carries of the caller's tracking (SPEC §7), undefined when it is not tracked. */
  private async tracking(exp: ReturnType<typeof activeExperiment>): Promise<TaskTracking | undefined> {
    const { experiments, models } = this.runtime.context;
    if (exp) {
      const provider = await exp.provider();
      const config = await experiments.get(exp.experiment);
      const tracking: TaskTracking = {
        experiment: exp.experiment,
        provider: config?.provider ?? ExperimentBackend.defaultProvider(),
      };
      const run = provider.currentRun;
      if (run !== undefined) tracking.run = { run, ...(await runStart(provider, run)) };
      return tracking;
    }
    const meta = await models.metadata(this.name);
    const linked = (meta?.attributes.tracking as Record<string, unknown> | undefined)?.default;
    if (typeof linked !== 'string') return undefined;
    const config = await experiments.get(linked);
    return { experiment: linked, provider: config?.provider ?? ExperimentBackend.defaultProvider() };
  }
}

async function runStart(provider: TrackingProvider, run: number): Promise<{ started?: number }> {
  let starts = runStarts.get(provider);
  if (!starts) runStarts.set(provider, (starts = new Map()));
  if (!starts.has(run)) {
    const [info] = await provider.runs({ run });
    starts.set(run, info?.started?.getTime());
  }
  const started = starts.get(run);
  return started === undefined ? {} : { started };
}
