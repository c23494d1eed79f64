import type BetterSqlite3 from 'better-sqlite3';
import { encodeChunks } from '../chunks/EventChunk';
import type { EncodedChunk } from '../chunks/EventChunk';
import { mergeRunStats } from '../chunks/runStats';
import type { RunStatsDelta } from '../chunks/runStats';
import type { PendingEvent } from '../../events/types';
import type { WriteId } from '../Store';
import { isSameWrite, writeIdConflict } from '../writeIds';
import type { RecordedWrite } from '../writeIds';
import { WRITE_IDS_TABLE } from './sqliteSchema';

/** A message from another thread carries a Buffer as a plain Uint8Array; SQLite binds Buffers. */
function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

/** An entry row as it is written (attributes and data already JSON text). */
export type EntryRow = [
  bucket: string,
  name: string,
  kind: string,
  attributes: string,
  data: string | null,
  blob: string | null,
  created: number,
  modified: number,
];

/**
 * Every write of the embedded store, on one connection. The writer thread runs them on its own
 * connection; the main thread runs them for `memory:` stores and for the last synchronous
 * writes of a process that is exiting. One class, so both places write exactly the same rows.
 */
export class SqliteWrites {
  private readonly insertChunk: BetterSqlite3.Statement;
  private readonly appendChunks: BetterSqlite3.Transaction<
    (experiment: string, chunks: readonly EncodedChunk[]) => void
  >;
  private readonly appendImmediate: (experiment: string, chunks: readonly EncodedChunk[]) => void;
  private readonly allocate: (
    experiment: string,
    start: Omit<PendingEvent, 'run'>,
    atLeast: number,
  ) => number;
  private readonly upsertEntry: BetterSqlite3.Statement;
  private readonly removeEntry: BetterSqlite3.Statement;
  private readonly insertBlob: BetterSqlite3.Statement;
  private readonly removeBlobs: BetterSqlite3.Statement;
  private readonly upsertBeat: BetterSqlite3.Statement;
  private readonly removeExperiment: (experiment: string) => number;
  private readonly mergeStats: (experiment: string, chunks: readonly EncodedChunk[]) => void;
  private readonly removeRun: (experiment: string, run: number) => number;
  /** The statements of write ids, prepared on first use (see writeIds()). */
  private idStatements: { find: BetterSqlite3.Statement; record: BetterSqlite3.Statement } | undefined;
  private readonly appendWithId: (
    experiment: string,
    chunks: readonly EncodedChunk[],
    writeId: WriteId,
  ) => { duplicate: true } | undefined;
  private readonly allocateWithId: (
    experiment: string,
    start: Omit<PendingEvent, 'run'>,
    atLeast: number,
    writeId: WriteId,
  ) => number;

