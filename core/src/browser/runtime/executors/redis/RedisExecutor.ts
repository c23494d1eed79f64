import { TrackingInputError } from '../../../../errors/TrackingInputError';
import type { TaskOutcome } from '../../../../runtime/types';
import type { TaskExecutor } from '../../../../runtime/executors/TaskExecutor';

/**
 * The browser's RedisExecutor (it replaces core/src/runtime/executors/redis/RedisExecutor.ts):
 * a page cannot reach Redis, so a runtime URL other than `local` refuses every task with a
 * TrackingInputError that says so; tasks of the local runtime run in the page.
 */
export class RedisExecutor implements TaskExecutor {
  readonly name: string;

  constructor(url: string) {
    this.name = url.replace(/\/\/[^@/]*@/, '//');
  }

  submit(): Promise<TaskOutcome> {
    return Promise.reject(
      new TrackingInputError(
        `the runtime ${this.name} (Redis) cannot be used from a browser: a page runs its tasks itself (runtime 'local', the default)`,
      ),
    );
  }

  async close(): Promise<void> {}
}
