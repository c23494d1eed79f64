/**
 * bench/runtime: runtime tasks (`om.runtime.model(name).predict(X)`) end to end, in one run:
 *
 * 1. round-trip latency of a trivial predict task (the example linear regression, X = [[1, 2]]),
 *    on the local executor and on BullMQ over loopback Redis with 1 `omega-track worker`; beside
 *    it the floors measured on the same Redis: a PING, a bare BullMQ job (inline processor) and a
 *    bare BullMQ job in a sandboxed worker thread (what `omega-track worker` uses);
 * 2. the tracking overhead per task: the same tasks inside `exp.run` of a `default` experiment,
 *    of a `notrack` experiment, and outside any run;
 * 3. tasks per second for many concurrent small tasks with 1 and 2 workers (concurrency 1 and 2).
 *
 * It starts its own redis-server on a free loopback port and its own worker processes, in a temp
 * dir, and stops them at the end (also on error or Ctrl-C).
 *
 *   npm run build && node bench/dist/runtime.js [--tasks N] [--long-run N] [--throughput N] [--in-flight N]
 *
 * BENCH_WORKER_NODE_ARGS (space-separated) go to the worker processes' node, e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof`, which also profiles their task threads.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Queue as BullQueue, QueueEvents as BullQueueEvents } from 'bullmq';
import { Queue, QueueEvents } from 'bullmq';
import type { Omega, OmegaModelProxy, ProviderRegistry } from 'omega-track';
import { omega } from 'omega-track';

const args = process.argv.slice(2);
const option = (name: string, fallback: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && Number(args[i + 1]) > 0 ? Number(args[i + 1]) : fallback;
};
/** Sequential tasks timed per mode (after WARMUP untimed ones), in ROUNDS interleaved blocks. */
const TASKS = option('tasks', 600);
const WARMUP = 100;
const ROUNDS = 5;
const THROUGHPUT_TASKS = option('throughput', 2000);
const IN_FLIGHT = option('in-flight', 64);
/** Tracked tasks in one long run (does a task's cost grow with the tasks its run already holds?). */
const LONG_RUN = option('long-run', 1500);

const ROOT = path.join(__dirname, '..', '..');
const CLI = path.join(ROOT, 'cli', 'bin', 'omega-track.js');
const EXAMPLE = path.join(ROOT, 'examples', 'dist', 'runtime', 'linearRegression.js');
const REDIS_SERVER = '/usr/bin/redis-server';
const MODEL = 'bench-linreg';
const X = [[1, 2]];
/** weights [2, 3], bias 1: predict([[1, 2]]) = [9]. */
const EXPECTED = 9;

const now = (): number => performance.now();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-bench-runtime-'));
const children = new Set<ChildProcess>();
/** Closed at the end, also on error (their Redis connections would otherwise retry forever). */
const opened: Omega[] = [];

// ---------------------------------------------------------------------------------- processes

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

/** One PING over a fresh socket: true when Redis answers PONG. */
function pingOnce(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.on('data', (d: Buffer) => {
      answer += d.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
    socket.once('connect', () => socket.write('PING\r\n'));
  });
}

/** Spawns a child that is stopped at the end of the bench whatever happens. */
function track(child: ChildProcess): ChildProcess {
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

async function startRedis(): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = track(
    spawn(REDIS_SERVER, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
  const deadline = Date.now() + 10_000;
  while (!(await pingOnce(port))) {
    if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error('redis-server did not answer PING within 10 s');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { port, child };
}

/** Spawns `command` and resolves once its stderr contains `ready` (rejects if it exits first). */
function spawnUntil(
  command: string,
  argv: string[],
  ready: string,
  env = process.env,
): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = track(spawn(command, argv, { cwd: ROOT, env, stdio: ['ignore', 'inherit', 'pipe'] }));
    let err = '';
    let isReady = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `${path.basename(argv.find((a) => !a.startsWith('-')) ?? command)} was not ready within 60 s:\n${err}`,
        ),
      );
    }, 60_000);
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (!isReady && err.includes(ready)) {
        isReady = true;
        clearTimeout(timer);
        resolve(child);
      } else if (isReady && /failed|error/i.test(d.toString())) process.stderr.write(d);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (!isReady)
        reject(
          new Error(
            `${path.basename(argv.find((a) => !a.startsWith('-')) ?? command)} exited with ${code}:\n${err}`,
          ),
        );
    });
  });
}

