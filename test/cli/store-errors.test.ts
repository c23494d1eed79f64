import fs from 'node:fs';
import path from 'node:path';
import { omega } from 'omega-track';
import { tempDir } from '../helpers/tmp';
import { cliBin, cliIn } from './cliRunner';

const STACK_LINE = /^\s+at /m;

/** Issue 8.4 (messages, never stack traces; non-zero exits) and 8.5 (reading never creates). */
describe('the CLI when the store is missing or wrong', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  test('every read command on a store that does not exist says so and creates nothing', async () => {
    const dir = path.join(tmp.dir, 'mistyped');
    const store = `sqlite:${path.join(dir, 'omega.db')}`;
    for (const argv of [['experiments'], ['runs', 'x'], ['data', 'x'], ['summary', 'x']]) {
      const inProcess = await cliIn({}, [...argv, '--store', store]);
      expect(inProcess.code).toBe(1);
      expect(inProcess.err).toBe(
        `omega-track ${argv[0]}: no store at ${path.join(dir, 'omega.db')}; set OMEGA_STORE or --store\n`,
      );
      const bin = cliBin(argv, { OMEGA_STORE: store });
      expect(bin.code).toBe(1);
      expect(bin.err).toMatch(/no store at .*; set OMEGA_STORE or --store/);
      expect(bin.err).not.toMatch(STACK_LINE);
      expect(bin.out).toBe('');
    }
    expect(fs.existsSync(dir)).toBe(false);
  });

  test('the default store is not created by a read either', () => {
    const cwd = path.join(tmp.dir, 'empty-project');
    fs.mkdirSync(cwd);
    const { code, err } = cliBin(['experiments'], { OMEGA_STORE: '' }, cwd);
    expect(code).toBe(1);
    expect(err).toMatch(/no store at .*omega\.db; set OMEGA_STORE or --store/);
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  test('a file that is not a store, and a path under /proc: the message with the path, no stack, exit 1', () => {
    const garbage = path.join(tmp.dir, 'garbage.db');
    fs.writeFileSync(garbage, Buffer.alloc(8192, 0x5a));
    for (const [store, place] of [
      [`sqlite:${garbage}`, garbage],
      ['sqlite:/proc/nope/x.db', '/proc/nope/x.db'],
    ]) {
      for (const argv of [['experiments'], ['drop', 'x', '--force']]) {
        const { code, err, out } = cliBin([...argv, '--store', store]);
        expect(code).toBe(1);
        expect(err).toContain(place);
        expect(err).not.toMatch(STACK_LINE);
        expect(err).not.toMatch(/SqliteError|SQLITE_/);
        expect(out).toBe('');
      }
    }
    expect(fs.readFileSync(garbage)).toEqual(Buffer.alloc(8192, 0x5a));
  });

  test('an unexpected error: `error: <message>` and exit 1; the stack only with OMEGA_DEBUG=1', async () => {
    const store = `sqlite:${path.join(tmp.dir, 'ok.db')}`;
    const om = omega({ store });
    await om.runtime.experiment('e').run((e) => e.logMetric('m', 1));
    await om.close();
    const throwing = path.join(tmp.dir, 'throws.js');
    fs.writeFileSync(throwing, "module.exports = () => { throw new Error('boom in a registration'); };");
    const argv = ['runs', 'e', '--require', throwing, '--store', store];

    const quiet = await cliIn({}, argv);
    expect(quiet).toMatchObject({ code: 1, err: 'omega-track runs: error: boom in a registration\n' });
    const bin = cliBin(argv);
    expect(bin.code).toBe(1);
    expect(bin.err).toBe('omega-track runs: error: boom in a registration\n');

    const debug = cliBin(argv, { OMEGA_DEBUG: '1' });
    expect(debug.code).toBe(1);
    expect(debug.err).toMatch(/error: boom in a registration\nError: boom in a registration\n\s+at /);
  });

  test('sync on a spool that does not exist says so and creates neither the spool nor the store', () => {
    const cwd = path.join(tmp.dir, 'sync-project');
    fs.mkdirSync(cwd);
    const named = path.join(cwd, 'spool.db');
    const explicit = cliBin(['sync', '--spool', named], { OMEGA_STORE: '' }, cwd);
    expect(explicit.code).toBe(1);
    expect(explicit.err).toBe(
      `omega-track sync: no MLflow spool at ${named}; set OMEGA_MLFLOW_SPOOL or --spool\n`,
    );
    const fromEnv = cliBin(['sync'], { OMEGA_STORE: '', OMEGA_MLFLOW_SPOOL: named }, cwd);
    expect(fromEnv.code).toBe(1);
    expect(fromEnv.err).toMatch(/no MLflow spool at/);
    // nobody used MLflow here: nothing to send, and that is no failure
    const defaulted = cliBin(['sync'], { OMEGA_STORE: '', OMEGA_MLFLOW_SPOOL: '' }, cwd);
    expect(defaulted).toMatchObject({
      code: 0,
      out: `nothing waits: there is no MLflow spool at ${path.join('.omega', 'mlflow-spool.db')}\n`,
    });
    expect(fs.readdirSync(cwd)).toEqual([]);
  });

  test('drop is a write command: it may create the store', async () => {
    const store = `sqlite:${path.join(tmp.dir, 'written', 'omega.db')}`;
    const { code, err } = await cliIn({}, ['drop', 'x', '--force', '--store', store]);
    expect(code).toBe(1);
    expect(err).toMatch(/no experiment 'x'/);
    expect(fs.existsSync(path.join(tmp.dir, 'written', 'omega.db'))).toBe(true);
  });
});
