/**
 * The sandboxed processor of `omega-track worker`: BullMQ runs this module in a worker thread of
 * its own per running task, so training never holds up the worker's lock renewal. Each thread
 * keeps one `omega()` on the worker's store (OMEGA_STORE) with the modules of `--require`
 * (OMEGA_WORKER_REQUIRE) loaded, and runs the tasks it is given with it.
 */
import type { SandboxedJob } from 'bullmq';
import type { Omega } from '@omega-track/core';
import { TaskRunner, processRedisJob } from '@omega-track/core/internal';
import { loadRegistrations } from '../commands/experiment';
import { omega } from '../omega';

/** Where the worker command tells its threads which modules to load. */
export const WORKER_REQUIRE_ENV = 'OMEGA_WORKER_REQUIRE';

let ready: Promise<{ om: Omega; runner: TaskRunner }> | undefined;

function open(): Promise<{ om: Omega; runner: TaskRunner }> {
  return (ready ??= (async () => {
    const om = omega();
    const specs = JSON.parse(process.env[WORKER_REQUIRE_ENV] || '[]') as string[];
    await loadRegistrations(om, specs);
    return { om, runner: new TaskRunner(om) };
  })().catch((error: unknown) => {
    ready = undefined;
    throw error;
  }));
}

export default async function processTask(job: SandboxedJob): Promise<string> {
  const { runner } = await open();
  return processRedisJob(runner, job);
}
