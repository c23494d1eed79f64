import { StoreError } from '../../errors/StoreError';
import type { StoreErrorCode } from '../../errors/StoreError';
import type { TrackingError } from '../../errors/TrackingError';
import { TrackingInputError } from '../../errors/TrackingInputError';

/**
 * A request to the server that did not succeed: no answer at all (`status` undefined: refused,
 * reset, timed out, cut mid-answer) or an answer with an error status and the server's JSON error.
 */
export class HttpFailure extends Error {
  constructor(
    message: string,
    /** The HTTP status; undefined when no (whole) answer came. */
    readonly status: number | undefined,
    /** The server's error code (`bad-request`, `conflict`, …), when it sent one. */
    readonly code: string | undefined,
  ) {
    super(message);
  }

  /** Whether trying again later may succeed: no answer, or a 5xx / 408 / 429. */
  get retryable(): boolean {
    return this.status === undefined || this.status >= 500 || this.status === 408 || this.status === 429;
  }

  /** Whether the token is missing, wrong or not allowed: retrying soon cannot help. */
  get auth(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

/** The server's error body: `{"error": "...", "code": "..."}`. */
export async function failureOf(response: Response, doing: string): Promise<HttpFailure> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    // the body was cut: the status says enough
  }
  let message = text.slice(0, 500);
  let code: string | undefined;
  try {
    const body = JSON.parse(text) as { error?: unknown; code?: unknown };
    if (typeof body.error === 'string') message = body.error;
    if (typeof body.code === 'string') code = body.code;
  } catch {
    // not JSON (a proxy's page): its first characters are the reason
  }
  return new HttpFailure(
    `${doing}: HTTP ${response.status}${message ? ` (${message})` : ''}`,
    response.status,
    code,
  );
}

/** A failure without an answer (fetch rejected): its cause's code when Node gives one. */
export function networkFailure(error: unknown, doing: string): HttpFailure {
  const e = error as { message?: unknown; cause?: { code?: unknown; message?: unknown } } | undefined;
  const cause = e?.cause;
  const why =
    (typeof cause?.code === 'string' ? cause.code : undefined) ??
    (typeof cause?.message === 'string' ? cause.message : undefined) ??
    (typeof e?.message === 'string' ? e.message : String(error));
  return new HttpFailure(`${doing}: no answer from the server (${why})`, undefined, undefined);
}

/** The StoreError codes of a server that does not answer and of a replayed write id with other content. */
export const UNREACHABLE: StoreErrorCode = 'unreachable';
export const CONFLICT: StoreErrorCode = 'conflict';

/**
 * The typed error a caller gets for a failed request: 400 is bad input (TrackingInputError);
 * 401 / 403 a StoreError `unauthorized` / `forbidden` that says to check the token; 404
 * `not-found`; 409 `conflict`; 413 `too-big` (retrying cannot help); a 5xx the server's own
 * store code when it says one (`store-locked` → `locked`), else `io`; no answer `unreachable`.
 */
export function toHttpStoreError(failure: HttpFailure, location: string): TrackingError {
  const message = `store ${location}: ${failure.message}`;
  const s = failure.status;
  if (s === undefined) return new StoreError(UNREACHABLE, location, message, failure);
  if (s === 400) return new TrackingInputError(message);
  if (s === 401)
    return new StoreError(
      'unauthorized',
      location,
      `${message}: the server wants a valid token (the token option or OMEGA_TOKEN)`,
      failure,
    );
  if (s === 403)
    return new StoreError(
      'forbidden',
      location,
      `${message}: the token may not do this (its role or its experiments do not allow it)`,
      failure,
    );
  if (s === 404) return new StoreError('not-found', location, message, failure);
  if (s === 409) return new StoreError(CONFLICT, location, message, failure);
  if (s === 413) return new StoreError('too-big', location, message, failure);
  const storeCode = failure.code?.startsWith('store-') ? failure.code.slice('store-'.length) : undefined;
  const known: readonly string[] = [
    'locked',
    'disk-full',
    'read-only',
    'io',
    'not-a-database',
    'cannot-open',
  ];
  const code = (storeCode && known.includes(storeCode) ? storeCode : 'io') as StoreErrorCode;
  return new StoreError(code, location, message, failure);
}
