import { spawn } from 'node:child_process';
import path from 'node:path';
import type { ArtifactValue, RunInfo, TrackingEvent } from '@omega-track/core';
import { TrackingInputError, omega } from 'omega-track';
import { NODE_NAME, currentUserId, runTableFromEvents } from 'omega-track/internal';
import { omegaPerTest } from '../helpers/omegaPerTest';
import type { Exp } from './helpers';
import { runNumbers, withoutLiveDurations } from './helpers';

/**
 * Five runs: 1 'first' with params logged twice and metrics with NaN and ±Infinity logged out of
 * time order, 2 FAILED, 3 'parent' with its child 4 'kid', 5 'live' still STARTED.
 */
async function buildTable(exp: Exp): Promise<void> {
  const t0 = Date.now();
  await exp.start({ name: 'first', tags: { team: 'a', size: 3 }, note: 'n1' });
  exp.logParam('lr', 0.1);
  exp.logParam('lr', 0.2);
  exp.logParams({ opt: 'adam', schedule: { kind: 'cosine', warmup: 5 } });
  // logged in another order than their times: the last value is the latest by time
  exp.logMetric('m', 1, { step: 1, dt: t0 - 5000 });
  exp.logMetric('m', 5, { step: 2, dt: t0 - 1000 });
  exp.logMetric('m', NaN, { step: 3, dt: t0 - 2000 });
  exp.logMetric('m', Infinity, { step: 4, dt: t0 - 3000 });
  exp.logMetric('m', -Infinity, { step: 5, dt: t0 - 4000 });
  exp.logMetric('only-nan', NaN);
  exp.logMetric('ends-inf', 1, { dt: t0 - 2000 });
  exp.logMetric('ends-inf', Infinity, { step: 7, dt: t0 - 1000 });
  exp.logMetric('ends-nan', 2, { step: 0, dt: t0 - 2000 });
  exp.logMetric('ends-nan', NaN, { step: 1, dt: t0 - 1000 });
  exp.setTag('team', 'b');
  exp.setNote('n2');
  await exp.stop();

  await exp.start();
  exp.logMetric('m', 3);
  await exp.stop({ error: new Error('out of memory') });

  await exp.run(
    async () => {
      exp.logMetric('outer', 1);
      await exp.run(async () => exp.logMetric('inner', 2), { name: 'kid' });
    },
    { name: 'parent' },
  );

  await exp.start({ name: 'live' });
  exp.logMetric('m', 7, 0);
}

const NAN_ONLY = { last: NaN, step: null, min: NaN, max: NaN, mean: NaN, count: 1 };

