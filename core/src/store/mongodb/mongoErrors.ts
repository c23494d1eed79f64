import { StoreError } from '../../errors/StoreError';
import type { StoreErrorCode } from '../../errors/StoreError';
import { TrackingError } from '../../errors/TrackingError';
import { redactUrls } from '../../diag/diag';
import type { MongoUrl } from './mongoUrl';
import { scrubSecrets } from './mongoUrl';

/** The parts of a driver error that say what happened (read by name: the driver loads lazily). */
interface DriverError {
  name?: unknown;
  message?: unknown;
  code?: unknown;
  codeName?: unknown;
  writeErrors?: unknown;
  errorResponse?: unknown;
  hasErrorLabel?: (label: string) => boolean;
}

/**
 * The error a bulk write (insertMany, bulkWrite) wrapped: the driver wraps a network or server
 * selection failure during one in a MongoBulkWriteError without write errors, keeping it as
 * `errorResponse`.
 */
function wrapped(error: DriverError): DriverError | undefined {
  const inner = error.errorResponse;
  return error.name === 'MongoBulkWriteError' && inner instanceof Error && inner !== error
    ? inner
    : undefined;
}

/** Server error codes of a replica set between primaries, or a server going away: worth retrying. */
const TRANSIENT_CODES = new Set([
  6, // HostUnreachable
  7, // HostNotFound
  89, // NetworkTimeout
  91, // ShutdownInProgress
  189, // PrimarySteppedDown
  262, // ExceededTimeLimit
  9001, // SocketException
  10107, // NotWritablePrimary
  11600, // InterruptedAtShutdown
  11602, // InterruptedDueToReplStateChange
  13435, // NotPrimaryNoSecondaryOk
  13436, // NotPrimaryOrSecondary
]);

/** Duplicate key: an event written by an earlier attempt of the same write, or a lost upsert race. */
export function isDuplicateKey(error: unknown): boolean {
  const code = (error as DriverError | undefined)?.code;
  return code === 11000 || code === 11001 || code === 12582;
}

/** Whether a failed operation may succeed when tried again soon (network, elections). */
export function isTransient(error: unknown): boolean {
  const e = error as DriverError | undefined;
  if (!e || typeof e !== 'object') return false;
  const inner = wrapped(e);
  if (inner) return isTransient(inner);
  if (e.name === 'MongoNetworkError' || e.name === 'MongoNetworkTimeoutError') return true;
  if (typeof e.hasErrorLabel === 'function' && e.hasErrorLabel('RetryableWriteError')) return true;
  return typeof e.code === 'number' && TRANSIENT_CODES.has(e.code);
}

/** The first write error of a bulk write that is not a duplicate key (those are retries' leftovers). */
function firstRealWriteError(error: DriverError): DriverError | undefined {
  const list = error.writeErrors;
  const errors = (Array.isArray(list) ? list : list ? [list] : []) as DriverError[];
  return errors.find((w) => !isDuplicateKey(w));
}

function messageOf(error: unknown): string {
  const raw = (error as DriverError | undefined)?.message;
  return typeof raw === 'string' && raw !== '' ? raw : String(error);
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? String(ms / 1000) : (ms / 1000).toFixed(1);
}

/** What an error of the driver means for the user: the StoreError code and what to do about it. */
function classify(
  error: DriverError,
  write: boolean,
  timeoutMs: number,
): { code: StoreErrorCode; advice: string } {
  const name = typeof error.name === 'string' ? error.name : '';
  const message = messageOf(error);
  const code = typeof error.code === 'number' ? error.code : undefined;
  if (code === 18 || /authentication failed/i.test(message))
    return {
      code: 'cannot-open',
      advice:
        'authentication failed: check the user and password in the URL (not shown here) and its authSource',
    };
  // a document over MongoDB's 16 MB limit: the driver refuses it (as an invalid argument, which
  // is not the URL's fault), or the server does (BSONObjectTooLarge); retrying cannot help
  if (code === 10334 || /larger than the maximum size|BSONObjectTooLarge/i.test(message))
    return {
      code: 'too-big',
      advice: 'a document is larger than MongoDB takes (16 MB): retrying cannot help, it is not retried',
    };
  if (name === 'MongoServerSelectionError')
    return {
      code: 'cannot-open',
      advice: `no MongoDB server answered within ${seconds(timeoutMs)} s (serverSelectionTimeoutMS): check that it runs and can be reached from here, and the URL's hosts, port, TLS and replicaSet options`,
    };
  if (
    name === 'MongoParseError' ||
    name === 'MongoInvalidArgumentError' ||
    name === 'MongoMissingDependencyError'
  )
    return {
      code: 'invalid-url',
      advice: 'the URL cannot be used: see https://www.mongodb.com/docs/manual/reference/connection-string/',
    };
  if (name === 'MongoTopologyClosedError' || name === 'MongoNotConnectedError')
    return { code: 'io', advice: 'the store is closed' };
  if (code === 13)
    return write
      ? {
          code: 'read-only',
          advice: 'the user of the URL may not write here: give it the readWrite role on the database',
        }
      : {
          code: 'cannot-open',
          advice:
            'the user of the URL may not read here: give it the read (or readWrite) role on the database',
        };
  if (code === 14031 || /quota|out of disk space|no space left/i.test(message))
    return {
      code: 'disk-full',
      advice:
        'the server has no room left: free space (or raise the quota); queued events wait and are written once there is room',
    };
  if (isTransient(error))
    return {
      code: 'io',
      advice:
        'the connection to the server was lost or the replica set is changing its primary; writes are retried',
    };
  return { code: 'io', advice: "the server's reason is in parentheses" };
}

/**
 * A StoreError from whatever the driver threw, naming the store by its URL without password,
 * what was being done and what to do about it. The URL's secrets are scrubbed from the message,
 * and from the driver's error kept as `cause`. omega-track's own errors are returned as they are.
 */
export function toMongoStoreError(
  error: unknown,
  url: MongoUrl,
  doing: string,
  opts: { write?: boolean; timeoutMs: number },
): TrackingError {
  if (error instanceof TrackingError) return error;
  const outer = (error ?? {}) as DriverError;
  const e = wrapped(outer) ?? outer;
  // a bulk write is described by the write that failed, not by its summary (write errors keep
  // their code and text in getters: read one by one)
  const failed = e.name === 'MongoBulkWriteError' ? firstRealWriteError(e) : undefined;
  const described: DriverError = failed
    ? {
        name: e.name,
        code: failed.code,
        message: (failed as { errmsg?: unknown }).errmsg ?? failed.message,
        hasErrorLabel: e.hasErrorLabel?.bind(e),
      }
    : e;
  const { code, advice } = classify(described, opts.write ?? false, opts.timeoutMs);
  const reason = redactUrls(scrubSecrets(messageOf(described), url));
  for (const kept of new Set([error, e]))
    if (kept instanceof Error) {
      try {
        kept.message = redactUrls(scrubSecrets(kept.message, url));
      } catch {
        // a frozen error keeps its message; ours is clean either way
      }
    }
  return new StoreError(
    code,
    url.display,
    `store ${url.display}: ${doing} failed (${reason}): ${advice}`,
    error,
  );
}
