/**
 * bench/runs: `runs()` — the run table from the per-run aggregates the embedded store keeps —
 * and a filtered, ordered `runs({ filter, orderBy, limit: 10 })`, beside the baseline of
 * reading the same events with `data()` and computing the table from them (what runs() would
 * cost without the aggregates), measured in one run on two shapes of experiment:
 * 1,000 runs × 1,000 metric points, and 10,000 runs with a few points each.
 *
 *   npm run build && node bench/dist/runs.js
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Experiment } from 'omega-track';
import { omega } from 'omega-track';
import { runTableFromEvents } from 'omega-track/internal';

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-bench-runs-'));

/** The median of `rounds` timings of `fn` (after one warm-up call). */
async function median(rounds: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = now();
    await fn();
    times.push(now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Logs `runs` runs of `points` loss values each, with params and a tag; returns the time taken. */
async function prepare(exp: Experiment, runs: number, points: number): Promise<number> {
  const t0 = now();
  const optimizers = ['adam', 'sgd', 'rmsprop'];
  for (let r = 0; r < runs; r++) {
    await exp.start({ name: `run-${r}`, tags: { team: r % 2 ? 'vision' : 'nlp' } });
    exp.logParams({ lr: [0.1, 0.01, 0.001][r % 3], batch: 32 << (r % 4), optimizer: optimizers[r % 3] });
    const acc = 0.5 + ((r * 7919) % 1000) / 2000;
    for (let s = 0; s < points; s++) exp.logMetric('loss', 1 / (s + 1) + (r % 10) / 100, s);
    exp.logMetric('acc', acc, points);
    await exp.stop();
  }
  return now() - t0;
}

async function shape(label: string, runs: number, points: number, target: number): Promise<void> {
  const om = omega({ store: `sqlite:${path.join(dir, `${runs}x${points}.db`)}` });
  const exp = om.runtime.experiment('bench-runs');
  const preparedMs = await prepare(exp, runs, points);
  const events = runs * (points + 1 + 3 + 1 + 1 + 1 + 1);
  const filter = "metrics.acc > 0.8 AND params.optimizer = 'adam' AND tags.team = 'vision'";
  const table = await median(7, () => exp.runs());
  const filtered = await median(7, () => exp.runs({ filter, orderBy: ['metrics.acc DESC'], limit: 10 }));
  const found = (await exp.runs({ filter, orderBy: ['metrics.acc DESC'], limit: 10 })).length;
  // the baseline: every event read back as rows, and the table computed from them
  const rows = await median(3, () => exp.data({ run: 'all' }));
  const fromRows = await median(3, async () => runTableFromEvents(await exp.data({ run: 'all' })));
  console.log(
    `\n${label}: ${runs.toLocaleString('en-US')} runs × ${points.toLocaleString('en-US')} points (${events.toLocaleString('en-US')} events, logged in ${(preparedMs / 1000).toFixed(1)} s)`,
  );
  console.log(
    `  runs()                                    ${table.toFixed(1).padStart(8)} ms   target ≤ ${target} ms`,
  );
  console.log(
    `  runs({ filter, orderBy, limit: 10 })      ${filtered.toFixed(1).padStart(8)} ms   (${found} runs match)`,
  );
  console.log(`  baseline: data({ run: 'all' })            ${rows.toFixed(1).padStart(8)} ms`);
  console.log(
    `  baseline: the table computed from data()  ${fromRows.toFixed(1).padStart(8)} ms   (${(fromRows / table).toFixed(0)}× runs())`,
  );
  await om.close();
}

async function main(): Promise<void> {
  console.log('bench/runs: the run table from per-run aggregates vs reading the events (medians)');
  await shape('A', 1_000, 1_000, 200);
  await shape('B', 10_000, 3, 500);
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
