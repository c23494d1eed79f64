import fs from 'node:fs';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import Database from 'better-sqlite3';
import { TrackingInputError } from '../../errors/TrackingInputError';
import { windowRows } from '../../events/query';
import { decodeValue, encodeValue } from '../../events/valueCodec';
import {
  CHUNK_SIZE,
  NAME_MARK,
  decodeChunk,
  encodeChunks,
  rowFilter,
  sortByTime,
} from '../chunks/EventChunk';
import type { PendingEvent, ResolvedQuery, TrackingEvent } from '../../events/types';
import type { Bucket, MetadataEntry, Store } from '../Store';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  bucket TEXT NOT NULL, name TEXT NOT NULL, kind TEXT NOT NULL, attributes TEXT NOT NULL,
  data TEXT, blob TEXT, created INTEGER NOT NULL, modified INTEGER NOT NULL,
  PRIMARY KEY (bucket, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS runs (
  experiment TEXT NOT NULL, run INTEGER NOT NULL, PRIMARY KEY (experiment, run)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chunks (
  id INTEGER PRIMARY KEY, experiment TEXT NOT NULL, run INTEGER NOT NULL, count INTEGER NOT NULL,
  min_dt INTEGER NOT NULL, max_dt INTEGER NOT NULL, events TEXT NOT NULL, keys TEXT NOT NULL,
  payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_run ON chunks (experiment, run, min_dt);
CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
`;

const INSERT_CHUNK_SQL =
  'INSERT INTO chunks (experiment, run, count, min_dt, max_dt, events, keys, payload) VALUES (?,?,?,?,?,?,?,?)';

interface ChunkMeta {
  id: number;
  run: number;
  min_dt: number;
}

/**
 * The embedded store on better-sqlite3: one database file (WAL mode, so many processes on one
 * machine can read while one writes) or `:memory:`. better-sqlite3 is synchronous, which is what
 * makes the exit-time flush possible; the async methods simply return settled promises.
 */
export class SqliteStore implements Store {
  readonly url: string;
  private readonly db: BetterSqlite3.Database;
  private readonly insertChunk: BetterSqlite3.Statement;
  private readonly insertMany: (experiment: string, events: readonly PendingEvent[]) => void;
  private readonly chunkPayload: BetterSqlite3.Statement;
  private readonly allocateRun: (
    experiment: string,
    start: Omit<PendingEvent, 'run'>,
    atLeast: number,
  ) => number;
  private closed = false;

  /** @param file a database path, or `:memory:` */
  constructor(file: string, url = `sqlite:${file}`) {
    this.url = url;
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    // Several processes may start runs at once: wait for the write lock instead of failing.
    this.db.pragma('busy_timeout = 15000');
    if (file !== ':memory:') {
      this.db.pragma('journal_mode = WAL');
      // NORMAL in WAL mode survives any process crash; only a power loss can lose the last commit.
      this.db.pragma('synchronous = NORMAL');
    }
    this.db.exec(SCHEMA);
    this.insertChunk = this.db.prepare(INSERT_CHUNK_SQL);
    this.chunkPayload = this.db.prepare('SELECT payload FROM chunks WHERE id = ?').pluck();
    this.insertMany = this.db.transaction((experiment: string, events: readonly PendingEvent[]) => {
      for (const c of encodeChunks(events))
        this.insertChunk.run(experiment, c.run, c.count, c.minDt, c.maxDt, c.events, c.keys, c.payload);
    });
    const maxRun = this.db.prepare('SELECT MAX(run) FROM runs WHERE experiment = ?').pluck();
    const insertRun = this.db.prepare('INSERT INTO runs (experiment, run) VALUES (?, ?)');
    const allocate = this.db.transaction(
      (experiment: string, start: Omit<PendingEvent, 'run'>, atLeast: number) => {
        const run = Math.max(((maxRun.get(experiment) as number | null) ?? 0) + 1, atLeast);
        insertRun.run(experiment, run);
        this.insertMany(experiment, [{ ...start, run }]);
        return run;
      },
    );
    // IMMEDIATE takes the write lock before reading max(run): that is what makes it atomic.
    this.allocateRun = (experiment, start, atLeast) => allocate.immediate(experiment, start, atLeast);
  }

  async putEntry(bucket: Bucket, entry: MetadataEntry): Promise<void> {
    this.db
      .prepare(
        `INSERT INTO entries (bucket, name, kind, attributes, data, blob, created, modified)
         VALUES (?,?,?,?,?,?,?,?)
         ON CONFLICT (bucket, name) DO UPDATE SET kind = excluded.kind, attributes = excluded.attributes,
           data = excluded.data, blob = excluded.blob, modified = excluded.modified`,
      )
      .run(
        bucket,
        entry.name,
        entry.kind,
        JSON.stringify(entry.attributes),
        entry.data === undefined ? null : encodeValue(entry.data),
        entry.blob ?? null,
        entry.created.getTime(),
        entry.modified.getTime(),
      );
  }

  async getEntry(bucket: Bucket, name: string): Promise<MetadataEntry | undefined> {
    return this.getEntrySync(bucket, name);
  }

  getEntrySync(bucket: Bucket, name: string): MetadataEntry | undefined {
    const row = this.db.prepare('SELECT * FROM entries WHERE bucket = ? AND name = ?').get(bucket, name);
    return row ? toEntry(row as EntryRow) : undefined;
  }

  async listEntries(bucket: Bucket, prefix = ''): Promise<MetadataEntry[]> {
    const rows = this.db
      // length() counts characters as substr() does (JS .length counts UTF-16 units)
      .prepare('SELECT * FROM entries WHERE bucket = ? AND substr(name, 1, length(?)) = ? ORDER BY name')
      .all(bucket, prefix, prefix) as EntryRow[];
    return rows.map(toEntry);
  }

  async deleteEntry(bucket: Bucket, name: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM entries WHERE bucket = ? AND name = ?').run(bucket, name).changes > 0;
  }

  async startRun(experiment: string, start: Omit<PendingEvent, 'run'>, atLeast = 1): Promise<number> {
    return this.allocateRun(experiment, start, atLeast);
  }

  async appendEvents(experiment: string, events: readonly PendingEvent[]): Promise<void> {
    this.appendEventsSync(experiment, events);
  }

  appendEventsSync(experiment: string, events: readonly PendingEvent[]): void {
    if (events.length) this.insertMany(experiment, events);
  }

  async queryEvents(experiment: string, query: ResolvedQuery): Promise<TrackingEvent[]> {
    const { where, params } = chunkWhere(experiment, query);
    const chunks = this.db
      .prepare(`SELECT run, payload FROM chunks WHERE ${where} ORDER BY id`)
      .raw(true)
      .all(params) as Array<[number, Buffer]>;
    // chunks hold one run each and are selected by run in SQL
    const filter = rowFilter(query, { runsSelected: true });
    const rows: TrackingEvent[] = [];
    for (const [run, payload] of chunks) decodeChunk(experiment, run, payload, filter, rows);
    sortByTime(rows);
    return windowRows(rows, query);
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
      .prepare(`SELECT id, run, min_dt FROM chunks WHERE ${where} ORDER BY min_dt, id`)
      .all(params) as ChunkMeta[];
    // chunks hold one run each and are selected by run in SQL
    const filter = rowFilter(query, { runsSelected: true });
    let skip = query.offset ?? 0;
    let remaining = query.limit ?? Infinity;
    let pending: TrackingEvent[] = [];
    let batch: TrackingEvent[] = [];
    // ties in time keep insertion order, as in queryEvents: chunk id, then position in the chunk
    const order = new Map<TrackingEvent, number>();
    const byTimeThenInsertion = (a: TrackingEvent, b: TrackingEvent): number =>
      a.dt.getTime() - b.dt.getTime() || order.get(a)! - order.get(b)!;
    for (let i = 0; i < metas.length && remaining > 0; i++) {
      const payload = this.chunkPayload.get(metas[i].id) as Buffer | undefined;
      const rows = payload ? decodeChunk(experiment, metas[i].run, payload, filter) : [];
      rows.forEach((row, k) => order.set(row, metas[i].id * CHUNK_SIZE + k));
      pending = pending.concat(rows).sort(byTimeThenInsertion);
      // Chunks come in order of their earliest event: whatever is older than the next chunk's
      // earliest event can no longer be preceded by anything, so it goes out now.
      const horizon = i + 1 < metas.length ? metas[i + 1].min_dt : Infinity;
      let ready = 0;
      while (ready < pending.length && pending[ready].dt.getTime() < horizon) ready++;
      for (let j = 0; j < ready && remaining > 0; j++) {
        if (skip > 0) {
          skip--;
          continue;
        }
        batch.push(pending[j]);
        remaining--;
        if (batch.length === batchSize) {
          yield batch;
          batch = [];
        }
      }
      for (let j = 0; j < ready; j++) order.delete(pending[j]);
      pending = pending.slice(ready);
    }
    if (batch.length) yield batch;
  }

  async latestRun(experiment: string): Promise<number | undefined> {
    const run = this.db.prepare('SELECT MAX(run) FROM runs WHERE experiment = ?').pluck().get(experiment);
    return (run as number | null) ?? undefined;
  }

  async deleteEvents(experiment: string): Promise<number> {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM runs WHERE experiment = ?').run(experiment);
      return this.db
        .prepare('DELETE FROM chunks WHERE experiment = ? RETURNING count')
        .pluck()
        .all(experiment)
        .reduce((n: number, c) => n + (c as number), 0);
    })();
  }

  async putBlob(key: string, data: Uint8Array): Promise<void> {
    this.db
      .prepare('INSERT OR REPLACE INTO blobs (key, data) VALUES (?, ?)')
      .run(key, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  async getBlob(key: string): Promise<Buffer | undefined> {
    const data = this.db.prepare('SELECT data FROM blobs WHERE key = ?').pluck().get(key);
    return (data as Buffer | undefined) ?? undefined;
  }

  async deleteBlobs(prefix: string): Promise<number> {
    return this.db.prepare('DELETE FROM blobs WHERE substr(key, 1, length(?)) = ?').run(prefix, prefix)
      .changes;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

interface EntryRow {
  name: string;
  kind: string;
  attributes: string;
  data: string | null;
  blob: string | null;
  created: number;
  modified: number;
}

function toEntry(r: EntryRow): MetadataEntry {
  const entry: MetadataEntry = {
    name: r.name,
    kind: r.kind,
    attributes: JSON.parse(r.attributes),
    created: new Date(r.created),
    modified: new Date(r.modified),
  };
  if (r.data !== null) entry.data = decodeValue(r.data);
  if (r.blob !== null) entry.blob = r.blob;
  return entry;
}

/**
 * The SQL part of a query: experiment, runs and time window on the chunk index, and pruning of
 * chunks that hold none of the wanted event names or keys. The exact test per row is rowFilter.
 */
function chunkWhere(experiment: string, q: ResolvedQuery): { where: string; params: unknown[] } {
  const clauses = ['experiment = ?'];
  const params: unknown[] = [experiment];
  if (q.runs !== undefined) {
    if (Array.isArray(q.runs)) {
      clauses.push(`run IN (${q.runs.map(() => '?').join(',') || 'NULL'})`);
      params.push(...q.runs);
    } else {
      clauses.push('run BETWEEN ? AND ?');
      params.push(q.runs.from, q.runs.to);
    }
  }
  const holdsAny = (column: string, names: string[]): void => {
    clauses.push(`(${names.map(() => `instr(${column}, ?) > 0`).join(' OR ') || '0'})`);
    params.push(...names.map((name) => NAME_MARK + name + NAME_MARK));
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