function startWorker(url: string, store: string, node: string, concurrency: number): Promise<ChildProcess> {
  return spawnUntil(
    process.execPath,
    [
      // e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof` to profile the workers (NODE_OPTIONS may not carry it)
      ...(process.env.BENCH_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean),
      CLI,
      'worker',
      '--runtime',
      url,
      '--store',
      store,
      '--require',
      EXAMPLE,
      '--node',
      node,
      '--concurrency',
      String(concurrency),
    ],
    'omega-track worker: node',
  );
}

/** SIGTERM (a worker finishes its running task and exits), SIGKILL after 10 s. */
async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function stopAll(): Promise<void> {
  await Promise.all([...children].map(stop));
}

/**
 * CPU time (user + system, ms) a process has used so far, all its threads: from /proc (Linux;
 * undefined elsewhere), in clock ticks of 10 ms (USER_HZ 100), plenty over 2,000 tasks.
 */
function cpuMsOf(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // the fields after the command name (which may hold spaces): state is the first, utime the 12th
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return undefined;
  }
}

const selfCpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

// ---------------------------------------------------------------------------------- figures

interface Stats {
  n: number;
  p50: number;
  p95: number;
  p99: number;
  mean: number;
}

/** Nearest-rank percentiles. */
function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
  return {
    n: sorted.length,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    mean: sorted.reduce((a, b) => a + b, 0) / sorted.length,
  };
}

const ms = (v: number): string => `${v.toFixed(v < 10 ? 2 : 1)} ms`;

function check(result: unknown): void {
  if (!Array.isArray(result) || result[0] !== EXPECTED)
    throw new Error(`predict returned ${JSON.stringify(result)}, not [${EXPECTED}]`);
}

/** `count` predict tasks one after the other; each one's round trip in ms. */
async function sequential(model: OmegaModelProxy, count: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = now();
    const result = await model.predict(X);
    times.push(now() - t0);
    check(result);
  }
  return times;
}

/** `total` predict tasks, `inFlight` at a time; tasks per second. */
async function concurrent(model: OmegaModelProxy, total: number, inFlight: number): Promise<number> {
  let issued = 0;
  const t0 = now();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (issued < total) {
        issued++;
        check(await model.predict(X));
      }
    }),
  );
  return (total / (now() - t0)) * 1000;
}

type Mode = 'untracked' | 'notrack' | 'default';
const MODES: Mode[] = ['untracked', 'notrack', 'default'];

/**
 * The three modes, interleaved in ROUNDS blocks (so that a drift of the machine's speed during
 * the bench hits every mode alike), each tracked block in an `exp.run` of its own; the run's
 * start and stop are not timed, only the tasks.
 */
async function latencyByMode(om: Omega, label: string): Promise<Record<Mode, Stats>> {
  const model = om.runtime.model(MODEL);
  const exps = {
    default: om.runtime.experiment(`bench-${label}-default`),
    notrack: om.runtime.experiment(`bench-${label}-notrack`, { provider: 'notrack' }),
  };
  const block = (mode: Mode, count: number): Promise<number[]> =>
    mode === 'untracked' ? sequential(model, count) : exps[mode].run(() => sequential(model, count));
  for (const mode of MODES) await block(mode, WARMUP);
  const samples: Record<Mode, number[]> = { untracked: [], notrack: [], default: [] };
  const per = Math.ceil(TASKS / ROUNDS);
  for (let r = 0; r < ROUNDS; r++) for (const mode of MODES) samples[mode].push(...(await block(mode, per)));
  // what the tracked tasks recorded, read back once the workers had time to write it
  await exps.default.flush();
  const tasks = WARMUP + per * ROUNDS;
  let recorded = 0;
  const deadline = Date.now() + 10_000;
  do {
    recorded = (await exps.default.data({ run: 'all', event: 'task_success' })).length;
    if (recorded >= tasks) break;
    await new Promise((r) => setTimeout(r, 200));
  } while (Date.now() < deadline);
  console.log(
    `  ${label}: the default experiment holds ${recorded} task_success events for ${tasks} tracked tasks`,
  );
  return {
    untracked: stats(samples.untracked),
    notrack: stats(samples.notrack),
    default: stats(samples.default),
  };
}

