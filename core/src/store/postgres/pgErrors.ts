import { redactUrls } from '../../diag/diag';
import { StoreError } from '../../errors/StoreError';
import type { StoreErrorCode } from '../../errors/StoreError';
import { TrackingError } from '../../errors/TrackingError';
import type { PgUrl } from './pgUrl';
import { scrubPgSecrets } from './pgUrl';

/** The parts of a pg error that say what happened: the SQLSTATE of the server, or a socket's code. */
interface DriverError {
  message?: unknown;
  code?: unknown;
}

/** Socket errors of a server that cannot be reached (or went away). */
const UNREACHABLE = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ETIMEDOUT',
]);

/** Whether a failed operation may succeed when tried again soon (a server restarting, a lost connection). */
export function isTransient(error: unknown): boolean {
  const e = error as DriverError | undefined;
  const code = typeof e?.code === 'string' ? e.code : '';
  if (UNREACHABLE.has(code) || code === 'ECONNRESET' || code === 'EPIPE') return true;
  // connection exceptions, the server shutting down or starting, serialization and deadlocks
  if (/^08/.test(code) || ['57P01', '57P02', '57P03', '40001', '40P01', '53300'].includes(code)) return true;
  return /Connection terminated|timeout expired|Client has encountered a connection error/i.test(
    typeof e?.message === 'string' ? e.message : '',
  );
}

/** A unique index refused a row: for a batch, what an earlier attempt of it wrote already. */
export function isUniqueViolation(error: unknown): boolean {
  return (error as DriverError | undefined)?.code === '23505';
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? String(ms / 1000) : (ms / 1000).toFixed(1);
}

/** What an error of pg or the server means for the user: the StoreError code and what to do. */
function classify(
  error: DriverError,
  write: boolean,
  timeoutMs: number,
): { code: StoreErrorCode; advice: string } {
  const code = typeof error.code === 'string' ? error.code : '';
  const message = typeof error.message === 'string' ? error.message : '';
  if (code === '28P01' || code === '28000')
    return {
      code: 'cannot-open',
      advice: 'authentication failed: check the user and password in the URL (not shown here) or PGPASSWORD',
    };
  if (code === '3D000')
    return {
      code: 'not-found',
      advice: 'the database does not exist: check its name in the URL, or create it',
    };
  if (code === 'ECONNREFUSED')
    return {
      code: 'cannot-open',
      advice: "no PostgreSQL server listens there: check that it runs, and the URL's host and port",
    };
  if (UNREACHABLE.has(code) || /timeout expired|connection timeout/i.test(message))
    return {
      code: 'cannot-open',
      advice: `no PostgreSQL server answered within ${seconds(timeoutMs)} s: check that it runs and can be reached from here, and the URL's host and port`,
    };
  if (code === '42501')
    return write
      ? {
          code: 'read-only',
          advice:
            'the user of the URL may not write here: grant it USAGE and CREATE on the schema, and write rights on its tables',
        }
      : {
          code: 'cannot-open',
          advice:
            'the user of the URL may not read here: grant it USAGE on the schema and SELECT on its tables',
        };
  if (code === '53100' || /no space left/i.test(message))
    return {
      code: 'disk-full',
      advice:
        'the server has no room left: free space; queued events wait and are written once there is room',
    };
  if (code === '25006')
    return {
      code: 'read-only',
      advice: 'the server is read-only (a standby?): point the URL at the primary',
    };
  if (code === '55P03')
    return { code: 'locked', advice: 'another session holds a lock for longer than lock_timeout' };
  if (code === '57014')
    return {
      code: 'io',
      advice:
        'the statement ran longer than statement_timeout (or was cancelled): raise it, or look for what holds the tables',
    };
  if (/^(42P01|3F000)$/.test(code))
    return { code: 'not-a-database', advice: "the store's tables are missing or were changed by hand" };
  if (isTransient(error))
    return {
      code: 'io',
      advice: 'the connection to the server was lost or it is restarting; writes are retried',
    };
  return { code: 'io', advice: "the server's reason is in parentheses" };
}

/**
 * A StoreError from whatever pg threw, naming the store by its URL without password, what was
 * being done and what to do about it; the URL's secrets are scrubbed from the message and from
 * the error kept as `cause`. omega-track's own errors are returned as they are.
 */
export function toPgStoreError(
  error: unknown,
  url: PgUrl,
  doing: string,
  opts: { write?: boolean } = {},
): TrackingError {
  if (error instanceof TrackingError) return error;
  const e = (error ?? {}) as DriverError;
  const { code, advice } = classify(e, opts.write ?? false, url.connectTimeoutMs);
  const raw = typeof e.message === 'string' && e.message ? e.message : String(error);
  const reason = redactUrls(scrubPgSecrets(raw, url));
  if (error instanceof Error)
    try {
      error.message = reason;
    } catch {
      // a frozen error keeps its message; ours is clean either way
    }
  return new StoreError(
    code,
    url.display,
    `store ${url.display}: ${doing} failed (${reason}): ${advice}`,
    error,
  );
}
