import { prefixEnd } from '../keyRange';
import type { RunStatsRow } from '../chunks/runStats';
import { decodeRunStats } from '../chunks/runStats';
import fs from 'node:fs';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import Database from 'better-sqlite3';
import { diag } from '../../diag/diag';
import { StoreError } from '../../errors/StoreError';
import { TrackingError } from '../../errors/TrackingError';
import { TrackingInputError } from '../../errors/TrackingInputError';
import { flushOnExit, forgetOnExit } from '../../process/exitFlush';
import type { ExitFlushable } from '../../process/exitFlush';
import { eventsOfChunks, mergeChunksByTime } from '../chunks/chunkReads';
import type { ChunkMeta } from '../chunks/chunkReads';
import { encodeValue } from '../../events/valueCodec';
import { NAME_MARK, decodeChunkColumns, encodeChunks, encodeChunksInSlices } from '../chunks/EventChunk';
import type { EncodedChunk } from '../chunks/EventChunk';
import type { EventColumnBatch, PendingEvent, ResolvedQuery, TrackingEvent } from '../../events/types';
import type { Bucket, MetadataEntry, RunLiveness, Store, WriteId } from '../Store';
import { checkWriteId } from '../writeIds';
import { ensureSchema } from './sqliteSchema';
import { SqliteWriter } from './SqliteWriter';
import { SqliteWrites, applyWrite } from './SqliteWrites';
import { entryFromRow } from '../entryRow';
import type { EntryRow } from '../entryRow';
import type { EntryRow as EntryWriteRow, WriteOp } from './SqliteWrites';
import { isLocked, lockedError, toStoreError } from './sqliteErrors';

/** How long a write waits for another process's write lock before it fails (`lockTimeoutMs`). */
export const DEFAULT_LOCK_TIMEOUT_MS = 30_000;
/** One attempt of the writer thread waits this long for the lock; the main thread then backs off. */
const WRITER_BUSY_TIMEOUT_MS = 200;
/** The main connection's wait for a lock: reads (rare in WAL mode) and the last writes at exit. */
const MAIN_BUSY_TIMEOUT_MS = 2000;
/** At exit, how long to wait for a write under way on the writer thread before taking over. */
const EXIT_TAKEOVER_WAIT_MS = 3000;
/** Places that are no file system a store can live on; mkdir there can even spin (/proc). */
const PSEUDO_FILE_SYSTEMS = ['/proc', '/sys', '/dev'];

/** Options of the embedded store. */
export interface SqliteStoreOptions {
  /** Create the file (and its folder) when missing; default true. Reading code passes false. */
  create?: boolean;
  /** How long a write waits for another process's write lock; default 30 s. */
  lockTimeoutMs?: number;
}

/** Whether `file` is (or, through a symlink of an existing ancestor, leads) under /proc, /sys, /dev. */
function isOnPseudoFileSystem(file: string): boolean {
  const under = (p: string): boolean =>
    PSEUDO_FILE_SYSTEMS.some((root) => p === root || p.startsWith(root + '/'));
  if (under(file)) return true;
  let dir = path.dirname(file);
  while (!fs.existsSync(dir) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  try {
    return under(fs.realpathSync(dir));
  } catch {
    return false;
  }
}

/**
 * Opens (or creates) the database file with typed errors: a path on a pseudo file system, a
 * missing store when reading, a folder that cannot be created, a file that is not a database.
 * Nothing here waits for a write lock: an existing store is only read while it opens.
 */
function openDatabase(file: string, create: boolean): BetterSqlite3.Database {
  if (file === ':memory:') {
    const db = new Database(':memory:');
    ensureSchema(db);
    return db;
  }
  if (isOnPseudoFileSystem(file))
    throw new StoreError(
      'invalid-url',
      file,
      `store ${file}: ${file.split('/')[1] ? '/' + file.split('/')[1] : file} is not a place for a store file; point OMEGA_STORE / --store at a file on a disk`,
    );
  const exists = fs.existsSync(file);
  if (!exists && !create)
    throw new StoreError('not-found', file, `no store at ${file}; set OMEGA_STORE or --store`);
  if (exists && fs.statSync(file).isDirectory())
    throw new StoreError(
      'cannot-open',
      file,
      `store ${file} is a folder: name the store file (e.g. ${path.join(file, 'omega.db')})`,
    );
  if (!exists) {
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
    } catch (error) {
      throw toStoreError(error, file, 'creating its folder');
    }
  }
  let db: BetterSqlite3.Database | undefined;
  try {
    db = new Database(file, { fileMustExist: !create });
    db.pragma(`busy_timeout = ${MAIN_BUSY_TIMEOUT_MS}`);
    // switching to WAL needs the lock; a store that is in WAL mode already is left as it is
    if (String(db.pragma('journal_mode', { simple: true })).toLowerCase() !== 'wal')
      db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives any process crash; only a power loss can lose the last commit.
    db.pragma('synchronous = NORMAL');
    ensureSchema(db);
    return db;
  } catch (error) {
    db?.close();
    throw toStoreError(error, file, 'opening');
  }
}

