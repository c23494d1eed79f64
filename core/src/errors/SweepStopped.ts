import { TrackingError } from './TrackingError';

/**
 * The sweep stopped this trial early (median stopping or ASHA): thrown from the trial's next
 * `logMetric` of the sweep's metric. Let it propagate (the trial's run then ends STOPPED, tagged
 * `sweep.stopped`), or catch it to clean up; the TensorFlow.js callback turns it into
 * `model.stopTraining`, ending training at the epoch boundary.
 */
export class SweepStopped extends TrackingError {
  static override readonly errorName: string = 'SweepStopped';

  constructor(
    /** Why the trial was stopped. */
    readonly reason: string,
  ) {
    super(`the sweep stopped this trial early (${reason})`);
  }
}
