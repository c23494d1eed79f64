import { TrackingError } from './TrackingError';

/** A recording call on a provider object that has no run yet. */
export class NoActiveRunError extends TrackingError {
  static override readonly errorName: string = 'NoActiveRunError';

  constructor(experiment: string) {
    super(`Experiment '${experiment}' has no active run: call start(), use() or run() first`);
  }
}