  /**
   * @param db the connection to write on
   * @param location the store's file, as errors name it
   */
  constructor(
    private readonly db: BetterSqlite3.Database,
    private readonly location: string,
  ) {
    this.insertChunk = db.prepare(
      'INSERT INTO chunks (experiment, run, count, min_dt, max_dt, events, keys, payload) VALUES (?,?,?,?,?,?,?,?)',
    );
    const statsOfRun = db.prepare('SELECT stats, sums FROM run_stats WHERE experiment = ? AND run = ?');
    const putStats = db.prepare(
      'INSERT OR REPLACE INTO run_stats (experiment, run, stats, sums) VALUES (?, ?, ?, ?)',
    );
    // one row per run, read, merged with what the chunks add and written back, in the
    // transaction that appends them (taken IMMEDIATE: another process cannot write in between)
    this.mergeStats = (experiment, chunks) => {
      const byRun = new Map<number, RunStatsDelta[]>();
      for (const c of chunks) {
        let list = byRun.get(c.run);
        if (!list) byRun.set(c.run, (list = []));
        for (const d of c.stats) list.push(d);
      }
      for (const [run, deltas] of byRun) {
        if (deltas.length === 0) continue;
        const before = statsOfRun.get(experiment, run) as { stats: string; sums: number } | undefined;
        const merged = mergeRunStats(before?.stats, deltas);
        // a row without its sums (rewritten by an older omega-track) stays so: runs() reads that
        // run from its events
        const sums = merged.sums && (before === undefined || before.sums === 1) ? 1 : 0;
        putStats.run(experiment, run, merged.text, sums);
      }
    };
    this.appendChunks = db.transaction((experiment: string, chunks: readonly EncodedChunk[]) => {
      this.mergeStats(experiment, chunks);
      for (const c of chunks) {
        this.insertChunk.run(
          experiment,
          c.run,
          c.count,
          c.minDt,
          c.maxDt,
          c.events,
          c.keys,
          asBuffer(c.payload),
        );
      }
    });
    this.appendImmediate = (experiment, chunks) => this.appendChunks.immediate(experiment, chunks);
    const maxRun = db.prepare('SELECT MAX(run) FROM runs WHERE experiment = ?').pluck();
    const insertRun = db.prepare('INSERT INTO runs (experiment, run) VALUES (?, ?)');
    const allocate = db.transaction(
      (experiment: string, start: Omit<PendingEvent, 'run'>, atLeast: number) => {
        const run = Math.max(((maxRun.get(experiment) as number | null) ?? 0) + 1, atLeast);
        insertRun.run(experiment, run);
        this.appendChunks(experiment, encodeChunks([{ ...start, run }]));
        return run;
      },
    );
    // IMMEDIATE takes the write lock before reading max(run): that is what makes it atomic.
    this.allocate = (experiment, start, atLeast) => allocate.immediate(experiment, start, atLeast);
    // A write with an id looks the id up, and records it, in the transaction that writes: taken
    // IMMEDIATE, a second process replaying the same write waits for the first and then finds it.
    const appendWithId = db.transaction(
      (
        experiment: string,
        chunks: readonly EncodedChunk[],
        writeId: WriteId,
      ): { duplicate: true } | undefined => {
        const recorded = this.recorded(writeId.id);
        if (recorded) {
          if (isSameWrite(recorded, experiment, 'append', writeId.digest)) return { duplicate: true };
          throw writeIdConflict(this.location, writeId.id);
        }
        this.writeIds().record.run(writeId.id, experiment, 'append', writeId.digest, null, Date.now());
        if (chunks.length) this.appendChunks(experiment, chunks);
        return undefined;
      },
    );
    this.appendWithId = (experiment, chunks, writeId) => appendWithId.immediate(experiment, chunks, writeId);
    const allocateWithId = db.transaction(
      (experiment: string, start: Omit<PendingEvent, 'run'>, atLeast: number, writeId: WriteId): number => {
        const recorded = this.recorded(writeId.id);
        if (recorded) {
          if (isSameWrite(recorded, experiment, 'start', writeId.digest) && recorded.run !== null)
            return recorded.run;
          throw writeIdConflict(this.location, writeId.id);
        }
        const run = allocate(experiment, start, atLeast);
        this.writeIds().record.run(writeId.id, experiment, 'start', writeId.digest, run, Date.now());
        return run;
      },
    );
    this.allocateWithId = (experiment, start, atLeast, writeId) =>
      allocateWithId.immediate(experiment, start, atLeast, writeId);
    this.upsertEntry = db.prepare(
      `INSERT INTO entries (bucket, name, kind, attributes, data, blob, created, modified)
       VALUES (?,?,?,?,?,?,?,?)
       ON CONFLICT (bucket, name) DO UPDATE SET kind = excluded.kind, attributes = excluded.attributes,
         data = excluded.data, blob = excluded.blob, modified = excluded.modified`,
    );
    this.removeEntry = db.prepare('DELETE FROM entries WHERE bucket = ? AND name = ?');
    this.insertBlob = db.prepare('INSERT OR REPLACE INTO blobs (key, data) VALUES (?, ?)');
    this.removeBlobs = db.prepare('DELETE FROM blobs WHERE substr(key, 1, length(?)) = ?');
    this.upsertBeat = db.prepare(
      `INSERT INTO heartbeats (experiment, run, owner, beat, interval_ms) VALUES (?,?,?,?,?)
       ON CONFLICT (experiment, run, owner) DO UPDATE SET beat = excluded.beat, interval_ms = excluded.interval_ms`,
    );
    const deleteRuns = db.prepare('DELETE FROM runs WHERE experiment = ?');
    const deleteBeats = db.prepare('DELETE FROM heartbeats WHERE experiment = ?');
    const deleteStats = db.prepare('DELETE FROM run_stats WHERE experiment = ?');
    const deleteChunks = db.prepare('DELETE FROM chunks WHERE experiment = ? RETURNING count').pluck();
    this.removeExperiment = db.transaction((name: string) => {
      deleteRuns.run(name);
      deleteBeats.run(name);
      deleteStats.run(name);
      return deleteChunks.all(name).reduce((n: number, c) => n + (c as number), 0);
    });
    // the run's row in `runs` stays: it is what keeps its number from being given out again
    const deleteRunBeats = db.prepare('DELETE FROM heartbeats WHERE experiment = ? AND run = ?');
    const deleteRunStats = db.prepare('DELETE FROM run_stats WHERE experiment = ? AND run = ?');
    const deleteRunChunks = db
      .prepare('DELETE FROM chunks WHERE experiment = ? AND run = ? RETURNING count')
      .pluck();
    this.removeRun = db.transaction((name: string, run: number) => {
      deleteRunBeats.run(name, run);
      deleteRunStats.run(name, run);
      return deleteRunChunks.all(name, run).reduce((n: number, c) => n + (c as number), 0);
    });
  }

