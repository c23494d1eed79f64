import { TrackingError } from './TrackingError';

/**
 * A task's result is larger than a task may carry back through Redis (`MAX_TASK_BYTES`, the cap
 * of its input too): the worker fails the task with this rather than send it. Large results go
 * by name: the backend saves them with `this.context.datasets.put(values, name)` (that is
 * `om.datasets`) and returns the name, which the caller reads with `om.datasets.get(name)`.
 */
export class TaskResultTooLargeError extends TrackingError {
  static override readonly errorName: string = 'TaskResultTooLargeError';

  constructor(
    readonly method: string,
    /** The size of the result as it would travel, in bytes. */
    readonly bytes: number,
    /** The most a task may carry, in bytes. */
    readonly limit: number,
  ) {
    super(
      `the ${method} result is ${mebibytes(bytes)} MiB, more than the ${mebibytes(limit)} MiB a task may carry back through Redis: save large results in the backend with this.context.datasets.put(values, name) (om.datasets) and return the name; the caller reads them with om.datasets.get(name)`,
    );
  }
}

/** Bytes as MiB for messages: one decimal, none when whole. */
export function mebibytes(bytes: number): string {
  const mib = bytes / 2 ** 20;
  return Number.isInteger(mib) ? String(mib) : mib.toFixed(1);
}
