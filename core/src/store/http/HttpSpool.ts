import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type BetterSqlite3 from 'better-sqlite3';
import Database from 'better-sqlite3';
import { StoreError } from '../../errors/StoreError';
import type { SpoolBody, SpoolItem } from './HttpShipper';
import type { Spool, SpoolBatch } from './Spool';
import { SpoolCounts } from './SpoolCounts';
import { tokenHint } from './tokenHint';
import { batchId, withBatchId } from './httpProtocol';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS items (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, experiment TEXT NOT NULL, key TEXT,
  body TEXT, file TEXT, count INTEGER NOT NULL, runs TEXT, bytes INTEGER NOT NULL, created INTEGER NOT NULL,
  batch TEXT, grp TEXT
);
CREATE TABLE IF NOT EXISTS dead (
  seq INTEGER PRIMARY KEY, kind TEXT NOT NULL, experiment TEXT NOT NULL, key TEXT, body TEXT, file TEXT,
  count INTEGER NOT NULL, reason TEXT NOT NULL, failed INTEGER NOT NULL
);
`;

/** The layout of a spool file; a spool of another (newer) layout is left for the omega-track that wrote it. */
const SPOOL_VERSION = '1';

/** A spool file's name: `<host>_<port>-<pid>-<random>.spool`. */
const SPOOL_NAME = /^(.+)-(\d+)-([0-9a-f]{12})\.spool$/;

/** What a spool records of where it ships, besides its items. */
export interface SpoolInfo {
  /** The spool's id: the first part of every batch id it gives. */
  id: string;
  /** The server's URL (never with a token). */
  url: string;
  /** Which token logged into it, shown so that `sync` can say which one to use: never the token. */
  tokenHint: string;
  /** The process that wrote it, and on which machine. */
  pid: number;
  host: string;
}

/** The folder of the spools: OMEGA_SPOOL_DIR, else `$XDG_CACHE_HOME/omega-track/spool`, else `~/.cache/omega-track/spool`. */
export function defaultSpoolDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.OMEGA_SPOOL_DIR) return path.resolve(env.OMEGA_SPOOL_DIR);
  const cache = env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'omega-track', 'spool');
}

/** Whether process `pid` of this machine still runs. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface ItemRow extends SpoolItem {
  body: string | null;
  batch: string | null;
  file: string | null;
  runs: string | null;
}

/**
 * The HTTP store's spool: an SQLite file (WAL, synchronous=NORMAL: a killed process loses
 * nothing it spooled) holding every batch of events and every blob until the server took it,
 * in order. One file per process, named after the server and the process, so that
 * `omega-track sync` can ship what a process left when it ended; blobs wait as files in a
 * folder beside it (never in memory). Writes are synchronous, so the last moment of a process
 * can still spool.
 */
export class HttpSpool implements Spool {
  readonly file: string;
  readonly exitHook = true;
  readonly resumeHint = 'run `omega-track sync` (with OMEGA_TOKEN) to ship them';
  readonly info: SpoolInfo;
  readonly #db: BetterSqlite3.Database;
  readonly #blobDir: string;
  /** Bytes waiting (items, not dead letters): the spool's bound counts these. */
  readonly #counts = new SpoolCounts();
  #closed = false;
  /** Appends under way, slice by slice (see appendEvents' `group`): not shipped until committed. */
  readonly #groups = new Map<
    string,
    { experiment: string; slices: Array<{ count: number; bytes: number; runs: string }> }
  >();
  #reserved = 0;

  /** A new spool for this process in `dir`, shipping to `url` (`slug` names the server in the file name). */
  static create(dir: string, url: string, slug: string, token: string | undefined): HttpSpool {
    const random = crypto.randomBytes(6).toString('hex');
    const file = path.join(dir, `${slug}-${process.pid}-${random}.spool`);
    try {
      fs.mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw new StoreError(
        'cannot-open',
        dir,
        `cannot create the spool folder ${dir} (${(error as Error).message}): set OMEGA_SPOOL_DIR to a writable folder`,
        error,
      );
    }
    return new HttpSpool(file, {
      id: `${crypto.randomUUID().replace(/-/g, '').slice(0, 20)}`,
      url,
      tokenHint: tokenHint(token),
      pid: process.pid,
      host: os.hostname(),
    });
  }

  /** The spool files in `dir` (none when it does not exist), oldest first. */
  static files(dir: string): string[] {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      return [];
    }
    // a spool that its process removes meanwhile (closed empty) is no longer listed
    const files: Array<{ file: string; mtime: number }> = [];
    for (const n of names.filter((name) => SPOOL_NAME.test(name))) {
      const file = path.join(dir, n);
      try {
        files.push({ file, mtime: fs.statSync(file).mtimeMs });
      } catch {
        // gone
      }
    }
    return files.sort((a, b) => a.mtime - b.mtime).map((f) => f.file);
  }

  /** The pid in a spool file's name (cheap: no open). */
  static pidOf(file: string): number | undefined {
    const m = SPOOL_NAME.exec(path.basename(file));
    return m ? Number(m[2]) : undefined;
  }

  /** An existing spool (for `omega-track sync`). */
  static open(file: string): HttpSpool {
    return new HttpSpool(file, undefined);
  }

  private constructor(file: string, info: SpoolInfo | undefined) {
    this.file = file;
    this.#blobDir = `${file}.blobs`;
    try {
      this.#db = new Database(file, { fileMustExist: info === undefined });
      this.#db.pragma('busy_timeout = 5000');
      this.#db.pragma('journal_mode = WAL');
      this.#db.pragma('synchronous = NORMAL');
      // checkpoints (the only fsyncs in WAL with synchronous=NORMAL) every 1 MB rather than 4 MB:
      // each then holds the event loop ~15 ms instead of ~60 ms on a local disk
      this.#db.pragma('wal_autocheckpoint = 256');
      this.#db.exec(SCHEMA);
    } catch (error) {
      throw new StoreError(
        'cannot-open',
        file,
        `cannot open the spool ${file} (${(error as Error).message}): set OMEGA_SPOOL_DIR to a writable folder`,
        error,
      );
    }
    if (info) {
      const put = this.#db.prepare('INSERT OR REPLACE INTO meta (k, v) VALUES (?, ?)');
      this.#db.transaction(() => {
        for (const [k, v] of Object.entries(info)) put.run(k, String(v));
        put.run('version', SPOOL_VERSION);
      })();
      this.info = info;
    } else {
      const meta = new Map(
        (this.#db.prepare('SELECT k, v FROM meta').all() as Array<{ k: string; v: string }>).map((r) => [
          r.k,
          r.v,
        ]),
      );
      if (!meta.get('id') || !meta.get('url')) {
        this.#db.close();
        throw new StoreError(
          'not-a-database',
          file,
          `${file} is no omega-track spool (it records no server)`,
        );
      }
      this.info = {
        id: meta.get('id')!,
        url: meta.get('url')!,
        tokenHint: meta.get('tokenHint') ?? '',
        pid: Number(meta.get('pid')),
        host: meta.get('host') ?? '',
      };
      // an append the process did not finish (it died between its slices) never resolved: it goes
      this.#db.prepare('DELETE FROM items WHERE grp IS NOT NULL').run();
      const rows = this.#db.prepare('SELECT experiment, count, runs, bytes FROM items').all() as ItemRow[];
      for (const r of rows) this.#count(r.experiment, r.count, r.bytes, r.runs, 1);
    }
  }

  #count(experiment: string, count: number, bytes: number, runs: string | null, sign: 1 | -1): void {
    this.#counts.count(
      experiment,
      count,
      bytes,
      runs ? (JSON.parse(runs) as Record<string, number>) : null,
      sign,
    );
  }

  /** Bytes waiting to be shipped, with those of appends under way. */
  get bytes(): number {
    return this.#counts.bytes + this.#reserved;
  }

  /** Items waiting (cheap: counted as they come and go). */
  get waiting(): number {
    return this.#counts.items;
  }

  /** Items and events waiting, and dead letters kept. */
  pending(): { items: number; events: number; bytes: number; dead: number } {
    const dead = this.#closed
      ? 0
      : (this.#db.prepare('SELECT count(*) AS n FROM dead').get() as { n: number }).n;
    return { items: this.#counts.items, events: this.#counts.events, bytes: this.#counts.bytes, dead };
  }

  /** Events of `experiment` waiting, per run. */
  pendingByRun(experiment: string): Map<number, number> {
    return this.#counts.byRun(experiment);
  }

  /**
   * Appends batches of events (each its columns' JSON text, see encodeBatchColumns; `batch` a
   * batch id of the caller's, else the spool's `<id>-<seq>`) in one transaction: all or none.
   * With `group`, they are part of a bigger append written slice by slice: kept back (nothing
   * after them ships either) until `commit(group)`, removed by `abort(group)`, and dropped when
   * another process opens the spool (the append never finished). Returns the last seq.
   */
  appendEvents(experiment: string, batches: readonly SpoolBatch[], group?: string): number {
    const insert = this.#db.prepare(
      'INSERT INTO items (kind, experiment, body, count, runs, bytes, created, batch, grp) VALUES (?,?,?,?,?,?,?,?,?)',
    );
    let last = 0;
    this.#db.transaction(() => {
      for (const b of batches) {
        const runs = JSON.stringify(Object.fromEntries(b.runs));
        last = Number(
          insert.run(
            'events',
            experiment,
            b.columns,
            b.count,
            runs,
            b.columns.length,
            Date.now(),
            b.batch ?? null,
            group ?? null,
          ).lastInsertRowid,
        );
      }
    })();
    if (group !== undefined) {
      let g = this.#groups.get(group);
      if (!g) this.#groups.set(group, (g = { experiment, slices: [] }));
      for (const b of batches) {
        g.slices.push({
          count: b.count,
          bytes: b.columns.length,
          runs: JSON.stringify(Object.fromEntries(b.runs)),
        });
        this.#reserved += b.columns.length;
      }
      return last;
    }
    for (const b of batches)
      this.#count(experiment, b.count, b.columns.length, JSON.stringify(Object.fromEntries(b.runs)), 1);
    return last;
  }

  /** The append under way as `group` is whole: its slices ship. */
  commit(group: string): void {
    const g = this.#groups.get(group);
    if (!g) return;
    this.#db.prepare('UPDATE items SET grp = NULL WHERE grp = ?').run(group);
    this.#groups.delete(group);
    for (const slice of g.slices) {
      this.#reserved -= slice.bytes;
      this.#count(g.experiment, slice.count, slice.bytes, slice.runs, 1);
    }
  }

  /** The append under way as `group` failed: its slices go. */
  abort(group: string): void {
    const g = this.#groups.get(group);
    if (!g) return;
    if (!this.#closed) this.#db.prepare('DELETE FROM items WHERE grp = ?').run(group);
    this.#groups.delete(group);
    for (const slice of g.slices) this.#reserved -= slice.bytes;
  }

  /** Writes the blob's content to a file beside the spool (not kept in memory), then spools it. */
  async putBlob(key: string, data: Uint8Array): Promise<void> {
    const file = this.#blobFile();
    try {
      await fs.promises.writeFile(file, data);
    } catch (error) {
      fs.rmSync(file, { force: true });
      const full = (error as NodeJS.ErrnoException).code === 'ENOSPC';
      throw new StoreError(
        full ? 'disk-full' : 'io',
        this.file,
        `cannot spool blob '${key}' beside ${this.file}: ${(error as Error).message}`,
        error,
      );
    }
    this.#appendBlob(key, file, data.byteLength);
  }

  /** A file for a blob's content, beside the spool. */
  #blobFile(): string {
    fs.mkdirSync(this.#blobDir, { recursive: true });
    return path.join(this.#blobDir, `${crypto.randomBytes(8).toString('hex')}.bin`);
  }

  /** Appends a blob whose content is in `file` (from #blobFile). Returns its seq. */
  #appendBlob(key: string, file: string, bytes: number): number {
    const seq = Number(
      this.#db
        .prepare(
          'INSERT INTO items (kind, experiment, key, file, count, bytes, created) VALUES (?,?,?,?,?,?,?)',
        )
        .run('blob', '', key, path.basename(file), 0, bytes, Date.now()).lastInsertRowid,
    );
    this.#count('', 0, bytes, null, 1);
    return seq;
  }

  /** The seq of the last item spooled (0 when none ever was). */
  lastSeq(): number {
    const row = this.#db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'items'").get() as
      { seq: number } | undefined;
    return row?.seq ?? 0;
  }

  next(): SpoolItem | undefined {
    if (this.#closed) return undefined;
    const row = this.#db
      .prepare('SELECT seq, kind, experiment, key, count, bytes, grp FROM items ORDER BY seq LIMIT 1')
      .get() as (SpoolItem & { grp: string | null }) | undefined;
    if (!row) return undefined;
    // the first slices of an append under way wait for its last (and everything after them too)
    const { grp, ...item } = row;
    return grp === null ? item : { ...item, ready: false };
  }

  /** A batch's text with its id, or a blob's file as a stream (read as it is sent, never whole). */
  body(item: SpoolItem): SpoolBody {
    const row = this.#db.prepare('SELECT body, file, batch FROM items WHERE seq = ?').get(item.seq) as
      Pick<ItemRow, 'body' | 'file' | 'batch'> | undefined;
    if (!row) throw new Error(`spool item ${item.seq} is gone`);
    // a batch is sent under the caller's write id when it gave one, else under the spool's
    if (item.kind === 'events')
      return withBatchId(row.body ?? '{}', row.batch ?? batchId(this.info.id, item.seq));
    return Readable.toWeb(
      fs.createReadStream(path.join(this.#blobDir, row.file ?? '')),
    ) as ReadableStream<Uint8Array>;
  }

  remove(item: SpoolItem): void {
    const row = this.#db.prepare('SELECT runs, file FROM items WHERE seq = ?').get(item.seq) as
      Pick<ItemRow, 'runs' | 'file'> | undefined;
    if (!row) return;
    this.#db.prepare('DELETE FROM items WHERE seq = ?').run(item.seq);
    this.#count(item.experiment, item.count, item.bytes, row.runs, -1);
    if (row.file) fs.rmSync(path.join(this.#blobDir, row.file), { force: true });
  }

  bury(item: SpoolItem, reason: string): void {
    const row = this.#db.prepare('SELECT * FROM items WHERE seq = ?').get(item.seq) as ItemRow | undefined;
    if (!row) return;
    this.#db.transaction(() => {
      this.#db
        .prepare(
          'INSERT OR REPLACE INTO dead (seq, kind, experiment, key, body, file, count, reason, failed) VALUES (?,?,?,?,?,?,?,?,?)',
        )
        .run(row.seq, row.kind, row.experiment, row.key, row.body, row.file, row.count, reason, Date.now());
      this.#db.prepare('DELETE FROM items WHERE seq = ?').run(item.seq);
    })();
    this.#count(item.experiment, item.count, item.bytes, row.runs, -1);
  }

  /** The dead letters: what the server refused for good, and why. */
  deadLetters(): Array<{
    seq: number;
    kind: string;
    experiment: string;
    key: string | null;
    count: number;
    reason: string;
  }> {
    return this.#db
      .prepare('SELECT seq, kind, experiment, key, count, reason FROM dead ORDER BY seq')
      .all() as ReturnType<HttpSpool['deadLetters']>;
  }

  /**
   * Closes the file; one that holds nothing (no item, no dead letter) is deleted with its blob
   * folder, so that finished processes leave no trace.
   */
  close(): void {
    if (this.#closed) return;
    const { items, dead } = this.pending();
    this.#closed = true;
    this.#db.close();
    if (items === 0 && dead === 0) {
      for (const f of [this.file, `${this.file}-wal`, `${this.file}-shm`]) fs.rmSync(f, { force: true });
      fs.rmSync(this.#blobDir, { recursive: true, force: true });
    }
  }
}
