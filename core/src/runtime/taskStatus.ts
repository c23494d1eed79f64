import { describeValue } from '../diag/diag';
import { TrackingInputError } from '../errors/TrackingInputError';
import type { TrackingEvent } from '../events/types';
import type { ExperimentBackend } from '../experiments/ExperimentBackend';
import type { TaskMethod } from './types';

/** Where a task stands in the store: see `TaskStatus`. */
export type TaskState = 'pending' | 'success' | 'failure' | 'unknown';

/**
 * What the store holds of one runtime task (`om.runtime.task(taskid)`), read from the events
 * its worker recorded (`task_call`, `task_success`, `task_failure`, all carrying `taskid`).
 */
export interface TaskStatus {
  taskid: string;
  /**
   * `success` or `failure`: the task's outcome is recorded. `pending`: a worker started it
   * (`task_call`) and recorded no outcome yet: it still runs, or its worker died and no other
   * took it over. `unknown`: nothing of it is recorded (not started yet, untracked, or another
   * store).
   */
  status: TaskState;
  method?: TaskMethod;
  model?: string;
  /** The result, when `task_success` holds it whole (fit, score; not predictions). */
  result?: unknown;
  /** What `task_success` holds of a result it does not keep whole: a prediction's type and shape. */
  summary?: unknown;
  /** The error message of a failed task. */
  error?: string;
  experiment?: string;
  run?: number;
  /** The node the latest attempt recorded ran on. */
  node?: string;
  attempt?: number;
}

/** The events of a task that tell where it stands. */
export const TASK_EVENTS = ['task_call', 'task_success', 'task_failure'];

/**
 * Reads the task `taskid` from the store: in the experiments named (one task records into one
 * experiment), else in every experiment; the first that holds events of it answers.
 */
export async function findTask(
  experiments: ExperimentBackend,
  taskid: string,
  where?: readonly string[],
): Promise<TaskStatus> {
  if (typeof taskid !== 'string' || taskid.length === 0)
    throw new TrackingInputError(
      'om.runtime.task needs a taskid (a TaskError, RuntimeUnavailableError or task event has it)',
    );
  for (const name of where ?? (await experiments.list())) {
    const rows = await experiments.read(name, (provider) =>
      provider.data({ run: 'all', event: TASK_EVENTS, taskid }),
    );
    if (rows && rows.length > 0) return taskStatusOf(taskid, rows);
  }
  return { taskid, status: 'unknown' };
}

/** Where a task stands, from its events: the latest outcome recorded, else its latest call. */
export function taskStatusOf(taskid: string, rows: readonly TrackingEvent[]): TaskStatus {
  if (rows.length === 0) return { taskid, status: 'unknown' };
  const ordered = [...rows].sort(
    (a, b) => a.dt.getTime() - b.dt.getTime() || Number(a.attempt ?? 0) - Number(b.attempt ?? 0),
  );
  const call = ordered.filter((r) => r.event === 'task_call').pop();
  const outcome = ordered.filter((r) => r.event !== 'task_call').pop();
  const last = outcome ?? call!;
  const status: TaskStatus = {
    taskid,
    status: outcome ? (outcome.event === 'task_success' ? 'success' : 'failure') : 'pending',
    method: (call ?? last).key as TaskMethod,
    experiment: last.experiment,
    run: last.run,
    node: last.node,
  };
  const model = (call?.value as { model?: unknown } | undefined)?.model;
  if (typeof model === 'string') status.model = model;
  if (typeof last.attempt === 'number') status.attempt = last.attempt;
  const value = (outcome?.value ?? {}) as { result?: unknown; summary?: unknown; error?: unknown };
  if (status.status === 'success') {
    // task_success says `summary: true` where it holds a description of the result, not the result
    if (value.summary === true) status.summary = value.result;
    else status.result = value.result ?? null;
  }
  if (status.status === 'failure')
    status.error = value.error === undefined ? 'the worker gave no reason' : describeValue(value.error);
  return status;
}