/** What changeMark answers (see Store.changeMark). */
type ChangeMark = { mark: string; runs: number; lastDt: number | undefined };

/**
 * The embedded store on better-sqlite3: one database file (WAL mode, so many processes on one
 * machine can read while one writes) or `:memory:`. better-sqlite3 is synchronous, which is what
 * makes the exit-time flush possible; the async methods simply return settled promises.
 */
export class SqliteStore implements Store, ExitFlushable {
  readonly url: string;
  /** The database file (resolved), or `:memory:`. */
  readonly file: string;
  /** The main thread's connection: reads, and the last writes of a process that is exiting. */
  private readonly db: BetterSqlite3.Database;
  /** Writes on the main thread's connection (memory: stores; the exit-time takeover). */
  private readonly writes: SqliteWrites;
  /** The writer thread; undefined for `memory:` (nothing else can lock an in-memory database). */
  private readonly writer: SqliteWriter | undefined;
  private readonly lockTimeoutMs: number;
  private readonly chunkPayload: BetterSqlite3.Statement;
  private readonly statsOf: BetterSqlite3.Statement;
  private entryOf: BetterSqlite3.Statement | undefined;
  private statsOfRun: BetterSqlite3.Statement | undefined;
  private hasChunks: BetterSqlite3.Statement | undefined;
  private marks: [BetterSqlite3.Statement, BetterSqlite3.Statement, BetterSqlite3.Statement] | undefined;
  /**
   * changeMark's answers, per experiment (and run), with the store's version they were read at:
   * `PRAGMA data_version` (another connection — another process, or this store's writer
   * thread — committed since) and this connection's own `total_changes()`. Counting the chunks of
   * an experiment of 50,000 chunks takes ~20 ms, and a page asks for the mark on every request.
   */
  private readonly markCache = new Map<string, { at: string; mark: ChangeMark }>();
  private version: [BetterSqlite3.Statement, BetterSqlite3.Statement] | undefined;
  private readonly unaggregatedRuns: BetterSqlite3.Statement;
  private readonly beatsOf: BetterSqlite3.Statement;
  private closed = false;
  /** Writes waiting between two attempts for another process's lock. */
  private readonly retrying = new Set<{ write: WriteOp; doing: string }>();
  /**
   * Appends being packed (encodeChunksInSlices gives the event loop turns meanwhile), not yet
   * handed to the writer thread: an exiting process packs and writes them itself (the provider
   * leaves a write under way to the store), and the packing, should it go on, writes nothing.
   */
  private readonly packing = new Set<{
    experiment: string;
    events: readonly PendingEvent[];
    writeId?: WriteId;
  }>();
  private takenOver = false;
  /** An exit-time write found the store locked: later ones fail at once instead of waiting too. */
  private lockedAtExit = false;

