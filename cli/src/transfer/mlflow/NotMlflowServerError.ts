import { TrackingError } from '@omega-track/core';

/**
 * The URI given as an MLflow tracking server answers as something else (another web server, a
 * proxy's page) or not at all: said before anything is imported or pushed.
 */
export class NotMlflowServerError extends TrackingError {
  static override readonly errorName: string = 'NotMlflowServerError';

  constructor(
    /** The URI without credentials. */
    readonly uri: string,
    reason: string,
  ) {
    super(`${uri} does not answer as an MLflow tracking server: ${reason}`);
  }
}
