import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type BetterSqlite3 from 'better-sqlite3';
import Database from 'better-sqlite3';

/** A unit of work waiting for the MLflow server, in the order it was spooled. */
export interface SpoolOp {
  seq: number;
  uri: string;
  experiment: string;
  run: number;
  /** `events`: a JSON batch of events; `files`: v8-serialized artifact files. */
  kind: 'events' | 'files';
  body: Buffer;
  /** How many of the op's requests were already accepted (so a resend skips them). */
  done: number;
  /** When set, the op ends after this many requests (a requeued dead letter sends just its one). */
  only: number | null;
}

/** Where an omega run lives in MLflow, and whose it is (its events are stamped with them). */
export interface RunMapping {
  runId: string;
  artifactUri: string;
  userid: string;
  node: string;
}

/** The tables a spool keeps (SCHEMA), and SQLite's own. */
const SPOOL_TABLES: ReadonlySet<string> = new Set([
  'ops',
  'dead',
  'runs',
  'stops',
  'senders',
  'sqlite_sequence',
]);

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ops (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, uri TEXT NOT NULL, experiment TEXT NOT NULL, run INTEGER NOT NULL,
  kind TEXT NOT NULL, body BLOB NOT NULL, done INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL,
  only INTEGER
);
CREATE INDEX IF NOT EXISTS ops_by_uri ON ops (uri, seq);
CREATE TABLE IF NOT EXISTS dead (
  id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER, request INTEGER, uri TEXT, experiment TEXT, run INTEGER,
  kind TEXT, body BLOB, error TEXT, failed INTEGER
);
CREATE TABLE IF NOT EXISTS runs (
  uri TEXT NOT NULL, experiment TEXT NOT NULL, run INTEGER NOT NULL, run_id TEXT NOT NULL, artifact_uri TEXT NOT NULL,
  userid TEXT NOT NULL DEFAULT '', node TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (uri, experiment, run)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stops (
  uri TEXT NOT NULL, experiment TEXT NOT NULL, run INTEGER NOT NULL, dt INTEGER NOT NULL, value TEXT NOT NULL,
  userid TEXT NOT NULL DEFAULT '', node TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (uri, experiment, run)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS senders (
  uri TEXT PRIMARY KEY, pid INTEGER NOT NULL, host TEXT NOT NULL DEFAULT '', heartbeat INTEGER NOT NULL
) WITHOUT ROWID;
`;

/** A run's stop as spooled: what the run is, also while its stop still waits for the server. */
export interface SpooledStop {
  run: number;
  dt: number;
  /** The stop event's value (`{ status, error? }`), as JSON text. */
  value: string;
  userid: string;
  node: string;
}

/** Identifies this machine in the senders table (with the pid). */
const HOST = os.hostname();

/** A sender that has not shown signs of life for this long has died; another may take over. */
const SENDER_STALE_MS = 30_000;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The durable spool of the MLflow provider: an SQLite file (WAL, shared by the processes of one
 * machine) holding every batch until the server has accepted it. Appending is synchronous, so
 * it also works in the last moment of a process; ops are sent in order, each request of an op at
 * most once (progress is recorded per request), by one process at a time per server.
 */
export class MlflowSpool {
  private static readonly open_ = new Map<string, MlflowSpool>();
  private readonly db: BetterSqlite3.Database;

  /** The spool at `file`, shared within the process. */
  static at(file: string): MlflowSpool {
    const key = path.resolve(file);
    let spool = MlflowSpool.open_.get(key);
    if (!spool) MlflowSpool.open_.set(key, (spool = new MlflowSpool(key)));
    return spool;
  }

  /**
   * The tables of the SQLite file `file` that a spool does not have, read without writing: empty
   * for a spool or an empty file; else that file is something else (e.g. the omega store itself,
   * named by mistake), which opening it as a spool would write its tables into.
   */
  static foreignTables(file: string): string[] {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      const names = (
        db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]
      ).map((t) => t.name);
      return names.filter((name) => !SPOOL_TABLES.has(name));
    } finally {
      db.close();
    }
  }

  private constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('busy_timeout = 15000');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
  }

  /**
   * Appends an op. `stops`, the stop events in it, are also remembered by run, in the same
   * transaction: during an outage the spool answers what a run is (see `stops()`).
   */
  append(
    uri: string,
    experiment: string,
    run: number,
    kind: SpoolOp['kind'],
    body: Buffer,
    stops: ReadonlyArray<Omit<SpooledStop, 'run'>> = [],
  ): void {
    const insert = (): void => {
      this.db
        .prepare('INSERT INTO ops (uri, experiment, run, kind, body, created) VALUES (?,?,?,?,?,?)')
        .run(uri, experiment, run, kind, body, Date.now());
      for (const stop of stops)
        this.db
          .prepare(
            'INSERT OR REPLACE INTO stops (uri, experiment, run, dt, value, userid, node) VALUES (?,?,?,?,?,?,?)',
          )
          .run(uri, experiment, run, stop.dt, stop.value, stop.userid, stop.node);
    };
    if (stops.length === 0) insert();
    else this.db.transaction(insert)();
  }

  /** The latest stop spooled for each run of `experiment` (sent or still waiting). */
  stops(uri: string, experiment: string): SpooledStop[] {
    return this.db
      .prepare('SELECT run, dt, value, userid, node FROM stops WHERE uri = ? AND experiment = ? ORDER BY run')
      .all(uri, experiment) as SpooledStop[];
  }

  /** The oldest waiting op for `uri`. */
  next(uri: string): SpoolOp | undefined {
    return this.db
      .prepare(
        'SELECT seq, uri, experiment, run, kind, body, done, only FROM ops WHERE uri = ? ORDER BY seq LIMIT 1',
      )
      .get(uri) as SpoolOp | undefined;
  }

  markProgress(seq: number, done: number): void {
    this.db.prepare('UPDATE ops SET done = ? WHERE seq = ?').run(done, seq);
  }

  remove(seq: number): void {
    this.db.prepare('DELETE FROM ops WHERE seq = ?').run(seq);
  }

  /**
   * Sets aside one request of an op that the server refused for good (with the reason), so that
   * the op's other requests, and the ops after it, still go out.
   */
  bury(op: SpoolOp, request: number, error: string): void {
    this.db
      .prepare(
        'INSERT INTO dead (seq, request, uri, experiment, run, kind, body, error, failed) VALUES (?,?,?,?,?,?,?,?,?)',
      )
      .run(op.seq, request, op.uri, op.experiment, op.run, op.kind, op.body, error, Date.now());
  }

  /**
   * Puts refused requests back in line (after the cause was fixed, e.g. credentials): each
   * becomes an op again that sends that one request. Returns how many.
   */
  requeue(uri: string): number {
    return this.db.transaction(() => {
      const rows = this.db
        .prepare('SELECT id, seq, request, experiment, run, kind, body FROM dead WHERE uri = ? ORDER BY id')
        .all(uri) as Array<{
        id: number;
        request: number;
        experiment: string;
        run: number;
        kind: SpoolOp['kind'];
        body: Buffer;
      }>;
      for (const r of rows) {
        // `done` = the refused request's index: the requests before it were accepted then
        this.db
          .prepare(
            'INSERT INTO ops (uri, experiment, run, kind, body, done, created, only) VALUES (?,?,?,?,?,?,?,?)',
          )
          .run(uri, r.experiment, r.run, r.kind, r.body, r.request, Date.now(), r.request + 1);
        this.db.prepare('DELETE FROM dead WHERE id = ?').run(r.id);
      }
      return rows.length;
    })();
  }

  /** Ops waiting, for `uri` (and `experiment`) or in all. */
  pending(uri?: string, experiment?: string): number {
    if (uri === undefined) return this.db.prepare('SELECT count(*) FROM ops').pluck().get() as number;
    if (experiment === undefined)
      return this.db.prepare('SELECT count(*) FROM ops WHERE uri = ?').pluck().get(uri) as number;
    return this.db
      .prepare('SELECT count(*) FROM ops WHERE uri = ? AND experiment = ?')
      .pluck()
      .get(uri, experiment) as number;
  }

  /** Ops the server refused, with their errors. */
  deadLetters(uri: string): Array<{ seq: number; experiment: string; run: number; error: string }> {
    return this.db
      .prepare('SELECT seq, experiment, run, error FROM dead WHERE uri = ? ORDER BY seq')
      .all(uri) as Array<{
      seq: number;
      experiment: string;
      run: number;
      error: string;
    }>;
  }

  /** The tracking URIs that have ops waiting. */
  uris(): string[] {
    return this.db.prepare('SELECT DISTINCT uri FROM ops ORDER BY uri').pluck().all() as string[];
  }

  /** Drops the waiting ops of an experiment (its data is being cleared). */
  discard(uri: string, experiment: string): void {
    this.db.prepare('DELETE FROM ops WHERE uri = ? AND experiment = ?').run(uri, experiment);
    this.db.prepare('DELETE FROM runs WHERE uri = ? AND experiment = ?').run(uri, experiment);
    this.db.prepare('DELETE FROM stops WHERE uri = ? AND experiment = ?').run(uri, experiment);
  }

  /** Forgets a deleted run: where it was in MLflow, and its spooled stop. */
  forgetRun(uri: string, experiment: string, run: number): void {
    this.db
      .prepare('DELETE FROM runs WHERE uri = ? AND experiment = ? AND run = ?')
      .run(uri, experiment, run);
    this.db
      .prepare('DELETE FROM stops WHERE uri = ? AND experiment = ? AND run = ?')
      .run(uri, experiment, run);
  }

  mapping(uri: string, experiment: string, run: number): RunMapping | undefined {
    const row = this.db
      .prepare(
        'SELECT run_id, artifact_uri, userid, node FROM runs WHERE uri = ? AND experiment = ? AND run = ?',
      )
      .get(uri, experiment, run) as
      { run_id: string; artifact_uri: string; userid: string; node: string } | undefined;
    return row
      ? { runId: row.run_id, artifactUri: row.artifact_uri, userid: row.userid, node: row.node }
      : undefined;
  }

  saveMapping(uri: string, experiment: string, run: number, m: RunMapping): void {
    this.db
      .prepare(
        'INSERT OR REPLACE INTO runs (uri, experiment, run, run_id, artifact_uri, userid, node) VALUES (?,?,?,?,?,?,?)',
      )
      .run(uri, experiment, run, m.runId, m.artifactUri, m.userid, m.node);
  }

  /**
   * Becomes the one sender for `uri` on this machine, unless a live process already is.
   * Returns whether this process may send; call again as a heartbeat while sending.
   */
  claimSender(uri: string): boolean {
    return this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT pid, host, heartbeat FROM senders WHERE uri = ?').get(uri) as
          { pid: number; host: string; heartbeat: number } | undefined;
        const now = Date.now();
        const mine = row !== undefined && row.pid === process.pid && row.host === HOST;
        // a pid can only be checked on this host; elsewhere (containers sharing a file) the heartbeat decides
        const otherAlive =
          row !== undefined &&
          !mine &&
          now - row.heartbeat < SENDER_STALE_MS &&
          (row.host !== HOST || alive(row.pid));
        if (otherAlive) return false;
        this.db
          .prepare('INSERT OR REPLACE INTO senders (uri, pid, host, heartbeat) VALUES (?,?,?,?)')
          .run(uri, process.pid, HOST, now);
        return true;
      })
      .immediate();
  }

  releaseSender(uri: string): void {
    this.db.prepare('DELETE FROM senders WHERE uri = ? AND pid = ? AND host = ?').run(uri, process.pid, HOST);
  }
}
