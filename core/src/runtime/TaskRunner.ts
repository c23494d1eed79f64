import type { Store } from '../store/Store';
import { describeValue } from '../diag/diag';
import { isJsonPlain } from '../objects/plainValues';
import { TrackingError } from '../errors/TrackingError';
import type { ExperimentBackend } from '../experiments/ExperimentBackend';
import type { ObjectStore } from '../objects/ObjectStore';
import type { OmegaTrackingProxy } from '../proxy/OmegaTrackingProxy';
import { NODE_NAME } from '../providers/identity';
import type { TrackingProvider } from '../providers/TrackingProvider';
import type { ProviderRegistry } from '../registry/ProviderRegistry';
import type { ModelBackend, ModelBackendContext, TaskTrackingHandle } from './ModelBackend';
import type { ModelBackendRegistry } from './ModelBackendRegistry';
import { arrayShape, describeTaskData, resolveTaskInput } from './taskData';
import type { TaskInput } from './taskData';
import type { TaskOutcome, TaskRequest } from './types';
import { StoreTrialReporter } from '../sweep/TrialReporter';
import { withSweepTrial } from '../sweep/sweepTrial';

/** What the task runner reads and writes: the parts of `Omega` a worker has. */
export interface RuntimeContext {
  models: ObjectStore;
  datasets: ObjectStore;
  experiments: ExperimentBackend;
  registry: ProviderRegistry;
  backends: ModelBackendRegistry;
  /** The store, when the runner may wait for it to pass writes on (`Store.settle`). */
  store?: Pick<Store, 'settle'>;
}

/** How one attempt of a task is run. */
export interface TaskAttempt {
  /** 1 for the first attempt (BullMQ's attemptsStarted on a worker). */
  attempt: number;
  /**
   * The caller's own experiment handle, when the task runs in the caller's process (the local
   * executor): its provider records the task's events, as it does the caller's.
   */
  exp?: OmegaTrackingProxy;
  /**
   * Checks the result before it is recorded as a success; what it throws fails the task (a
   * worker refuses a result larger than a task may carry back through Redis).
   */
  checkResult?: (result: unknown) => void;
  /**
   * Writes the task's outcome to the store before the task returns (a worker: a caller whose
   * queue lost the task reads the outcome from the store, see `om.runtime.task`).
   */
  flushOutcome?: boolean;
}

/**
 * Runs tasks where they execute (in-process for `local`, in a worker for Redis), as SPEC §7 says:
 * joins the caller's run when it is STARTED (else a run of the task's own), stamps `taskid`,
 * `attempt` and the caller's `userid` on the task's events, logs `task_call`, the model's metadata
 * as artifact `related`, then `task_success` or `task_failure`; `score` also logs metric `score`.
 */
export class TaskRunner {
  /** One handle per experiment and provider: tasks running at once share its provider. */
  private readonly handles = new Map<string, OmegaTrackingProxy>();
  private notrack: TrackingProvider | undefined;

  constructor(private readonly om: RuntimeContext) {}

  async execute(task: TaskRequest, attempt: TaskAttempt): Promise<TaskOutcome> {
    const outcome = (result: unknown): TaskOutcome => ({
      result,
      taskid: task.taskid,
      node: NODE_NAME,
      attempt: attempt.attempt,
    });
    const tracking = task.tracking;
    if (!tracking) return outcome(await this.perform(task, this.untracked(), false, attempt));
    const exp =
      attempt.exp && tracking.run ? attempt.exp : this.handle(tracking.experiment, tracking.provider);
    try {
      const result = await exp.run((e) => this.perform(task, e, true, attempt), {
        ...(tracking.run ? { join: tracking.run } : {}),
        stamp: { userid: task.userid, extra: { taskid: task.taskid, attempt: attempt.attempt } },
      });
      return outcome(result);
    } finally {
      // the caller reads the task's events (its own run's stop too) as soon as it has the
      // outcome: through a team server they must have left this machine's spool by then
      if (attempt.flushOutcome) await this.om.store?.settle?.().catch(() => undefined);
    }
  }

  /** Shuts down the providers this runner opened (a worker leaving). */
  async close(): Promise<void> {
    for (const exp of this.handles.values()) await (await exp.provider()).shutdown();
    this.handles.clear();
    await this.notrack?.shutdown();
  }

  private async perform(
    task: TaskRequest,
    tracking: TaskTrackingHandle,
    tracked: boolean,
    attempt: TaskAttempt,
  ): Promise<unknown> {
    tracking.logEvent('task_call', task.method, {
      model: task.model,
      args: { X: describeTaskData(task.X), Y: describeTaskData(task.Y) },
      opts: task.opts,
    });
    try {
      const result = plainResult(await this.call(task, tracking, tracked), task);
      attempt.checkResult?.(result);
      tracking.logEvent('task_success', task.method, { ...resultRecord(result), taskid: task.taskid });
      if (tracked && attempt.flushOutcome) await flushQuietly(tracking);
      return result;
    } catch (error) {
      tracking.logEvent('task_failure', task.method, { error: describeValue(error), taskid: task.taskid });
      if (tracked && attempt.flushOutcome) await flushQuietly(tracking);
      throw error;
    }
  }

