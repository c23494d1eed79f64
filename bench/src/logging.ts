/**
 * bench/logging: how fast omega-track accepts and stores events on the embedded store,
 * against raw better-sqlite3 inserting the same rows (the baseline), measured in one run.
 *
 *   npm run build && node bench/dist/logging.js [--events N]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { PendingEvent } from 'omega-track';
import { NODE_NAME, currentUserId, omega, startEvent } from 'omega-track';

const args = process.argv.slice(2);
const N = Number(args[args.indexOf('--events') + 1] || 1_000_000);
const BATCH = 1000;

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-bench-'));

/**
 * logMetric calls accepted per second, two ways: one synchronous loop of 2,000,000 calls (the
 * queue grows to hold them all), and a training-loop shape — bursts of 10,000 calls with the
 * event loop turning in between, so queued events are written between bursts. Only the time
 * spent inside logMetric calls is counted.
 */
async function acceptedRate(): Promise<{ calls: number; oneLoopMs: number; burstMs: number }> {
  const om = omega({ store: 'memory:' });
  const exp = om.runtime.experiment('accept');
  await exp.start();
  const calls = 2_000_000;
  for (let i = 0; i < 100_000; i++) exp.logMetric('warm', i, i); // JIT warm-up
  await exp.flush();
  let t0 = now();
  for (let i = 0; i < calls; i++) exp.logMetric('loss', i * 0.001, i);
  const oneLoopMs = now() - t0;
  await exp.flush();
  let burstMs = 0;
  for (let b = 0; b < calls / 10_000; b++) {
    t0 = now();
    for (let i = 0; i < 10_000; i++) exp.logMetric('loss', i * 0.001, i);
    burstMs += now() - t0;
    await new Promise((r) => setImmediate(r));
  }
  await exp.flush();
  await exp.clear({ force: true });
  await om.close();
  return { calls, oneLoopMs, burstMs };
}

async function durableRate(): Promise<{ ms: number }> {
  const om = omega({ store: `sqlite:${path.join(dir, 'durable.db')}` });
  const exp = om.runtime.experiment('durable');
  await exp.start();
  const t0 = now();
  for (let i = 0; i < N; i++) {
    exp.logMetric('loss', i * 0.001, i);
    // yield now and then, as a training loop does between batches, so batches flush as they fill
    if (i % 10_000 === 9_999) await new Promise((r) => setImmediate(r));
  }
  await exp.flush();
  const ms = now() - t0;
  const stored = (await om.store.queryEvents('durable', { events: ['metric'], limit: 1, offset: N - 1 }))
    .length;
  if (stored !== 1) throw new Error('not all events were stored');
  await om.close();
  return { ms };
}

/**
 * The baseline: better-sqlite3 inserting the same events as plain rows (one row per event,
 * value as JSON text, indexed by experiment, run and time, as a straightforward tracker would),
 * with the rows prepared beforehand, in transactions of the provider's batch size.
 */
function rawBaseline(): { ms: number } {
  const db = new Database(path.join(dir, 'raw.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE events (id INTEGER PRIMARY KEY, experiment TEXT, run INTEGER, event TEXT, key TEXT,
             value TEXT, step INTEGER, dt INTEGER, node TEXT, userid TEXT, extra TEXT);
           CREATE INDEX events_by_run ON events (experiment, run, dt);`);
  const insert = db.prepare(
    'INSERT INTO events (experiment, run, event, key, value, step, dt, node, userid, extra) VALUES (?,?,?,?,?,?,?,?,?,?)',
  );
  const insertMany = db.transaction((rows: unknown[][]) => {
    for (const r of rows) insert.run(r);
  });
  const node = NODE_NAME;
  const userid = currentUserId();
  const dt = Date.now();
  const batches: unknown[][][] = [];
  for (let i = 0; i < N; i += BATCH) {
    const rows: unknown[][] = [];
    for (let j = i; j < i + BATCH && j < N; j++)
      rows.push(['raw', 1, 'metric', 'loss', String(j * 0.001), j, dt + j, node, userid, null]);
    batches.push(rows);
  }
  const t0 = now();
  for (const rows of batches) insertMany(rows);
  const ms = now() - t0;
  db.close();
  return { ms };
}

async function dataLatency(): Promise<{ rows: number; median: number; all: number[] }> {
  const om = omega({ store: `sqlite:${path.join(dir, 'query.db')}` });
  const total = 1_000_000;
  const runs = 10;
  const perRun = total / runs;
  const start = startEvent();
  for (let r = 1; r <= runs; r++) {
    await om.store.startRun('big', start);
    for (let i = 0; i < perRun; i += 10_000) {
      const batch: PendingEvent[] = [];
      for (let j = i; j < i + 10_000 && j < perRun - 1; j++)
        batch.push({
          ...start,
          run: r,
          event: 'metric',
          key: j % 2 ? 'loss' : 'acc',
          value: j * 0.5,
          step: j,
          dt: start.dt + j,
        });
      await om.store.appendEvents('big', batch);
    }
  }
  const exp = om.runtime.experiment('big');
  const times: number[] = [];
  let rows = 0;
  for (let i = 0; i < 7; i++) {
    const t0 = now();
    rows = (await exp.data({ run: 5 })).length;
    times.push(now() - t0);
  }
  await om.close();
  const sorted = [...times].sort((a, b) => a - b);
  return { rows, median: sorted[3], all: times };
}

async function main(): Promise<void> {
  console.log(
    `bench/logging — Node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}\n`,
  );
  const accepted = await acceptedRate();
  const durable = await durableRate();
  const raw = rawBaseline();
  const data = await dataLatency();
  const acceptedPerSec = (accepted.calls / accepted.oneLoopMs) * 1000;
  const burstPerSec = (accepted.calls / accepted.burstMs) * 1000;
  const durablePerSec = (N / durable.ms) * 1000;
  const rawPerSec = (N / raw.ms) * 1000;
  console.log(
    `logMetric calls accepted, 1 loop: ${rate(accepted.calls, accepted.oneLoopMs)}  (${accepted.calls.toLocaleString('en-US')} calls in one synchronous loop, ${accepted.oneLoopMs.toFixed(0)} ms; target >= 2,000,000/s)`,
  );
  console.log(
    `logMetric calls accepted, bursts: ${rate(accepted.calls, accepted.burstMs)}  (200 bursts of 10,000 with writes in between, ${accepted.burstMs.toFixed(0)} ms in calls)`,
  );
  console.log(
    `events made durable (provider):   ${rate(N, durable.ms)}  (${N.toLocaleString('en-US')} events, log to flushed, in ${durable.ms.toFixed(0)} ms)`,
  );
  console.log(
    `raw better-sqlite3 batched insert: ${rate(N, raw.ms)}  (baseline: same events as plain rows, batches of ${BATCH}, ${raw.ms.toFixed(0)} ms)`,
  );
  console.log(
    `durable / raw:                    ${((durablePerSec / rawPerSec) * 100).toFixed(0)}%  (target >= 50%)`,
  );
  console.log(
    `data({ run }) of ${data.rows.toLocaleString('en-US')} rows (1,000,000 events, 10 runs): median ${data.median.toFixed(0)} ms over 7 (${data.all.map((t) => t.toFixed(0)).join(', ')}; target <= 150 ms)`,
  );
  console.log(
    `\naccepted=${Math.round(acceptedPerSec)} acceptedBursts=${Math.round(burstPerSec)} durable=${Math.round(durablePerSec)} raw=${Math.round(rawPerSec)} dataMs=${data.median.toFixed(1)}`,
  );
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
