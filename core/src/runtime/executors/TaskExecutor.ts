import type { TaskOutcome, TaskRequest } from '../types';
import type { OmegaTrackingProxy } from '../../proxy/OmegaTrackingProxy';

/** Runs tasks somewhere: in this process (`local`) or on workers behind a queue (`redis://…`). */
export interface TaskExecutor {
  /** `local`, or the queue URL without its password. */
  readonly name: string;
  /**
   * Runs `task` and resolves with its outcome, or rejects with a TaskError (the task failed) or
   * RuntimeUnavailableError (it could not be handed over). `exp` is the caller's experiment
   * handle, for executors that run in the caller's process.
   */
  submit(task: TaskRequest, exp?: OmegaTrackingProxy): Promise<TaskOutcome>;
  /** Releases connections; tasks in flight are waited for. Idempotent. */
  close(): Promise<void>;
}
