/**
 * bench/transferMlflow: `import --from mlflow` of one run with a 200,000-point metric history,
 * against the MLflow-compatible fake from test/ (in a process of its own). Each phase runs in a
 * fresh child process, so its peak RSS is its own:
 *   - baseline: the history fetched alone over metrics/get-history, page by page, nothing kept;
 *   - read: the same run through mlflowSource, every event taken, nothing stored;
 *   - import: mlflowSource into an embedded (SQLite) store with transferRuns.
 *
 *   npm run build && node bench/dist/transferMlflow.js [--points N]
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { openStore } from 'omega-track';
import { MlflowClient, mlflowSource, transferRuns } from 'omega-track/internal';

const args = process.argv.slice(2);
const arg = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const POINTS = Number(arg('--points') || 200_000);
const EXPERIMENT = 'bench-import';

async function startFake(): Promise<{ url: string; child: ChildProcess }> {
  const server = path.join(__dirname, '..', '..', 'test', 'dist', 'mlflow', 'FakeMlflowServer.js');
  const code = `const { FakeMlflowServer } = require(${JSON.stringify(server)});
    const s = new FakeMlflowServer(); s.start().then(() => process.stdout.write(s.url + '\\n'));`;
  const child = spawn(process.execPath, ['-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve) =>
    child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())),
  );
  return { url, child };
}

/** This process's own peak resident memory (VmHWM), in MB. */
function peakMb(): number {
  const hwm = /VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
  return (hwm ? Number(hwm) : process.resourceUsage().maxRSS) / 1024;
}

interface Figures {
  ms: number;
  points: number;
  peakMb: number;
}

const noLog = {
  skipped: (what: string, why: string) => console.error(`skipped ${what}: ${why}`),
  note: () => undefined,
};

/** One phase, in this (child) process. */
async function phase(which: string, uri: string, dir: string): Promise<Figures> {
  const t0 = performance.now();
  let points = 0;
  if (which === 'fetch') {
    const client = new MlflowClient({ trackingUri: uri });
    const exp = (await client.getExperimentByName(EXPERIMENT))!;
    const [run] = await client.searchRuns([exp.experiment_id]);
    let token: string | undefined;
    do {
      const page = await client.getMetricHistoryPage(run.info.run_id, 'loss', token);
      points += page.metrics.length;
      token = page.nextPageToken;
    } while (token);
  } else if (which === 'read') {
    const source = mlflowSource({ uri, experiments: [EXPERIMENT] });
    for await (const exp of source.experiments(noLog))
      for await (const run of exp.runs())
        for await (const batch of run.events()) points += batch.filter((e) => e.event === 'metric').length;
  } else {
    const target = openStore(`sqlite:${path.join(dir, 'omega.db')}`);
    const summary = await transferRuns(mlflowSource({ uri, experiments: [EXPERIMENT] }), {
      target,
      log: noLog,
    });
    const figures = { ms: performance.now() - t0, points: 0, peakMb: peakMb() };
    // checked after the figures are taken: reading 200,000 rows back is not part of the import
    figures.points = (await target.queryEvents(EXPERIMENT, { events: ['metric'] })).length;
    if (summary.runs !== 1)
      throw new Error(`imported ${summary.runs} runs: ${JSON.stringify(summary.skipped)}`);
    await target.close();
    return figures;
  }
  return { ms: performance.now() - t0, points, peakMb: peakMb() };
}

function runPhase(which: string, uri: string, dir: string): Promise<Figures> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [__filename, '--phase', which, '--uri', uri, '--dir', dir], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) =>
      code === 0 ? resolve(JSON.parse(out) as Figures) : reject(new Error(`phase ${which} exited ${code}`)),
    );
  });
}

async function main(): Promise<void> {
  const which = arg('--phase');
  if (which) {
    process.stdout.write(JSON.stringify(await phase(which, arg('--uri')!, arg('--dir')!)));
    return;
  }
  const fake = await startFake();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-bench-transfer-mlflow-'));
  try {
    const client = new MlflowClient({ trackingUri: fake.url });
    const exp = await client.ensureExperiment(EXPERIMENT);
    const t = 1_700_000_000_000;
    const run = await client.createRun(exp.experiment_id, 'long', t, []);
    for (let i = 0; i < POINTS; i += 1000) {
      const metrics = [];
      for (let step = i; step < Math.min(POINTS, i + 1000); step++)
        metrics.push({ key: 'loss', value: 1 / (step + 1), timestamp: t + step, step });
      await client.logBatch(run.info.run_id, { metrics });
    }
    await client.updateRun(run.info.run_id, 'FINISHED', t + POINTS);

    const fetch = await runPhase('fetch', fake.url, dir);
    const read = await runPhase('read', fake.url, dir);
    const imported = await runPhase('import', fake.url, dir);
    const line = (label: string, f: Figures): string =>
      `${label.padEnd(44)} ${(f.ms / 1000).toFixed(2).padStart(6)} s  ${Math.round((f.points / f.ms) * 1000)
        .toLocaleString('en-US')
        .padStart(
          9,
        )} points/s  peak RSS ${f.peakMb.toFixed(0).padStart(4)} MB  (${f.points.toLocaleString('en-US')} points)`;
    console.log(
      `bench/transferMlflow — Node ${process.version}, ${os.cpus().length} cores; server: MLflow-compatible fake (test/mlflow), own process; one run, one metric of ${POINTS.toLocaleString('en-US')} points\n`,
    );
    console.log(line('baseline: get-history alone, nothing kept', fetch));
    console.log(line('mlflowSource read, nothing stored', read));
    console.log(line('import into sqlite (source + transferRuns)', imported));
    console.log(`\nimport / baseline time: ${(imported.ms / fetch.ms).toFixed(2)}x`);
  } finally {
    fake.child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
