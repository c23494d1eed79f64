import path from 'node:path';
import type { RunInfo } from 'omega-track';
import { omega } from 'omega-track';
import { tempDir } from '../helpers/tmp';
import { cliIn, parseCsv } from './cliRunner';

/** Issue 11.5: `omega-track compare` shows runs side by side and marks what differs. */
describe('omega-track compare', () => {
  const tmp = tempDir();
  const env = { OMEGA_STORE: `sqlite:${path.join(tmp.dir, 'omega.db')}` };
  const hostileKey = 'k\u001b[31m';
  let apiRuns: RunInfo[] = [];

  beforeAll(async () => {
    const om = omega({ store: env.OMEGA_STORE });
    const exp = om.runtime.experiment('cmp');
    await exp.run(
      (e) => {
        e.logParams({ lr: 0.1, bs: 32, opt: 'sgd' });
        [0.5, 0.7, 0.6].forEach((v, step) => e.logMetric('acc', v, step));
      },
      { name: 'base', tags: { team: 'nlp' }, note: 'first try' },
    );
    await exp.run(
      (e) => {
        e.logParams({ lr: 0.01, bs: 32, opt: 'sgd', warmup: 100 });
        [0.6, 0.9].forEach((v, step) => e.logMetric('acc', v, step));
      },
      { name: 'lower lr', tags: { team: 'nlp', stage: 'prod' }, note: 'multi\nline\u001b[2J' },
    );
    await expect(
      exp.run((e) => {
        e.logParams({ lr: 0.1, bs: 32, opt: '=cmd|calc', [hostileKey]: 'x' });
        e.logMetric('acc', 0.4, 0);
        e.logMetric('acc', NaN, 1);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    apiRuns = await exp.runs();
    await om.close();
  });
  afterAll(() => tmp.cleanup());

  /** The table's lines, by the field they start with. */
  function tableLines(out: string): Map<string, string> {
    const lines = out.trimEnd().split('\n');
    return new Map(lines.slice(2).map((l) => [l.split(/\s{2,}/)[0], l]));
  }

  test('a table: a row per field, a column per run, * where the runs differ', async () => {
    const r = await cliIn(env, ['compare', 'cmp', '1', '2']);
    expect(r).toMatchObject({ code: 0, err: '' });
    const lines = r.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^field\s+run 1\s+run 2\s+diff$/);
    const rows = tableLines(r.out);
    expect([...rows.keys()]).toEqual([
      'name',
      'status',
      'started',
      'duration',
      'params.lr',
      'params.bs',
      'params.opt',
      'params.warmup',
      'metrics.acc.last',
      'metrics.acc.min',
      'metrics.acc.max',
      'tags.team',
      'tags.stage',
      'note',
    ]);
    expect(rows.get('name')).toMatch(/^name\s+base\s+lower lr\s+\*$/);
    expect(rows.get('status')).toMatch(/^status\s+STOPPED\s+STOPPED$/);
    // params side by side: the same value unmarked, a different or missing one marked
    expect(rows.get('params.lr')).toMatch(/^params\.lr\s+0\.1\s+0\.01\s+\*$/);
    expect(rows.get('params.bs')).toMatch(/^params\.bs\s+32\s+32$/);
    expect(rows.get('params.opt')).toMatch(/^params\.opt\s+sgd\s+sgd$/);
    expect(rows.get('params.warmup')).toMatch(/^params\.warmup\s+100\s+\*$/);
    // each metric's last, min and max per run
    expect(rows.get('metrics.acc.last')).toMatch(/^metrics\.acc\.last\s+0\.6\s+0\.9\s+\*$/);
    expect(rows.get('metrics.acc.min')).toMatch(/^metrics\.acc\.min\s+0\.5\s+0\.6\s+\*$/);
    expect(rows.get('metrics.acc.max')).toMatch(/^metrics\.acc\.max\s+0\.7\s+0\.9\s+\*$/);
    expect(rows.get('tags.team')).toMatch(/^tags\.team\s+nlp\s+nlp$/);
    expect(rows.get('tags.stage')).toMatch(/^tags\.stage\s+prod\s+\*$/);
    // durations for people; a note's line breaks and control characters escaped
    expect(rows.get('duration')).toMatch(/^duration\s+\d+(\.\d+)? m?s\s+\d+(\.\d+)? m?s/);
    expect(rows.get('note')).toMatch(/^note\s+first try\s+multi\\nline\\x1b\[2J\s+\*$/);
    expect(r.out).not.toContain('\u001b');
  });

  test('JSON keeps the values and numbers, diff as true/false; the runs in the order given', async () => {
    const r = await cliIn(env, ['compare', 'cmp', '3', '1', '2', '--format', 'json']);
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.out) as Array<Record<string, unknown>>;
    const row = (field: string): Record<string, unknown> | undefined => rows.find((x) => x.field === field);
    expect(Object.keys(row('status') ?? {})).toEqual(['field', 'run 3', 'run 1', 'run 2', 'diff']);
    // what a run lacks (run 3 has no name) is left out of its JSON object
    expect(row('name')).toEqual({ field: 'name', 'run 1': 'base', 'run 2': 'lower lr', diff: true });
    expect(row('params.lr')).toEqual({
      field: 'params.lr',
      'run 3': 0.1,
      'run 1': 0.1,
      'run 2': 0.01,
      diff: true,
    });
    expect(row('params.bs')).toEqual({
      field: 'params.bs',
      'run 3': 32,
      'run 1': 32,
      'run 2': 32,
      diff: false,
    });
    expect(row(`params.${hostileKey}`)).toEqual({ field: `params.${hostileKey}`, 'run 3': 'x', diff: true });
    // a NaN last value is told as "NaN" (JSON has no NaN); min and max are of the finite values
    expect(row('metrics.acc.last')).toMatchObject({ 'run 3': 'NaN', 'run 1': 0.6, 'run 2': 0.9 });
    expect(row('metrics.acc.min')).toMatchObject({ 'run 3': 0.4 });
    expect(row('status')).toEqual({
      field: 'status',
      'run 3': 'FAILED',
      'run 1': 'STOPPED',
      'run 2': 'STOPPED',
      diff: true,
    });
    expect(row('error')).toMatchObject({ 'run 3': expect.stringContaining('boom'), diff: true });
    expect(row('error')).not.toHaveProperty('run 1');
    const byRun = new Map(apiRuns.map((x) => [x.run, x]));
    expect(row('duration')).toMatchObject({
      'run 3': byRun.get(3)?.duration,
      'run 1': byRun.get(1)?.duration,
      'run 2': byRun.get(2)?.duration,
    });
    expect(row('note')).toMatchObject({ 'run 1': 'first try', 'run 2': 'multi\nline\u001b[2J' });
  });

  test('CSV: a header of the runs, * marks, spreadsheet formulas guarded', async () => {
    const r = await cliIn(env, ['compare', 'cmp', '1', '3', '--format', 'csv']);
    expect(r.code).toBe(0);
    const [header, ...rows] = parseCsv(r.out);
    expect(header).toEqual(['field', 'run 1', 'run 3', 'diff']);
    const row = (field: string): string[] | undefined => rows.find((x) => x[0] === field);
    expect(row('params.opt')).toEqual(['params.opt', 'sgd', "'=cmd|calc", '*']);
    expect(row('params.bs')).toEqual(['params.bs', '32', '32', '']);
    expect(row('metrics.acc.last')).toEqual(['metrics.acc.last', '0.6', 'NaN', '*']);
    // run 3 has no name: its cell is empty, and that differs from run 1's
    expect(row('name')).toEqual(['name', 'base', '', '*']);
  });

  test('a hostile param key is escaped in the table', async () => {
    const r = await cliIn(env, ['compare', 'cmp', '1', '3']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^params\.k\\x1b\[31m\s+x\s+\*$/m);
    expect(r.out).toMatch(/^params\.opt\s+sgd\s+=cmd\|calc\s+\*$/m);
    expect(r.out).toMatch(/^error\s+.*boom.*\*$/m);
    expect(r.out).not.toContain('\u001b');
  });

  test('runs as a list or a range', async () => {
    const r = await cliIn(env, ['compare', 'cmp', '1..3', '--format', 'csv']);
    expect(parseCsv(r.out)[0]).toEqual(['field', 'run 1', 'run 2', 'run 3', 'diff']);
    const l = await cliIn(env, ['compare', 'cmp', '2,1', '--format', 'csv']);
    expect(parseCsv(l.out)[0]).toEqual(['field', 'run 2', 'run 1', 'diff']);
  });

  test('unknown runs are named; fewer than two runs, a bad run or experiment: exit 1', async () => {
    const unknown = await cliIn(env, ['compare', 'cmp', '1', '7', '9']);
    expect(unknown).toMatchObject({ code: 1, out: '' });
    expect(unknown.err).toBe("omega-track compare: experiment 'cmp' has no runs 7, 9\n");
    const one = await cliIn(env, ['compare', 'cmp', '4', '2']);
    expect(one.err).toBe("omega-track compare: experiment 'cmp' has no run 4\n");
    expect(await cliIn(env, ['compare', 'cmp', '1'])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/two or more runs/),
    });
    expect(await cliIn(env, ['compare', 'cmp', '1', 'x'])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/got 'x'/),
    });
    expect(await cliIn(env, ['compare', 'nope', '1', '2'])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/no experiment 'nope'/),
    });
  });
});
