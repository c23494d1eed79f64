import path from 'node:path';
import { omega } from 'omega-track';
import { tempDir } from '../helpers/tmp';
import { cliBin, cliIn } from './cliRunner';

/** Issue 9.9: `--run -1` and `--run -2..-1` (parseArgs alone calls them ambiguous). */
describe('--run with a negative value', () => {
  const tmp = tempDir();
  const env = { OMEGA_STORE: `sqlite:${path.join(tmp.dir, 'omega.db')}` };

  beforeAll(async () => {
    const om = omega({ store: env.OMEGA_STORE });
    const exp = om.runtime.experiment('neg');
    for (let r = 1; r <= 3; r++) await exp.run((e) => e.logMetric('m', r * 10, r));
    await om.close();
  });
  afterAll(() => tmp.cleanup());

  const runsOf = (out: string) => (JSON.parse(out) as Array<{ run: number }>).map((r) => r.run);

  test('data --run -1, --run -2..-1, --run -1,-3, and the = forms', async () => {
    const metric = ['--event', 'metric', '--format', 'json'];
    for (const args of [['--run', '-1'], ['--run=-1']]) {
      const { code, out, err } = await cliIn(env, ['data', 'neg', ...args, ...metric]);
      expect(err).toBe('');
      expect(code).toBe(0);
      expect(runsOf(out)).toEqual([3]);
    }
    expect(runsOf((await cliIn(env, ['data', 'neg', '--run', '-2..-1', ...metric])).out)).toEqual([2, 3]);
    expect(runsOf((await cliIn(env, ['data', 'neg', '--run', '-1,-3', ...metric])).out)).toEqual([1, 3]);
    // the value may come last, or before other options
    expect(runsOf((await cliIn(env, ['data', 'neg', ...metric, '--run', '-2'])).out)).toEqual([2]);
  });

  test('summary --run -1 and the built command', async () => {
    const summary = await cliIn(env, ['summary', 'neg', '--run', '-1', '--format', 'json']);
    expect(summary.code).toBe(0);
    expect(JSON.parse(summary.out)).toEqual([expect.objectContaining({ run: 3, key: 'm', last: 30 })]);
    const bin = cliBin(['data', 'neg', '--run', '-2..-1', '--event', 'metric', '--format', 'json'], env);
    expect(bin.err).toBe('');
    expect(runsOf(bin.out)).toEqual([2, 3]);
  });

  test('a missing value is still a usage error, not a swallowed option', async () => {
    const missing = await cliIn(env, ['data', 'neg', '--run', '--event', 'metric']);
    expect(missing.code).toBe(2);
    expect(missing.err).toMatch(/--run/);
  });
});