describe('the run table', () => {
  const { om, dir } = omegaPerTest();
  let exp: Exp;
  beforeEach(async () => {
    exp = om().runtime.experiment('table');
    await buildTable(exp);
  });

  test('per run: number, name, status, error, parent, times, node, user, tags, note, params, metrics', async () => {
    const runs = await exp.runs();
    expect(runNumbers(runs)).toEqual([1, 2, 3, 4, 5]);
    const [first, failed, parent, kid, live] = runs;
    expect(first).toMatchObject({
      run: 1,
      status: 'STOPPED',
      name: 'first',
      note: 'n2',
      tags: { team: 'b', size: 3 },
      node: NODE_NAME,
      userid: currentUserId(),
    });
    expect(first.error).toBeUndefined();
    expect(first.parent).toBeUndefined();
    // the latest value of each param
    expect(first.params).toEqual({ lr: 0.2, opt: 'adam', schedule: { kind: 'cosine', warmup: 5 } });
    expect(first.metrics).toEqual({
      // count counts NaN and ±Infinity; min, max and mean are over the finite values
      m: { last: 5, step: 2, min: 1, max: 5, mean: 3, count: 5 },
      'only-nan': NAN_ONLY,
      'ends-inf': { last: Infinity, step: 7, min: 1, max: 1, mean: 1, count: 2 },
      'ends-nan': { last: NaN, step: 1, min: 2, max: 2, mean: 2, count: 2 },
    });
    for (const run of [first, failed, parent, kid]) {
      expect(run.started).toBeInstanceOf(Date);
      expect(run.stopped).toBeInstanceOf(Date);
      expect(run.stopped!.getTime()).toBeGreaterThanOrEqual(run.started!.getTime());
      expect(run.duration).toBe(run.stopped!.getTime() - run.started!.getTime());
      expect(run.node).toBe(NODE_NAME);
      expect(run.userid).toBe(currentUserId());
    }
    // the runs start one after the other
    for (let i = 1; i < runs.length; i++)
      expect(runs[i].started!.getTime()).toBeGreaterThanOrEqual(runs[i - 1].started!.getTime());

    expect(failed).toMatchObject({ run: 2, status: 'FAILED', error: 'out of memory' });
    expect(failed.name).toBeUndefined();
    expect(failed.note).toBeUndefined();
    expect(failed.tags ?? {}).toEqual({});
    expect(failed.params).toEqual({});
    expect(failed.metrics).toEqual({ m: { last: 3, step: null, min: 3, max: 3, mean: 3, count: 1 } });

    expect(parent).toMatchObject({ run: 3, status: 'STOPPED', name: 'parent' });
    expect(parent.parent).toBeUndefined();
    expect(Object.keys(parent.metrics!)).toEqual(['outer']);
    expect(kid).toMatchObject({ run: 4, status: 'STOPPED', name: 'kid', parent: 3 });
    expect(Object.keys(kid.metrics!)).toEqual(['inner']);

    // a run still going: no stop, a duration up to now
    expect(live).toMatchObject({ run: 5, status: 'STARTED', name: 'live' });
    expect(live.stopped).toBeUndefined();
    expect(live.error).toBeUndefined();
    expect(live.duration).toBeGreaterThanOrEqual(0);
    expect(live.duration).toBeLessThanOrEqual(Date.now() - live.started!.getTime());
    expect(live.metrics).toEqual({ m: { last: 7, step: 0, min: 7, max: 7, mean: 7, count: 1 } });
  });

  test('runs(query) selects runs: the latest, counting back, a list, a range, all', async () => {
    expect(runNumbers(await exp.runs({ run: -1 }))).toEqual([5]);
    expect(runNumbers(await exp.runs({ run: -2 }))).toEqual([4]);
    expect(runNumbers(await exp.runs({ run: [1, 3] }))).toEqual([1, 3]);
    expect(runNumbers(await exp.runs({ run: [4, 2] }))).toEqual([2, 4]);
    expect(runNumbers(await exp.runs({ run: { from: 2, to: 4 } }))).toEqual([2, 3, 4]);
    expect(runNumbers(await exp.runs({ run: 2 }))).toEqual([2]);
    expect(runNumbers(await exp.runs({ run: 'all' }))).toEqual([1, 2, 3, 4, 5]);
    expect(runNumbers(await exp.runs({ run: '*' }))).toEqual([1, 2, 3, 4, 5]);
    // a selected run is the same row as in the whole table
    const all = await exp.runs();
    expect(await exp.runs({ run: [1, 3] })).toEqual([all[0], all[2]]);
  });

  test('the table from the aggregates equals the table computed from the events', async () => {
    const compare = async () => {
      const events = await exp.data({ run: 'all' });
      expect(withoutLiveDurations(await exp.runs())).toEqual(
        withoutLiveDurations(runTableFromEvents(events)),
      );
    };
    await compare();
    // the aggregates follow later writes: a param overwritten in another write, many points
    // in many writes, a tag changed, a stop
    exp.logParam('lr', 1);
    await exp.flush();
    exp.logParam('lr', 2);
    for (let i = 0; i < 3000; i++) {
      exp.logMetric('many', i % 2 === 0 ? i : -i, i);
      if (i % 500 === 0) await exp.flush();
    }
    exp.logMetric('many', NaN, 3000);
    exp.setTags({ phase: 'late', team: 'z' });
    await compare();
    const live = (await exp.runs({ run: 5 }))[0];
    expect(live.params).toEqual({ lr: 2 });
    expect(live.tags).toEqual({ phase: 'late', team: 'z' });
    expect(live.metrics?.many).toEqual({
      last: NaN,
      step: 3000,
      min: -2999,
      max: 2998,
      mean: -0.5,
      count: 3001,
    });
    await exp.stop();
    await compare();
    expect((await exp.runs({ run: 5 }))[0].status).toBe('STOPPED');
  });

  test('a store reopened in a new omega() gives the same table', async () => {
    const before = await exp.runs();
    await om().close();
    const again = omega({ store: `sqlite:${path.join(dir(), 'omega.db')}` });
    try {
      const after = await again.runtime.experiment('table').runs();
      expect(withoutLiveDurations(after)).toEqual(withoutLiveDurations(before));
      expect(after[4].status).toBe('STARTED');
    } finally {
      await again.close();
    }
  });
});