  /** @param file a database path, or `:memory:` */
  constructor(file: string, url = `sqlite:${file}`, opts: SqliteStoreOptions = {}) {
    this.url = url;
    this.file = file === ':memory:' ? file : path.resolve(file);
    const timeout = opts.lockTimeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0)
      throw new TrackingInputError(
        `lockTimeoutMs must be a number of milliseconds >= 0, got ${String(timeout)}`,
      );
    this.lockTimeoutMs = timeout;
    this.db = openDatabase(this.file, opts.create ?? true);
    this.writes = this.guard('opening', () => new SqliteWrites(this.db, this.file));
    this.chunkPayload = this.db.prepare('SELECT payload FROM chunks WHERE id = ?').pluck();
    this.statsOf = this.db
      .prepare('SELECT run, stats FROM run_stats WHERE experiment = ? AND sums = 1 ORDER BY run')
      .raw(true);
    // runs with events but no complete aggregates: written by a version that kept none, or
    // rewritten by one that kept no running sums
    this.unaggregatedRuns = this.db
      .prepare(
        `SELECT DISTINCT run FROM chunks WHERE experiment = ? AND run NOT IN
           (SELECT run FROM run_stats WHERE experiment = ? AND sums = 1)`,
      )
      .pluck();
    this.beatsOf = this.db.prepare(
      'SELECT run, MAX(beat) AS beat, MAX(interval_ms) AS intervalMs FROM heartbeats WHERE experiment = ? GROUP BY run',
    );
    if (this.file !== ':memory:') {
      this.writer = new SqliteWriter(this.file, WRITER_BUSY_TIMEOUT_MS);
      // what the writer thread has not committed when the process exits is written from here
      flushOnExit(this);
    }
  }

  /** Whether writes are still under way on the writer thread. */
  hasPending(): boolean {
    return this.packing.size > 0 || (this.writer?.busy ?? false);
  }

  /** Writes go on by themselves while the process lives (the writer thread keeps it alive). */
  async flush(): Promise<void> {}

  /**
   * The process is exiting: writes what the writer thread did not commit, on this thread, and
   * says what could not be written.
   */
  flushSync(): void {
    this.takeOverWrites();
  }

  private takeOverWrites(): void {
    if (!this.writer || this.closed || this.takenOver) return;
    this.takenOver = true;
    const failures = this.writer.takeOver(this.writes, EXIT_TAKEOVER_WAIT_MS);
    if (failures.some((f) => f.error.code === 'locked')) this.lockedAtExit = true;
    for (const r of this.retrying) {
      try {
        if (this.lockedAtExit) throw lockedError(this.file, 0, r.doing);
        applyWrite(this.writes, r.write);
      } catch (error) {
        const e = toStoreError(error, this.file, r.doing);
        if (e.code === 'locked') this.lockedAtExit = true;
        failures.push({ write: r.write, error: e });
      }
    }
    this.retrying.clear();
    // appends still being packed were called after every write handed over: they go last
    for (const p of this.packing) {
      const write: WriteOp = { op: 'append', experiment: p.experiment, chunks: [] };
      if (p.writeId) write.writeId = p.writeId;
      const doing = `writing events of '${p.experiment}'`;
      try {
        write.chunks = encodeChunks(p.events);
        if (this.lockedAtExit) throw lockedError(this.file, 0, doing);
        applyWrite(this.writes, write);
      } catch (error) {
        const e = toStoreError(error, this.file, doing);
        if (e.code === 'locked') this.lockedAtExit = true;
        failures.push({ write, error: e });
      }
    }
    this.packing.clear();
    const lost = new Map<string, { events: number; reason: string }>();
    for (const { write, error } of failures) {
      const experiment = 'experiment' in write ? write.experiment : '(store entries)';
      const n = write.op === 'append' ? write.chunks.reduce((k, c) => k + c.count, 0) : 1;
      const entry = lost.get(experiment) ?? { events: 0, reason: error.message };
      entry.events += n;
      lost.set(experiment, entry);
    }
    for (const [experiment, { events, reason }] of lost)
      diag(
        `${events} event(s) of experiment '${experiment}' could not be written before exit and are lost: ${reason}`,
      );
  }

  /** Runs a synchronous step on the main connection, turning SQLite's errors into StoreErrors. */
  private guard<T>(doing: string, fn: () => T): T {
    try {
      return fn();
    } catch (error) {
      throw toStoreError(error, this.file, doing);
    }
  }

  /**
   * One write: on the writer thread, waiting for another process's write lock (with backoff) up
   * to `lockTimeoutMs`; on the main connection for `memory:`.
   */
  private async write(w: WriteOp, doing: string): Promise<unknown> {
    if (this.closed) throw new StoreError('io', this.file, `store ${this.file} is closed`);
    if (!this.writer) return this.guard(doing, () => applyWrite(this.writes, w));
    const began = Date.now();
    let delay = 20;
    for (;;) {
      try {
        return await this.writer.submit(w, doing);
      } catch (error) {
        if (!isLocked(error)) throw error;
        const waited = Date.now() - began;
        if (waited >= this.lockTimeoutMs) throw lockedError(this.file, waited, doing);
        // between attempts the write is ours, not the thread's: the exit takeover replays it too
        const retry = { write: w, doing };
        this.retrying.add(retry);
        try {
          await new Promise((resolve) => setTimeout(resolve, Math.min(delay, this.lockTimeoutMs - waited)));
        } finally {
          this.retrying.delete(retry);
        }
        if (this.takenOver) throw new StoreError('io', this.file, `store ${this.file} is closing`);
        delay = Math.min(delay * 2, 1000);
      }
    }
  }

  async putEntry(bucket: Bucket, entry: MetadataEntry): Promise<void> {
    const row: EntryWriteRow = [
      bucket,
      entry.name,
      entry.kind,
      JSON.stringify(entry.attributes),
      entry.data === undefined ? null : encodeValue(entry.data),
      entry.blob ?? null,
      entry.created.getTime(),
      entry.modified.getTime(),
    ];
    await this.write({ op: 'putEntry', row }, `saving '${entry.name}'`);
  }

  async getEntry(bucket: Bucket, name: string): Promise<MetadataEntry | undefined> {
    return this.getEntrySync(bucket, name);
  }

  getEntrySync(bucket: Bucket, name: string): MetadataEntry | undefined {
    // prepared once: experiment handles and runtime tasks read entries on every call
    this.entryOf ??= this.db.prepare('SELECT * FROM entries WHERE bucket = ? AND name = ?');
    const row = this.entryOf.get(bucket, name);
    return row ? entryFromRow(row as EntryRow) : undefined;
  }

  async listEntries(bucket: Bucket, prefix = ''): Promise<MetadataEntry[]> {
    const rows = this.db
      // length() counts characters as substr() does (JS .length counts UTF-16 units)
      .prepare('SELECT * FROM entries WHERE bucket = ? AND substr(name, 1, length(?)) = ? ORDER BY name')
      .all(bucket, prefix, prefix) as EntryRow[];
    return rows.map(entryFromRow);
  }

  async deleteEntry(bucket: Bucket, name: string): Promise<boolean> {
    return (await this.write({ op: 'deleteEntry', bucket, name }, `deleting '${name}'`)) as boolean;
  }

  async startRun(
    experiment: string,
    start: Omit<PendingEvent, 'run'>,
    atLeast = 1,
    writeId?: WriteId,
  ): Promise<number> {
    const id = checkWriteId(writeId);
    const w: WriteOp = { op: 'startRun', experiment, start, atLeast };
    if (id) w.writeId = id;
    const run = await this.write(w, `starting a run of '${experiment}'`);
    return run as number;
  }

  async appendEvents(
    experiment: string,
    events: readonly PendingEvent[],
    writeId?: WriteId,
  ): Promise<void | { duplicate: true }> {
    const id = checkWriteId(writeId);
    // packed here (CPU only); the writer thread does the I/O. An empty write with an id is still
    // recorded: its id is taken from then on.
    if (!events.length && !id) return;
    const doing = `writing events of '${experiment}'`;
    // a text too long to make while packing is as final as a value SQLite refuses (too-big)
    // packed in slices that give the event loop a turn (a write of 16,384 events takes ms)
    const packing = { experiment, events, writeId: id };
    this.packing.add(packing);
    let chunks: EncodedChunk[];
    try {
      chunks = await encodeChunksInSlices(events);
    } catch (error) {
      this.packing.delete(packing);
      throw toStoreError(error, this.file, doing);
    }
    // the process began to exit meanwhile, and wrote these events itself
    if (!this.packing.delete(packing)) return;
    if (!id) {
      await this.write({ op: 'append', experiment, chunks }, doing);
      return;
    }
    const result = await this.write({ op: 'append', experiment, chunks, writeId: id }, doing);
    return (result as { duplicate: true } | undefined) ?? undefined;
  }

  /**
   * The last writes of an exiting process, on this thread: what the writer thread did not commit
   * goes first, so the order of events is kept.
   */
  appendEventsSync(experiment: string, events: readonly PendingEvent[]): void {
    this.takeOverWrites();
    if (!events.length) return;
    const doing = `writing events of '${experiment}'`;
    // one wait for a lock at exit is enough: the next experiments would only wait in vain
    if (this.lockedAtExit) throw lockedError(this.file, 0, doing);
    try {
      this.writes.append(experiment, encodeChunks(events));
    } catch (error) {
      const e = toStoreError(error, this.file, doing);
      if (e.code === 'locked') this.lockedAtExit = true;
      throw e;
    }
  }

  async beat(experiment: string, runs: readonly number[], owner: string, intervalMs: number): Promise<void> {
    if (!runs.length) return;
    const w: WriteOp = { op: 'beat', experiment, runs: [...runs], owner, at: Date.now(), intervalMs };
    // one attempt: a heartbeat that cannot be written is replaced by the next one
    if (this.writer) await this.writer.submit(w, 'recording a heartbeat');
    else this.guard('recording a heartbeat', () => applyWrite(this.writes, w));
  }

  async liveness(experiment: string): Promise<Map<number, RunLiveness>> {
    const rows = this.beatsOf.all(experiment) as Array<{ run: number; beat: number; intervalMs: number }>;
    return new Map(rows.map((r) => [r.run, { lastBeat: r.beat, intervalMs: r.intervalMs }]));
  }

  async queryEvents(experiment: string, query: ResolvedQuery): Promise<TrackingEvent[]> {
    const { where, params } = chunkWhere(experiment, query);
    const chunks = this.db
      .prepare(`SELECT run, payload FROM chunks WHERE ${where} ORDER BY id`)
      .raw(true)
      .all(params) as Array<[number, Buffer]>;
    return eventsOfChunks(experiment, query, chunks);
  }

  async *queryColumns(experiment: string, query: ResolvedQuery): AsyncIterable<EventColumnBatch> {
    if (query.limit !== undefined || query.offset !== undefined)
      throw new TrackingInputError(
        'queryColumns reads in logging order, not by time: limit and offset are for queryEvents',
      );
    const { where, params } = chunkWhere(experiment, query);
    // the chunk index first, then one payload at a time: memory stays at one chunk's worth
    const chunks = this.db
      .prepare(`SELECT id, run, events, keys FROM chunks WHERE ${where} ORDER BY id`)
      .raw(true)
      .all(params) as Array<[number, number, string, string]>;
    for (const [id, run, events, keys] of chunks) {
      // a chunk deleted since (clear(), deleteRun) is skipped
      const payload = this.chunkPayload.get(id) as Buffer | undefined;
      if (!payload) continue;
      const batch = decodeChunkColumns(run, payload, query, { events, keys });
      if (batch.length) yield batch;
    }
  }

  async *iterateEvents(
    experiment: string,
    query: ResolvedQuery,
    batchSize: number,
  ): AsyncIterable<TrackingEvent[]> {
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new TrackingInputError(`batchSize must be a positive integer, got ${batchSize}`);
    const { where, params } = chunkWhere(experiment, query);
    // Only the chunk index is read up front; payloads are read one at a time.
    const metas = this.db
      .prepare(`SELECT id, run, min_dt, max_dt FROM chunks WHERE ${where} ORDER BY min_dt, id`)
      .all(params) as ChunkMeta[];
    yield* mergeChunksByTime(
      experiment,
      query,
      batchSize,
      metas,
      (id) => this.chunkPayload.get(id) as Buffer | undefined,
    );
  }

  async changeMark(experiment: string, run?: number): Promise<ChangeMark> {
    this.version ??= [
      this.db.prepare('PRAGMA data_version').pluck(),
      this.db.prepare('SELECT total_changes()').pluck(),
    ];
    const at = `${this.version[0].get() as number}:${this.version[1].get() as number}`;
    const key = `${experiment}\u0000${run ?? ''}`;
    const known = this.markCache.get(key);
    if (known?.at === at) return known.mark;
    const mark = this.countMark(experiment, run);
    // a bound on what is remembered: a server asked about many runs forgets and counts again
    if (this.markCache.size >= 1000) this.markCache.clear();
    this.markCache.set(key, { at, mark });
    return mark;
  }

  /** changeMark, counted: the chunk index only (experiment, run, rowid), then one row. */
  private countMark(experiment: string, run?: number): ChangeMark {
    const counts = 'SELECT MAX(id), COUNT(*), COUNT(DISTINCT run) FROM chunks WHERE experiment = ?';
    this.marks ??= [
      this.db.prepare(counts).raw(true),
      this.db.prepare(`${counts} AND run = ?`).raw(true),
      this.db.prepare('SELECT max_dt FROM chunks WHERE id = ?').pluck(),
    ];
    const [last, chunks, runs] = (
      run === undefined ? this.marks[0].get(experiment) : this.marks[1].get(experiment, run)
    ) as [number | null, number, number];
    const lastDt = last === null ? undefined : (this.marks[2].get(last) as number | undefined);
    // ids of deleted chunks can be given out again: the last chunk's time tells such a new one apart
    return { mark: `${last ?? 0}:${chunks}:${lastDt ?? ''}`, runs, lastDt };
  }

  async latestRun(experiment: string): Promise<number | undefined> {
    const run = this.db.prepare('SELECT MAX(run) FROM runs WHERE experiment = ?').pluck().get(experiment);
    return (run as number | null) ?? undefined;
  }

  async deleteEvents(experiment: string): Promise<number> {
    return (await this.write(
      { op: 'deleteEvents', experiment },
      `deleting the events of '${experiment}'`,
    )) as number;
  }

  async deleteRun(experiment: string, run: number): Promise<number> {
    return (await this.write(
      { op: 'deleteRun', experiment, run },
      `deleting run ${run} of '${experiment}'`,
    )) as number;
  }

  async runStats(
    experiment: string,
    runs?: readonly number[],
  ): Promise<{ rows: RunStatsRow[]; unaggregated: number[] }> {
    if (runs !== undefined) return this.statsOfRuns(experiment, runs);
    const stored = this.statsOf.all(experiment) as Array<[number, string]>;
    const rows = decodeRunStats(
      stored.map(([run]) => run),
      stored.map(([, stats]) => stats),
    );
    return { rows, unaggregated: this.unaggregatedRuns.all(experiment, experiment) as number[] };
  }

  /** The aggregates of a few runs (a runtime task checking its caller's run): one row each. */
  private statsOfRuns(
    experiment: string,
    runs: readonly number[],
  ): { rows: RunStatsRow[]; unaggregated: number[] } {
    this.statsOfRun ??= this.db
      .prepare('SELECT stats FROM run_stats WHERE experiment = ? AND run = ? AND sums = 1')
      .pluck();
    this.hasChunks ??= this.db
      .prepare('SELECT 1 FROM chunks WHERE experiment = ? AND run = ? LIMIT 1')
      .pluck();
    const found: number[] = [];
    const texts: string[] = [];
    const unaggregated: number[] = [];
    for (const run of new Set(runs)) {
      const text = this.statsOfRun.get(experiment, run) as string | undefined;
      if (text !== undefined) {
        found.push(run);
        texts.push(text);
      } else if (this.hasChunks.get(experiment, run) !== undefined) unaggregated.push(run);
    }
    return { rows: decodeRunStats(found, texts), unaggregated };
  }

  async runsWithEvent(experiment: string, event: string): Promise<number[]> {
    return this.db
      .prepare('SELECT DISTINCT run FROM chunks WHERE experiment = ? AND instr(events, ?) > 0 ORDER BY run')
      .pluck()
      .all(experiment, NAME_MARK + event + NAME_MARK) as number[];
  }

  async putBlob(key: string, data: Uint8Array): Promise<void> {
    await this.write({ op: 'putBlob', key, data }, 'saving a blob');
  }

  async getBlob(key: string): Promise<Buffer | undefined> {
    const data = this.db.prepare('SELECT data FROM blobs WHERE key = ?').pluck().get(key);
    return (data as Buffer | undefined) ?? undefined;
  }

  async deleteBlobs(prefix: string): Promise<number> {
    return (await this.write({ op: 'deleteBlobs', prefix }, 'deleting blobs')) as number;
  }

  async listBlobs(prefix: string): Promise<string[]> {
    // a range of the primary key (text compares by UTF-8 bytes, which is code point order)
    const end = prefixEnd(prefix);
    const keys =
      end === undefined
        ? this.db.prepare('SELECT key FROM blobs WHERE key >= ? ORDER BY key').pluck().all(prefix)
        : this.db
            .prepare('SELECT key FROM blobs WHERE key >= ? AND key < ? ORDER BY key')
            .pluck()
            .all(prefix, end);
    return keys as string[];
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    forgetOnExit(this);
    await this.writer?.close();
    this.db.close();
  }
}

