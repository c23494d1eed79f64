import { TrackingError } from './TrackingError';

/**
 * The runtime's queue (Redis) cannot be reached. `url` is the runtime URL without its password.
 * With a `taskid`, the task had been handed to the queue (or its hand-over was under way): it
 * may still run and complete, and `om.runtime.task(taskid)` reads its outcome from the store
 * later; a caller that sends it again may do the work twice.
 */
export class RuntimeUnavailableError extends TrackingError {
  static override readonly errorName: string = 'RuntimeUnavailableError';

  /** The task whose outcome is unknown, when one had been sent; undefined when none was. */
  readonly taskid: string | undefined;

  constructor(
    readonly url: string,
    reason: string,
    taskid?: string,
  ) {
    super(`the runtime at ${url} is unreachable: ${reason}${taskid ? mayStillComplete(taskid) : ''}`);
    this.taskid = taskid;
  }
}

/** What a caller is told of a task whose outcome is unknown to it. */
export function mayStillComplete(taskid: string): string {
  return `; task ${taskid} may still run and complete: om.runtime.task('${taskid}') tells its outcome from the store`;
}
