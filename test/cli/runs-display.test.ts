import os from 'node:os';
import path from 'node:path';
import { omega } from 'omega-track';
import { tempDir } from '../helpers/tmp';
import { cliIn } from './cliRunner';

/** Issue 9.11: `runs` shows why a run FAILED, and durations for people (raw numbers in JSON). */
describe('omega-track runs', () => {
  const tmp = tempDir();
  const env = { OMEGA_STORE: `sqlite:${path.join(tmp.dir, 'omega.db')}` };
  const t0 = Date.parse('2024-05-01T10:00:00Z');
  const durations = [350, 72_000, (2 * 3600 + 3 * 60) * 1000, 4200];

  beforeAll(async () => {
    const om = omega({ store: env.OMEGA_STORE });
    const exp = om.runtime.experiment('fails');
    await exp.run((e) => e.logMetric('m', 1));
    await expect(
      exp.run(() => {
        throw new Error('CUDA out of memory \u001b[2J (batch 512)');
      }),
    ).rejects.toThrow('CUDA out of memory');

    // runs of known lengths, written as a process would have written their start and stop
    await om.experiments.save('timed', {
      provider: 'default',
      options: {},
      created: new Date(t0).toISOString(),
      dataset: '.experiments/timed',
    });
    const who = { node: os.hostname(), userid: 'tester', extra: undefined, step: null };
    for (const [i, ms] of durations.entries()) {
      const start = t0 + i * 10_000_000;
      const run = await om.store.startRun('timed', {
        ...who,
        event: 'start',
        key: 'start',
        value: null,
        dt: start,
      });
      await om.store.appendEvents('timed', [
        { ...who, run, event: 'stop', key: 'stop', value: { status: 'STOPPED' }, dt: start + ms },
      ]);
    }
    await om.close();
  });
  afterAll(() => tmp.cleanup());

  test('a FAILED run shows its error message, in the table (escaped) and in JSON', async () => {
    const table = await cliIn(env, ['runs', 'fails']);
    expect(table.code).toBe(0);
    const lines = table.out.trimEnd().split('\n');
    // run 1 logged metric m: its last value is a column of its own, after the run's fields
    expect(lines[0]).toMatch(
      /^run\s+status\s+started\s+stopped\s+duration\s+node\s+userid\s+error\s+metrics\.m$/,
    );
    expect(lines[3]).toMatch(/^2\s+FAILED\s.*CUDA out of memory \\x1b\[2J \(batch 512\)$/);
    expect(lines[2]).toMatch(/^1\s+STOPPED\s/);
    expect(lines[2]).not.toMatch(/CUDA/);
    const json = JSON.parse((await cliIn(env, ['runs', 'fails', '--format', 'json'])).out) as Array<
      Record<string, unknown>
    >;
    expect(json[1]).toMatchObject({
      run: 2,
      status: 'FAILED',
      error: expect.stringContaining('CUDA out of memory'),
    });
    expect(json[0].error).toBeUndefined();
    const csv = (await cliIn(env, ['runs', 'fails', '--format', 'csv'])).out;
    expect(csv.split('\n')[0]).toMatch(/,error,metrics\.m$/);
    expect(csv).toContain('CUDA out of memory');
  });

  test('durations read 350 ms, 1m 12s, 2h 3m, 4.2 s in a table; milliseconds in JSON and CSV', async () => {
    const table = await cliIn(env, ['runs', 'timed']);
    expect(table.code).toBe(0);
    const rows = table.out.trimEnd().split('\n').slice(2);
    const expected = ['350 ms', '1m 12s', '2h 3m', '4.2 s'];
    // the duration follows the stop time
    rows.forEach((row, i) => expect(row).toMatch(new RegExp(`Z {2}${expected[i]} {2,}`)));
    const json = JSON.parse((await cliIn(env, ['runs', 'timed', '--format', 'json'])).out) as Array<{
      duration: number;
    }>;
    expect(json.map((r) => r.duration)).toEqual(durations);
    const csv = (await cliIn(env, ['runs', 'timed', '--format', 'csv'])).out.trimEnd().split('\n');
    expect(csv.slice(1).map((l) => Number(l.split(',')[4]))).toEqual(durations);
  });

  test('summary tables show the run duration for people too', async () => {
    const table = await cliIn(env, ['summary', 'fails']);
    expect(table.out).toMatch(/^1\s+metric\s+m\s+1\s.*\s\d+ ms\b/m);
  });
});
