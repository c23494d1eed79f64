import { TrackingError } from './TrackingError';

/**
 * The runtime's queue (Redis) cannot be reached: the task was not run. `url` is the runtime URL
 * without its password.
 */
export class RuntimeUnavailableError extends TrackingError {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`the runtime at ${url} is unreachable: ${reason}`);
  }
}
