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
import type { TaskMethod, TaskRequest, TaskSweep, TaskTracking } from './types';
import { SweepController } from '../sweep/SweepController';
import type { TrialContext } from '../sweep/SweepController';
import type { ModelSweepRecord } from '../sweep/sweepState';
import type { SweepOptions, SweepParams, SweepResult, SweepSpec } from '../sweep/types';
import { headlineScore } from './TaskRunner';
import type { OmegaTrackingProxy } from '../proxy/OmegaTrackingProxy';

/** Options of `om.runtime.model(name).sweep(X, Y, spec, opts)`. */
export interface ModelSweepOptions extends SweepOptions {
  /** The experiment the sweep is a run of (default: the active one, else the model's linked one). */
  experiment?: string;
  /** `fit` options every trial gets (the trial's params are added to them, and win). */
  fit?: Record<string, unknown>;
  /** `score` options. */
  score?: Record<string, unknown>;
}

/** Options of `gridsearch(X, Y, { parameters })`: omega-ml's name for a grid sweep. */
export interface GridsearchOptions extends ModelSweepOptions {
  /** Param name → the list of values to try (every combination is a trial). */
  parameters: Record<string, readonly (string | number | boolean | null)[]>;
  /** The metric (default `score`: the score task's value). */
  metric?: string;
  /** Default `maximize`. */
  goal?: SweepSpec['goal'];
  parallel?: number;
}

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

  /**
   * A hyperparameter sweep of this model (see `exp.sweep`): each trial fits a copy of the model
   * with the trial's params as `fit` options (tfjs: `epochs`, `batchSize`, `learningRate`, …),
   * saved as `<name>/sweep-<run>/trial-<i>`, then scores it; its value is the score (or the
   * score's `spec.metric`). Both tasks carry the trial's child run and go to the runtime's
   * executor, `spec.parallel` trials at a time (in-process, or `omega-track worker`s over Redis);
   * with `spec.earlyStop` the worker stops a trial's fit by the other trials' values of
   * `spec.metric` in the store. The sweep is a run of the active experiment, else of the one the
   * model is linked to (`exp.track`), else of `opts.experiment`. With X and Y given by
   * `om.datasets` name, `omega-track sweep resume` can go on with it.
   */
  async sweep(
    X: TaskArgument,
    Y: TaskArgument | undefined,
    spec: SweepSpec,
    opts: ModelSweepOptions = {},
  ): Promise<SweepResult> {
    const { experiment, fit = {}, score = {}, ...sweepOpts } = opts;
    // said before a sweep run is made, not by every trial ending FAILED
    if (X === undefined || X === null) throw new TrackingInputError('sweep needs X');
    if ((await this.runtime.context.models.metadata(this.name)) === undefined)
      throw new TrackingInputError(`om.models has no entry '${this.name}': put the model first`);
    const exp = await this.sweepExperiment(experiment);
    const trial = async (
      params: SweepParams,
      _e: OmegaTrackingProxy,
      info: TrialContext,
    ): Promise<unknown> => {
      const sweep: TaskSweep = { run: info.sweepRun, metric: info.spec.metric, goal: info.spec.goal };
      if (info.spec.earlyStop) sweep.earlyStop = info.spec.earlyStop;
      const saveAs = `${this.name}/sweep-${info.sweepRun}/trial-${info.trial}`;
      await this.runtime.track(() => this.issue('fit', X, Y, { ...fit, ...params }, { saveAs, sweep }));
      const result = await this.runtime.track(() =>
        new OmegaModelProxy(saveAs, this.runtime).issue('score', X, Y, score),
      );
      if (typeof result === 'number') return result;
      const record = result as Record<string, unknown>;
      const value = info.spec.metric in record ? record[info.spec.metric] : headlineScore(record);
      return typeof value === 'number' ? value : undefined;
    };
    const model: ModelSweepRecord = { model: this.name, fit, score };
    if (typeof X === 'string') model.X = X;
    if (typeof Y === 'string') model.Y = Y;
    return new SweepController(exp, spec, trial, { ...sweepOpts, model }).run();
  }

  /**
   * omega-ml's `gridsearch`: a grid sweep over `parameters` (param → list of values), each
   * combination a trial as `sweep` runs them; metric `score`, minimized for a tfjs model (its score
   * is its loss), maximized for other kinds, unless `goal` says otherwise.
   */
  async gridsearch(
    X: TaskArgument,
    Y: TaskArgument | undefined,
    opts: GridsearchOptions,
  ): Promise<SweepResult> {
    if (typeof opts !== 'object' || opts === null || typeof opts.parameters !== 'object')
      throw new TrackingInputError('gridsearch takes { parameters: { name: [values…] } }');
    const { parameters, metric = 'score', parallel, goal: asked, ...rest } = opts;
    // a tfjs model's score is its loss (evaluate's first output): lower is better there; other
    // kinds' scores (omega-ml's, scikit-learn's) are higher-is-better
    const kind = (await this.runtime.context.models.metadata(this.name))?.kind ?? '';
    const goal = asked ?? (kind.startsWith('tfjs') ? 'minimize' : 'maximize');
    const spec: SweepSpec = { space: parameters, method: 'grid', metric, goal };
    if (parallel !== undefined) spec.parallel = parallel;
    return this.sweep(X, Y, spec, rest);
  }

  /** The experiment a model sweep is a run of. */
  private async sweepExperiment(name: string | undefined): Promise<OmegaTrackingProxy> {
    const { experiments, models } = this.runtime.context;
    if (name !== undefined) return experiments.proxy(name);
    const active = activeExperiment() ?? enteredExperiment((e) => e.ownedBy(experiments));
    if (active) return active;
    const meta = await models.metadata(this.name);
    const linked = (meta?.attributes.tracking as Record<string, unknown> | undefined)?.default;
    if (typeof linked === 'string') return experiments.proxy(linked);
    throw new TrackingInputError(
      `a sweep of model '${this.name}' is a run of an experiment: call it inside exp.run(...), link the model with exp.track('${this.name}'), or pass { experiment }`,
    );
  }

  private call(method: TaskMethod, X: unknown, Y: unknown, opts: unknown): Promise<unknown> {
    return this.runtime.track(() => this.issue(method, X, Y, opts));
  }

  private async issue(
    method: TaskMethod,
    X: unknown,
    Y: unknown,
    opts: unknown,
    extra: Pick<TaskRequest, 'saveAs' | 'sweep'> = {},
  ): Promise<unknown> {
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
      ...extra,
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