/** Stats of the first and the last 100 of LONG_RUN sequential tasks inside one `exp.run` of a default experiment. */
async function oneLongRun(om: Omega, label: string): Promise<{ first: Stats; last: Stats }> {
  const model = om.runtime.model(MODEL);
  const times = await om.runtime.experiment(`bench-${label}-long`).run(() => sequential(model, LONG_RUN));
  return { first: stats(times.slice(0, 100)), last: stats(times.slice(-100)) };
}

// ---------------------------------------------------------------------------------- baselines

/**
 * The floors on the same Redis: PING through ioredis (BullMQ's client), and a bare BullMQ job
 * (Queue.add, awaited through QueueEvents as the RedisExecutor does) taken by a worker in another
 * process that returns the same answer, inline and in a sandboxed worker thread.
 */
async function bullmqFloors(port: number): Promise<{ ping: Stats; inline: Stats; sandboxed: Stats }> {
  const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null };
  const bullmq = JSON.stringify(require.resolve('bullmq'));
  const processor = path.join(dir, 'rawProcessor.js');
  fs.writeFileSync(processor, `module.exports = async () => JSON.stringify({ result: [${EXPECTED}] });\n`);
  const workerScript = path.join(dir, 'rawWorker.js');
  fs.writeFileSync(
    workerScript,
    `const { Worker } = require(${bullmq});
const [queue, port, sandboxed] = process.argv.slice(2);
const processor = sandboxed === 'yes' ? ${JSON.stringify(processor)} : require(${JSON.stringify(processor)});
const worker = new Worker(queue, processor, {
  connection: { host: '127.0.0.1', port: Number(port), maxRetriesPerRequest: null },
  useWorkerThreads: sandboxed === 'yes',
});
worker.on('error', () => undefined);
worker.waitUntilReady().then(() => process.stderr.write('raw worker ready\\n'));
process.on('SIGTERM', () => worker.close().then(() => process.exit(0)));
`,
  );

  const queue = (name: string): { q: BullQueue; events: BullQueueEvents } => ({
    q: new Queue(name, { connection }),
    events: new QueueEvents(name, { connection }),
  });
  const measure = async (name: string, sandboxed: boolean): Promise<Stats> => {
    const { q, events } = queue(name);
    await Promise.all([q.waitUntilReady(), events.waitUntilReady()]);
    const pending = new Map<string, () => void>();
    events.on('completed', ({ jobId }) => {
      pending.get(jobId)?.();
      pending.delete(jobId);
    });
    const worker = await spawnUntil(
      process.execPath,
      [workerScript, name, String(port), sandboxed ? 'yes' : 'no'],
      'raw worker ready',
    );
    let id = 0;
    const one = async (): Promise<number> => {
      const jobId = `raw-${++id}`;
      const t0 = now();
      const done = new Promise<void>((resolve) => pending.set(jobId, resolve));
      await q.add('predict', { X }, { jobId, removeOnComplete: { age: 3600, count: 10_000 } });
      await done;
      return now() - t0;
    };
    for (let i = 0; i < WARMUP; i++) await one();
    const times: number[] = [];
    for (let i = 0; i < TASKS; i++) times.push(await one());
    await stop(worker);
    await Promise.all([events.close(), q.close()]);
    return stats(times);
  };

  const q = new Queue('bench-ping', { connection });
  // BullMQ's client is an ioredis instance; its type here only names what BullMQ uses
  const client = (await q.client) as unknown as { ping(): Promise<string> };
  for (let i = 0; i < WARMUP; i++) await client.ping();
  const pings: number[] = [];
  for (let i = 0; i < TASKS; i++) {
    const t0 = now();
    await client.ping();
    pings.push(now() - t0);
  }
  await q.close();
  return {
    ping: stats(pings),
    inline: await measure('bench-raw-inline', false),
    sandboxed: await measure('bench-raw-sandboxed', true),
  };
}

// ---------------------------------------------------------------------------------- main

async function setUpModel(om: Omega): Promise<void> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const example = require(EXAMPLE) as {
    register: (registry: ProviderRegistry, om: Omega) => void;
    LinearRegression: new (weights: number[], bias: number) => object;
  };
  example.register(om.registry, om);
  await om.models.put(new example.LinearRegression([2, 3], 1), MODEL);
}

