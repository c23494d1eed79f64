import { TrackingError } from '@omega-track/core';
import { redactUrls } from '@omega-track/core/internal';

/** MLflow answered with an error (`{ error_code, message }` and an HTTP status). */
export class MlflowApiError extends TrackingError {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    readonly serverMessage: string,
    readonly endpoint: string,
  ) {
    super(`MLflow ${endpoint} answered ${status} ${errorCode}: ${serverMessage}`);
  }

  /** Whether sending the same request again later can succeed (overload, outage, timeout). */
  get retryable(): boolean {
    return (
      [408, 429, 502, 503, 504].includes(this.status) ||
      (this.status === 500 && this.errorCode !== 'INTERNAL_ERROR')
    );
  }
}

/** The tracking server could not be reached at all (refused, reset, DNS, timeout). */
export class MlflowUnavailableError extends TrackingError {
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(
      `MLflow at ${redactUrls(url)} is not reachable: ${cause instanceof Error ? (cause.cause instanceof Error ? cause.cause.message : cause.message) : String(cause)}`,
    );
  }

  get retryable(): boolean {
    return true;
  }
}

/** Whether an error from the client is worth retrying later. */
export function isRetryable(error: unknown): boolean {
  return (error instanceof MlflowApiError || error instanceof MlflowUnavailableError) && error.retryable;
}