  /**
   * The write-id statements. A store made before write ids existed gets their table here, on
   * the first write that carries one, in a statement of its own before that write's transaction
   * (opening a store never writes to it; a lock met here is retried like any write's).
   */
  private writeIds(): { find: BetterSqlite3.Statement; record: BetterSqlite3.Statement } {
    if (!this.idStatements) {
      const have = this.db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'write_ids'");
      if (have.get() === undefined) this.db.exec(WRITE_IDS_TABLE);
      this.idStatements = {
        find: this.db.prepare('SELECT experiment, kind, digest, run FROM write_ids WHERE id = ?'),
        record: this.db.prepare(
          'INSERT INTO write_ids (id, experiment, kind, digest, run, at) VALUES (?, ?, ?, ?, ?, ?)',
        ),
      };
    }
    return this.idStatements;
  }

  private recorded(id: string): RecordedWrite | undefined {
    return this.writeIds().find.get(id) as RecordedWrite | undefined;
  }

  /**
   * Appends encoded chunks, all or none. With a write id: once per id (a repeat answers
   * `{ duplicate: true }`; another write under the id is a StoreError `conflict`).
   */
  append(
    experiment: string,
    chunks: readonly EncodedChunk[],
    writeId?: WriteId,
  ): { duplicate: true } | undefined {
    if (writeId) {
      this.writeIds(); // outside the transaction: see writeIds()
      return this.appendWithId(experiment, chunks, writeId);
    }
    if (chunks.length) this.appendImmediate(experiment, chunks);
    return undefined;
  }

  /**
   * Allocates the next run number and writes its start event, atomically. With a write id, a
   * repeat allocates nothing and answers the number the first one got.
   */
  startRun(experiment: string, start: Omit<PendingEvent, 'run'>, atLeast: number, writeId?: WriteId): number {
    if (writeId) {
      this.writeIds();
      return this.allocateWithId(experiment, start, atLeast, writeId);
    }
    return this.allocate(experiment, start, atLeast);
  }

  putEntry(row: EntryRow): void {
    this.upsertEntry.run(...row);
  }

  deleteEntry(bucket: string, name: string): boolean {
    return this.removeEntry.run(bucket, name).changes > 0;
  }

  putBlob(key: string, data: Uint8Array): void {
    this.insertBlob.run(key, asBuffer(data));
  }

  deleteBlobs(prefix: string): number {
    return this.removeBlobs.run(prefix, prefix).changes;
  }

  /** Deletes the experiment's events, run counter and heartbeats; returns how many events went. */
  deleteEvents(experiment: string): number {
    return this.removeExperiment(experiment);
  }

  /** Deletes one run's events, aggregates and heartbeats (its number stays taken); returns how many events went. */
  deleteRun(experiment: string, run: number): number {
    return this.removeRun(experiment, run);
  }

  /** Records that `owner` holds `runs` and is alive at `at`. */
  beat(experiment: string, runs: readonly number[], owner: string, at: number, intervalMs: number): void {
    for (const run of runs) this.upsertBeat.run(experiment, run, owner, at, intervalMs);
  }
}

/** The write operations by name, as the writer thread takes them in messages. */
export type WriteOp =
  | { op: 'append'; experiment: string; chunks: EncodedChunk[]; writeId?: WriteId }
  | {
      op: 'startRun';
      experiment: string;
      start: Omit<PendingEvent, 'run'>;
      atLeast: number;
      writeId?: WriteId;
    }
  | { op: 'putEntry'; row: EntryRow }
  | { op: 'deleteEntry'; bucket: string; name: string }
  | { op: 'putBlob'; key: string; data: Uint8Array }
  | { op: 'deleteBlobs'; prefix: string }
  | { op: 'deleteEvents'; experiment: string }
  | { op: 'deleteRun'; experiment: string; run: number }
  | { op: 'beat'; experiment: string; runs: number[]; owner: string; at: number; intervalMs: number };

/** Runs one write operation; returns its result (a run number, a count, a flag, or nothing). */
export function applyWrite(writes: SqliteWrites, w: WriteOp): unknown {
  switch (w.op) {
    case 'append':
      return writes.append(w.experiment, w.chunks, w.writeId);
    case 'startRun':
      return writes.startRun(w.experiment, w.start, w.atLeast, w.writeId);
    case 'putEntry':
      return writes.putEntry(w.row);
    case 'deleteEntry':
      return writes.deleteEntry(w.bucket, w.name);
    case 'putBlob':
      return writes.putBlob(w.key, w.data);
    case 'deleteBlobs':
      return writes.deleteBlobs(w.prefix);
    case 'deleteEvents':
      return writes.deleteEvents(w.experiment);
    case 'deleteRun':
      return writes.deleteRun(w.experiment, w.run);
    case 'beat':
      return writes.beat(w.experiment, w.runs, w.owner, w.at, w.intervalMs);
  }
}
