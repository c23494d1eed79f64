import path from 'node:path';
import { MAX_NAME_LENGTH, omega } from 'omega-track';
import { tempDir } from '../helpers/tmp';
import { cliIn } from './cliRunner';

/** Issue 11.5: `omega-track tag` sets tags on a run; `omega-track delete-run` deletes one. */
describe('omega-track tag and delete-run', () => {
  const tmp = tempDir();
  const store = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
  const env = { OMEGA_STORE: store };

  beforeAll(async () => {
    const om = omega({ store });
    const exp = om.runtime.experiment('td');
    for (const r of [1, 2, 3])
      await exp.run((e) => {
        e.logParam('lr', r / 10);
        e.logMetric('acc', r / 4, 0);
        e.logArtifact({ weights: [r, r, r] }, 'model');
      });
    await om.close();
  });
  afterAll(() => tmp.cleanup());

  /** Reads the experiment through the API, as a program would after the command. */
  async function read<T>(
    name: string,
    fn: (exp: ReturnType<ReturnType<typeof omega>['runtime']['experiment']>) => Promise<T>,
  ): Promise<T> {
    const om = omega({ store });
    try {
      return await fn(om.runtime.experiment(name));
    } finally {
      await om.close();
    }
  }

  test('tag sets tags on the run, values JSON when they parse; no run is started or stopped', async () => {
    const before = await read('td', (exp) => exp.runs());
    const r = await cliIn(env, [
      'tag',
      'td',
      '2',
      'team=nlp',
      'lr=0.01',
      'on=true',
      'obj={"a":[1,2]}',
      'quoted="42"',
      'url=a=b',
      'plain=just text',
    ]);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toBe(
      'tagged run 2 of \'td\': team=nlp, lr=0.01, on=true, obj={"a":[1,2]}, quoted=42, url=a=b, plain=just text\n',
    );
    const after = await read('td', (exp) => exp.runs());
    expect(after.map((x) => x.run)).toEqual([1, 2, 3]);
    expect(after[1].tags).toEqual({
      team: 'nlp',
      lr: 0.01,
      on: true,
      obj: { a: [1, 2] },
      quoted: '42',
      url: 'a=b',
      plain: 'just text',
    });
    expect(after[0].tags ?? {}).toEqual({});
    // the run's status and times are those it had
    for (const i of [0, 1, 2]) {
      expect(after[i]).toMatchObject({
        status: before[i].status,
        stopped: before[i].stopped,
        duration: before[i].duration,
      });
    }
    const events = await read('td', (exp) => exp.data({ event: ['start', 'stop', 'tag'] }));
    expect(events.filter((e) => e.event === 'start').map((e) => e.run)).toEqual([1, 2, 3]);
    expect(events.filter((e) => e.event === 'stop').map((e) => e.run)).toEqual([1, 2, 3]);
    expect(new Set(events.filter((e) => e.event === 'tag').map((e) => e.run))).toEqual(new Set([2]));
  });

  test('the latest value of a tag wins; runs and its filter see it', async () => {
    expect((await cliIn(env, ['tag', 'td', '2', 'team=vision'])).code).toBe(0);
    const runs = await cliIn(env, ['runs', 'td', '--filter', "tags.team = 'vision'", '--format', 'json']);
    expect((JSON.parse(runs.out) as Array<{ run: number }>).map((x) => x.run)).toEqual([2]);
    const table = await cliIn(env, ['runs', 'td', '--columns', 'run,tags.team,tags.lr']);
    expect(table.out.trimEnd().split('\n').slice(2)).toEqual(['1', '2    vision     0.01', '3']);
  });

  test('hostile tag values: escaped on the terminal, exact when read back', async () => {
    const value = '\u001b]0;owned\u0007=SUM(A1)';
    const r = await cliIn(env, ['tag', 'td', '1', `evil=${value}`]);
    expect(r.code).toBe(0);
    expect(r.out).toBe("tagged run 1 of 'td': evil=\\x1b]0;owned\\x07=SUM(A1)\n");
    const table = await cliIn(env, ['runs', 'td', '--columns', 'run,tags.evil']);
    expect(table.out).toContain('\\x1b]0;owned\\x07=SUM(A1)');
    expect(table.out).not.toContain('\u001b');
    const csv = await cliIn(env, ['runs', 'td', '--columns', 'run,tags.evil', '--format', 'csv']);
    expect(csv.out.split('\n')[1]).toBe(`1,${value}`);
    const runs = await read('td', (exp) => exp.runs({ run: 1 }));
    expect(runs[0].tags).toEqual({ evil: value });
  });

  test('tagging a run that is still running leaves it running', async () => {
    const om = omega({ store });
    const exp = om.runtime.experiment('live');
    try {
      const run = await exp.start();
      exp.logMetric('loss', 1, 0);
      await exp.flush();
      const r = await cliIn(env, ['tag', 'live', String(run), 'stage=warmup']);
      expect(r).toMatchObject({ code: 0, err: '' });
      expect(await exp.status(run)).toBe('STARTED');
      exp.logMetric('loss', 0.5, 1);
      await exp.stop();
      const runs = await exp.runs();
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatchObject({ run, status: 'STOPPED', tags: { stage: 'warmup' } });
      expect(runs[0].metrics?.loss).toMatchObject({ last: 0.5, count: 2 });
    } finally {
      await om.close();
    }
  });

  test('bad keys, arguments or runs: exit 1, and no tag is written', async () => {
    const count = async (): Promise<number> => (await read('td', (exp) => exp.data({ event: 'tag' }))).length;
    const before = await count();
    const cases: Array<[string[], RegExp]> = [
      [['tag', 'td', '1', '=x'], /^omega-track tag: tag key must not be empty\n$/],
      [['tag', 'td', '1', 'good=1', '=bad'], /tag key must not be empty/],
      [['tag', 'td', '1', `${'k'.repeat(MAX_NAME_LENGTH + 1)}=1`], /tag key is \d+ characters long/],
      [['tag', 'td', '1', 'novalue'], /key=value, got 'novalue'/],
      [['tag', 'td', '1'], /one or more key=value/],
      [['tag', 'td', '9', 'a=1'], /experiment 'td' has no run 9/],
      [['tag', 'td', 'abc', 'a=1'], /a run is a number of at least 1, got 'abc'/],
      [['tag', 'td', '0', 'a=1'], /at least 1, got '0'/],
      [['tag', 'nope', '1', 'a=1'], /no experiment 'nope'/],
    ];
    for (const [argv, message] of cases) {
      const r = await cliIn(env, argv);
      expect({ argv, code: r.code, out: r.out }).toEqual({ argv, code: 1, out: '' });
      expect(r.err).toMatch(message);
    }
    expect(await count()).toBe(before);
  });

  test('delete-run without --force: exit 1, the run stays', async () => {
    const r = await cliIn(env, ['delete-run', 'td', '3']);
    expect(r).toMatchObject({ code: 1, out: '' });
    expect(r.err).toBe(
      "omega-track delete-run: deleting run 3 of 'td' removes its events and artifacts: add --force\n",
    );
    expect((await read('td', (exp) => exp.data({ run: 3 }))).length).toBeGreaterThan(0);
  });

  test('delete-run --force deletes the run; the others stay whole; its number is not given out again', async () => {
    const othersBefore = await read('td', (exp) => exp.data({ run: [1, 2] }));
    const r = await cliIn(env, ['delete-run', 'td', '3', '--force']);
    expect(r).toMatchObject({ code: 0, err: '' });
    expect(r.out).toBe(
      "deleted run 3 of 'td': its events and the artifacts it stored; run number 3 will not be given out again\n",
    );
    const runs = await cliIn(env, ['runs', 'td', '--format', 'json']);
    expect((JSON.parse(runs.out) as Array<{ run: number }>).map((x) => x.run)).toEqual([1, 2]);
    await read('td', async (exp) => {
      expect(await exp.data({ run: 3 })).toEqual([]);
      expect(await exp.data({ run: [1, 2] })).toEqual(othersBefore);
      expect(await exp.restoreArtifact('model', { run: 1 })).toEqual({ weights: [1, 1, 1] });
      // the next run is 4, not the deleted 3
      expect(await exp.start()).toBe(4);
      await exp.stop();
    });
    // a deleted run is no run: deleting, tagging or comparing it again says so
    const again = await cliIn(env, ['delete-run', 'td', '3', '--force']);
    expect(again).toMatchObject({ code: 1, err: "omega-track delete-run: experiment 'td' has no run 3\n" });
    expect((await cliIn(env, ['tag', 'td', '3', 'a=1'])).err).toMatch(/has no run 3/);
    expect((await cliIn(env, ['compare', 'td', '1', '3'])).err).toMatch(/has no run 3/);
  });

  test('delete-run with a bad run or experiment: exit 1', async () => {
    for (const [argv, message] of [
      [['delete-run', 'td', '--force'], /name the run/],
      [['delete-run', 'td', 'x', '--force'], /got 'x'/],
      [['delete-run', 'td', '1', '2', '--force'], /deletes one run/],
      [['delete-run', 'nope', '1', '--force'], /no experiment 'nope'/],
    ] as Array<[string[], RegExp]>) {
      const r = await cliIn(env, argv);
      expect({ argv, code: r.code }).toEqual({ argv, code: 1 });
      expect(r.err).toMatch(message);
    }
    expect((await read('td', (exp) => exp.runs())).map((x) => x.run)).toEqual([1, 2, 4]);
  });
});
