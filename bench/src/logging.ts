/**
 * bench/logging: how fast omega-track accepts and stores events on the embedded store,
 * against raw better-sqlite3 inserting the same rows (the baseline), measured in one run.
 *
 *   npm run build && node bench/dist/logging.js [--events N]
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { PendingEvent } from 'omega-track';
import { omega } from 'omega-track';
import { NODE_NAME, currentUserId, startEvent } from 'omega-track/internal';

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
async function acceptedRate(): Promise<{
  calls: number;
  oneLoopMs: number;
  burstMs: number;
  scopedMs: number;
}> {
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
  // the same loop inside run(fn): every call looks up the run its async context belongs to
  let scopedMs = 0;
  await exp.run(async () => {
    t0 = now();
    for (let i = 0; i < calls; i++) exp.logMetric('loss', i * 0.001, i);
    scopedMs = now() - t0;
  });
  await exp.clear({ force: true });
  await om.close();
  return { calls, oneLoopMs, burstMs, scopedMs };
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

/**
 * Logging while another process holds the store's write lock for 5 s (BEGIN EXCLUSIVE), beside
 * the same loop on a free store: bursts of 1,000 logMetric calls from a 1 ms interval timer for
 * 5 s. Figures: calls accepted per second (time inside the calls), the timer's worst lateness (the
 * event loop's longest stall), and how long after the release everything was written.
 */
async function lockedLogging(
  locked: boolean,
): Promise<{ calls: number; callMs: number; worstLateMs: number; drainMs: number; dropped: number }> {
  const file = path.join(dir, `lock-${locked}.db`);
  const om = omega({ store: `sqlite:${file}` });
  const exp = om.runtime.experiment('locked', { maxQueueEvents: 20_000_000, maxQueueBytes: 2 ** 31 });
  await exp.start();
  let holder: ChildProcess | undefined;
  if (locked) {
    const script = `const db = new (require('better-sqlite3'))(process.argv[1]); db.exec('BEGIN EXCLUSIVE');
      process.stdout.write('LOCKED\\n'); setTimeout(() => { db.exec('COMMIT'); db.close(); }, 5000);`;
    holder = spawn(process.execPath, ['-e', script, file], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((resolve) => holder!.stdout!.once('data', () => resolve()));
  }
  let calls = 0;
  let callMs = 0;
  let worstLateMs = 0;
  let last = now();
  const began = now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const t = now();
      worstLateMs = Math.max(worstLateMs, t - last - 1);
      last = t;
      for (let i = 0; i < 1000; i++) exp.logMetric('loss', calls++ * 0.001, calls);
      callMs += now() - t;
      if (t - began >= 5000) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  const t0 = now();
  const result = await exp.stop();
  const drainMs = now() - t0;
  if (result && result.pending) throw new Error(`${result.pending} events not written`);
  holder?.kill();
  await om.close();
  return { calls, callMs, worstLateMs, drainMs, dropped: result ? result.dropped : 0 };
}

/**
 * summary() over one run of 5,000,000 metrics (issue 9, point 6): it reads the stored chunks
 * column by column instead of building 5,000,000 rows (6.0 s and 1.8 GB before). Each figure
 * comes from a fresh process that opens the store and calls summary() once: the call's time, and
 * the process's peak RSS (VmHWM on Linux), beside a process that only opens the store. Targets:
 * <= 1 s, <= 300 MB peak.
 */
async function summaryOfMillions(): Promise<void> {
  const events = 5_000_000;
  const file = path.join(dir, 'summary.db');
  const om = omega({ store: `sqlite:${file}` });
  const start = startEvent();
  await om.store.startRun('summary', start);
  for (let i = 0; i < events; i += 10_000) {
    const batch: PendingEvent[] = [];
    for (let j = i; j < i + 10_000; j++)
      batch.push({
        ...start,
        run: 1,
        event: 'metric',
        key: 'loss',
        value: j % 1000 ? Math.sin(j) : NaN,
        step: j,
        dt: start.dt + j,
      });
    await om.store.appendEvents('summary', batch);
  }
  await om.close();
  const script = `const { omega } = require(process.argv[1]);
    (async () => {
      const om = omega({ store: 'sqlite:' + process.argv[2] });
      const exp = om.runtime.experiment('summary');
      await exp.runs({ run: 1 });
      const t0 = performance.now();
      const s = process.argv[3] === 'summary' ? await exp.summary({ run: 1 }) : [];
      const ms = performance.now() - t0;
      await om.close();
      // VmHWM is this process's own peak; maxRSS would include the parent's (inherited across fork)
      const hwm = /VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))?.[1];
      const peakMb = (hwm ? Number(hwm) : process.resourceUsage().maxRSS) / 1024;
      process.stdout.write(JSON.stringify({ ms, peakMb, count: s[0]?.count }));
    })();`;
  const measure = (what: 'summary' | 'open'): Promise<{ ms: number; peakMb: number; count?: number }> =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['-e', script, require.resolve('omega-track'), file, what], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('error', reject);
      child.on('close', (code) =>
        code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`exit ${code}`)),
      );
    });
  const opened = await measure('open');
  const runs = [await measure('summary'), await measure('summary'), await measure('summary')];
  if (runs.some((r) => r.count !== events)) throw new Error('summary() did not count every event');
  const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
  const peak = Math.max(...runs.map((r) => r.peakMb));
  console.log('\n-- summary() of one run of 5,000,000 metrics (columnar read) --');
  console.log(
    `summary() time: median ${ms[1].toFixed(0)} ms over 3 fresh processes (${ms.map((t) => t.toFixed(0)).join(', ')}; target <= 1000 ms)`,
  );
  console.log(
    `summary() peak memory: ${peak.toFixed(0)} MB max RSS of the process (one that only opens the store: ${opened.peakMb.toFixed(0)} MB; target <= 300 MB)`,
  );
  console.log(
    `summaryMs=${ms[1].toFixed(1)} summaryPeakMb=${peak.toFixed(0)} openPeakMb=${opened.peakMb.toFixed(0)}`,
  );
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
    `logMetric calls accepted, in run(fn): ${rate(accepted.calls, accepted.scopedMs)}  (the same loop inside exp.run(fn), ${accepted.scopedMs.toFixed(0)} ms)`,
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
  const free = await lockedLogging(false);
  const held = await lockedLogging(true);
  for (const [label, f] of [
    ['free store (baseline)', free],
    ['write lock held 5 s  ', held],
  ] as const)
    console.log(
      `logging 5 s, ${label}: ${rate(f.calls, f.callMs)} accepted, worst event-loop stall ${f.worstLateMs.toFixed(1)} ms, all written ${f.drainMs.toFixed(0)} ms after the loop (${f.calls.toLocaleString('en-US')} calls, ${f.dropped} dropped; target stall <= 50 ms)`,
    );
  console.log(
    `\naccepted=${Math.round(acceptedPerSec)} acceptedBursts=${Math.round(burstPerSec)} durable=${Math.round(durablePerSec)} raw=${Math.round(rawPerSec)} dataMs=${data.median.toFixed(1)} lockedStallMs=${held.worstLateMs.toFixed(1)} freeStallMs=${free.worstLateMs.toFixed(1)}`,
  );
  await summaryOfMillions();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