/** Lists longer than this go to SQLite as one JSON parameter rather than one parameter per item. */
const LONG_LIST = 500;

/**
 * The SQL part of a query: experiment, runs and time window on the chunk index, and pruning of
 * chunks that hold none of the wanted event names or keys. The exact test per row is rowFilter.
 */
function chunkWhere(experiment: string, q: ResolvedQuery): { where: string; params: unknown[] } {
  const clauses = ['experiment = ?'];
  const params: unknown[] = [experiment];
  if (q.runs !== undefined) {
    if (Array.isArray(q.runs) && q.runs.length > LONG_LIST) {
      // one parameter for the whole list: SQLite takes at most 32,766 per statement
      clauses.push('run IN (SELECT value FROM json_each(?))');
      params.push(JSON.stringify(q.runs));
    } else if (Array.isArray(q.runs)) {
      clauses.push(`run IN (${q.runs.map(() => '?').join(',') || 'NULL'})`);
      // a loop, not push(...runs): spread into arguments, a long list overflows the stack
      for (const run of q.runs) params.push(run);
    } else {
      clauses.push('run BETWEEN ? AND ?');
      params.push(q.runs.from, q.runs.to);
    }
  }
  const holdsAny = (column: string, names: string[]): void => {
    if (names.length > LONG_LIST) {
      clauses.push(`EXISTS (SELECT 1 FROM json_each(?) WHERE instr(${column}, value) > 0)`);
      params.push(JSON.stringify(names.map((name) => NAME_MARK + name + NAME_MARK)));
      return;
    }
    clauses.push(`(${names.map(() => `instr(${column}, ?) > 0`).join(' OR ') || '0'})`);
    for (const name of names) params.push(NAME_MARK + name + NAME_MARK);
  };
  if (q.events) holdsAny('events', q.events);
  if (q.keys) holdsAny('keys', q.keys);
  if (q.since !== undefined) {
    clauses.push('max_dt >= ?');
    params.push(q.since);
  }
  if (q.end !== undefined) {
    clauses.push('min_dt <= ?');
    params.push(q.end);
  }
  return { where: clauses.join(' AND '), params };
}

