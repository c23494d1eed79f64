import type { ClientBase } from 'pg';
import { StoreError } from '../../errors/StoreError';
import { eventsOfChunks } from '../chunks/chunkReads';
import { NAME_MARK } from '../chunks/EventChunk';
import { addRunningSums } from '../chunks/runStats';

/** The schema version this code writes and reads; recorded in `<schema>.meta`. */
export const PG_SCHEMA_VERSION = 3;

/** The tables of the store, in its own schema (see the README's PostgreSQL section). */
export const PG_TABLES = [
  'meta',
  'entries',
  'counters',
  'chunks',
  'run_stats',
  'heartbeats',
  'blobs',
  'write_ids',
] as const;

/**
 * The tables of version 1. Events are kept in the embedded store's compact chunks (up to 4,096
 * events of one run per row, column by column: see chunks/EventChunk), so `queryColumns` and
 * `summary()` read values without a row per event; `batch`/`seq` name the write a chunk came
 * from, so a write retried after a lost answer (or again from the exit writer) is not stored
 * twice. Names sort by their bytes (COLLATE "C"), as on the embedded store, whatever the
 * database's locale. Payloads are stored uncompressed (STORAGE EXTERNAL): they are packed
 * already, and compressing them again costs the writer CPU for nothing.
 */
function version1(s: string): string {
  return `
CREATE TABLE ${s}.entries (
  bucket text NOT NULL, name text COLLATE "C" NOT NULL, kind text NOT NULL, attributes text NOT NULL,
  data text, blob text, created bigint NOT NULL, modified bigint NOT NULL, PRIMARY KEY (bucket, name));
CREATE TABLE ${s}.counters (experiment text PRIMARY KEY, run integer NOT NULL);
CREATE TABLE ${s}.chunks (
  id bigserial PRIMARY KEY, experiment text NOT NULL, run integer NOT NULL, count integer NOT NULL,
  min_dt double precision NOT NULL, max_dt double precision NOT NULL, events text NOT NULL,
  keys text NOT NULL, payload bytea NOT NULL, batch text NOT NULL, seq integer NOT NULL);
ALTER TABLE ${s}.chunks ALTER COLUMN payload SET STORAGE EXTERNAL;
CREATE INDEX chunks_by_run ON ${s}.chunks (experiment, run, min_dt);
CREATE UNIQUE INDEX chunks_by_batch ON ${s}.chunks (batch, seq);
CREATE TABLE ${s}.run_stats (
  experiment text NOT NULL, run integer NOT NULL, stats text NOT NULL, PRIMARY KEY (experiment, run));
CREATE TABLE ${s}.heartbeats (
  experiment text NOT NULL, run integer NOT NULL, owner text NOT NULL, beat bigint NOT NULL,
  interval_ms bigint NOT NULL, PRIMARY KEY (experiment, run, owner));
CREATE TABLE ${s}.blobs (
  key text COLLATE "C" NOT NULL, part integer NOT NULL, data bytea NOT NULL, PRIMARY KEY (key, part));
ALTER TABLE ${s}.blobs ALTER COLUMN data SET STORAGE EXTERNAL;
`;
}

/**
 * Version 2 adds the write ids of writes made once however often they are sent (see WriteId):
 * per id, the experiment, the kind of write (`append`, `start`), the content's digest, the run
 * a start got and when it was recorded — in the transaction of the write it names.
 */
function version2(s: string): string {
  return `
CREATE TABLE ${s}.write_ids (
  id text PRIMARY KEY, experiment text NOT NULL, kind text NOT NULL, digest text NOT NULL,
  run integer, at bigint NOT NULL);
`;
}

/**
 * Version 3 keeps, in each metric's aggregate (run_stats.stats), the running sum and count of its
 * finite values, for the mean: no table changes, the aggregates of existing runs get their sums
 * from their metric events (see version3).
 */
