/**
 * bench/profiling: what the background profiler costs and how well it keeps time. Over the
 * same span at interval 1 s: process CPU time of an idle process without the profiler, then
 * with it (the difference is the profiler's cost, all threads included), and the lateness of
 * samples against their schedule — with the main thread idle, and with it busy in a synchronous
 * loop the whole time.
 *
 *   npm run build && node bench/dist/profiling.js [--seconds N]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { OmegaProfilingTracker } from 'omega-track';
import { omega } from 'omega-track';

const args = process.argv.slice(2);
const SECONDS = Number(args[args.indexOf('--seconds') + 1] || 30);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

/** Keeps the main thread busy for `ms`, yielding briefly once a second so samples get logged. */
async function busy(ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    const slice = Math.min(until, Date.now() + 1000);
    let x = 0;
    while (Date.now() < slice) x += Math.sqrt(x + 1);
    await new Promise((r) => setImmediate(r));
  }
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-bench-prof-'));
  const om = omega({ store: `sqlite:${path.join(dir, 'omega.db')}` });
  const exp = om.runtime.experiment<OmegaProfilingTracker>('bench-profiling', {
    provider: 'profiling',
  });
  exp.profiler.interval = 1;
  const span = SECONDS * 1000;

  await exp.start(); // warm up: worker code, store, first writes
  await sleep(2000);
  await exp.stop();

  let t0 = cpuMs();
  await sleep(span);
  const without = cpuMs() - t0;

  await exp.start();
  const provider = (await exp.provider()) as OmegaProfilingTracker;
  t0 = cpuMs();
  await sleep(span);
  const withProfiler = cpuMs() - t0;
  await exp.stop();
  const idleLateness = [...provider.profiler.lateness];

  provider.profiler.lateness.length = 0;
  await exp.start();
  await busy(span);
  await exp.stop();
  const busyLateness = [...provider.profiler.lateness];
  const samples = (await exp.data({ run: 'all', event: 'profile', key: 'profile_dt' })).length;

  const cost = ((withProfiler - without) / span) * 100;
  console.log(
    `bench/profiling — Node ${process.version}, ${os.cpus().length} cores; ${SECONDS} s spans at interval 1 s\n`,
  );
  console.log(`process CPU, idle, no profiler:   ${without.toFixed(1)} ms (baseline)`);
  console.log(`process CPU, idle, profiler on:   ${withProfiler.toFixed(1)} ms`);
  console.log(`profiler cost:                    ${cost.toFixed(3)}% of one core (target <= 1%)`);
  console.log(
    `lateness, main thread idle:       p50 ${percentile(idleLateness, 50).toFixed(2)} ms, p95 ${percentile(idleLateness, 95).toFixed(2)} ms over ${idleLateness.length} samples (target p95 <= 50 ms)`,
  );
  console.log(
    `lateness, main thread busy:       p50 ${percentile(busyLateness, 50).toFixed(2)} ms, p95 ${percentile(busyLateness, 95).toFixed(2)} ms over ${busyLateness.length} samples (target p95 <= 100 ms)`,
  );
  console.log(`samples stored in all runs:       ${samples}`);
  await om.close();
  fs.rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
