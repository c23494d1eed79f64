import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { omega } from 'omega-track';
import { parseRunOption, runCli } from 'omega-track/internal';
import { tempDir } from './helpers/tmp';
import { parseCsv } from './cli/cliRunner';

describe('the omega-track command', () => {
  const tmp = tempDir();
  const store = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
  const env = { OMEGA_STORE: store };

  async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await runCli(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t), env });
    return { code, out, err };
  }

  beforeAll(async () => {
    const om = omega({ store });
    const exp = om.runtime.experiment('train');
    for (let r = 0; r < 2; r++)
      await exp.run((e) => {
        e.logParam('lr', 0.01);
        for (let epoch = 0; epoch < 3; epoch++)
          e.logMetric('loss', 1 / (epoch + 1 + r), { step: epoch, phase: 'epoch' });
        e.logMetric('acc', NaN, 3);
        e.logArtifact({ note: 'a "quoted", multi\nline value' }, 'notes');
      });
    await om.runtime.experiment('other/exp').run((e) => e.logMetric('m', 1));
    await om.close();
  });
  afterAll(() => tmp.cleanup());

  test('experiments lists each experiment with provider and run count', async () => {
    const { code, out } = await cli('experiments');
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^experiment\s+provider\s+runs\s+created$/);
    expect(lines[2]).toMatch(/^other\/exp\s+default\s+1\s+\d{4}-/);
    expect(lines[3]).toMatch(/^train\s+default\s+2\s+\d{4}-/);
  });

  test('runs shows status, times and duration of each run', async () => {
    const { code, out } = await cli('runs', 'train', '--format', 'json');
    expect(code).toBe(0);
    const runs = JSON.parse(out) as Array<Record<string, unknown>>;
    expect(runs.map((r) => [r.run, r.status])).toEqual([
      [1, 'STOPPED'],
      [2, 'STOPPED'],
    ]);
    expect(typeof runs[0].duration).toBe('number');
    expect(Date.parse(runs[0].started as string)).not.toBeNaN();
  });

  test('data --format csv parses back to the rows, extras included', async () => {
    const { code, out } = await cli('data', 'train', '--run', '2', '--format', 'csv');
    expect(code).toBe(0);
    const [header, ...rows] = parseCsv(out);
    expect(header).toEqual([
      'experiment',
      'run',
      'event',
      'key',
      'value',
      'step',
      'dt',
      'node',
      'userid',
      'phase',
    ]);
    expect(rows.map((r) => [r[2], r[3]])).toEqual([
      ['start', 'start'],
      ['param', 'lr'],
      ['metric', 'loss'],
      ['metric', 'loss'],
      ['metric', 'loss'],
      ['metric', 'acc'],
      ['artifact', 'notes'],
      ['stop', 'stop'],
    ]);
    const loss = rows.filter((r) => r[3] === 'loss');
    expect(loss.map((r) => [Number(r[4]), Number(r[5]), r[9]])).toEqual([
      [1 / 2, 0, 'epoch'],
      [1 / 3, 1, 'epoch'],
      [1 / 4, 2, 'epoch'],
    ]);
    expect(rows.find((r) => r[3] === 'acc')?.[4]).toBe('NaN');
    expect(JSON.parse(rows.find((r) => r[3] === 'notes')![4]).data).toEqual({
      note: 'a "quoted", multi\nline value',
    });
  });

  test('data filters by --run, --event, --key, --since', async () => {
    const json = async (...args: string[]) =>
      JSON.parse((await cli('data', 'train', '--format', 'json', ...args)).out) as Array<
        Record<string, unknown>
      >;
    expect((await json('--event', 'metric', '--key', 'loss')).length).toBe(6);
    expect((await json('--run=-1', '--event', 'metric,param')).map((r) => r.run)).toEqual([2, 2, 2, 2, 2]);
    expect((await json('--run', '1..2', '--event', 'start')).length).toBe(2);
    expect((await json('--since', '1h')).length).toBe(16);
    expect((await json('--since', new Date(Date.now() + 60_000).toISOString())).length).toBe(0);
    const table = (await cli('data', 'train', '--run', '1', '--key', 'loss')).out;
    expect(table.split('\n')[0]).toMatch(
      /^experiment\s+run\s+event\s+key\s+value\s+step\s+dt\s+node\s+userid\s+phase$/,
    );
    expect(table.trim().split('\n')).toHaveLength(5);
  });

  test('summary gives statistics per run and key', async () => {
    const { code, out } = await cli('summary', 'train', '--format', 'json');
    expect(code).toBe(0);
    const rows = JSON.parse(out) as Array<Record<string, unknown>>;
    const loss1 = rows.find((r) => r.run === 1 && r.key === 'loss');
    expect(loss1).toMatchObject({ count: 3, min: 1 / 3, max: 1, last: 1 / 3 });
    expect(loss1?.mean).toBeCloseTo((1 + 1 / 2 + 1 / 3) / 3, 12);
    const table = (await cli('summary', 'train')).out;
    expect(table).toMatch(
      /run\s+event\s+key\s+count\s+mean\s+std\s+min\s+p25\s+p50\s+p75\s+max\s+last\s+duration/,
    );
    expect(table).toMatch(/1\s+metric\s+loss\s+3\s+0\.611111/);
  });

  test('errors: unknown experiment, bad --run, bad --format, unknown command, drop without --force', async () => {
    expect(await cli('runs', 'nope')).toMatchObject({
      code: 1,
      err: expect.stringMatching(/no experiment 'nope'; there are: other\/exp, train/),
    });
    expect(await cli('data', 'train', '--run', 'last')).toMatchObject({
      code: 1,
      err: expect.stringMatching(/--run takes a run number/),
    });
    expect(await cli('data', 'train', '--format', 'xml')).toMatchObject({
      code: 1,
      err: expect.stringMatching(/--format must be table, csv or json/),
    });
    expect(await cli('data', 'train', '--bogus')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/Unknown option '--bogus'/),
    });
    expect(await cli('frobnicate')).toMatchObject({
      code: 2,
      err: expect.stringMatching(/unknown command 'frobnicate'/),
    });
    expect(await cli('drop', 'other/exp')).toMatchObject({
      code: 1,
      err: expect.stringMatching(/add --force/),
    });
    expect(parseRunOption('1,3')).toEqual([1, 3]);
  });

  test('--help on the command and on each subcommand', async () => {
    const main = await cli('--help');
    expect(main.code).toBe(0);
    for (const sub of ['experiments', 'runs', 'data', 'summary', 'drop']) {
      expect(main.out).toContain(`  ${sub}`);
      const help = await cli(sub, '--help');
      expect(help.code).toBe(0);
      expect(help.out).toMatch(new RegExp(`^Usage: omega-track ${sub}`));
      expect(help.out).toContain('--store URL');
    }
    expect((await cli('data', '--help')).out).toContain('--since S');
  });

  test('drop --force deletes the experiment; the real binary reads OMEGA_STORE', async () => {
    expect(await cli('drop', 'other/exp', '--force')).toMatchObject({
      code: 0,
      out: "dropped experiment 'other/exp'\n",
    });
    const bin = path.join(__dirname, '..', 'cli', 'dist', 'bin.js');
    const out = execFileSync(process.execPath, [bin, 'experiments', '--format', 'csv'], {
      env: { ...process.env, OMEGA_STORE: store },
    }).toString();
    expect(parseCsv(out).map((r) => r[0])).toEqual(['experiment', 'train']);
  });
});
