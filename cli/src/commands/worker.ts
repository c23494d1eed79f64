/** `omega-track worker`: runs runtime tasks from the Redis queue until told to stop. */
import path from 'node:path';
import type { RedisWorkerHandle } from '@omega-track/core/internal';
import { TrackingInputError } from '@omega-track/core';
import { DEFAULT_RUNTIME_QUEUE, NODE_NAME, redactUrls, startRedisWorker } from '@omega-track/core/internal';
import type { Command } from './command';
import { REQUIRE_HELP } from './command';
import { WORKER_REQUIRE_ENV } from '../runtime/taskProcessor';
import { safeLine } from './output';

function positiveInt(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1)
    throw new TrackingInputError(`--${option} must be a whole number of at least 1, got '${value}'`);
  return n;
}

/** Resolves on the first SIGTERM or SIGINT. */
function nextSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });
}

/**
 * Takes tasks from the queue and runs each in a worker thread of its own, on the store given
 * (which the callers must share). SIGTERM or Ctrl-C: no new tasks, the running ones finish and
 * record, then it exits; a second signal exits within seconds and hands the running tasks back to
 * the queue, where another worker takes them at once (with Redis gone, BullMQ's stalled-job
 * recovery takes them over once their lock expires).
 */
export const workerCommand: Command = {
  usage: 'omega-track worker [--runtime redis://host:port] [--queue NAME] [--concurrency N]',
  args: '',
  summary: 'run runtime tasks (fit, score, predict) from the Redis queue',
  options: {
    runtime: { type: 'string' },
    queue: { type: 'string' },
    concurrency: { type: 'string' },
    node: { type: 'string' },
    'lock-duration': { type: 'string' },
    'stalled-interval': { type: 'string' },
  },
  help: [
    '  --runtime URL             the Redis queue (default: OMEGA_RUNTIME); redis:// or rediss://',
    `  --queue NAME              the queue name (default: OMEGA_RUNTIME_QUEUE, else ${DEFAULT_RUNTIME_QUEUE})`,
    '  --concurrency N           tasks run at once, each in a thread of its own (default 1)',
    '  --node NAME               the node stamped on task events (default: OMEGA_NODE, else the host name)',
    '  --lock-duration MS        how long a task lock lasts unrenewed: a dead worker is noticed',
    '                            after this (default 30000)',
    '  --stalled-interval MS     how often to look for tasks of dead workers (default 30000)',
    ...REQUIRE_HELP,
  ],
  store: 'write',
  async run({ values, io, storeUrl, omega }) {
    const url = (values.runtime as string | undefined) || io.env.OMEGA_RUNTIME;
    if (!url || !/^rediss?:\/\//.test(url))
      throw new TrackingInputError(
        'worker needs a Redis runtime: --runtime redis://host:port, or OMEGA_RUNTIME',
      );
    const queue = (values.queue as string | undefined) || io.env.OMEGA_RUNTIME_QUEUE || DEFAULT_RUNTIME_QUEUE;
    const concurrency = positiveInt(values.concurrency as string | undefined, 'concurrency') ?? 1;
    const lockDurationMs = positiveInt(values['lock-duration'] as string | undefined, 'lock-duration');
    const stalledIntervalMs = positiveInt(
      values['stalled-interval'] as string | undefined,
      'stalled-interval',
    );
    // open the store and load the --require modules here first: a mistake stops the worker now,
    // not each task later
    // a store that opens without I/O (MongoDB) is asked once, so a wrong URL shows now
    await (await omega()).experiments.list();
    // the task threads read these when they start
    process.env.OMEGA_STORE = storeUrl;
    process.env[WORKER_REQUIRE_ENV] = JSON.stringify((values.require as string[] | undefined) ?? []);
    const node = (values.node as string | undefined) || io.env.OMEGA_NODE || NODE_NAME;
    process.env.OMEGA_NODE = node;
    const handle: RedisWorkerHandle = await startRedisWorker({
      url,
      queue,
      concurrency,
      processorFile: path.join(__dirname, '..', 'runtime', 'taskProcessor.js'),
      lockDurationMs,
      stalledIntervalMs,
    });
    handle.worker.on('failed', (job, error) => {
      io.stderr(
        safeLine(
          `omega-track worker: task ${job?.id ?? '?'} (${job?.name ?? '?'}) failed: ${error.message}`,
        ) + '\n',
      );
    });
    io.stderr(
      safeLine(
        `omega-track worker: node ${node}, queue '${queue}' on ${redactUrls(url)}, concurrency ${concurrency}, store ${redactUrls(storeUrl)}`,
      ) + '\n',
    );
    const signal = await nextSignal();
    io.stderr(`omega-track worker: ${signal}: finishing the running tasks (send it again to stop at once)\n`);
    const again = nextSignal().then(async () => {
      io.stderr('omega-track worker: stopping now; running tasks go to another worker\n');
      await handle.abort();
    });
    await Promise.race([handle.close(), again]);
    io.stderr('omega-track worker: stopped\n');
    return 0;
  },
};
