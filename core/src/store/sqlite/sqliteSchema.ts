import type BetterSqlite3 from 'better-sqlite3';
import { eventsOfChunks } from '../chunks/chunkReads';
import { NAME_MARK } from '../chunks/EventChunk';
import { addRunningSums } from '../chunks/runStats';

/**
 * The tables of the embedded store. `heartbeats` holds, per run and process that holds it, the
 * last time that process was known alive (a run without a stop event whose heartbeats stopped
 * reads as CRASHED). `run_stats` holds one row per run: per event and key the latest value (metrics also
 * min, max, count and the running sum of the finite values, for the mean), as JSON, kept up to
 * date in the same transaction as the chunks (runs() reads one row per run); `sums` is 1 when
 * every metric entry of the row keeps its running sum. A run without such a row (written before
 * run_stats existed, or rewritten by an older omega-track, which leaves `sums` at its default 0)
 * is read from its events.
 */
/**
 * The write ids of writes made once however often they are sent (see WriteId): per id, the
 * experiment, the kind of write, the content's digest, the run a start got, and when. Made with
 * the other tables in a new store; a store made before it exists gets it on its first write
 * that carries an id (SqliteWrites), so that opening an existing store never writes.
 */
export const WRITE_IDS_TABLE = `
CREATE TABLE IF NOT EXISTS write_ids (
  id TEXT PRIMARY KEY, experiment TEXT NOT NULL, kind TEXT NOT NULL, digest TEXT NOT NULL,
  run INTEGER, at INTEGER NOT NULL
) WITHOUT ROWID;
`;

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
CREATE INDEX IF NOT EXISTS chunks_by_run ON chunks (experiment, run, min_dt, max_dt, events, keys);
CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, data BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS run_stats (
  experiment TEXT NOT NULL, run INTEGER NOT NULL, stats TEXT NOT NULL, sums INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (experiment, run)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS heartbeats (
  experiment TEXT NOT NULL, run INTEGER NOT NULL, owner TEXT NOT NULL, beat INTEGER NOT NULL,
  interval_ms INTEGER NOT NULL, PRIMARY KEY (experiment, run, owner)
) WITHOUT ROWID;
${WRITE_IDS_TABLE}`;

/**
 * chunks_by_run covers what reads prune chunks by (run, times, the names they hold): picking the
 * chunks of one key of 200 runs then reads the index, not every row (a small chunk's payload
 * sits in its row, so a scan of the rows reads every payload). Stores made before it was
 * widened keep it as (experiment, run, min_dt): they read the same, slower.
 */

/** The tables whose absence makes opening create them (write_ids is not one of them: see above). */
const TABLES = ['entries', 'runs', 'chunks', 'blobs', 'heartbeats', 'run_stats'];

/**
 * Creates what is missing. An existing store is only read here: opening must not wait for the
 * write lock that another process may hold for a long time.
 */
export function ensureSchema(db: BetterSqlite3.Database): void {
  const have = new Set(
    db.prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index')").pluck().all() as string[],
  );
  if (!(TABLES.every((t) => have.has(t)) && have.has('chunks_by_run'))) db.exec(SCHEMA);
  if (!hasColumn(db, 'run_stats', 'sums')) addRunningSumsColumn(db);
}

function hasColumn(db: BetterSqlite3.Database, table: string, column: string): boolean {
  const columns = db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>;
  return columns.some((c) => c.name === column);
}

/**
 * Upgrades a store made before run_stats kept running sums (for the mean of each metric): adds
 * the `sums` column and fills in every run's sums from its metric events, in one transaction, so
 * that another process sees the store before or after, never half-way. This is the one write an
 * opening makes, once per store; it is a small step of its own because the embedded store keeps
 * no schema version yet (issue 27 brings versions, and this becomes its first upgrade).
 */
function addRunningSumsColumn(db: BetterSqlite3.Database): void {
  const upgrade = db.transaction(() => {
    // another process may have upgraded it while this one waited for the lock
    if (hasColumn(db, 'run_stats', 'sums')) return;
    db.exec('ALTER TABLE run_stats ADD COLUMN sums INTEGER NOT NULL DEFAULT 0');
    const rows = db.prepare('SELECT experiment, run, stats FROM run_stats').raw(true).all() as Array<
      [string, number, string]
    >;
    const payloads = db
      .prepare(
        'SELECT run, payload FROM chunks WHERE experiment = ? AND run = ? AND instr(events, ?) > 0 ORDER BY id',
      )
      .raw(true);
    const put = db.prepare('UPDATE run_stats SET stats = ?, sums = 1 WHERE experiment = ? AND run = ?');
    for (const [experiment, run, stats] of rows) {
      const chunks = payloads.all(experiment, run, NAME_MARK + 'metric' + NAME_MARK) as Array<
        [number, Buffer]
      >;
      const metrics = eventsOfChunks(experiment, { runs: [run], events: ['metric'] }, chunks);
      put.run(addRunningSums(stats, metrics), experiment, run);
    }
  });
  upgrade.immediate();
}
