import crypto from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { diag } from '../../diag/diag';
import { StoreError } from '../../errors/StoreError';
import type { TrackingError } from '../../errors/TrackingError';
import { TrackingInputError } from '../../errors/TrackingInputError';
import type { EventColumnBatch, PendingEvent, ResolvedQuery, TrackingEvent } from '../../events/types';
import { encodeValue } from '../../events/valueCodec';
import { flushOnExit, forgetOnExit } from '../../process/exitFlush';
import type { ExitFlushable } from '../../process/exitFlush';
import type { RunFilter } from '../../filter/runFilter';
import { eventsOfChunks, mergeChunksByTime } from '../chunks/chunkReads';
import type { ChunkMeta } from '../chunks/chunkReads';
import { decodeChunkColumns, encodeChunks } from '../chunks/EventChunk';
import { decodeRunStats } from '../chunks/runStats';
import type { RunStatsRow } from '../chunks/runStats';
import { entryFromRow } from '../entryRow';
import type { EntryRow } from '../entryRow';
import { FailedBatches } from '../failedBatches';
import { DEFAULT_LOCK_TIMEOUT_MS } from '../sqlite/SqliteStore';
import type { Bucket, MetadataEntry, RunLiveness, Store, WriteId } from '../Store';
import { checkWriteId, isSameWrite, writeIdConflict } from '../writeIds';
import { loadPg } from './loadPg';
import type { PgModule } from './loadPg';
import { isTransient, toPgStoreError } from './pgErrors';
import { encodeExitBatches, runPgExitWrite } from './pgExitWrite';
import type { ExitBatch } from './pgExitWrite';
import { NUL_STAND_IN, SqlParams, chunkWhere, indexText, runFilterWhere } from './pgQuery';
import { NAME_MARK } from '../chunks/EventChunk';
import { ensurePgSchema, quoted } from './pgSchema';
import type { PgUrl } from './pgUrl';
import { parsePgUrl } from './pgUrl';
import { claimWriteId, inTransaction, nextRun, writeBatch, writeChunks } from './pgWrites';

/** Options of the PostgreSQL store. */
export interface PostgresStoreOptions {
  /**
   * Whether a missing store may be created (default true). Reading code passes false: a
   * database without the store's schema is then a StoreError `not-found`, and nothing is made.
   */
  create?: boolean;
  /** Connections of the pool (default 4). */
  maxConnections?: number;
  /**
   * How long a statement waits for a lock another session holds (PostgreSQL's lock_timeout;
   * default OMEGA_LOCK_TIMEOUT_MS, else 30 s, as the embedded store): then a StoreError `locked`.
   */
  lockTimeoutMs?: number;
}

/** lock_timeout in ms: the option, else a valid OMEGA_LOCK_TIMEOUT_MS, else DEFAULT_LOCK_TIMEOUT_MS. */
function lockTimeout(ms: number | undefined): number {
  if (ms === undefined) return DEFAULT_LOCK_TIMEOUT_MS;
  if (!Number.isFinite(ms) || ms < 0)
    throw new TrackingInputError(`lockTimeoutMs must be a number of milliseconds >= 0, got ${String(ms)}`);
  return Math.round(ms);
}

/** A blob is stored in parts of this size: no value of one row, nor its read, needs the whole blob. */
export const BLOB_PART_BYTES = 8 * 1024 * 1024;

/** A blob is read in slices of this size (see getBlob). */
const BLOB_READ_BYTES = 1024 * 1024;

/**
 * Chunk payloads fetched per round trip by iterateEvents and queryColumns: as many as fit in
 * this many bytes (at least one). Few round trips for a long series (a run of 1,000,000
 * metrics is ~245 chunks of ~37 KB: 5 round trips), bounded memory however big the chunks.
 */
const PAYLOAD_BYTES_PER_FETCH = 2 * 1024 * 1024;

/** How long an exit write may take beyond the connect timeout: the child's start and the writes. */
const EXIT_WRITE_EXTRA_MS = 10_000;

/** A write under way: what the exit hook writes again if the process exits before it ends. */
interface InFlight {
  batch: ExitBatch;
  settled: Promise<void>;
}

function checkRun(run: unknown): number {
  if (typeof run !== 'number' || !Number.isSafeInteger(run))
    throw new TrackingInputError(`run must be an integer, got ${String(run)}`);
  return run;
}

