/**
 * bench/transferFiles: `omega-track export` and `omega-track import` of 5,000,000 events
 * (50 runs × 100,000 metric points, 2 keys) through the export files, as Parquet and as JSONL:
 * time, rate and peak memory (VmHWM) of each, beside the baseline measured in the same run —
 * reading the same events from the store with iterate(), no files written. Each phase runs in
 * its own process, so each peak is its own.
 *
 *   npm run bench:transfer
 *   npm run build && node bench/dist/transferFiles.js [--runs 50] [--points 100000]
 */
import { fork } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { PendingEvent } from 'omega-track';
import { omega, openStore } from 'omega-track';
import type { TransferLog } from 'omega-track/internal';
import { exportFiles, openExportFiles, storeSource, transferRuns } from 'omega-track/internal';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const RUNS = arg('runs', 50);
const POINTS = arg('points', 100_000);
const EXPERIMENT = 'bench-transfer';
/** The memory bound the issue sets for exporting 5,000,000 events. */
const BOUND_MB = 300;

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const rate = (n: number, ms: number): string => `${Math.round((n / ms) * 1000).toLocaleString('en-US')}/s`;

/** Peak resident memory of this process so far (VmHWM), in MB. */
function peakMb(): number {
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = /VmHWM:\s+(\d+) kB/.exec(status);
  return kb ? Number(kb[1]) / 1024 : process.resourceUsage().maxRSS / 1024;
}

/** What a phase reports to the parent. */
interface PhaseResult {
  ms: number;
  events: number;
  peakMb: number;
  bytes?: number;
}

const quietLog: TransferLog = {
  skipped: (what, why) => console.error(`  skipped ${what}: ${why}`),
  note: () => undefined,
};

/** One phase, in this (child) process. */
async function phase(name: string, dir: string): Promise<PhaseResult> {
  const sourceUrl = `sqlite:${path.join(dir, 'source.db')}`;
  if (name === 'iterate') {
    const om = omega({ store: sourceUrl });
    const exp = om.runtime.experiment(EXPERIMENT);
    const t0 = now();
    let events = 0;
    for await (const batch of exp.iterate({ run: 'all' }, { batchSize: 10_000 })) events += batch.length;
    const ms = now() - t0;
    await om.close();
    return { ms, events, peakMb: peakMb() };
  }
  const [what, format] = name.split(':') as ['export' | 'import', 'parquet' | 'jsonl'];
  const out = path.join(dir, `export-${format}`);
  if (what === 'export') {
    const store = openStore(sourceUrl);
    const t0 = now();
    const summary = await exportFiles(storeSource(store, { experiments: [EXPERIMENT] }), {
      out,
      format,
      log: quietLog,
    });
    const ms = now() - t0;
    await store.close();
    const bytes = fs.statSync(path.join(out, `events.${format}`)).size;
    return { ms, events: summary.events, peakMb: peakMb(), bytes };
  }
  const target = openStore(`sqlite:${path.join(dir, `target-${format}.db`)}`);
  const t0 = now();
  const source = await openExportFiles(out);
  const summary = await transferRuns(source, { target, log: quietLog });
  const ms = now() - t0;
  await source.close?.();
  await target.close();
  return { ms, events: summary.events, peakMb: peakMb() };
}

/** Runs one phase in a child process and waits for its figures. */
function inChild(name: string, dir: string): Promise<PhaseResult> {
  return new Promise((resolve, reject) => {
    const child = fork(__filename, ['--phase', name, '--dir', dir, ...args], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    child.once('message', (m) => resolve(m as PhaseResult));
    child.once('exit', (code) =>
      code === 0 ? undefined : reject(new Error(`phase ${name} exited with ${code}`)),
    );
  });
}

/**
 * RUNS runs of POINTS points each over two keys: each run started and stopped through the public
 * API, its points appended straight to the store (logging them call by call would take longer
 * than the whole bench).
 */
async function prepare(dir: string): Promise<number> {
  const om = omega({ store: `sqlite:${path.join(dir, 'source.db')}` });
  const exp = om.runtime.experiment(EXPERIMENT);
  const t0 = now();
  const base = Date.UTC(2026, 11, 8);
  for (let r = 0; r < RUNS; r++) {
    const run = await exp.start({ name: `run-${r}` });
    for (let at = 0; at < POINTS; at += 10_000) {
      const batch: PendingEvent[] = [];
      for (let i = at; i < Math.min(POINTS, at + 10_000); i++)
        batch.push({
          run,
          event: 'metric',
          key: i % 2 ? 'acc' : 'loss',
          value: i % 2 ? i / POINTS : 1 / (i + 1) + r / 1000,
          step: i >> 1,
          dt: base + r * POINTS + i,
          node: 'bench-host',
          userid: 'bench',
          extra: undefined,
        });
      await om.store.appendEvents(EXPERIMENT, batch);
    }
    await exp.stop();
  }
  const ms = now() - t0;
  await om.close();
  return ms;
}

async function main(): Promise<void> {
  const phaseIndex = args.indexOf('--phase');
  if (phaseIndex >= 0) {
    const result = await phase(args[phaseIndex + 1], args[args.indexOf('--dir') + 1]);
    process.send!(result);
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-bench-transfer-'));
  try {
    const total = RUNS * POINTS;
    console.log(
      `bench/transferFiles: export and import of ${total.toLocaleString('en-US')} events (${RUNS} runs × ${POINTS.toLocaleString('en-US')} points, 2 keys), each phase in its own process`,
    );
    const preparedMs = await prepare(dir);
    console.log(`  (written into sqlite in ${(preparedMs / 1000).toFixed(1)} s)`);
    const line = (label: string, r: PhaseResult, extra = ''): void =>
      console.log(
        `  ${label.padEnd(34)} ${(r.ms / 1000).toFixed(1).padStart(6)} s  ${rate(r.events, r.ms).padStart(12)}  peak ${r.peakMb.toFixed(0).padStart(4)} MB${extra}`,
      );
    const baseline = await inChild('iterate', dir);
    line('baseline: iterate() from the store', baseline);
    for (const format of ['parquet', 'jsonl'] as const) {
      const exported = await inChild(`export:${format}`, dir);
      line(
        `export → ${format}`,
        exported,
        `  (≤ ${BOUND_MB} MB: ${exported.peakMb <= BOUND_MB ? 'yes' : 'NO'}; file ${(exported.bytes! / 2 ** 20).toFixed(0)} MB, ${(exported.ms / baseline.ms).toFixed(1)}× the baseline)`,
      );
      const imported = await inChild(`import:${format}`, dir);
      line(`import ← ${format} into a new sqlite`, imported);
      fs.rmSync(path.join(dir, `export-${format}`), { recursive: true, force: true });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