async function version3(client: ClientBase, s: string): Promise<void> {
  const { rows } = await client.query<{ experiment: string; run: number; stats: string }>(
    `SELECT experiment, run, stats FROM ${s}.run_stats ORDER BY experiment, run`,
  );
  for (const { experiment, run, stats } of rows) {
    const chunks = await client.query<{ run: number; payload: Buffer }>(
      `SELECT run, payload FROM ${s}.chunks WHERE experiment = $1 AND run = $2 AND strpos(events, $3) > 0 ORDER BY id`,
      [experiment, run, NAME_MARK + 'metric' + NAME_MARK],
    );
    const metrics = eventsOfChunks(
      experiment,
      { runs: [run], events: ['metric'] },
      chunks.rows.map((c) => [c.run, c.payload] as const),
    );
    await client.query(`UPDATE ${s}.run_stats SET stats = $3 WHERE experiment = $1 AND run = $2`, [
      experiment,
      run,
      addRunningSums(stats, metrics),
    ]);
  }
}

/**
 * How to bring a store of version `i` to `i + 1`, in order: MIGRATIONS[0] creates version 1.
 * A later version adds its step here; older stores are upgraded in the same transaction.
 */
const MIGRATIONS: ReadonlyArray<(client: ClientBase, schema: string) => Promise<unknown>> = [
  (client, s) => client.query(version1(s)),
  (client, s) => client.query(version2(s)),
  version3,
];

/** The schema name quoted for SQL (pgUrl admits only identifier characters). */
export function quoted(schema: string): string {
  return `"${schema}"`;
}

async function versionOf(client: ClientBase, s: string): Promise<number | undefined> {
  const { rows } = await client.query<{ value: string }>(
    `SELECT value FROM ${s}.meta WHERE key = 'schema_version'`,
  );
  return rows.length ? Number(rows[0].value) : undefined;
}

function refuseNewer(version: number, schema: string, display: string): void {
  // a version that is no whole number ≥ 1 (edited by hand, damaged) is no store this code can
  // read or upgrade: migrating from it would fail on tables that already exist, or skip them
  if (!Number.isInteger(version) || version < 1)
    throw new StoreError(
      'not-a-database',
      display,
      `store ${display}: schema '${schema}' has an unreadable schema version (its meta table says ${String(version)}): it was changed by hand or damaged; restore it from a backup`,
    );
  if (version > PG_SCHEMA_VERSION)
    throw new StoreError(
      'not-a-database',
      display,
      `store ${display}: schema '${schema}' has version ${version}, newer than this omega-track reads (${PG_SCHEMA_VERSION}): upgrade omega-track`,
    );
}

/**
 * Makes the store's schema ready: nothing to do when its version is this one (one read); else,
 * in one transaction under an advisory lock on the schema's name (two processes creating it at
 * once: the second waits, then finds it made), creates the schema and its tables or upgrades an
 * older version step by step. A newer version is refused by name. With `create` false (reading
 * code), a missing store is a StoreError `not-found` and nothing is created.
 */
export async function ensurePgSchema(
  client: ClientBase,
  schema: string,
  display: string,
  create: boolean,
): Promise<void> {
  const s = quoted(schema);
  const found = await client.query<{ meta: string | null }>('SELECT to_regclass($1) AS meta', [`${s}.meta`]);
  if (found.rows[0]?.meta) {
    const version = await versionOf(client, s);
    if (version !== undefined) refuseNewer(version, schema, display);
    if (version === PG_SCHEMA_VERSION) return;
  }
  if (!create && !found.rows[0]?.meta)
    throw new StoreError(
      'not-found',
      display,
      `no omega-track store in schema '${schema}' at ${display}; check the URL (OMEGA_STORE or --store) and its ?schema=`,
    );
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`omega-track schema ${schema}`]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(`CREATE TABLE IF NOT EXISTS ${s}.meta (key text PRIMARY KEY, value text NOT NULL)`);
    const recorded = await versionOf(client, s);
    if (recorded !== undefined) refuseNewer(recorded, schema, display);
    const version = recorded ?? 0;
    for (let v = version; v < PG_SCHEMA_VERSION; v++) await MIGRATIONS[v](client, s);
    await client.query(
      `INSERT INTO ${s}.meta (key, value) VALUES ('schema_version', $1)
       ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
      [String(PG_SCHEMA_VERSION)],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}
