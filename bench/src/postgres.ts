/**
 * bench/postgres: the PostgreSQL store against its baselines, measured in one run on one server:
 * durable ingest (logMetric → flushed) against a raw batched multi-row INSERT of the same rows
 * with pg and against the embedded store; runs() of 1,000 runs × 1,000 points and of 10,000
 * runs; 4 processes logging at once.
 *
 *   npm run build && node bench/dist/postgres.js --url postgres://user@host:port/database [--events N]
 *
 * The database should be a scratch one: the bench writes into the schemas bench_* and drops them.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { omega } from 'omega-track';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const at = args.indexOf(name);
  return at >= 0 ? args[at + 1] : undefined;
};
const URL_ = arg('--url') ?? process.env.OMEGA_BENCH_POSTGRES;
if (!URL_) {
  process.stderr.write('bench/postgres needs --url postgres://… (or OMEGA_BENCH_POSTGRES)\n');
  process.exit(2);
}
const BASE: string = URL_;
const N = Number(arg('--events') ?? 1_000_000);
const BATCH = 1000;

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;
const withSchema = (schema: string): string => `${BASE}${BASE.includes('?') ? '&' : '?'}schema=${schema}`;

async function sql(text: string): Promise<void> {
  const client = new Client({ connectionString: BASE });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/** logMetric N times in bursts of 10,000 (the event loop turning between), then flush: durable. */
async function ingest(store: string): Promise<number> {
  const om = omega({ store });
  const exp = om.runtime.experiment('ingest');
  await exp.start();
  const t0 = now();
  for (let b = 0; b < N / 10_000; b++) {
    for (let i = 0; i < 10_000; i++) exp.logMetric('loss', i * 0.001, b * 10_000 + i);
    await new Promise((r) => setImmediate(r));
  }
  const result = await exp.flush();
  const ms = now() - t0;
  if (result && (result.pending || result.dropped))
    throw new Error(`ingest left ${result.pending} pending, ${result.dropped} dropped`);
  await exp.stop();
  await om.close();
  return ms;
}

/** The same rows with pg: multi-row INSERTs of BATCH rows into a plain table, one transaction per batch. */
async function rawInsert(): Promise<number> {
  await sql(
    'DROP TABLE IF EXISTS bench_raw; CREATE TABLE bench_raw (id bigserial PRIMARY KEY, run int, event text, key text, value float8, step int, dt float8, node text, userid text)',
  );
  const client = new Client({ connectionString: BASE });
  await client.connect();
  const dt = Date.now();
  const t0 = now();
  for (let from = 0; from < N; from += BATCH) {
    const values: unknown[] = [];
    const rows: string[] = [];
    for (let i = from; i < Math.min(N, from + BATCH); i++) {
      const at = values.length;
      values.push(1, 'metric', 'loss', (i % 10_000) * 0.001, i, dt, 'node', 'user');
      rows.push(`(${Array.from({ length: 8 }, (_, k) => `$${at + k + 1}`).join(',')})`);
    }
    await client.query(
      `INSERT INTO bench_raw (run, event, key, value, step, dt, node, userid) VALUES ${rows.join(',')}`,
      values,
    );
  }
  const ms = now() - t0;
  await client.end();
  await sql('DROP TABLE bench_raw');
  return ms;
}

/** runs() of an experiment of `runs` runs × `points` metrics each (written beforehand, not timed). */
async function runsTable(store: string, runs: number, points: number): Promise<number> {
  const om = omega({ store });
  const exp = om.runtime.experiment(`runs-${runs}`);
  for (let r = 0; r < runs; r++) {
    await exp.start();
    for (let i = 0; i < points; i++) exp.logMetric('loss', 1 / (i + 1), i);
    exp.logParam('lr', 0.001 * (r + 1));
    await exp.stop();
  }
  const reader = omega({ store });
  const t0 = now();
  const table = await reader.runtime.experiment(`runs-${runs}`).runs();
  const ms = now() - t0;
  if (table.length !== runs) throw new Error(`runs() gave ${table.length} runs, not ${runs}`);
  await reader.close();
  await om.close();
  return ms;
}

/** 4 processes logging N/4 metrics each at once, each until flushed: events per second in total. */
async function fourProcesses(store: string): Promise<number> {
  const script = `
const { omega } = require(${JSON.stringify(path.join(__dirname, '..', '..', 'cli', 'dist', 'index.js'))});
(async () => {
  const om = omega({ store: process.argv[1] });
  const exp = om.runtime.experiment('four');
  await exp.start();
  for (let b = 0; b < ${N / 4 / 10_000}; b++) {
    for (let i = 0; i < 10000; i++) exp.logMetric('loss', i, b * 10000 + i);
    await new Promise((r) => setImmediate(r));
  }
  await exp.stop();
  await om.close();
})();`;
  const t0 = now();
  await Promise.all(
    [1, 2, 3, 4].map(
      () =>
        new Promise<void>((resolve, reject) => {
          const child = spawn(process.execPath, ['-e', script, store], { stdio: 'inherit' });
          child.on('exit', (code) =>
            code === 0 ? resolve() : reject(new Error(`a logger exited with ${code}`)),
          );
        }),
    ),
  );
  return now() - t0;
}

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-bench-pg-'));
  try {
    const lines: string[] = [];
    const say = (line: string): void => {
      lines.push(line);
      process.stdout.write(`${line}\n`);
    };
    say(`bench/postgres: ${N.toLocaleString('en-US')} metrics, node ${process.version}`);
    const raw = await rawInsert();
    const pg = await ingest(withSchema('bench_ingest'));
    const embedded = await ingest(`sqlite:${path.join(dir, 'ingest.db')}`);
    say(`durable ingest, postgres store:     ${rate(N, pg)} (${Math.round(pg)} ms)`);
    say(
      `  raw batched INSERT with pg:       ${rate(N, raw)} (${Math.round(raw)} ms) -> store at ${Math.round((raw / pg) * 100)} % of raw`,
    );
    say(`  embedded store (sqlite file):     ${rate(N, embedded)} (${Math.round(embedded)} ms)`);
    const runs1k = await runsTable(withSchema('bench_runs'), 1000, 1000);
    const runs1kSqlite = await runsTable(`sqlite:${path.join(dir, 'runs.db')}`, 1000, 1000);
    say(
      `runs() of 1,000 runs x 1,000 points: postgres ${Math.round(runs1k)} ms, embedded ${Math.round(runs1kSqlite)} ms`,
    );
    const runs10k = await runsTable(withSchema('bench_runs10k'), 10_000, 3);
    const runs10kSqlite = await runsTable(`sqlite:${path.join(dir, 'runs10k.db')}`, 10_000, 3);
    say(
      `runs() of 10,000 runs: postgres ${Math.round(runs10k)} ms, embedded ${Math.round(runs10kSqlite)} ms`,
    );
    const four = await fourProcesses(withSchema('bench_four'));
    const fourSqlite = await fourProcesses(`sqlite:${path.join(dir, 'four.db')}`);
    say(`4 processes logging at once: postgres ${rate(N, four)} in total, embedded ${rate(N, fourSqlite)}`);
  } finally {
    for (const schema of ['bench_ingest', 'bench_runs', 'bench_runs10k', 'bench_four'])
      await sql(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
})().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
