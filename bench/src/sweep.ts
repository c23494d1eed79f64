/**
 * bench/sweep: what the sweep controller costs per trial (issue 25), against the same trials run
 * by hand in a loop, in one run:
 *
 * 1. in process: `exp.sweep(grid, trial)` with a trial that logs 10 metric values, against a loop
 *    of `exp.run` doing the same (params logged, 10 values) — the baseline;
 * 2. model sweeps on the runtime: `om.runtime.model(m).sweep(X, Y, grid)` (a fit and a score task
 *    per trial; the fit stores its model under the trial's name), against a loop of `exp.run`
 *    issuing the same fit (storing the model back under its own name) and score — on the local
 *    executor, and on BullMQ over loopback Redis with 1 `omega-track worker`.
 *
 * Modes are interleaved in rounds; the figure is the median of the rounds' per-trial times, and
 * the overhead the controller's per-trial time minus the loop's. parallel 1 throughout: the
 * controller's own cost, not concurrency, is measured. It starts its own redis-server and worker
 * on free loopback ports, in a temp dir, and stops them at the end.
 *
 *   npm run build && node bench/dist/sweep.js [--trials N] [--rounds N]
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Omega, SweepParams } from 'omega-track';
import { omega, setDiagWriter } from 'omega-track';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && Number(args[i + 1]) > 0 ? Number(args[i + 1]) : fallback;
};
/** Trials per sweep: a grid of this many learning rates. */
const TRIALS = option('trials', 20);
const ROUNDS = option('rounds', 5);

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'cli', 'bin', 'omega-track.js');
const EXAMPLE = path.join(ROOT, 'examples', 'dist', 'runtime', 'linearRegression.js');
const REDIS_SERVER = '/usr/bin/redis-server';
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-bench-sweep-'));
const STORE = `sqlite:${path.join(dir, 'omega.db')}`;
const children = new Set<ChildProcess>();
const opened: Omega[] = [];

const X = Array.from({ length: 50 }, (_, i) => [i / 50, (i % 7) / 7]);
const Y = X.map(([a, b]) => 1 + 3 * a - 2 * b);
const LRS = Array.from({ length: TRIALS }, (_, i) => 0.01 + i * 0.005);
const FIT = { epochs: 20 };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Spawns `argv` and resolves once its stderr (or stdout) shows `ready`. */
function spawnUntil(command: string, argv: string[], ready: string): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${command} not ready in 60 s:\n${out}`)), 60_000);
    const seen = (d: Buffer): void => {
      out += d.toString();
      if (out.includes(ready)) {
        clearTimeout(timer);
        resolve(child);
      }
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.once('exit', (code) => {
      children.delete(child);
      clearTimeout(timer);
      reject(new Error(`${command} exited with ${code}:\n${out}`));
    });
  });
}

async function stopAll(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  await Promise.all(opened.map((om) => om.close().catch(() => undefined)));
}

function open(runtime: string): Omega {
  const om = omega({ store: STORE, runtime, runtimeQueue: 'bench-sweep' });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require(EXAMPLE) as { register: (r: unknown, om: Omega) => void }).register(om.registry, om);
  opened.push(om);
  return om;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (v: number): string => `${v.toFixed(v < 10 ? 2 : 1)} ms`;

/** A mode: runs TRIALS trials once; resolves with the time per trial. */
type Mode = (round: number) => Promise<number>;

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await fn();
  return (performance.now() - t0) / TRIALS;
}

/** The in-process trial: 10 values of the metric. */
function logTen(params: SweepParams, exp: { logMetric: (k: string, v: number, s: number) => void }): void {
  for (let step = 0; step < 10; step++) exp.logMetric('loss', (params.lr as number) / (step + 1), step);
}

function inProcess(om: Omega): [Mode, Mode] {
  const space = { lr: LRS };
  const sweep: Mode = (round) =>
    timed(() =>
      om.runtime
        .experiment(`inproc-sweep-${round}`)
        .sweep({ space, method: 'grid', metric: 'loss', goal: 'minimize' }, logTen),
    );
  const loop: Mode = (round) =>
    timed(async () => {
      const exp = om.runtime.experiment(`inproc-loop-${round}`);
      await exp.run(async () => {
        for (const lr of LRS)
          await exp.run((e) => {
            e.logParams({ lr });
            logTen({ lr }, e);
          });
      });
    });
  return [sweep, loop];
}

async function modelModes(om: Omega, label: string): Promise<[Mode, Mode]> {
  const { LinearRegression } = require(EXAMPLE) as { LinearRegression: new () => unknown }; // eslint-disable-line @typescript-eslint/no-require-imports
  await om.models.put(new LinearRegression(), `${label}-model`);
  const model = om.runtime.model(`${label}-model`);
  const sweep: Mode = (round) =>
    timed(() =>
      model.sweep(
        X,
        Y,
        { space: { lr: LRS }, method: 'grid', metric: 'score', goal: 'maximize' },
        { experiment: `${label}-sweep-${round}`, fit: FIT },
      ),
    );
  const loop: Mode = (round) =>
    timed(async () => {
      const exp = om.runtime.experiment(`${label}-loop-${round}`);
      await exp.run(async () => {
        for (const lr of LRS)
          await exp.run(async (e) => {
            e.logParams({ lr });
            // the same tasks as a trial (a fit that stores the model back, a score), on the model itself
            await model.fit(X, Y, { ...FIT, lr });
            await model.score(X, Y);
          });
      });
    });
  return [sweep, loop];
}

async function measure(name: string, [sweep, loop]: [Mode, Mode]): Promise<void> {
  const s: number[] = [];
  const l: number[] = [];
  await sweep(-1); // warm-up, untimed
  await loop(-1);
  for (let r = 0; r < ROUNDS; r++) {
    l.push(await loop(r));
    s.push(await sweep(r));
  }
  const [sm, lm] = [median(s), median(l)];
  console.log(
    `${name.padEnd(26)} sweep ${ms(sm).padStart(9)}/trial   by hand (baseline) ${ms(lm).padStart(9)}/trial   controller overhead ${ms(sm - lm).padStart(9)}/trial (${((sm / lm - 1) * 100).toFixed(0)}%)`,
  );
}

async function main(): Promise<void> {
  setDiagWriter(() => undefined);
  console.log(
    `bench/sweep: ${TRIALS} trials per sweep (grid, parallel 1), median of ${ROUNDS} rounds; node ${process.version}, ${os.cpus().length} cpus`,
  );
  const local = open('local');
  await measure('in process (exp.sweep)', inProcess(local));
  await measure('model sweep, local', await modelModes(local, 'local'));
  const port = await freePort();
  await spawnUntil(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    'Ready to accept connections',
  );
  const url = `redis://127.0.0.1:${port}`;
  await spawnUntil(
    process.execPath,
    [CLI, 'worker', '--runtime', url, '--queue', 'bench-sweep', '--store', STORE, '--require', EXAMPLE],
    'omega-track worker: node',
  );
  await measure('model sweep, BullMQ', await modelModes(open(url), 'bullmq'));
}

main()
  .then(stopAll, async (error: unknown) => {
    await stopAll();
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => fs.rmSync(dir, { recursive: true, force: true }));
