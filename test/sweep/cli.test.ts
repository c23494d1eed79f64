import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { cliIn } from '../cli/cliRunner';
import { omegaPerTest } from '../helpers/omegaPerTest';
import { waitFor } from '../helpers/runtimeWorkers';

const { om, dir } = omegaPerTest();
const FIXTURES = path.join(__dirname, '..', 'fixtures');

describe('omega-track sweep show|resume (issue 25)', () => {
  test('sweep show prints the trials ranked, best first, with their params; --format json too', async () => {
    const exp = om().runtime.experiment('shown');
    const result = await exp.sweep(
      { space: { a: [1, 2, 3], b: ['x', 'y'] }, method: 'grid', metric: 'loss', goal: 'minimize' },
      (p) => {
        if (p.a === 3 && p.b === 'y') throw new Error('no good');
        return Math.abs((p.a as number) - 2) + (p.b === 'y' ? 0.5 : 0);
      },
    );
    await om().close();
    const env = { OMEGA_STORE: `sqlite:${path.join(dir(), 'omega.db')}` };
    const table = await cliIn(env, ['sweep', 'show', 'shown', String(result.run)]);
    expect(table.err).toBe('');
    expect(table.code).toBe(0);
    const lines = table.out.trim().split('\n');
    expect(lines[0]).toBe(
      `sweep run ${result.run} of 'shown': grid, loss (minimize), 6 of 6 trials done; best 0 (run ${result.best!.run})`,
    );
    expect(lines[1]).toMatch(/^rank\s+trial\s+run\s+status\s+value\s+params\.a\s+params\.b\s+stopped/);
    const json = await cliIn(env, ['sweep', 'show', 'shown', String(result.run), '--format', 'json']);
    const rows = JSON.parse(json.out) as Array<Record<string, unknown>>;
    expect(rows.map((r) => [r.rank, r['params.a'], r['params.b'], r.value, r.status])).toEqual([
      [1, 2, 'x', 0, 'STOPPED'],
      [2, 2, 'y', 0.5, 'STOPPED'],
      [3, 1, 'x', 1, 'STOPPED'],
      [4, 3, 'x', 1, 'STOPPED'],
      [5, 1, 'y', 1.5, 'STOPPED'],
      [6, 3, 'y', undefined, 'FAILED'],
    ]);
    expect(rows[5].stopped).toContain('no good');
    // a run that is not a sweep, and resume of a trial function: clear errors
    const notSweep = await cliIn(env, ['sweep', 'show', 'shown', String(result.trials[0].run)]);
    expect(notSweep.code).toBe(1);
    expect(notSweep.err).toContain('is not a sweep');
    const resumed = await cliIn(env, ['sweep', 'resume', 'shown', String(result.run)]);
    expect(resumed.code).toBe(1);
    expect(resumed.err).toContain(
      `needs the caller's code — call exp.sweep(spec, trial, { resume: ${result.run} })`,
    );
  });

  test('sweep resume goes on with a model sweep whose process was SIGKILLed: finished trials are not fitted again', async () => {
    await om().close();
    const store = `sqlite:${path.join(dir(), 'omega.db')}`;
    const fitLog = path.join(dir(), 'fits.log');
    const child = spawn(process.execPath, [path.join(FIXTURES, 'sweepModelUntilKilled.js'), store], {
      cwd: path.join(__dirname, '..', '..'),
      env: { ...process.env, SWEEP_HANG_FROM: '4', SWEEP_FIT_LOG: fitLog },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await waitFor('the fourth trial to hang', () => out.includes('HANG 4'), { logs: () => `${out}\n${err}` });
    child.kill('SIGKILL');
    await exited;

    const env = { OMEGA_STORE: store, SWEEP_FIT_LOG: fitLog };
    const before = fs.readFileSync(fitLog, 'utf8').trim().split('\n').length;
    expect(before).toBe(4);
    process.env.SWEEP_FIT_LOG = fitLog;
    let resumed;
    try {
      resumed = await cliIn(env, [
        'sweep',
        'resume',
        'kms',
        '1',
        '--require',
        path.join(FIXTURES, 'sweepBackend.js'),
        '--format',
        'json',
      ]);
    } finally {
      delete process.env.SWEEP_FIT_LOG;
    }
    expect(resumed.err).toBe('');
    expect(resumed.code).toBe(0);
    const fits = fs
      .readFileSync(fitLog, 'utf8')
      .trim()
      .split('\n')
      .map((l) => Number(l.split(' ')[1]));
    // 1, 2, 3 fitted once; 4 (abandoned) again, then 5 and 6
    expect(fits).toEqual([1, 2, 3, 4, 4, 5, 6]);
    const rows = JSON.parse(resumed.out) as Array<Record<string, unknown>>;
    expect(rows.map((r) => r['params.k'])).toEqual([3, 4, 2, 5, 1, 6]);
    expect(rows.every((r) => r.status === 'STOPPED')).toBe(true);
  });
});
