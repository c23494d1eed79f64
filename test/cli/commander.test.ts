import fs from 'node:fs';
import path from 'node:path';
import { omega } from 'omega-track';
import { tempDir } from '../helpers/tmp';
import { cliBin, cliIn } from './cliRunner';

const VERSION = (
  JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'cli', 'package.json'), 'utf8')) as {
    version: string;
  }
).version;

/** Issue 20.7: the command line on commander: --version, help per command, "did you mean …", exit 2. */
describe('omega-track on commander', () => {
  const tmp = tempDir();
  const env = { OMEGA_STORE: `sqlite:${path.join(tmp.dir, 'omega.db')}` };

  beforeAll(async () => {
    const om = omega({ store: env.OMEGA_STORE });
    await om.runtime.experiment('cmd').run((e) => e.logMetric('m', 1));
    await om.close();
  });
  afterAll(() => tmp.cleanup());

  test('--version and -V print the version of cli/package.json and exit 0', async () => {
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      expect(await cliIn(env, [flag])).toEqual({ code: 0, out: `${VERSION}\n`, err: '' });
      expect(cliBin([flag], env)).toEqual({ code: 0, out: `${VERSION}\n`, err: '' });
    }
    expect((await cliIn(env, ['--help'])).out).toMatch(/-V, --version/);
  });

  test('help per command: `runs --help`, `runs -h` and `help runs` print the help of runs, exit 0', async () => {
    const help = await cliIn(env, ['runs', '--help']);
    expect(help.code).toBe(0);
    expect(help.err).toBe('');
    expect(help.out).toMatch(/^Usage: omega-track runs <experiment>/);
    expect(help.out).toContain('--columns C');
    expect(await cliIn(env, ['runs', '-h'])).toEqual(help);
    expect(await cliIn(env, ['help', 'runs'])).toEqual(help);
    expect(cliBin(['help', 'data'], env)).toMatchObject({ code: 0, out: expect.stringMatching(/--since S/) });
  });

  test('a mistyped command or option: "did you mean …", exit 2', async () => {
    const command = await cliIn(env, ['runz', 'cmd']);
    expect(command.code).toBe(2);
    expect(command.out).toBe('');
    expect(command.err).toMatch(/^omega-track: unknown command 'runz'\n\(Did you mean runs\?\)\n/);
    expect((await cliIn(env, ['help', 'sumary'])).err).toMatch(
      /unknown command 'sumary'\n\(Did you mean summary\?\)/,
    );

    const option = await cliIn(env, ['data', 'cmd', '--frmat', 'json']);
    expect(option.code).toBe(2);
    expect(option.err).toMatch(/^omega-track data: Unknown option '--frmat'\n\(Did you mean --format\?\)\n/);
    // the built command exits with 2 too (commander's own default is 1)
    expect(cliBin(['data', 'cmd', '--frmat', 'json'], env).code).toBe(2);
    expect(cliBin(['runz'], env).code).toBe(2);
  });

  test('the flags of today still parse: --opt=value, a negative value, a repeatable --require', async () => {
    const json = await cliIn(env, ['data', 'cmd', '--run=-1', '--event', 'metric', '--format=json']);
    expect(json.code).toBe(0);
    expect((JSON.parse(json.out) as Array<{ key: string }>).map((r) => r.key)).toEqual(['m']);
    const none = path.join(tmp.dir, 'none.js');
    fs.writeFileSync(none, 'module.exports = () => undefined;');
    const twice = await cliIn(env, ['runs', 'cmd', '--require', none, '--require', none, '--format', 'csv']);
    expect(twice).toMatchObject({ code: 0, err: '' });
  });
});
