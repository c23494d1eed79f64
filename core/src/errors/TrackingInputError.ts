import { TrackingError } from './TrackingError';

/**
 * Bad input to a recording or query call: thrown at the call, before anything is queued,
 * so nothing already logged is affected.
 */
export class TrackingInputError extends TrackingError {
  static override readonly errorName: string = 'TrackingInputError';
}
