import { TrackingError } from './TrackingError';

/** A provider name that nobody registered; the message lists the names that are. */
export class UnknownProviderError extends TrackingError {
  static override readonly errorName: string = 'UnknownProviderError';

  constructor(
    readonly providerName: string,
    readonly availableNames: readonly string[],
  ) {
    super(
      `Unknown tracking provider '${providerName}'. Registered providers: ${
        availableNames.length ? availableNames.join(', ') : '(none)'
      }`,
    );
  }
}
