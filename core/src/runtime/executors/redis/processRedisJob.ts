import type { SandboxedJob } from 'bullmq';
import { NODE_NAME } from '../../../providers/identity';
import { checkTaskResultSize, decodeTaskWire, encodeWire } from '../../taskWire';
import type { TaskRunner } from '../../TaskRunner';
import type { TaskProgress } from './RedisExecutor';

/**
 * Runs one BullMQ job in a worker's sandboxed thread: decodes the task, reports where it runs
 * (the job's progress: node and attempt, which the caller reads if the task fails), runs it, and
 * returns the outcome as wire text. A task that throws fails the job with the task's message; so
 * does a result larger than a task may carry (MAX_TASK_BYTES, as its input), which is refused
 * before it is recorded as a success. The outcome is written to the store before the job
 * completes: a caller whose queue lost the job reads it there.
 */
export async function processRedisJob(runner: TaskRunner, job: SandboxedJob): Promise<string> {
  const task = decodeTaskWire((job.data as { wire?: unknown }).wire);
  // attemptsStarted counts this start; a job taken over from a dead worker starts again
  const attempt = Math.max(1, job.attemptsStarted ?? 1);
  const progress: TaskProgress = { node: NODE_NAME, attempt };
  await job.updateProgress(progress);
  const outcome = await runner.execute(task, {
    attempt,
    checkResult: (result) => checkTaskResultSize(encodeWire(result), task.method),
    flushOutcome: true,
  });
  return encodeWire(outcome);
}