  private async call(task: TaskRequest, tracking: TaskTrackingHandle, tracked: boolean): Promise<unknown> {
    const { models, datasets } = this.om;
    const meta = await models.metadata(task.model);
    if (!meta) throw new TrackingError(`om.models has no entry '${task.model}'`);
    tracking.logArtifact(meta, 'related');
    // a fit trains for long, often without yielding: what it was asked is written before it
    // starts, so an attempt that a killed worker leaves behind is visible in the run
    if (task.method === 'fit' && tracked) await tracking.flush();
    const Backend = this.om.backends.resolveClass(meta.kind);
    const model = await models.get(task.model);
    const context: ModelBackendContext = { meta, tracking, tracked, models, datasets };
    const backend = new Backend(model, context);
    const X = await resolveTaskInput(task.X, datasets);
    const Y = await resolveTaskInput(task.Y, datasets);
    if (!X) throw new TrackingError(`${task.method} needs X`);
    switch (task.method) {
      case 'fit': {
        const fit = required(backend, 'fit', meta.kind);
        const sweep = task.sweep;
        // a sweep trial's fit reports its epochs' values of the metric (the tfjs callback) to a
        // reporter that stops it early by the other trials' values in the store
        const result =
          sweep && tracked
            ? await withSweepTrial(
                new StoreTrialReporter(sweep, sweep.run, tracking.currentRun, tracking),
                () => fit(X, Y, task.opts),
              )
            : await fit(X, Y, task.opts);
        const saveAs = task.saveAs ?? task.model;
        await models.put(backend.model, saveAs);
        return result ?? { model: saveAs };
      }
      case 'score': {
        const score = await required(backend, 'score', meta.kind)(X, Y, task.opts);
        tracking.logMetric('score', headlineScore(score));
        return score;
      }
      case 'predict':
        return required(backend, 'predict', meta.kind)(X, task.opts);
    }
  }

  private handle(experiment: string, provider: string): OmegaTrackingProxy {
    const key = `${provider}\0${experiment}`;
    let exp = this.handles.get(key);
    if (!exp) this.handles.set(key, (exp = this.om.experiments.proxy(experiment, { provider })));
    return exp;
  }

  /** Untracked tasks log to the notrack provider: a backend's `this.tracking` always works. */
  private untracked(): TrackingProvider {
    return (this.notrack ??= this.om.experiments.createProvider('.notrack', {
      provider: 'notrack',
      options: {},
    }));
  }
}

type BackendMethod<K extends 'fit' | 'score' | 'predict'> = NonNullable<ModelBackend[K]>;

function required<K extends 'fit' | 'score' | 'predict'>(
  backend: ModelBackend,
  method: K,
  kind: string,
): BackendMethod<K> {
  const fn = backend[method] as BackendMethod<K> | undefined;
  if (typeof fn !== 'function') throw new TrackingError(`models of kind '${kind}' do not support ${method}`);
  return fn.bind(backend) as BackendMethod<K>;
}

/**
 * The number logged as metric `score`: the score itself, or of named scores the `loss` (tfjs'
 * evaluate), else the first; the whole record goes to `task_success`.
 */
export function headlineScore(score: unknown): unknown {
  if (typeof score !== 'object' || score === null || Array.isArray(score)) return score;
  const record = score as Record<string, unknown>;
  return 'loss' in record ? record.loss : Object.values(record)[0];
}

/**
 * A backend's result as it goes back to the caller: plain JSON values (typed arrays become
 * arrays), the same whether the task ran here or on a worker; anything else is the backend's
 * mistake, said as such.
 */
function plainResult(result: unknown, task: TaskRequest): unknown {
  if (result === undefined) return null;
  if (ArrayBuffer.isView(result) && !(result instanceof DataView)) return Array.from(result as Uint8Array);
  if (!isJsonPlain(result))
    throw new TrackingError(
      `the ${task.method} of this model's backend returned a ${describeKind(result)}, not plain JSON values (numbers, arrays, records)`,
    );
  return result;
}

function describeKind(x: unknown): string {
  if (x === null || typeof x !== 'object') return typeof x;
  return x.constructor?.name ?? 'object';
}

/**
 * What `task_success` records of a result: predictions (arrays) are described by their shape,
 * never stored, and marked `summary: true`; other results (a fit's history, a score) are kept
 * whole, so `om.runtime.task(taskid)` can give them back.
 */
function resultRecord(result: unknown): { result: unknown; summary?: true } {
  if (Array.isArray(result)) return { result: { type: 'Array', shape: arrayShape(result) }, summary: true };
  return { result: result ?? null };
}

/** Writes what a task recorded; a store that fails is reported by the provider, not by the task. */
async function flushQuietly(tracking: TaskTrackingHandle): Promise<void> {
  try {
    await tracking.flush();
  } catch {
    // the provider's error handler has reported it; the task's outcome stands
  }
}

export type { TaskInput };
