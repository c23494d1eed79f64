import fs from 'node:fs';
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
}

/** Where an omega run lives in MLflow. */
export interface RunMapping {
  runId: string;
  artifactUri: string;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS ops (
  seq INTEGER PRIMARY KEY, uri TEXT NOT NULL, experiment TEXT NOT NULL, run INTEGER NOT NULL,
  kind TEXT NOT NULL, body BLOB NOT NULL, done INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS ops_by_uri ON ops (uri, seq);
CREATE TABLE IF NOT EXISTS dead (
  seq INTEGER PRIMARY KEY, uri TEXT, experiment TEXT, run INTEGER, kind TEXT, body BLOB, error TEXT, failed INTEGER
);
CREATE TABLE IF NOT EXISTS runs (
  uri TEXT NOT NULL, experiment TEXT NOT NULL, run INTEGER NOT NULL, run_id TEXT NOT NULL, artifact_uri TEXT NOT NULL,
  PRIMARY KEY (uri, experiment, run)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS senders (uri TEXT PRIMARY KEY, pid INTEGER NOT NULL, heartbeat INTEGER NOT NULL) WITHOUT ROWID;
`;

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

  private constructor(readonly file: string) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('busy_timeout = 15000');
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
  }

  append(uri: string, experiment: string, run: number, kind: SpoolOp['kind'], body: Buffer): void {
    this.db
      .prepare('INSERT INTO ops (uri, experiment, run, kind, body, created) VALUES (?,?,?,?,?,?)')
      .run(uri, experiment, run, kind, body, Date.now());
  }

  /** The oldest waiting op for `uri`. */
  next(uri: string): SpoolOp | undefined {
    return this.db
      .prepare(
        'SELECT seq, uri, experiment, run, kind, body, done FROM ops WHERE uri = ? ORDER BY seq LIMIT 1',
      )
      .get(uri) as SpoolOp | undefined;
  }

  markProgress(seq: number, done: number): void {
    this.db.prepare('UPDATE ops SET done = ? WHERE seq = ?').run(done, seq);
  }

  remove(seq: number): void {
    this.db.prepare('DELETE FROM ops WHERE seq = ?').run(seq);
  }

  /** Sets aside an op the server refused for good, with the reason. */
  bury(op: SpoolOp, error: string): void {
    this.db.transaction(() => {
      this.db
        .prepare(
          'INSERT INTO dead (seq, uri, experiment, run, kind, body, error, failed) VALUES (?,?,?,?,?,?,?,?)',
        )
        .run(op.seq, op.uri, op.experiment, op.run, op.kind, op.body, error, Date.now());
      this.remove(op.seq);
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
  }

  mapping(uri: string, experiment: string, run: number): RunMapping | undefined {
    const row = this.db
      .prepare('SELECT run_id, artifact_uri FROM runs WHERE uri = ? AND experiment = ? AND run = ?')
      .get(uri, experiment, run) as { run_id: string; artifact_uri: string } | undefined;
    return row ? { runId: row.run_id, artifactUri: row.artifact_uri } : undefined;
  }

  saveMapping(uri: string, experiment: string, run: number, m: RunMapping): void {
    this.db
      .prepare('INSERT OR REPLACE INTO runs (uri, experiment, run, run_id, artifact_uri) VALUES (?,?,?,?,?)')
      .run(uri, experiment, run, m.runId, m.artifactUri);
  }

  /**
   * Becomes the one sender for `uri` on this machine, unless a live process already is.
   * Returns whether this process may send; call again as a heartbeat while sending.
   */
  claimSender(uri: string): boolean {
    return this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT pid, heartbeat FROM senders WHERE uri = ?').get(uri) as
          { pid: number; heartbeat: number } | undefined;
        const now = Date.now();
        if (row && row.pid !== process.pid && alive(row.pid) && now - row.heartbeat < SENDER_STALE_MS)
          return false;
        this.db
          .prepare('INSERT OR REPLACE INTO senders (uri, pid, heartbeat) VALUES (?,?,?)')
          .run(uri, process.pid, now);
        return true;
      })
      .immediate();
  }

  releaseSender(uri: string): void {
    this.db.prepare('DELETE FROM senders WHERE uri = ? AND pid = ?').run(uri, process.pid);
  }
}
