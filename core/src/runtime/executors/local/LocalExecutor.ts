import { TaskError } from '../../../errors/TaskError';
import { TrackingError } from '../../../errors/TrackingError';
import { NODE_NAME } from '../../../providers/identity';
import type { OmegaTrackingProxy } from '../../../proxy/OmegaTrackingProxy';
import type { TaskRunner } from '../../TaskRunner';
import type { TaskOutcome, TaskRequest } from '../../types';
import type { TaskExecutor } from '../TaskExecutor';

/**
 * Runs tasks in this process, one at a time per model (a fit and a predict on one model never
 * interleave), tasks on different models side by side. The default executor.
 */
export class LocalExecutor implements TaskExecutor {
  readonly name = 'local';
  /** The last task queued per model: the next one starts when it settles. */
  private readonly tails = new Map<string, Promise<unknown>>();
  private closed = false;

  constructor(private readonly runner: TaskRunner) {}

  submit(task: TaskRequest, exp?: OmegaTrackingProxy): Promise<TaskOutcome> {
    if (this.closed) return Promise.reject(new TrackingError('the local runtime is closed'));
    const previous = this.tails.get(task.model) ?? Promise.resolve();
    const run = previous.then(() => this.runner.execute(task, { attempt: 1, exp }));
    const tail = run.catch(() => undefined);
    this.tails.set(task.model, tail);
    void tail.then(() => {
      if (this.tails.get(task.model) === tail) this.tails.delete(task.model);
    });
    return run.catch((error: unknown) => {
      throw TaskError.of(error, {
        taskid: task.taskid,
        method: task.method,
        model: task.model,
        node: NODE_NAME,
        attempt: 1,
      });
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.tails.values());
    await this.runner.close();
  }
}
