/** Refusals of the HTTP API, and how any error becomes the JSON body `{ error, code }`. */
import { FilterSyntaxError, StoreError, TrackingError, TrackingInputError } from '@omega-track/core';
import { redactUrls } from '@omega-track/core/internal';
import { HttpError } from '../ui/server/respond';

/** The `code` of an error body, by status (store errors add their own: `store-<code>`). */
const CODES: Record<number, string> = {
  400: 'bad-request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not-found',
  405: 'method-not-allowed',
  409: 'conflict',
  413: 'too-large',
  415: 'unsupported-media-type',
  500: 'internal',
  503: 'unavailable',
};

/** The code of the JSON error body for `status`. */
export function codeOf(status: number): string {
  return CODES[status] ?? (status >= 500 ? 'internal' : 'bad-request');
}

/** A refusal of the API with its status and code (and fields its body carries besides). */
export class ApiError extends HttpError {
  constructor(
    status: number,
    message: string,
    readonly code = codeOf(status),
    fields: Record<string, unknown> = {},
    /** Headers the answer carries (`Allow` of a 405). */
    readonly headers: Record<string, string> = {},
  ) {
    super(status, message, fields);
  }
}

/** The status a store error is answered with: retryable ones 503, a full disk 507. */
function storeStatus(error: StoreError): number {
  const code: string = error.code;
  if (code === 'conflict') return 409;
  if (code === 'disk-full') return 507;
  if (code === 'locked' || code === 'io' || code === 'unreachable') return 503;
  return 500;
}

/** An error of Fastify itself (body limit, content type, schema validation, bad JSON). */
interface FrameworkError {
  statusCode?: number;
  code?: string;
  validation?: unknown;
  message: string;
}

/** The status, body and headers that answer `error` on the versioned API (`/api/v1`). */
export function describeApiError(error: unknown): {
  status: number;
  body: Record<string, unknown>;
  unexpected: boolean;
} {
  const body = (status: number, message: string, code: string, fields: Record<string, unknown> = {}) => ({
    status,
    body: { error: redactUrls(message), code, ...fields },
    unexpected: false,
  });
  if (error instanceof ApiError) return body(error.status, error.message, error.code, error.fields);
  if (error instanceof HttpError)
    return body(error.status, error.message, codeOf(error.status), error.fields);
  if (error instanceof FilterSyntaxError)
    return body(400, error.message, 'bad-request', { position: error.position, expected: error.expected });
  if (error instanceof TrackingInputError) return body(400, error.message, 'bad-request');
  if (error instanceof StoreError) {
    const status = storeStatus(error);
    const code: string = error.code;
    return body(status, error.message, code === 'conflict' ? 'conflict' : `store-${code}`);
  }
  if (error instanceof TrackingError) return body(500, error.message, 'internal');
  const fw = error as FrameworkError;
  if (fw && typeof fw.statusCode === 'number' && fw.statusCode >= 400 && fw.statusCode < 500) {
    const status = fw.statusCode;
    const message =
      status === 413
        ? `the body is over this server's limit for it: ${fw.message}`
        : fw.validation !== undefined
          ? `the body does not have the shape this endpoint takes: ${fw.message}`
          : fw.message;
    return body(status, message, codeOf(status));
  }
  return {
    status: 500,
    body: {
      error: redactUrls(`internal error: ${error instanceof Error ? error.message : String(error)}`),
      code: 'internal',
    },
    unexpected: true,
  };
}
