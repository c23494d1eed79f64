/**
 * The writer thread of the embedded store. It owns a connection of its own and runs the write
 * operations the main thread sends, one at a time and in order, so that a store that is locked
 * by another process, slow, or full stalls this thread and never the caller's event loop.
 *
 * Shared state with the main thread (Int32Array over a SharedArrayBuffer):
 * - [0]: IDLE, BUSY (a write is under way) or STOPPED (the main thread took over: it is exiting
 *   and writes what is left itself; nothing more may be written from here);
 * - [RING..]: per request slot (seq % RING_SIZE), the seq of the last request committed there.
 * The main thread reads them at exit to replay exactly the requests that were not committed.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type BetterSqlite3 from 'better-sqlite3';
import { SqliteWrites, applyWrite } from './SqliteWrites';
import type { WriteOp } from './SqliteWrites';
import { BUSY, IDLE, RING, RING_SIZE } from './writerState';
import type { WriterConfig, WriterReply, WriterRequest } from './writerState';

const config = workerData as WriterConfig;
const state = new Int32Array(config.shared);
let db: BetterSqlite3.Database | undefined;
let writes: SqliteWrites | undefined;

function connection(): SqliteWrites {
  if (writes) return writes;
  db = new Database(config.file, { fileMustExist: true });
  // a short wait per attempt: the main thread retries with backoff, and can take over at exit
  db.pragma(`busy_timeout = ${config.busyTimeoutMs}`);
  db.pragma('synchronous = NORMAL');
  writes = new SqliteWrites(db, config.file);
  return writes;
}

parentPort!.on('message', (request: WriterRequest) => {
  // the main thread is exiting and writes the rest itself: do nothing more
  if (Atomics.compareExchange(state, 0, IDLE, BUSY) !== IDLE) return;
  let reply: WriterReply;
  try {
    const result = applyWrite(connection(), request.write as WriteOp);
    Atomics.store(state, RING + (request.seq % RING_SIZE), request.seq);
    reply = { seq: request.seq, ok: true, result };
  } catch (error) {
    const e = error as { code?: unknown; message?: unknown };
    reply = {
      seq: request.seq,
      ok: false,
      code: typeof e.code === 'string' ? e.code : '',
      message: typeof e.message === 'string' ? e.message : String(error),
    };
    // a connection that failed to open is opened again on the next request
    if (!writes) db = undefined;
  } finally {
    Atomics.store(state, 0, IDLE);
    Atomics.notify(state, 0);
  }
  parentPort!.postMessage(reply);
});