/**
 * Reads of a damaged store (a corrupt page is found only when it is read) fail with a StoreError
 * that names the file, never a raw SqliteError: the read methods are wrapped here, in one place,
 * for a plain result, a promise and an async iterator alike.
 */
function typedReads(names: readonly string[]): void {
  const proto = SqliteStore.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  for (const name of names) {
    const read = proto[name];
    const doing = `reading (${name})`;
    proto[name] = function (this: SqliteStore, ...args: unknown[]): unknown {
      const fail = (error: unknown): never => {
        // omega-track's own errors (bad input) stay as they are
        throw error instanceof TrackingError ? error : toStoreError(error, this.file, doing);
      };
      let result: unknown;
      try {
        result = read.apply(this, args);
      } catch (error) {
        return fail(error);
      }
      if (result instanceof Promise) return result.catch(fail);
      const iterator = result as AsyncIterableIterator<unknown> | undefined;
      if (
        iterator &&
        typeof iterator[Symbol.asyncIterator] === 'function' &&
        typeof iterator.next === 'function'
      ) {
        const next = iterator.next.bind(iterator);
        iterator.next = (...a: [] | [unknown]) => next(...a).catch(fail);
      }
      return result;
    };
  }
}
typedReads([
  'getEntrySync',
  'listEntries',
  'liveness',
  'runStats',
  'runsWithEvent',
  'queryEvents',
  'queryColumns',
  'iterateEvents',
  'latestRun',
  'changeMark',
  'getBlob',
]);