/**
 * Starts test/search/fixtures/<script> with node: `printed(text)` resolves once it printed `text`,
 * `done` with its output once it exits.
 */
function startScript(
  script: string,
  args: string[],
): {
  printed: (text: string) => Promise<void>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
} {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', script), ...args], {
    cwd: path.join(__dirname, '..', '..'),
  });
  let stdout = '';
  let stderr = '';
  const waiting: Array<() => void> = [];
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const check of waiting.splice(0)) check();
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  const printed = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => (stdout.includes(text) ? resolve() : waiting.push(check));
      check();
      void done.then(() => (stdout.includes(text) ? resolve() : reject(new Error(`${script}: ${stderr}`))));
    });
  return { printed, done };
}

describe('two processes logging to one store file', () => {
  const { om, dir } = omegaPerTest();

  test('the aggregates match the events', async () => {
    const store = `sqlite:${path.join(dir(), 'omega.db')}`;
    // more runs in the child than in the parent, which begins once the child's first run is
    // written: the two write to the file at the same time
    const count = 30;
    const childCount = 100;
    const total = count + childCount;
    const child = startScript('logRuns.js', [store, 'shared', String(childCount), 'child']);
    const exp = om().runtime.experiment('shared');
    await child.printed('first');
    const mine: number[] = [];
    for (let i = 0; i < count; i++) {
      mine.push(await exp.start({ name: `parent-${i}`, tags: { who: 'parent' } }));
      exp.logParams({ who: 'parent', i });
      for (let step = 0; step < 20; step++) exp.logMetric('acc', (i + step) / 100, step);
      exp.logParam('i', i + 1000);
      await exp.stop();
    }
    const result = await child.done;
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const theirs = JSON.parse(result.stdout.trim().split('\n').pop()!) as number[];
    expect(theirs.length).toBe(childCount);
    // every run number once, whichever process started it
    expect([...mine, ...theirs].sort((a, b) => a - b)).toEqual(
      Array.from({ length: total }, (_, i) => i + 1),
    );

    const events: TrackingEvent[] = await exp.data({ run: 'all' });
    const runs = await exp.runs();
    expect(runs).toEqual(runTableFromEvents(events));
    expect(runNumbers(runs)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    for (const run of runs) {
      const who = mine.includes(run.run) ? 'parent' : 'child';
      const i = (run.params?.i as number) - 1000;
      expect(run).toMatchObject({
        status: 'STOPPED',
        name: `${who}-${i}`,
        tags: { who },
        params: { who, i: i + 1000 },
      });
      expect(run.metrics?.acc).toEqual({
        last: (i + 19) / 100,
        step: 19,
        min: i / 100,
        max: (i + 19) / 100,
        mean: expect.closeTo((i + 9.5) / 100, 10),
        count: 20,
      });
    }
  });
});

/** The value of the `event` event `key` of `run`, as data() gives it. */
function valueOf(events: TrackingEvent[], run: number, key: string): ArtifactValue {
  const e = events.find((x) => x.run === run && x.key === key);
  if (!e) throw new Error(`run ${run} has no ${key}`);
  return e.value as ArtifactValue;
}

const big = (run: number) => Array.from({ length: 20_000 }, (_, i) => i * run);

describe('deleteRun', () => {
  const { om, dir } = omegaPerTest();
  let exp: Exp;
  /** Three runs, each with a metric, a binary artifact, a large-array dataset and a JSON artifact. */
  beforeEach(async () => {
    exp = om().runtime.experiment('deleting');
    for (let run = 1; run <= 3; run++) {
      await exp.start({ name: `r${run}`, tags: { n: run } });
      exp.logMetric('acc', run / 10);
      exp.logArtifact(Buffer.from(`bytes of run ${run}`), 'bin');
      exp.logData('big', big(run));
      exp.logArtifact({ small: run }, 'json');
      await exp.stop();
    }
  });

  test('the artifacts are stored as a blob and a dataset', async () => {
    const events = await exp.data({ run: 'all', event: ['artifact', 'data'] });
    for (let run = 1; run <= 3; run++) {
      expect(valueOf(events, run, 'bin').format).toBe('binary');
      expect(valueOf(events, run, 'big').format).toBe('dataset');
    }
  });

  test('without force it is a TrackingInputError and nothing is deleted', async () => {
    const before = await exp.data({ run: 'all' });
    const runsBefore = await exp.runs();
    for (const opts of [undefined, {}, { force: false }])
      await expect(exp.deleteRun(2, opts)).rejects.toThrow(TrackingInputError);
    await expect(exp.deleteRun(0, { force: true })).rejects.toThrow(TrackingInputError);
    await expect(exp.deleteRun(1.5, { force: true })).rejects.toThrow(TrackingInputError);
    expect(await exp.data({ run: 'all' })).toEqual(before);
    expect(await exp.runs()).toEqual(runsBefore);
    expect(await exp.restoreData('big', { run: 2 })).toEqual(big(2));
  });

  test("with force the run's events and artifact content go; the other runs stay whole", async () => {
    const before = await exp.data({ run: 'all' });
    const runsBefore = await exp.runs();
    const blob = (valueOf(before, 2, 'bin').data as { blob: string }).blob;
    const dataset = valueOf(before, 2, 'big').data as string;
    expect(await om().store.getBlob(blob)).toBeDefined();
    expect(await om().datasets.exists(dataset)).toBe(true);

    await expect(exp.deleteRun(2, { force: true })).resolves.toBe(true);

    expect(await exp.data({ run: 'all' })).toEqual(before.filter((e) => e.run !== 2));
    expect(await exp.data({ run: 2 })).toEqual([]);
    expect(await om().store.getBlob(blob)).toBeUndefined();
    expect(await om().datasets.exists(dataset)).toBe(false);
    // the others' artifacts restore as logged
    for (const run of [1, 3]) {
      expect(await exp.restoreArtifact('bin', { run })).toEqual(Buffer.from(`bytes of run ${run}`));
      expect(await exp.restoreData('big', { run })).toEqual(big(run));
      expect(await exp.restoreArtifact('json', { run })).toEqual({ small: run });
      const other = valueOf(before, run, 'big').data as string;
      expect(await om().datasets.exists(other)).toBe(true);
    }
    expect(await exp.runs()).toEqual([runsBefore[0], runsBefore[2]]);
    expect(await exp.runs({ filter: 'attributes.run = 2' })).toEqual([]);
    expect(await exp.runs({ filter: "attributes.run_name = 'r2'" })).toEqual([]);
    // a new run gets a fresh number: one past the largest ever given out
    expect(await exp.start()).toBe(4);
    await exp.stop();
    expect(runNumbers(await exp.runs())).toEqual([1, 3, 4]);
  });

  test('deleting the latest run: its number is not given out again, also after reopening', async () => {
    await exp.deleteRun(3, { force: true });
    expect(runNumbers(await exp.runs())).toEqual([1, 2]);
    expect(await exp.start()).toBe(4);
    await exp.stop();
    await exp.deleteRun(4, { force: true });
    expect(runNumbers(await exp.runs())).toEqual([1, 2]);
    await om().close();
    const again = omega({ store: `sqlite:${path.join(dir(), 'omega.db')}` });
    try {
      const reopened = again.runtime.experiment('deleting');
      expect(runNumbers(await reopened.runs())).toEqual([1, 2]);
      expect(await reopened.start()).toBe(5);
      await reopened.stop();
    } finally {
      await again.close();
    }
  });

  test('a run this handle is running cannot be deleted', async () => {
    const run = await exp.start({ name: 'busy' });
    exp.logMetric('acc', 1);
    await expect(exp.deleteRun(run, { force: true })).rejects.toThrow(TrackingInputError);
    const [info] = await exp.runs({ run });
    expect(info).toMatchObject({ run, status: 'STARTED', name: 'busy' });
    expect(info.metrics?.acc?.count).toBe(1);
    await exp.stop();
    await expect(exp.deleteRun(run, { force: true })).resolves.toBe(true);
    expect(runNumbers(await exp.runs())).toEqual([1, 2, 3]);
  });

  test('runs() rows of the remaining runs equal those computed from their events', async () => {
    await exp.deleteRun(1, { force: true });
    const events = await exp.data({ run: 'all' });
    const runs: RunInfo[] = await exp.runs();
    expect(runs).toEqual(runTableFromEvents(events));
  });
});
