import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { omega } from 'omega-track';
import { tempDir } from '../helpers/tmp';
import { cliBin, cliIn } from './cliRunner';

const STACK_LINE = /^\s+at /m;

/** Issue 19.9: CLI edges that were accepted silently, or told with an untyped message. */
describe('the CLI refuses what it cannot take', () => {
  const tmp = tempDir();
  const env = { OMEGA_STORE: `sqlite:${path.join(tmp.dir, 'omega.db')}` };

  beforeAll(async () => {
    const om = omega({ store: env.OMEGA_STORE });
    const exp = om.runtime.experiment('fz');
    for (let r = 1; r <= 3; r++) await exp.run((e) => e.logMetric('m', r, r));
    await om.close();
  });
  afterAll(() => tmp.cleanup());

  test.each([
    [['runs', 'fz', 'fz2'], /^omega-track runs: unexpected argument 'fz2'\n\nUsage: omega-track runs/],
    [['experiments', 'fz'], /^omega-track experiments: unexpected argument 'fz'\n/],
    [['data', 'fz', '--run', '5..2'], /^omega-track data: --run 5\.\.2: a range goes upwards: 2\.\.5\n$/],
    [['data', 'fz', '--run', '-1..-3'], /--run -1\.\.-3: a range goes upwards/],
    [['data', 'fz', '--run', '-99999999999999999999'], /--run -99999999999999999999: .* is no run number/],
    [['summary', 'fz', '--run', '1,99999999999999999999'], /is no run number/],
    [
      ['data', 'fz', '--since', '-5m'],
      /--since -5m: a span is counted back from now and takes no sign; write --since 5m/,
    ],
    [['data', 'fz', '--end=+1h'], /--end \+1h: .*takes no sign/],
    [
      ['data', 'fz', '--event', ''],
      /^omega-track data: --event is empty: give it a value, or leave the option out\n$/,
    ],
    [['data', 'fz', '--key', ' , '], /--key ' , ' names nothing/],
    [
      ['runs', 'fz', '--limit', '5', '--limit', '6'],
      /^omega-track runs: --limit is given twice \('5', then '6'\): give it once\n$/,
    ],
    [['data', 'fz', '--format', 'json', '--format=csv'], /--format is given twice/],
    [['runs', 'fz', '--store', ''], /--store is empty/],
    [['worker', '--queue', '', '--runtime', 'redis://127.0.0.1:1'], /^omega-track worker: --queue is empty/],
  ])('%j: a clear error, exit 2, nothing on stdout', async (argv, message) => {
    const r = await cliIn(env, argv);
    expect(r.err).toMatch(message);
    expect(r).toMatchObject({ code: 2, out: '' });
  });

  test('the built command exits with 2 as well', () => {
    for (const argv of [
      ['runs', 'fz', 'fz2'],
      ['data', 'fz', '--run', '5..2'],
      ['runs', 'fz', '--limit', '5', '--limit', '6'],
    ]) {
      const r = cliBin(argv, env);
      expect({ argv, code: r.code, out: r.out }).toEqual({ argv, code: 2, out: '' });
    }
  });

  test('what is right is still taken: upward and relative ranges, spans, an empty filter', async () => {
    const runsOf = async (...argv: string[]): Promise<number[]> => {
      const r = await cliIn(env, [...argv, '--format', 'json']);
      expect(r).toMatchObject({ code: 0, err: '' });
      return [...new Set((JSON.parse(r.out) as Array<{ run: number }>).map((x) => x.run))];
    };
    expect(await runsOf('data', 'fz', '--event', 'metric', '--run', '2..3')).toEqual([2, 3]);
    expect(await runsOf('data', 'fz', '--event', 'metric', '--run', '-3..-2')).toEqual([1, 2]);
    expect(await runsOf('data', 'fz', '--event', 'metric', '--run', '2..-1')).toEqual([2, 3]);
    expect(await runsOf('data', 'fz', '--event', 'metric,', '--since', '1h')).toEqual([1, 2, 3]);
    expect(await runsOf('runs', 'fz', '--filter', '')).toEqual([1, 2, 3]);
  });

  test('--require of a file that is no JavaScript: said so with its path, its text never shown', () => {
    const secret = path.join(tmp.dir, 'passwd');
    fs.writeFileSync(secret, 'root:x:0:0:s3cret-first-line:/root:/bin/bash\nmore: text\n');
    for (const debug of ['', '1']) {
      const r = cliBin(['runs', 'fz', '--require', secret], { ...env, OMEGA_DEBUG: debug });
      expect(r.code).toBe(1);
      expect(r.err).toBe(
        `omega-track runs: could not load registrations from ${secret}: not a JavaScript module (--require ${secret})\n`,
      );
      expect(r.err).not.toContain('s3cret');
      expect(r.out).toBe('');
    }
    // a module that throws a SyntaxError of its own is not called "not a module"
    const throws = path.join(tmp.dir, 'throws.js');
    fs.writeFileSync(throws, "JSON.parse('{oops'); module.exports = () => undefined;");
    expect(cliBin(['runs', 'fz', '--require', throws], env).err).toMatch(/^omega-track runs: error: .*JSON/);
  });

  test('sync --spool on a directory or on a file that is no spool: the path and what is wrong, untouched', () => {
    const dir = path.join(tmp.dir, 'spool-dir');
    fs.mkdirSync(dir);
    const directory = cliBin(['sync', '--spool', dir]);
    expect(directory.code).toBe(1);
    expect(directory.err).toBe(
      `omega-track sync: the MLflow spool ${dir} (--spool) is a directory: name the spool file itself ` +
        '(the mlflow provider keeps it beside the store, as mlflow-spool.db)\n',
    );
    expect(fs.readdirSync(dir)).toEqual([]);

    const text = path.join(tmp.dir, 'notes.txt');
    fs.writeFileSync(text, 'not a spool\n'.repeat(1000));
    const notSqlite = cliBin(['sync'], { OMEGA_MLFLOW_SPOOL: text });
    expect(notSqlite.code).toBe(1);
    expect(notSqlite.err).toBe(
      `omega-track sync: cannot open the MLflow spool ${text} (OMEGA_MLFLOW_SPOOL): it is no SQLite file, so no spool\n`,
    );
    expect(notSqlite.err).not.toMatch(STACK_LINE);
    expect(fs.readFileSync(text, 'utf8')).toBe('not a spool\n'.repeat(1000));
  });

  test('sync --spool naming the store itself (or --requeue): refused, and no spool table is written into it', () => {
    const store = path.join(tmp.dir, 'omega.db');
    const tables = (): string =>
      execFileSync('node', [
        '-e',
        `const D = require('better-sqlite3'); const db = new D(${JSON.stringify(store)}, { readonly: true });
console.log(db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all().map((t) => t.name).join(','));`,
      ])
        .toString()
        .trim();
    const before = tables();
    for (const args of [
      ['sync', '--spool', store],
      ['sync', '--spool', store, '--requeue'],
    ]) {
      const result = cliBin(args);
      expect(result.code).not.toBe(0);
      expect(result.err).toMatch(
        /^omega-track sync: .*omega\.db \(--spool\) is no MLflow spool \(it holds tables .*is it the store\?\): nothing was sent or changed/,
      );
    }
    expect(tables()).toBe(before);
    expect(before.split(',')).not.toContain('ops');
  });
});
