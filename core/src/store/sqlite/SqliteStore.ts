import fs from 'node:fs';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import Database from 'better-sqlite3';
import { TrackingInputError } from '../../errors/TrackingInputError';
import { decodeValue, encodeValue } from '../../events/valueCodec';
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
CREATE TABLE IF NOT EXISTS events (
  id INTEGER PRIMARY KEY, experiment TEXT NOT NULL, run INTEGER NOT NULL, event TEXT NOT NULL,
  key TEXT NOT NULL, num REAL, json TEXT, step INTEGER, dt INTEGER NOT NULL,
  node TEXT NOT NULL, userid TEXT NOT NULL, extra TEXT
);
CREATE INDEX IF NOT EXISTS events_by_run ON events (experiment, run, dt, id);
CREATE INDEX IF NOT EXISTS events_by_event ON events (experiment, event, key);
CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
`;

/** The insert used for events; exported so the benchmark's raw baseline writes the very same rows. */
export const INSERT_EVENT_SQL =
  'INSERT INTO events (experiment, run, event, key, num, json, step, dt, node, userid, extra) VALUES (?,?,?,?,?,?,?,?,?,?,?)';

/** Columns in the order `rowToEvent` reads them. */
const SELECT_COLUMNS = 'id, run, event, key, num, json, step, dt, node, userid, extra';

type Row = [number, number, string, string, number | null, string | null, number | null, number, string, string, string | null];

/**
 * A value is stored in `num` when it is a plain number SQLite keeps exactly (it turns NaN into
 * NULL, so NaN goes through the JSON column); everything else is JSON text in `json`.
 */
export function eventToRow(experiment: string, e: PendingEvent): unknown[] {
  const v = e.value;
  const isNum = typeof v === 'number' && !Number.isNaN(v);
  return [
    experiment,
    e.run,
    e.event,
    e.key,
    isNum ? v : null,
    isNum ? null : encodeValue(v),
    e.step,
    e.dt,
    e.node,
    e.userid,
    e.extra === undefined ? null : encodeValue(e.extra),
  ];
}

function rowToEvent(experiment: string, r: Row): TrackingEvent {
  const event: TrackingEvent = {
    experiment,
    run: r[1],
    event: r[2],
    key: r[3],
    value: r[5] === null ? r[4] : decodeValue(r[5]),
    step: r[6],
    dt: new Date(r[7]),
    node: r[8],
    userid: r[9],
  };
  if (r[10] !== null) Object.assign(event, decodeValue(r[10]) as object);
  return event;
}

function sqlValue(v: string | number | boolean | null): string | number | null {
  return typeof v === 'boolean' ? (v ? 1 : 0) : v;
}

/**
 * The embedded store on better-sqlite3: one database file (WAL mode, so many processes on one
 * machine can read while one writes) or `:memory:`. better-sqlite3 is synchronous, which is what
 * makes the exit-time flush possible; the async methods simply return settled promises.
 */
export class SqliteStore implements Store {
  readonly url: string;
  private readonly db: BetterSqlite3.Database;
  private readonly insertEvent: BetterSqlite3.Statement;
  private readonly insertMany: (experiment: string, events: readonly PendingEvent[]) => void;
  private readonly allocateRun: (experiment: string, start: Omit<PendingEvent, 'run'>) => number;
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
    this.insertEvent = this.db.prepare(INSERT_EVENT_SQL);
    this.insertMany = this.db.transaction((experiment: string, events: readonly PendingEvent[]) => {
      for (const e of events) this.insertEvent.run(eventToRow(experiment, e));
    });
    const maxRun = this.db.prepare('SELECT MAX(run) FROM runs WHERE experiment = ?').pluck();
    const insertRun = this.db.prepare('INSERT INTO runs (experiment, run) VALUES (?, ?)');
    const allocate = this.db.transaction((experiment: string, start: Omit<PendingEvent, 'run'>) => {
      const run = ((maxRun.get(experiment) as number | null) ?? 0) + 1;
      insertRun.run(experiment, run);
      this.insertEvent.run(eventToRow(experiment, { ...start, run }));
      return run;
    });
    // IMMEDIATE takes the write lock before reading max(run): that is what makes it atomic.
    this.allocateRun = (experiment, start) => allocate.immediate(experiment, start);
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
      .prepare('SELECT * FROM entries WHERE bucket = ? AND substr(name, 1, ?) = ? ORDER BY name')
      .all(bucket, prefix.length, prefix) as EntryRow[];
    return rows.map(toEntry);
  }

  async deleteEntry(bucket: Bucket, name: string): Promise<boolean> {
    return this.db.prepare('DELETE FROM entries WHERE bucket = ? AND name = ?').run(bucket, name).changes > 0;
  }

  async startRun(experiment: string, start: Omit<PendingEvent, 'run'>): Promise<number> {
    return this.allocateRun(experiment, start);
  }

  async appendEvents(experiment: string, events: readonly PendingEvent[]): Promise<void> {
    this.appendEventsSync(experiment, events);
  }

  appendEventsSync(experiment: string, events: readonly PendingEvent[]): void {
    if (events.length) this.insertMany(experiment, events);
  }

  async queryEvents(experiment: string, query: ResolvedQuery): Promise<TrackingEvent[]> {
    const { where, params } = buildWhere(experiment, query);
    let sql = `SELECT ${SELECT_COLUMNS} FROM events WHERE ${where} ORDER BY dt, id`;
    if (query.limit !== undefined || query.offset !== undefined) {
      sql += ' LIMIT ? OFFSET ?';
      params.push(query.limit ?? -1, query.offset ?? 0);
    }
    const rows = this.db.prepare(sql).raw(true).all(params) as Row[];
    const out = new Array<TrackingEvent>(rows.length);
    for (let i = 0; i < rows.length; i++) out[i] = rowToEvent(experiment, rows[i]);
    return out;
  }

  async *iterateEvents(experiment: string, query: ResolvedQuery, batchSize: number): AsyncIterable<TrackingEvent[]> {
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new TrackingInputError(`batchSize must be a positive integer, got ${batchSize}`);
    const { where, params } = buildWhere(experiment, query);
    const first = this.db.prepare(`SELECT ${SELECT_COLUMNS} FROM events WHERE ${where} ORDER BY dt, id LIMIT ? OFFSET ?`);
    // Keyset pagination on (dt, id): each batch is one indexed range scan, however deep we are.
    const next = this.db.prepare(
      `SELECT ${SELECT_COLUMNS} FROM events WHERE ${where} AND (dt > ? OR (dt = ? AND id > ?)) ORDER BY dt, id LIMIT ?`,
    );
    let remaining = query.limit ?? Infinity;
    let rows = first.raw(true).all([...params, Math.min(batchSize, remaining), query.offset ?? 0]) as Row[];
    while (rows.length > 0) {
      remaining -= rows.length;
      yield rows.map((r) => rowToEvent(experiment, r));
      if (rows.length < batchSize || remaining <= 0) return;
      const last = rows[rows.length - 1];
      rows = next.raw(true).all([...params, last[7], last[7], last[0], Math.min(batchSize, remaining)]) as Row[];
    }
  }

  async latestRun(experiment: string): Promise<number | undefined> {
    const run = this.db.prepare('SELECT MAX(run) FROM runs WHERE experiment = ?').pluck().get(experiment);
    return (run as number | null) ?? undefined;
  }

  async deleteEvents(experiment: string): Promise<number> {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM runs WHERE experiment = ?').run(experiment);
      return this.db.prepare('DELETE FROM events WHERE experiment = ?').run(experiment).changes;
    })();
  }

  async putBlob(key: string, data: Uint8Array): Promise<void> {
    this.db.prepare('INSERT OR REPLACE INTO blobs (key, data) VALUES (?, ?)').run(key, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  }

  async getBlob(key: string): Promise<Buffer | undefined> {
    const data = this.db.prepare('SELECT data FROM blobs WHERE key = ?').pluck().get(key);
    return (data as Buffer | undefined) ?? undefined;
  }

  async deleteBlobs(prefix: string): Promise<number> {
    return this.db.prepare('DELETE FROM blobs WHERE substr(key, 1, ?) = ?').run(prefix.length, prefix).changes;
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

const COLUMN_EXTRAS = new Set(['node', 'userid']);

function inList(column: string, values: readonly unknown[], params: unknown[]): string {
  const nonNull = values.filter((v) => v !== null);
  const parts: string[] = [];
  if (nonNull.length) {
    parts.push(`${column} IN (${nonNull.map(() => '?').join(',')})`);
    for (const v of nonNull) params.push(sqlValue(v as string | number | boolean));
  }
  if (nonNull.length < values.length) parts.push(`${column} IS NULL`);
  return parts.length === 1 ? parts[0] : `(${parts.join(' OR ')})`;
}

function buildWhere(experiment: string, q: ResolvedQuery): { where: string; params: unknown[] } {
  const clauses = ['experiment = ?'];
  const params: unknown[] = [experiment];
  if (q.runs !== undefined) {
    if (Array.isArray(q.runs)) clauses.push(inList('run', q.runs, params));
    else {
      clauses.push('run BETWEEN ? AND ?');
      params.push(q.runs.from, q.runs.to);
    }
  }
  if (q.events) clauses.push(inList('event', q.events, params));
  if (q.keys) clauses.push(inList('key', q.keys, params));
  if (q.steps) clauses.push(inList('step', q.steps, params));
  if (q.since !== undefined) {
    clauses.push('dt >= ?');
    params.push(q.since);
  }
  if (q.end !== undefined) {
    clauses.push('dt <= ?');
    params.push(q.end);
  }
  for (const [field, values] of Object.entries(q.extras ?? {})) {
    if (COLUMN_EXTRAS.has(field)) {
      clauses.push(inList(field, values, params));
      continue;
    }
    // resolveQuery admits only [A-Za-z0-9_.:-] in field names, so the path literal is safe.
    clauses.push(inList(`json_extract(extra, '$."${field}"')`, values, params));
  }
  return { where: clauses.join(' AND '), params };
}
