import fs from 'node:fs';
import path from 'node:path';
import type { SweepParams, SweepSpec } from 'omega-track';
import { startFixture } from '../helpers/child';
import { omegaPerTest } from '../helpers/omegaPerTest';
import { waitFor } from '../helpers/runtimeWorkers';

const { om, dir } = omegaPerTest();

const SPEC: SweepSpec = {
  space: { x: { min: 0, max: 1 } },
  method: 'random',
  metric: 'f',
  goal: 'minimize',
  maxTrials: 8,
  parallel: 2,
  seed: 7,
};

test('a sweep whose process was SIGKILLed mid-way resumes: no finished trial runs twice, the total is right', async () => {
  const log = path.join(dir(), 'trials.jsonl');
  const child = startFixture('sweepUntilKilled.js', [`sqlite:${path.join(dir(), 'omega.db')}`, log]);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // two trials hang, the four before them finished
  await waitFor('two hanging trials', () => (out.match(/HANG/g) ?? []).length === 2, {
    logs: () => `${out}\n${err}`,
  });
  child.kill('SIGKILL');
  await exited;
  const sweepRun = Number(/HANG (\d+)/.exec(out)![1]);
  const before = fs
    .readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { trial: number; x: number });
  expect(before.map((b) => b.trial).sort()).toEqual([0, 1, 2, 3, 4, 5]);

  const exp = om().runtime.experiment('resumed');
  const ran: Array<{ trial: number; x: number }> = [];
  const result = await exp.sweep(
    SPEC,
    (params: SweepParams, e, ctx) => {
      ran.push({ trial: ctx.trial, x: params.x as number });
      e.logMetric('f', ((params.x as number) - 0.3) ** 2);
    },
    { resume: sweepRun },
  );
  // the two that hung run again with their params, then the two never started; none of the four finished
  expect(ran.map((r) => r.trial).sort()).toEqual([4, 5, 6, 7]);
  for (const r of ran.filter((r) => r.trial < 6))
    expect(r.x).toBe(before.find((b) => b.trial === r.trial)!.x);
  expect(result.run).toBe(sweepRun);
  expect(result.trials).toHaveLength(8);
  expect(result.trials.every((t) => t.status === 'STOPPED' && typeof t.value === 'number')).toBe(true);
  // the same trials as a sweep never interrupted (seeded)
  const whole = await om()
    .runtime.experiment('uninterrupted')
    .sweep(SPEC, (p) => ((p.x as number) - 0.3) ** 2);
  const xs = (r: typeof result): number[] => r.trials.map((t) => t.params.x as number).sort();
  expect(xs(result)).toEqual(xs(whole));
  expect(result.best?.value).toBeCloseTo(whole.best!.value);

  const runs = await exp.runs();
  const children = runs.filter((r) => r.parent === sweepRun);
  // 8 trials, plus the 2 runs the killed process left behind, ended FAILED and tagged
  expect(children).toHaveLength(10);
  const abandoned = children.filter((r) => r.status === 'FAILED');
  expect(abandoned).toHaveLength(2);
  for (const r of abandoned) expect(r.tags?.['sweep.abandoned']).toBeDefined();
  expect(children.filter((r) => r.status === 'STOPPED')).toHaveLength(8);
  expect(runs.find((r) => r.run === sweepRun)?.status).toBe('STOPPED');
});
