import { describeValue } from '../diag/diag';
import { TrackingError } from './TrackingError';

/** Where a failed runtime task ran and which attempt failed. */
export interface TaskErrorDetails {
  taskid: string;
  method: string;
  model: string;
  /** The node (worker) the failing attempt ran on, where known. */
  node?: string;
  attempt?: number;
}

/**
 * A runtime task (`om.runtime.model(name).fit/score/predict`) failed: the model is missing, the
 * input does not fit it, the backend threw, or a worker gave up on it. The message is the
 * worker's own error message, prefixed with what was asked.
 */
export class TaskError extends TrackingError {
  static override readonly errorName: string = 'TaskError';

  readonly taskid: string;
  readonly method: string;
  readonly model: string;
  readonly node: string | undefined;
  readonly attempt: number | undefined;
  /** The error message as the worker reported it. */
  readonly reason: string;

  constructor(reason: string, details: TaskErrorDetails) {
    super(`${details.method} of model '${details.model}' failed: ${reason}`);
    this.reason = reason;
    this.taskid = details.taskid;
    this.method = details.method;
    this.model = details.model;
    this.node = details.node;
    this.attempt = details.attempt;
  }

  /** `error` as the caller sees it: a TaskError with the worker's message (kept if it is one). */
  static of(error: unknown, details: TaskErrorDetails): TaskError {
    return error instanceof TaskError ? error : new TaskError(describeValue(error), details);
  }
}
