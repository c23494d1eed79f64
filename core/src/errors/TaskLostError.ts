import { mayStillComplete, RuntimeUnavailableError } from './RuntimeUnavailableError';

/** What the store showed of a task the queue lost (see `om.runtime.task`). */
export type LostTaskStatus = 'pending' | 'success' | 'unknown';

/**
 * The queue lost a task it had been given (Redis restarted empty, or its data was removed), so
 * no worker will report the outcome. `status` is what the store showed when it was noticed:
 * `pending` (a worker started it and may still complete it), `success` (it completed, but its
 * result is not stored: predictions are recorded by shape only), `unknown` (no worker had
 * recorded it). `om.runtime.task(taskid)` reads its outcome from the store later.
 */
export class TaskLostError extends RuntimeUnavailableError {
  static override readonly errorName: string = 'TaskLostError';

  declare readonly taskid: string;

  constructor(
    url: string,
    taskid: string,
    readonly status: LostTaskStatus,
    task: { method: string; model: string },
  ) {
    super(url, 'the queue lost a task', taskid);
    const what = `the ${task.method} of model '${task.model}' (task ${taskid})`;
    // the base class's message says "unreachable", which the queue was not
    this.message =
      status === 'success'
        ? `${what} completed, but the queue at ${url} lost its result (Redis restarted or its data was removed) and the store keeps only a summary of it (om.runtime.task('${taskid}')): run it again for the result`
        : `the queue at ${url} lost ${what} (Redis restarted or its data was removed) before a worker reported its outcome${status === 'pending' ? '; the store shows a worker started it' : ''}${mayStillComplete(taskid)}`;
  }
}
