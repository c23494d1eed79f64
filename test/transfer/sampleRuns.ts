/** An experiment with one of everything a run can hold, and what a store gives back of it. */
import { createHash } from 'node:crypto';
import { inspect } from 'node:util';
import { encodeValue } from 'omega-track/internal';
import type { Omega, RunInfo } from '@omega-track/core';
import { omega } from 'omega-track';

/** The artifacts `logSample` logs, by name, as restoreArtifact gives them back. */
export const SAMPLE_ARTIFACTS = ['config', 'weights.bin', 'embedding', 'lookup'] as const;

/**
 * Logs into `experiment`: a finished run with name, note, tags, params, metrics (NaN, ±Infinity,
 * -0, steps, explicit times, extras), artifacts of four formats; a child run; a failed run; a run
 * still STARTED; and `bulk` more runs of `points` metric points over two keys.
 */
export async function logSample(
  om: Omega,
  experiment: string,
  opts: { bulk?: number; points?: number } = {},
): Promise<void> {
  const exp = om.runtime.experiment(experiment);
  await exp.run(async () => {
    exp.setName('first');
    exp.setNote('a note with ünïcode and "quotes"');
    exp.setTags({ team: 'vision', 'a/b': '..' });
    exp.logParam('lr', 0.01);
    exp.logParam('layers', [64, 32]);
    exp.logParam('opt', { name: 'adam', beta: [0.9, 0.999] });
    for (let i = 0; i < 50; i++) exp.logMetric('loss', 1 / (i + 1), i);
    exp.logMetric('odd', NaN, 50);
    exp.logMetric('odd', Infinity, 51);
    exp.logMetric('odd', -Infinity, 52);
    exp.logMetric('odd', -0, 53);
    exp.logMetric('at', 7, { step: 3, dt: new Date('2021-05-06T07:08:09.123Z'), phase: 'warmup' });
    exp.logEvent('custom', 'k', { nested: { deep: [1, null, 'x'] } });
    exp.logArtifact({ a: 1, b: ['x', true, null] }, 'config');
    exp.logArtifact(Buffer.from([0, 1, 2, 250, 251]), 'weights.bin');
    exp.logArtifact(new Float32Array([1.5, -2, 3.25]), 'embedding');
    exp.logArtifact(new Map<string, unknown>([['k', new Set([1, 2])]]), 'lookup');
    // a run(fn) inside a run(fn) is a child run
    await exp.run(async () => {
      exp.logMetric('child_metric', 3, 1);
    });
  });
  await exp.start({ name: 'broken' });
  exp.logMetric('loss', 2, 0);
  await exp.stop({ status: 'FAILED', error: new Error('diverged') });
  for (let r = 0; r < (opts.bulk ?? 0); r++) {
    await exp.start({ name: `bulk-${r}` });
    for (let i = 0; i < (opts.points ?? 0); i++) {
      exp.logMetric('acc', (i % 97) / 97, i);
      exp.logMetric('val', (i % 89) / 89, i);
    }
    await exp.stop();
  }
  await exp.start({ name: 'still running' });
  exp.logMetric('loss', 5, 0);
  await exp.flush();
}

/** A run's row without what moves with the clock (the duration of a run still STARTED). */
function steady(run: RunInfo): RunInfo {
  const copy = { ...run };
  if (copy.status === 'STARTED') delete copy.duration;
  delete copy.pending;
  return copy;
}

/** What a store gives back of an experiment: every event, every run, every artifact restored. */
export async function snapshot(
  om: Omega,
  experiment: string,
  /**
   * `without`: extra fields left out (`writer`: a team server adds it to what it stores);
   * `signedZero: false` reads -0 as 0 (a team server's JSON protocol carries no -0).
   */
  opts: { without?: readonly string[]; signedZero?: boolean } = {},
): Promise<{ events: number; head: unknown[]; digest: string; runs: RunInfo[]; artifacts: unknown[] }> {
  const exp = om.runtime.experiment(experiment);
  // run by run: a copy writes one run after the other, so events of two runs logged in the same
  // millisecond (a child run's and its parent's) may tie in another order; within a run the
  // order is exact (a stable sort keeps it)
  const all = (await exp.data({ run: 'all' })).sort((x, y) => x.run - y.run);
  for (const row of all) {
    for (const field of opts.without ?? []) delete row[field];
    if (opts.signedZero === false && Object.is(row.value, -0)) row.value = 0;
  }
  // a million rows are compared by digest (jest's deep equality takes minutes there), the first
  // ones in full so that a difference reads well
  const digest = createHash('sha256');
  for (const row of all) digest.update(encodeValue({ ...row, dt: row.dt.toISOString() }) + '\n');
  const runs = (await exp.runs({ run: 'all' })).map(steady);
  // a mean is a running sum over count: summed in other batches (another store, a copy) its
  // last digits differ, so it is compared to 12 significant digits
  for (const run of runs)
    for (const m of Object.values(run.metrics ?? {})) m.mean = Number(m.mean.toPrecision(12));
  const artifacts: unknown[] = [];
  // described rather than compared: v8.deserialize makes its Map in another realm than jest's
  for (const name of SAMPLE_ARTIFACTS)
    artifacts.push(inspect(await exp.restoreArtifact(name, { run: 'all' })));
  return { events: all.length, head: all.slice(0, 300), digest: digest.digest('hex'), runs, artifacts };
}

/** Runs `fn` with an `om` on the store at `url`, closed after. */
export async function withOmega<T>(url: string, fn: (om: Omega) => Promise<T>): Promise<T> {
  const om = omega({ store: url });
  try {
    return await fn(om);
  } finally {
    await om.close();
  }
}