function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '')
    throw new TrackingInputError(`${what} must be a non-empty string, got ${typeof value}`);
  return value;
}

/**
 * The store for a team's machines, on PostgreSQL through node-postgres (`pg`, loaded when a
 * `postgres://` or `postgresql://` store is opened). Its tables live in a schema of their own
 * (`omega`, or the URL's `?schema=`), with a version recorded in `meta` (see pgSchema). Events
 * are kept as the embedded store keeps them, in compact chunks of up to 4,096 events of one
 * run (see chunks/EventChunk), so reads, `queryColumns` and the run aggregates are the same
 * code on both stores; run numbers come from a counter row taken in the transaction that writes
 * the start event; a write carries a batch name that keeps a retried or exit-time write from
 * being stored twice.
 *
 * Construction does no I/O: the pool connects on the first operation, and a server that does
 * not answer fails it with a StoreError within the connect timeout (5 s unless the URL sets
 * `connect_timeout`). The password never appears in `url`, in messages or in errors.
 */
export class PostgresStore implements Store, ExitFlushable {
  /** The URL, password hidden. */
  readonly url: string;
  /** The schema of the store's tables. */
  readonly schema: string;
  readonly #url: PgUrl;
  readonly #pg: PgModule;
  readonly #pool: Pool;
  /** The schema, quoted for SQL. */
  readonly #s: string;
  readonly #create: boolean;
  #ready: Promise<void> | undefined;
  #closed = false;
  readonly #inFlight = new Set<InFlight>();
  readonly #failed = new FailedBatches<ExitBatch>();

