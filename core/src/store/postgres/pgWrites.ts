import type { ClientBase } from 'pg';
import type { EncodedChunk } from '../chunks/EventChunk';
import { mergeRunStats } from '../chunks/runStats';
import type { RunStatsDelta } from '../chunks/runStats';
import type { WriteId } from '../Store';
import { isSameWrite, writeIdConflict } from '../writeIds';
import type { RecordedWrite, WriteKind } from '../writeIds';
import type { ExitBatch } from './pgExitWrite';
import { indexText } from './pgQuery';

/** Chunks per INSERT statement (11 parameters each: PostgreSQL takes at most 65,535). */
const CHUNKS_PER_INSERT = 1000;

/** Runs `fn` in a transaction on `client`: committed when it resolves, rolled back when it throws. */
export async function inTransaction<T>(client: ClientBase, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  }
}

/**
 * Writes a batch of encoded chunks and folds what they add into their runs' aggregates, inside
 * the caller's transaction. `batch` names the write: when a chunk of it is in the store already
 * (an attempt whose answer was lost committed it; the exit writer writing again what was under
 * way), nothing is written and false is returned, so no event and no aggregate counts twice. A
 * second writer of the same batch at once waits on the unique index for the first to end.
 * The SQL is this one function's, for the store and its exit writer alike.
 */
export async function writeChunks(
  client: ClientBase,
  s: string,
  experiment: string,
  chunks: readonly EncodedChunk[],
  batch: string,
): Promise<boolean> {
  for (let from = 0; from < chunks.length; from += CHUNKS_PER_INSERT) {
    const part = chunks.slice(from, from + CHUNKS_PER_INSERT);
    const values: unknown[] = [];
    const rows = part.map((c, i) => {
      const at = values.length;
      values.push(
        experiment,
        c.run,
        c.count,
        c.minDt,
        c.maxDt,
        indexText(c.events),
        indexText(c.keys),
        c.payload,
        batch,
        from + i,
      );
      return `(${Array.from({ length: 10 }, (_, k) => `$${at + k + 1}`).join(',')})`;
    });
    const inserted = await client.query(
      `INSERT INTO ${s}.chunks (experiment, run, count, min_dt, max_dt, events, keys, payload, batch, seq)
       VALUES ${rows.join(',')} ON CONFLICT (batch, seq) DO NOTHING`,
      values,
    );
    // all or nothing of a batch is ever committed: one chunk there means all of it is
    if (inserted.rowCount === 0) return false;
  }
  await foldStats(client, s, experiment, chunks);
  return true;
}

/**
 * Folds chunks into their runs' aggregates (one row per run, the embedded store's JSON: see
 * runStats): rows made where missing, then read FOR UPDATE in run order (two writers of the
 * same runs queue, never deadlock), merged here and written back.
 */
async function foldStats(
  client: ClientBase,
  s: string,
  experiment: string,
  chunks: readonly EncodedChunk[],
): Promise<void> {
  const byRun = new Map<number, RunStatsDelta[]>();
  for (const c of chunks) {
    if (!c.stats.length) continue;
    let list = byRun.get(c.run);
    if (!list) byRun.set(c.run, (list = []));
    for (const d of c.stats) list.push(d);
  }
  if (byRun.size === 0) return;
  const runs = [...byRun.keys()].sort((a, b) => a - b);
  await client.query(
    `INSERT INTO ${s}.run_stats (experiment, run, stats) SELECT $1, r, '[]' FROM unnest($2::int[]) AS r
     ON CONFLICT (experiment, run) DO NOTHING`,
    [experiment, runs],
  );
  const { rows } = await client.query<{ run: number; stats: string }>(
    `SELECT run, stats FROM ${s}.run_stats WHERE experiment = $1 AND run = ANY($2::int[]) ORDER BY run FOR UPDATE`,
    [experiment, runs],
  );
  const merged = rows.map((r) => mergeRunStats(r.stats, byRun.get(r.run) ?? []).text);
  await client.query(
    `UPDATE ${s}.run_stats AS t SET stats = v.stats FROM unnest($2::int[], $3::text[]) AS v(run, stats)
     WHERE t.experiment = $1 AND t.run = v.run`,
    [experiment, rows.map((r) => r.run), merged],
  );
}

/**
 * Takes the next run number of `experiment` (the last one + 1, at least `atLeast`) in the
 * caller's transaction: the counter's row stays locked until it ends, so writers on any
 * machine get distinct numbers.
 */
export async function nextRun(
  client: ClientBase,
  s: string,
  experiment: string,
  atLeast: number,
): Promise<number> {
  const { rows } = await client.query<{ run: number }>(
    `INSERT INTO ${s}.counters (experiment, run) VALUES ($1, $2)
     ON CONFLICT (experiment) DO UPDATE SET run = GREATEST(${s}.counters.run + 1, $2) RETURNING run`,
    [experiment, atLeast],
  );
  return rows[0].run;
}

/**
 * Claims a write id in the caller's transaction: undefined when the id is new (it is recorded
 * now, with the write that follows, or not at all), else what it was recorded for. A second
 * claim of the same id at once waits on the primary key for the first transaction to end, then
 * finds its row (or takes the id, when that one rolled back).
 */
export async function claimWriteId(
  client: ClientBase,
  s: string,
  experiment: string,
  kind: WriteKind,
  writeId: WriteId,
): Promise<RecordedWrite | undefined> {
  const claimed = await client.query(
    `INSERT INTO ${s}.write_ids (id, experiment, kind, digest, run, at) VALUES ($1, $2, $3, $4, NULL, $5)
     ON CONFLICT (id) DO NOTHING`,
    [writeId.id, experiment, kind, writeId.digest, Date.now()],
  );
  if (claimed.rowCount === 1) return undefined;
  const { rows } = await client.query<RecordedWrite>(
    `SELECT experiment, kind, digest, run FROM ${s}.write_ids WHERE id = $1`,
    [writeId.id],
  );
  if (!rows.length) throw new Error(`write id '${writeId.id}' was neither taken nor found`);
  return rows[0];
}

/**
 * Writes one batch in the caller's transaction, for the store and its exit writer alike: with
 * a write id, once per id — true when the id names this very write, stored before (nothing is
 * written), a StoreError `conflict` when it names another. `location` names the store in errors.
 */
export async function writeBatch(
  client: ClientBase,
  s: string,
  b: ExitBatch,
  location: string,
): Promise<boolean> {
  if (b.writeId) {
    const recorded = await claimWriteId(client, s, b.experiment, 'append', b.writeId);
    if (recorded) {
      if (isSameWrite(recorded, b.experiment, 'append', b.writeId.digest)) return true;
      throw writeIdConflict(location, b.writeId.id);
    }
  }
  await writeChunks(client, s, b.experiment, b.chunks, b.batch);
  return false;
}
