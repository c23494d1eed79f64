import { TrackingError } from './TrackingError';

/**
 * What went wrong with a store, as a code a program can test:
 * - `not-found`: no store at that place (reading never creates one)
 * - `invalid-url`: a URL or path that cannot name a store (e.g. under `/proc`)
 * - `cannot-open`: the file or its folder cannot be opened or created (permissions, read-only)
 * - `not-a-database`: the file is not a store, or it is corrupt
 * - `locked`: another process holds the write lock for longer than the wait allowed
 * - `disk-full`: the file system is full
 * - `read-only`: the store can be read but not written
 * - `too-big`: one write holds a value larger than the store takes (SQLite: 1 GB per value;
 *   MongoDB: 16 MB per document). Retrying cannot help: the data in that write cannot be stored
 * - `conflict`: a write id (see `WriteId`) that was used before for other content; nothing of
 *   this write was stored. Retrying cannot help: the write must get an id of its own
 * - `unreachable`: the server of a store (an `omega-track server`) does not answer
 * - `unauthorized`: the server of a store wants a valid token (none, a wrong or a revoked one)
 * - `forbidden`: the server's token may not do this (a read token writing, a token of other
 *   experiments); retrying cannot help
 * - `io`: any other failure of the file or the server
 */
export type StoreErrorCode =
  | 'not-found'
  | 'invalid-url'
  | 'cannot-open'
  | 'not-a-database'
  | 'locked'
  | 'disk-full'
  | 'read-only'
  | 'too-big'
  | 'conflict'
  | 'unreachable'
  | 'unauthorized'
  | 'forbidden'
  | 'io';

/** A store that cannot be opened, read or written; the message names the place and what to do. */
export class StoreError extends TrackingError {
  static override readonly errorName: string = 'StoreError';

  constructor(
    readonly code: StoreErrorCode,
    /** The file (or redacted URL) of the store. */
    readonly location: string,
    message: string,
    cause?: unknown,
  ) {
    super(message);
    // the underlying error (SqliteError, fs error), kept for debugging
    if (cause !== undefined) Object.defineProperty(this, 'cause', { value: cause, enumerable: false });
  }
}