  /** @param url a `postgres://` or `postgresql://` URL; `sslmode` and libpq's environment variables as pg reads them */
  constructor(url: string, opts: PostgresStoreOptions = {}) {
    this.#url = parsePgUrl(url);
    this.url = this.#url.display;
    this.schema = this.#url.schema;
    this.#s = quoted(this.schema);
    this.#create = opts.create ?? true;
    this.#pg = loadPg();
    this.#pool = new this.#pg.Pool({
      connectionString: this.#url.connectionString,
      max: opts.maxConnections ?? 4,
      connectionTimeoutMillis: this.#url.connectTimeoutMs,
      idleTimeoutMillis: 10_000,
      // idle connections never keep a process alive that has nothing else to do
      allowExitOnIdle: true,
      application_name: 'omega-track',
      // a table another session holds locked fails the write after this long (a StoreError
      // `locked`, retried by the provider) instead of waiting for as long as that session likes
      lock_timeout: lockTimeout(opts.lockTimeoutMs),
    });
    // a connection that breaks while idle (a server restart) is dropped; the next use connects anew
    this.#pool.on('error', () => undefined);
    // writes under way when the process exits are written again from the exit hook
    flushOnExit(this);
  }

  #error(error: unknown, doing: string, write: boolean): TrackingError {
    return toPgStoreError(error, this.#url, doing, { write });
  }

  /**
   * Runs one operation on a pooled connection, the schema made ready first (once per process),
   * its errors as StoreErrors naming the store and what was done. A connection that failed
   * with a lost server is not given back to the pool.
   */
  async #op<T>(doing: string, write: boolean, fn: (client: PoolClient) => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreError('io', this.url, `store ${this.url} is closed`);
    let client: PoolClient | undefined;
    let broken = false;
    // a checked-out connection that ends (a server restart, a killed backend) emits 'error' on
    // the client: unheard, that would crash the process; the query under way rejects anyway
    const onError = (): void => {
      broken = true;
    };
    try {
      client = await this.#pool.connect();
      client.on('error', onError);
      const c = client;
      this.#ready ??= ensurePgSchema(c, this.schema, this.url, this.#create).catch((error: unknown) => {
        this.#ready = undefined;
        throw error;
      });
      await this.#ready;
      return await fn(client);
    } catch (error) {
      broken = isTransient(error);
      throw this.#error(error, doing, write);
    } finally {
      client?.removeListener('error', onError);
      client?.release(broken);
    }
  }

  // ---------------------------------------------------------------- metadata entries

  async putEntry(bucket: Bucket, entry: MetadataEntry): Promise<void> {
    await this.#op(`saving '${entry.name}'`, true, (c) =>
      c.query(
        `INSERT INTO ${this.#s}.entries (bucket, name, kind, attributes, data, blob, created, modified)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (bucket, name) DO UPDATE SET kind = excluded.kind, attributes = excluded.attributes,
           data = excluded.data, blob = excluded.blob, modified = excluded.modified`,
        [
          bucket,
          entry.name,
          entry.kind,
          JSON.stringify(entry.attributes),
          entry.data === undefined ? null : encodeValue(entry.data),
          entry.blob ?? null,
          entry.created.getTime(),
          entry.modified.getTime(),
        ],
      ),
    );
  }

  async getEntry(bucket: Bucket, name: string): Promise<MetadataEntry | undefined> {
    const { rows } = await this.#op(`reading '${name}'`, false, (c) =>
      c.query<EntryRow>(`SELECT * FROM ${this.#s}.entries WHERE bucket = $1 AND name = $2`, [bucket, name]),
    );
    return rows.length ? entryFromRow(rows[0]) : undefined;
  }

  async listEntries(bucket: Bucket, prefix = ''): Promise<MetadataEntry[]> {
    const { rows } = await this.#op('listing entries', false, (c) =>
      c.query<EntryRow>(
        `SELECT * FROM ${this.#s}.entries WHERE bucket = $1 AND left(name, length($2)) = $2 ORDER BY name`,
        [bucket, prefix],
      ),
    );
    return rows.map(entryFromRow);
  }

  async deleteEntry(bucket: Bucket, name: string): Promise<boolean> {
    const { rowCount } = await this.#op(`deleting '${name}'`, true, (c) =>
      c.query(`DELETE FROM ${this.#s}.entries WHERE bucket = $1 AND name = $2`, [bucket, name]),
    );
    return (rowCount ?? 0) > 0;
  }

  // ---------------------------------------------------------------- runs and events

  async startRun(
    experiment: string,
    start: Omit<PendingEvent, 'run'>,
    atLeast = 1,
    writeId?: WriteId,
  ): Promise<number> {
    checkText(experiment, 'experiment');
    if (!Number.isSafeInteger(atLeast) || atLeast < 1)
      throw new TrackingInputError(`atLeast must be a positive integer, got ${String(atLeast)}`);
    const id = checkWriteId(writeId);
    // the counter's row stays locked until the start event is written: one transaction, which
    // also records the write id (claimed first: a replay at once waits for this one, then finds it)
    return this.#op(`starting a run of '${experiment}'`, true, (c) =>
      inTransaction(c, async () => {
        if (id) {
          const recorded = await claimWriteId(c, this.#s, experiment, 'start', id);
          if (recorded) {
            if (isSameWrite(recorded, experiment, 'start', id.digest) && recorded.run !== null)
              return recorded.run;
            throw writeIdConflict(this.url, id.id);
          }
        }
        const run = await nextRun(c, this.#s, experiment, atLeast);
        await writeChunks(c, this.#s, experiment, encodeChunks([{ ...start, run }]), crypto.randomUUID());
        if (id) await c.query(`UPDATE ${this.#s}.write_ids SET run = $2 WHERE id = $1`, [id.id, run]);
        return run;
      }),
    );
  }

  /**
   * Appends events in one transaction, packed into chunks here. A write that fails is
   * remembered with its batch name: the provider writes the same events again, which then keep
   * it, so what a failed attempt committed after all (a lost answer) is not stored twice.
   */
  async appendEvents(
    experiment: string,
    events: readonly PendingEvent[],
    writeId?: WriteId,
  ): Promise<void | { duplicate: true }> {
    checkText(experiment, 'experiment');
    const id = checkWriteId(writeId);
    // an empty write with an id is still recorded: its id is taken from then on
    if (!events.length && !id) return;
    // a write with an id is known again by its id, not by its events: two writes of the same
    // events under two ids are two writes
    const batch: ExitBatch = (id ? undefined : this.#failed.find(experiment, events)) ?? {
      experiment,
      batch: crypto.randomUUID(),
      // packed at once: the write is in flight (and the exit writer's to finish) from this call on
      chunks: encodeChunks(events),
    };
    if (id) batch.writeId = id;
    let settle = (): void => undefined;
    const flight: InFlight = { batch, settled: new Promise<void>((resolve) => (settle = resolve)) };
    this.#inFlight.add(flight);
    try {
      const duplicate = await this.#op(`writing events of '${experiment}'`, true, (c) =>
        inTransaction(c, () => writeBatch(c, this.#s, batch, this.url)),
      );
      if (!id) this.#failed.forget(experiment, batch);
      return duplicate ? { duplicate: true } : undefined;
    } catch (error) {
      if (!id && !this.#failed.find(experiment, events)) this.#failed.remember(experiment, events, batch);
      throw error;
    } finally {
      this.#inFlight.delete(flight);
      settle();
    }
  }

  /**
   * The last writes of an exiting process, where no promise settles and pg has no synchronous
   * API: written by a short-lived child process this one waits for (see pgExitWrite), within
   * the connect timeout and some seconds more. A failed earlier write of the same events keeps
   * its batch name, so it is not stored twice.
   */
  appendEventsSync(experiment: string, events: readonly PendingEvent[]): void {
    checkText(experiment, 'experiment');
    if (!events.length) return;
    if (this.#closed) throw new StoreError('io', this.url, `store ${this.url} is closed`);
    const failed = this.#failed.find(experiment, events);
    this.#exitWrite([failed ?? { experiment, batch: crypto.randomUUID(), chunks: encodeChunks(events) }]);
    if (failed) this.#failed.forget(experiment, failed);
  }

  /** Writes batches from a child process, waited for (see pgExitWrite); throws its StoreError. */
  #exitWrite(batches: readonly ExitBatch[]): void {
    const failure = runPgExitWrite(
      {
        driver: require.resolve('pg'),
        connectionString: this.#url.connectionString,
        connectTimeoutMs: this.#url.connectTimeoutMs,
        schema: this.#s,
        batches: encodeExitBatches(batches),
      },
      this.#url.connectTimeoutMs + EXIT_WRITE_EXTRA_MS,
    );
    if (failure) throw this.#error(failure, `writing events of '${batches[0].experiment}' at exit`, true);
  }

  /** Whether writes are under way (ExitFlushable). */
  hasPending(): boolean {
    return this.#inFlight.size > 0;
  }

  /** Waits for the writes under way (the event loop still runs: `beforeExit`). */
  async flush(): Promise<void> {
    await Promise.all([...this.#inFlight].map((f) => f.settled));
  }

  /**
   * The process is exiting with writes under way, which will never finish: they are written
   * again from one child process under their batch names, so what an abandoned write committed
   * is not stored twice; what cannot be written is said. (The providers' queued events follow
   * through appendEventsSync.)
   */
  flushSync(): void {
    const batches = [...this.#inFlight].map((f) => f.batch);
    this.#inFlight.clear();
    if (!batches.length) return;
    try {
      this.#exitWrite(batches);
    } catch (error) {
      const events = batches.reduce((n, b) => n + b.chunks.reduce((k, c) => k + c.count, 0), 0);
      diag(
        `${events} event(s) of experiment '${batches[0].experiment}' could not be written before exit and are lost: ${error instanceof Error ? error.message : String(error)}`,
      );
    }
  }

  async queryEvents(experiment: string, query: ResolvedQuery): Promise<TrackingEvent[]> {
    const p = new SqlParams();
    const where = chunkWhere(experiment, query, p);
    const { rows } = await this.#op(`reading events of '${experiment}'`, false, (c) =>
      c.query<{ run: number; payload: Buffer }>(
        `SELECT run, payload FROM ${this.#s}.chunks WHERE ${where} ORDER BY id`,
        p.values,
      ),
    );
    return eventsOfChunks(
      experiment,
      query,
      rows.map((r) => [r.run, r.payload] as const),
    );
  }

  /**
   * Chunk metadata of a query, in `order`: the index and each payload's size (read from its
   * TOAST pointer, not the payload).
   */
  async #metas(
    experiment: string,
    query: ResolvedQuery,
    order: string,
  ): Promise<Array<ChunkMeta & { events: string; keys: string; size: number }>> {
    const p = new SqlParams();
    const where = chunkWhere(experiment, query, p);
    const { rows } = await this.#op(`reading events of '${experiment}'`, false, (c) =>
      c.query<ChunkMeta & { id: string; first: string; events: string; keys: string; size: number }>(
        `SELECT id, run, min_dt, max_dt, events, keys, octet_length(payload) AS size,
                MIN(id) OVER (PARTITION BY batch, run) AS first
         FROM ${this.#s}.chunks WHERE ${where} ORDER BY ${order}`,
        p.values,
      ),
    );
    // bigint ids come as text
    return rows.map((r) => ({ ...r, id: Number(r.id), first: Number(r.first) }));
  }

  /**
   * Payloads of chunks by id, read PAYLOAD_BYTES_PER_FETCH at a time in the order they are
   * asked for: memory holds a few MB of chunks, however many the query selects.
   */
  #payloads(
    experiment: string,
    metas: ReadonlyArray<{ id: number; size: number }>,
  ): (id: number) => Promise<Buffer | undefined> {
    let fetched = new Map<number, Buffer | undefined>();
    let next = 0;
    return async (id) => {
      if (!fetched.has(id)) {
        let at = next;
        while (at < metas.length && metas[at].id !== id) at++;
        const want: number[] = [];
        for (
          let bytes = 0, i = at;
          i < metas.length && (!want.length || bytes + metas[i].size <= PAYLOAD_BYTES_PER_FETCH);
          i++
        ) {
          want.push(metas[i].id);
          bytes += metas[i].size;
        }
        next = at + want.length;
        const { rows } = await this.#op(`reading events of '${experiment}'`, false, (c) =>
          c.query<{ id: string; payload: Buffer }>(
            `SELECT id, payload FROM ${this.#s}.chunks WHERE id = ANY($1::bigint[])`,
            [want],
          ),
        );
        // a chunk deleted since (deleteRun, clear()) reads as undefined and is skipped
        fetched = new Map<number, Buffer | undefined>(want.map((w) => [w, undefined]));
        for (const r of rows) fetched.set(Number(r.id), r.payload);
      }
      const payload = fetched.get(id);
      fetched.delete(id);
      return payload;
    };
  }

  async *iterateEvents(
    experiment: string,
    query: ResolvedQuery,
    batchSize: number,
  ): AsyncIterable<TrackingEvent[]> {
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new TrackingInputError(`batchSize must be a positive integer, got ${batchSize}`);
    const metas = await this.#metas(experiment, query, 'min_dt, id');
    const payloadOf = this.#payloads(experiment, metas);
    yield* mergeChunksByTime(experiment, query, batchSize, metas, payloadOf);
  }

  async *queryColumns(experiment: string, query: ResolvedQuery): AsyncIterable<EventColumnBatch> {
    if (query.limit !== undefined || query.offset !== undefined)
      throw new TrackingInputError(
        'queryColumns reads in logging order, not by time: limit and offset are for queryEvents',
      );
    const metas = await this.#metas(experiment, query, 'id');
    const payloadOf = this.#payloads(experiment, metas);
    for (const m of metas) {
      const payload = await payloadOf(m.id);
      if (!payload) continue;
      // an index entry with a stand-in for NUL may name more than the chunk holds: tested per event
      const held = m.events.includes(NUL_STAND_IN) || m.keys.includes(NUL_STAND_IN) ? undefined : m;
      const batch = decodeChunkColumns(m.run, payload, query, held);
      if (batch.length) yield batch;
    }
  }

  async latestRun(experiment: string): Promise<number | undefined> {
    const { rows } = await this.#op(`reading the latest run of '${experiment}'`, false, (c) =>
      c.query<{ run: number }>(`SELECT run FROM ${this.#s}.counters WHERE experiment = $1`, [experiment]),
    );
    return rows[0]?.run;
  }

  async deleteEvents(experiment: string): Promise<number> {
    const s = this.#s;
    const deleted = await this.#op(`deleting the events of '${experiment}'`, true, (c) =>
      inTransaction(c, async () => {
        for (const table of ['counters', 'heartbeats', 'run_stats'])
          await c.query(`DELETE FROM ${s}.${table} WHERE experiment = $1`, [experiment]);
        const { rows } = await c.query<{ n: string }>(
          `WITH d AS (DELETE FROM ${s}.chunks WHERE experiment = $1 RETURNING count) SELECT COALESCE(sum(count), 0) AS n FROM d`,
          [experiment],
        );
        return Number(rows[0].n);
      }),
    );
    this.#failed.clear(experiment);
    return deleted;
  }

  async deleteRun(experiment: string, run: number): Promise<number> {
    checkRun(run);
    const s = this.#s;
    // the counter stays: the run's number is never given out again
    return this.#op(`deleting run ${run} of '${experiment}'`, true, (c) =>
      inTransaction(c, async () => {
        for (const table of ['heartbeats', 'run_stats'])
          await c.query(`DELETE FROM ${s}.${table} WHERE experiment = $1 AND run = $2`, [experiment, run]);
        const { rows } = await c.query<{ n: string }>(
          `WITH d AS (DELETE FROM ${s}.chunks WHERE experiment = $1 AND run = $2 RETURNING count) SELECT COALESCE(sum(count), 0) AS n FROM d`,
          [experiment, run],
        );
        return Number(rows[0].n);
      }),
    );
  }

  async runStats(
    experiment: string,
    runs?: readonly number[],
  ): Promise<{ rows: RunStatsRow[]; unaggregated: number[] }> {
    const wanted = runs === undefined ? undefined : [...new Set(runs.map(checkRun))];
    const { rows } = await this.#op(`reading the runs of '${experiment}'`, false, (c) =>
      c.query<{ run: number; stats: string }>(
        `SELECT run, stats FROM ${this.#s}.run_stats WHERE experiment = $1 ${wanted ? 'AND run = ANY($2::int[])' : ''} ORDER BY run`,
        wanted ? [experiment, wanted] : [experiment],
      ),
    );
    // every write folds its events in, in its transaction: no run of this store lacks aggregates
    return {
      rows: decodeRunStats(
        rows.map((r) => r.run),
        rows.map((r) => r.stats),
      ),
      unaggregated: [],
    };
  }

  /**
   * The runs that may match a run filter, evaluated on the server over the runs' aggregates
   * (see runFilterWhere): a superset of the matching runs; undefined when the filter does not
   * narrow them. Exact matching stays with matchesRunFilter.
   */
  async runsMatching(experiment: string, filter: RunFilter): Promise<number[] | undefined> {
    const p = new SqlParams();
    const at = p.add(experiment);
    const where = runFilterWhere(filter, p);
    if (where === undefined) return undefined;
    const { rows } = await this.#op(`searching the runs of '${experiment}'`, false, (c) =>
      c.query<{ run: number }>(
        `SELECT run FROM ${this.#s}.run_stats WHERE experiment = ${at} AND ${where} ORDER BY run`,
        p.values,
      ),
    );
    return rows.map((r) => r.run);
  }

  async runsWithEvent(experiment: string, event: string): Promise<number[]> {
    const { rows } = await this.#op(`reading the runs of '${experiment}'`, false, (c) =>
      c.query<{ run: number }>(
        `SELECT DISTINCT run FROM ${this.#s}.chunks WHERE experiment = $1 AND strpos(events, $2) > 0 ORDER BY run`,
        [experiment, indexText(NAME_MARK + event + NAME_MARK)],
      ),
    );
    return rows.map((r) => r.run);
  }

  async changeMark(
    experiment: string,
    run?: number,
  ): Promise<{ mark: string; runs: number; lastDt: number | undefined }> {
    if (run !== undefined) checkRun(run);
    // the chunk index only, then one row: cheap enough to poll
    const { rows } = await this.#op(`reading the changes of '${experiment}'`, false, (c) =>
      c.query<{ last: string | null; chunks: string; runs: string; last_dt: number | null }>(
        `WITH m AS (SELECT MAX(id) AS last, COUNT(*) AS chunks, COUNT(DISTINCT run) AS runs
                    FROM ${this.#s}.chunks WHERE experiment = $1 ${run !== undefined ? 'AND run = $2' : ''})
         SELECT m.last, m.chunks, m.runs, (SELECT max_dt FROM ${this.#s}.chunks WHERE id = m.last) AS last_dt FROM m`,
        run !== undefined ? [experiment, run] : [experiment],
      ),
    );
    const r = rows[0];
    const lastDt = r.last_dt ?? undefined;
    return { mark: `${r.last ?? 0}:${r.chunks}:${lastDt ?? ''}`, runs: Number(r.runs), lastDt };
  }

  async beat(experiment: string, runs: readonly number[], owner: string, intervalMs: number): Promise<void> {
    if (!runs.length) return;
    // one attempt: a heartbeat that cannot be written is replaced by the next one
    await this.#op('recording a heartbeat', true, (c) =>
      c.query(
        `INSERT INTO ${this.#s}.heartbeats (experiment, run, owner, beat, interval_ms)
         SELECT $1, r, $3, $4, $5 FROM unnest($2::int[]) AS r
         ON CONFLICT (experiment, run, owner) DO UPDATE SET beat = excluded.beat, interval_ms = excluded.interval_ms`,
        [experiment, [...new Set(runs.map(checkRun))], owner, Date.now(), Math.round(Number(intervalMs))],
      ),
    );
  }

  async liveness(experiment: string): Promise<Map<number, RunLiveness>> {
    const { rows } = await this.#op(`reading the heartbeats of '${experiment}'`, false, (c) =>
      c.query<{ run: number; beat: string; interval_ms: string }>(
        `SELECT run, MAX(beat) AS beat, MAX(interval_ms) AS interval_ms FROM ${this.#s}.heartbeats
         WHERE experiment = $1 GROUP BY run`,
        [experiment],
      ),
    );
    return new Map(rows.map((r) => [r.run, { lastBeat: Number(r.beat), intervalMs: Number(r.interval_ms) }]));
  }

  // ---------------------------------------------------------------- blobs

  /**
   * Writes a blob in parts of BLOB_PART_BYTES, one row each, replacing what the key held, in
   * one transaction: readers see the old blob or the new one, never a mix. Writers of one key
   * queue on an advisory lock.
   */
  async putBlob(key: string, data: Uint8Array): Promise<void> {
    checkText(key, 'blob key');
    if (!(data instanceof Uint8Array))
      throw new TrackingInputError('blob data must be a Uint8Array or Buffer');
    const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
    await this.#op('saving a blob', true, (c) =>
      inTransaction(c, async () => {
        await c.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`omega-track blob ${key}`]);
        await c.query(`DELETE FROM ${this.#s}.blobs WHERE key = $1`, [key]);
        for (let part = 0, at = 0; part === 0 || at < bytes.length; part++, at += BLOB_PART_BYTES)
          await c.query(`INSERT INTO ${this.#s}.blobs (key, part, data) VALUES ($1, $2, $3)`, [
            key,
            part,
            bytes.subarray(at, at + BLOB_PART_BYTES),
          ]);
      }),
    );
  }

  /** Reads a blob part by part into one Buffer, in one snapshot (a blob replaced meanwhile is read whole, old or new). */
  async getBlob(key: string): Promise<Buffer | undefined> {
    return this.#op('reading a blob', false, async (c) => {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        const { rows: parts } = await c.query<{ part: number; size: number }>(
          `SELECT part, length(data) AS size FROM ${this.#s}.blobs WHERE key = $1 ORDER BY part`,
          [key],
        );
        if (!parts.length) return undefined;
        const out = Buffer.allocUnsafe(parts.reduce((n, p) => n + p.size, 0));
        let at = 0;
        for (const { part, size } of parts)
          for (let from = 0; from < size; from += BLOB_READ_BYTES) {
            // a slice at a time: pg hands bytea over as hex text, twice its size, which the
            // garbage collector frees late; small slices keep that beside the blob small
            const { rows } = await c.query<{ data: Buffer }>(
              `SELECT substring(data FROM $3 FOR $4) AS data FROM ${this.#s}.blobs WHERE key = $1 AND part = $2`,
              [key, part, from + 1, BLOB_READ_BYTES],
            );
            at += rows[0].data.copy(out, at);
          }
        return out;
      } finally {
        await c.query('COMMIT').catch(() => undefined);
      }
    });
  }

  async deleteBlobs(prefix: string): Promise<number> {
    const { rows } = await this.#op('deleting blobs', true, (c) =>
      c.query<{ n: string }>(
        `WITH d AS (DELETE FROM ${this.#s}.blobs WHERE left(key, length($1)) = $1 RETURNING key)
         SELECT COUNT(DISTINCT key) AS n FROM d`,
        [prefix],
      ),
    );
    return Number(rows[0].n);
  }

  async listBlobs(prefix: string): Promise<string[]> {
    const { rows } = await this.#op('listing blobs', false, (c) =>
      c.query<{ key: string }>(
        `SELECT key FROM ${this.#s}.blobs WHERE left(key, length($1)) = $1 GROUP BY key ORDER BY key COLLATE "C"`,
        [prefix],
      ),
    );
    return rows.map((r) => r.key);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    forgetOnExit(this);
    await this.#pool.end().catch(() => undefined);
  }
}