async function main(): Promise<void> {
  console.log(
    `bench/runtime — Node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`,
  );
  console.log(
    `${TASKS} timed sequential predict tasks per mode after ${WARMUP} untimed, in ${ROUNDS} interleaved rounds; throughput: ${THROUGHPUT_TASKS} tasks, ${IN_FLIGHT} in flight\n`,
  );
  const began = now();
  const load = os.loadavg()[0];
  const redis = await startRedis();
  const url = `redis://127.0.0.1:${redis.port}`;
  const store = `sqlite:${path.join(dir, 'omega.db')}`;

  const omLocal = omega({ store: `sqlite:${path.join(dir, 'local.db')}`, runtime: 'local' });
  const omRedis = omega({ store, runtime: url });
  opened.push(omLocal, omRedis);
  await setUpModel(omLocal);
  await setUpModel(omRedis);

  let w1 = await startWorker(url, store, 'bench-w1', 1);

  console.log('latency (sequential tasks):');
  const local = await latencyByMode(omLocal, 'local');
  const bull = await latencyByMode(omRedis, 'bullmq');
  const localLong = await oneLongRun(omLocal, 'local');
  const bullLong = await oneLongRun(omRedis, 'bullmq');
  const floors = await bullmqFloors(redis.port);

  console.log('throughput:');
  const rates: { label: string; rate: number; cpu: string }[] = [];
  /** Tasks per second, and the CPU each process spent per task meanwhile (where the cores went). */
  const rate = async (label: string, om: Omega, workers: ChildProcess[]): Promise<void> => {
    const model = om.runtime.model(MODEL);
    // every worker thread is started (and its store opened) before the clock runs
    await concurrent(model, Math.min(THROUGHPUT_TASKS, 4 * IN_FLIGHT), IN_FLIGHT);
    const cpu = (): number[] => [selfCpuMs(), ...[redis.child, ...workers].map((c) => cpuMsOf(c.pid) ?? NaN)];
    const before = cpu();
    const r = await concurrent(model, THROUGHPUT_TASKS, IN_FLIGHT);
    const used = cpu().map((v, i) => (v - before[i]) / THROUGHPUT_TASKS);
    const [client, server, ...perWorker] = used;
    const total = used.reduce((a, b) => a + b, 0);
    const cpuText = Number.isNaN(total)
      ? ''
      : `CPU per task: client ${client.toFixed(2)} ms, redis ${server.toFixed(2)} ms` +
        (perWorker.length ? `, workers ${perWorker.map((w) => w.toFixed(2)).join(' + ')} ms` : '') +
        `; total ${total.toFixed(2)} ms`;
    rates.push({ label, rate: r, cpu: cpuText });
    console.log(`  ${label}: ${Math.round(r).toLocaleString('en-US')} tasks/s`);
  };
  await rate('local executor (in-process, one task at a time per model)', omLocal, []);
  await rate('BullMQ, 1 worker, concurrency 1', omRedis, [w1]);
  let w2 = await startWorker(url, store, 'bench-w2', 1);
  await rate('BullMQ, 2 workers, concurrency 1 each', omRedis, [w1, w2]);
  await Promise.all([stop(w1), stop(w2)]);
  w1 = await startWorker(url, store, 'bench-w1', 2);
  await rate('BullMQ, 1 worker, concurrency 2', omRedis, [w1]);
  w2 = await startWorker(url, store, 'bench-w2', 2);
  await rate('BullMQ, 2 workers, concurrency 2 each', omRedis, [w1, w2]);
  await closeAll();
  await stopAll();

  // ------------------------------------------------------------------------------ the table
  const row = (label: string, s: Stats, target = ''): string =>
    `${label.padEnd(44)} ${ms(s.p50).padStart(9)} ${ms(s.p95).padStart(9)} ${ms(s.p99).padStart(9)}   ${target}`;
  console.log(`\n-- round-trip latency of predict(X = [[1, 2]]), ${TASKS} sequential tasks --`);
  console.log(`${''.padEnd(44)} ${'p50'.padStart(9)} ${'p95'.padStart(9)} ${'p99'.padStart(9)}   target`);
  console.log(row('local executor, untracked', local.untracked));
  console.log(row('local executor, exp.run (notrack)', local.notrack));
  console.log(row('local executor, exp.run (default)', local.default));
  const meets = (ok: boolean): string => (ok ? 'met' : 'NOT met');
  console.log(
    row('BullMQ 1 worker, untracked', bull.untracked, `p50 <= 5 ms: ${meets(bull.untracked.p50 <= 5)}`),
  );
  console.log(
    row('BullMQ 1 worker, exp.run (notrack)', bull.notrack, `p50 <= 5 ms: ${meets(bull.notrack.p50 <= 5)}`),
  );
  console.log(
    row('BullMQ 1 worker, exp.run (default)', bull.default, `p50 <= 5 ms: ${meets(bull.default.p50 <= 5)}`),
  );
  console.log(row('floor: Redis PING (ioredis)', floors.ping));
  console.log(row('floor: bare BullMQ job, inline processor', floors.inline));
  console.log(row('floor: bare BullMQ job, sandboxed thread', floors.sandboxed));

  console.log('\n-- tracking overhead per task (p50 of default - p50 of notrack / of untracked) --');
  for (const [label, s] of [
    ['local executor', local],
    ['BullMQ 1 worker', bull],
  ] as const) {
    const overNotrack = s.default.p50 - s.notrack.p50;
    const overUntracked = s.default.p50 - s.untracked.p50;
    console.log(
      `${label.padEnd(16)} default ${ms(s.default.p50)} (p95 ${ms(s.default.p95)}), notrack ${ms(s.notrack.p50)} (p95 ${ms(s.notrack.p95)}), untracked ${ms(s.untracked.p50)}: ` +
        `tracking adds ${ms(overNotrack)} vs notrack, ${ms(overUntracked)} vs untracked (target <= 1 ms: ${meets(overNotrack <= 1)})`,
    );
  }

  console.log(`\n-- ${LONG_RUN} tracked tasks in one exp.run (default): the first 100 vs the last 100 --`);
  for (const [label, s] of [
    ['local executor', localLong],
    ['BullMQ 1 worker', bullLong],
  ] as const)
    console.log(
      `${label.padEnd(16)} tasks 1-100: p50 ${ms(s.first.p50)} (p95 ${ms(s.first.p95)}); tasks ${LONG_RUN - 99}-${LONG_RUN}: p50 ${ms(s.last.p50)} (p95 ${ms(s.last.p95)})`,
    );

  console.log(
    `\n-- tasks per second, ${THROUGHPUT_TASKS} untracked predict tasks, ${IN_FLIGHT} in flight --`,
  );
  const oneWorker = rates.find((r) => r.label.startsWith('BullMQ, 1 worker, concurrency 1'))!.rate;
  for (const r of rates)
    console.log(
      `${r.label.padEnd(58)} ${Math.round(r.rate).toLocaleString('en-US').padStart(7)}/s  (${(r.rate / oneWorker).toFixed(2)}x 1 worker)  ${r.cpu}`,
    );

  const f = (v: number): string => v.toFixed(2);
  console.log(
    `\nlocalP50=${f(local.untracked.p50)} bullmqP50=${f(bull.untracked.p50)} bullmqP95=${f(bull.untracked.p95)} ` +
      `bullmqDefaultP50=${f(bull.default.p50)} bullmqNotrackP50=${f(bull.notrack.p50)} ` +
      `localTrackingMs=${f(local.default.p50 - local.notrack.p50)} bullmqTrackingMs=${f(bull.default.p50 - bull.notrack.p50)} ` +
      `rawBullmqP50=${f(floors.inline.p50)} rawSandboxedP50=${f(floors.sandboxed.p50)} ` +
      rates.map((r, i) => `rate${i}=${Math.round(r.rate)}`).join(' ') +
      ` localLongFirstP50=${f(localLong.first.p50)} localLongLastP50=${f(localLong.last.p50)}` +
      ` bullmqLongFirstP50=${f(bullLong.first.p50)} bullmqLongLastP50=${f(bullLong.last.p50)}` +
      ` benchSeconds=${((now() - began) / 1000).toFixed(0)}`,
  );
  // other work on the machine moves every figure here: say how busy it was
  console.log(
    `load average (1 min): ${load.toFixed(2)} at the start, ${os.loadavg()[0].toFixed(2)} at the end, on ${os.cpus().length} cores`,
  );
}

/** Closes the Omegas (at most 5 s each: a task of a dead worker would be waited for forever). */
async function closeAll(): Promise<void> {
  for (const om of opened.splice(0))
    await Promise.race([om.close(), new Promise((r) => setTimeout(r, 5000).unref())]);
}

const cleanUp = async (): Promise<void> => {
  await closeAll();
  await stopAll();
  fs.rmSync(dir, { recursive: true, force: true });
};

process.once('SIGINT', () => {
  void cleanUp().then(() => process.exit(130));
});

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(async () => {
    await cleanUp();
    // after an error something may still hold the event loop (a reconnecting client): leave anyway
    if (process.exitCode) process.exit();
  });
