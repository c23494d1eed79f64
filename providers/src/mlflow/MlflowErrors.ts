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

/**
 * A run's artifacts are where omega-track cannot reach them: in a folder of the server's machine
 * (a local `--default-artifact-root`) that does not exist on this one, or in a store the server
 * does not proxy (`s3:`, `gs:`, …). Its metrics, params and tags still read back; its artifacts,
 * and the events MLflow has no place for (kept as artifact files), cannot be written or read.
 */
export class MlflowArtifactsUnreachableError extends TrackingError {
  constructor(
    /** The run's `artifact_uri`. */
    readonly artifactUri: string,
    /** The artifact root it was made from (the server's `--default-artifact-root`, as far as it shows). */
    readonly artifactRoot: string,
    /** True for a folder of another machine, false for a store of another kind. */
    elsewhere: boolean,
    subject = 'this run',
  ) {
    const proxy =
      `or start the MLflow server with --serve-artifacts --artifacts-destination ${artifactRoot} ` +
      'instead of --default-artifact-root, so that artifacts go through its mlflow-artifacts: proxy ' +
      '(experiments created after that get it; an existing one keeps its artifact location)';
    super(
      elsewhere
        ? `MLflow keeps the artifacts of ${subject} at ${artifactUri}, a folder of the server's machine ` +
            `(a local --default-artifact-root) that does not exist on this one (${artifactRoot} is missing here), ` +
            `so omega-track can neither write nor read them: run it where that folder is (on the server's ` +
            `machine, or with the same folder mounted at the same path here), ${proxy}`
        : `MLflow keeps the artifacts of ${subject} at ${artifactUri}, which omega-track cannot reach ` +
            `(it reads and writes artifacts through the MLflow server only): ${proxy.slice('or '.length)}`,
    );
  }
}
