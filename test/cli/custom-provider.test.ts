import fs from 'node:fs';
import path from 'node:path';
import type { RunInfo } from 'omega-track';
import { OmegaSimpleTracker, omega } from 'omega-track';
import { tempDir } from '../helpers/tmp';
import { cliBin, cliIn } from './cliRunner';

/** A provider of the user's own, as an application would register it. */
class MineTracker extends OmegaSimpleTracker {}

/** Issue 9.12: an experiment of a custom provider, read with `--require` or from the store. */
describe('an experiment written by a custom provider', () => {
  const tmp = tempDir();
  const env = { OMEGA_STORE: `sqlite:${path.join(tmp.dir, 'omega.db')}` };
  const file = (name: string, text: string): string => {
    const p = path.join(tmp.dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  const storedEntry = async () => {
    const om = omega({ store: env.OMEGA_STORE });
    try {
      return await om.store.getEntry('models', 'experiments/mine-exp');
    } finally {
      await om.close();
    }
  };

  beforeAll(async () => {
    const om = omega({ store: env.OMEGA_STORE });
    om.registry.register('mine', MineTracker);
    const exp = om.runtime.experiment('mine-exp', { provider: 'mine', customSetting: 42 });
    await exp.run((e) => {
      e.logParam('lr', 0.1);
      e.logMetric('loss', 0.5, 0);
    });
    await om.experiments.save('ghost-exp', {
      provider: 'ghost',
      options: {},
      created: new Date().toISOString(),
      dataset: '.experiments/ghost-exp',
    });
    await om.close();
  });
  afterAll(() => tmp.cleanup());

  test('without --require: read from the store, stderr names the provider, the configuration stays', async () => {
    const before = await storedEntry();
    expect(before?.attributes).toMatchObject({
      tracking: { provider: 'mine', options: { customSetting: 42 } },
    });
    for (const argv of [
      ['runs', 'mine-exp', '--format', 'json'],
      ['data', 'mine-exp', '--format', 'json'],
      ['summary', 'mine-exp', '--format', 'json'],
    ]) {
      const { code, out, err } = await cliIn(env, argv);
      expect(code).toBe(0);
      expect(err).toMatch(
        /experiment 'mine-exp' was written by provider 'mine', which is not registered here/,
      );
      expect(err).toMatch(/--require/);
      expect(JSON.parse(out)).not.toHaveLength(0);
    }
    const data = JSON.parse((await cliIn(env, ['data', 'mine-exp', '--format', 'json'])).out) as Array<{
      event: string;
    }>;
    expect(data.map((r) => r.event)).toEqual(['start', 'param', 'metric', 'stop']);
    // reading changed nothing
    expect(await storedEntry()).toEqual(before);
    const listed = await cliIn(env, ['experiments', '--format', 'json']);
    expect(JSON.parse(listed.out)).toContainEqual(
      expect.objectContaining({ experiment: 'mine-exp', provider: 'mine' }),
    );
  });

  test('an unknown provider with no events in the store: an error that says to use --require', async () => {
    const { code, err } = await cliIn(env, ['runs', 'ghost-exp']);
    expect(code).toBe(1);
    expect(err).toMatch(
      /provider 'ghost', which is not registered here, and the store holds none of its events/,
    );
    expect(err).toMatch(/--require FILE/);
  });

  test('--require loads the registrations (module.exports, register, default), in this process', async () => {
    const forms = [
      "module.exports = (registry) => registry.register('mine', registry.resolveClass('default'));",
      "exports.register = (registry) => { registry.register('mine', registry.resolveClass('default')); };",
      "exports.default = async (registry) => { registry.register('mine', registry.resolveClass('default')); };",
    ];
    for (const [i, text] of forms.entries()) {
      const module = file(`registers-${i}.js`, text);
      const { code, out, err } = await cliIn(env, [
        'runs',
        'mine-exp',
        '--require',
        module,
        '--format',
        'json',
      ]);
      expect(err).toBe('');
      expect(code).toBe(0);
      expect((JSON.parse(out) as RunInfo[]).map((r) => r.status)).toEqual(['STOPPED']);
    }
  });

  test('--require with the built command: the custom provider reads the experiment', () => {
    const entry = path.join(__dirname, '..', '..', 'cli', 'dist', 'index.js');
    file(
      'providers.js',
      `const { OmegaSimpleTracker } = require(${JSON.stringify(entry)});
class MineTracker extends OmegaSimpleTracker {
  async runs(query) {
    return (await super.runs(query)).map((r) => ({ ...r, readBy: 'mine' }));
  }
}
module.exports = (registry) => registry.register('mine', MineTracker);
`,
    );
    // relative to the working directory, and repeatable
    file('more.js', 'module.exports = () => undefined;');
    const { code, out, err } = cliBin(
      ['runs', 'mine-exp', '--require', './providers.js', '--require', './more.js', '--format', 'json'],
      env,
      tmp.dir,
    );
    expect(err).toBe('');
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual([expect.objectContaining({ run: 1, status: 'STOPPED', readBy: 'mine' })]);
  });

  test('--require of a missing module, or one that exports no function: a clear error', async () => {
    const missing = await cliIn(env, ['runs', 'mine-exp', '--require', './no-such-file.js']);
    expect(missing).toMatchObject({
      code: 1,
      err: expect.stringMatching(/--require \.\/no-such-file\.js: no such module/),
    });
    for (const text of ['module.exports = { nothing: 1 };', 'module.exports = class Mine {};']) {
      const module = file('exports-nothing.js', text);
      delete require.cache[module];
      const result = await cliIn(env, ['runs', 'mine-exp', '--require', module]);
      expect(result).toMatchObject({
        code: 1,
        err: expect.stringMatching(/exports no registration function/),
      });
    }
  });
});
