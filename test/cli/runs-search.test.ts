import path from 'node:path';
import { omega } from 'omega-track';
import { tempDir } from '../helpers/tmp';
import { cliIn, parseCsv } from './cliRunner';

/** Issue 11.5: `omega-track runs` finds runs with a filter, orders them, and shows chosen columns. */
describe('omega-track runs --filter --sort --columns --limit', () => {
  const tmp = tempDir();
  const env = { OMEGA_STORE: `sqlite:${path.join(tmp.dir, 'omega.db')}` };
  // a name a spreadsheet would run as a formula, with a terminal title sequence in it
  const hostileName = '=HYPERLINK("http://x")\u001b]0;owned\u0007';
  const hostileModel = 'evil\u001b[31mred';
  const hostileTag = '\u202edesrever';

  beforeAll(async () => {
    const om = omega({ store: env.OMEGA_STORE });
    const exp = om.runtime.experiment('search');
    const log = (params: Record<string, unknown>, acc: number[], loss: number[]) => (e: typeof exp) => {
      e.logParams(params);
      acc.forEach((v, step) => e.logMetric('acc', v, step));
      loss.forEach((v, step) => e.logMetric('loss', v, step));
    };
    await exp.run(log({ lr: 0.1, model: 'resnet' }, [0.5, 0.7, 0.6], [2, 1]), {
      name: 'baseline',
      tags: { team: 'vision' },
    });
    await exp.run(log({ lr: 0.01, model: 'resnet' }, [0.8, 0.91], [1.5, 0.4]), {
      name: 'wide',
      tags: { team: 'nlp' },
    });
    await exp.run(log({ lr: 0.001, model: 'vit' }, [0.95], [0.3]), { tags: { team: 'nlp', stage: 'prod' } });
    await expect(
      exp.run(
        (e) => {
          log({ lr: 0.1, model: 'vit' }, [0.2], [])(e);
          throw new Error('diverged');
        },
        { name: 'crashed' },
      ),
    ).rejects.toThrow('diverged');
    await exp.run(log({ lr: 0.5, model: hostileModel }, [0.123456789], [9]), {
      name: hostileName,
      tags: { team: hostileTag },
    });

    // runs without names or failures: those columns are left out
    await om.runtime.experiment('plain').run((e) => {
      e.logParam('x', 1);
      e.logMetric('y', 2);
    });
    // metric keys that look like a key and a figure, and a key with a comma
    await om.runtime.experiment('keys').run((e) => {
      e.logMetric('loss', 3, 0);
      e.logMetric('loss', 1, 1);
      e.logMetric('loss.min', 42);
      e.logMetric('f1,macro', 0.75);
    });
    await om.close();
  });
  afterAll(() => tmp.cleanup());

  async function json(...argv: string[]): Promise<Array<Record<string, unknown>>> {
    const r = await cliIn(env, ['runs', ...argv, '--format', 'json']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.out) as Array<Record<string, unknown>>;
  }
  const runsOf = async (...argv: string[]): Promise<unknown[]> => (await json(...argv)).map((r) => r.run);

  test('default columns: the run fields, error (a run FAILED), then each param, metric (last) and tag', async () => {
    const r = await cliIn(env, ['runs', 'search', '--format', 'csv']);
    expect(r.code).toBe(0);
    const [header, ...rows] = parseCsv(r.out);
    expect(header).toEqual([
      'run',
      'name',
      'status',
      'started',
      'stopped',
      'duration',
      'node',
      'userid',
      'error',
      'params.lr',
      'params.model',
      'metrics.acc',
      'metrics.loss',
      'tags.team',
      'tags.stage',
    ]);
    expect(rows.map((row) => row[0])).toEqual(['1', '2', '3', '4', '5']);
    const cell = (run: number, column: string): string => rows[run - 1][header.indexOf(column)];
    expect(cell(1, 'metrics.acc')).toBe('0.6'); // the last value, not the largest
    expect(cell(3, 'name')).toBe('');
    expect(cell(3, 'tags.stage')).toBe('prod');
    expect(cell(4, 'status')).toBe('FAILED');
    expect(cell(4, 'error')).toContain('diverged');
    expect(cell(4, 'metrics.loss')).toBe('');
    // CSV keeps full precision
    expect(cell(5, 'metrics.acc')).toBe('0.123456789');
  });

  test('name and error columns only when a run has them', async () => {
    const r = await cliIn(env, ['runs', 'plain', '--format', 'csv']);
    expect(parseCsv(r.out)[0]).toEqual([
      'run',
      'status',
      'started',
      'stopped',
      'duration',
      'node',
      'userid',
      'params.x',
      'metrics.y',
    ]);
    const table = await cliIn(env, ['runs', 'plain']);
    expect(table.out.split('\n')[0]).toMatch(
      /^run\s+status\s+started\s+stopped\s+duration\s+node\s+userid\s+params\.x\s+metrics\.y$/,
    );
    expect(table.out.split('\n')[2]).toMatch(/^1\s+STOPPED\s.*\s1\s+2$/);
  });

  test('--filter keeps the matching runs: metrics, params (as text), tags, attributes, AND, LIKE', async () => {
    expect(await runsOf('search', '--filter', 'metrics.acc > 0.8')).toEqual([2, 3]);
    expect(await runsOf('search', '--filter', "metrics.acc > 0.5 and params.model = 'resnet'")).toEqual([
      1, 2,
    ]);
    expect(await runsOf('search', '--filter', "params.lr = '0.1'")).toEqual([1, 4]);
    expect(await runsOf('search', '--filter', "tags.team = 'nlp'")).toEqual([2, 3]);
    expect(await runsOf('search', '--filter', "attributes.status = 'FAILED'")).toEqual([4]);
    expect(await runsOf('search', '--filter', "attributes.run_name LIKE 'b%'")).toEqual([1]);
    expect(await runsOf('search', '--filter', "params.model IN ('vit', 'nothing')")).toEqual([3, 4]);
  });

  test('a filter that matches nothing: "(no rows)" in a table, [] in JSON', async () => {
    const table = await cliIn(env, ['runs', 'search', '--filter', 'metrics.acc > 2']);
    expect(table).toMatchObject({ code: 0, out: '(no rows)\n' });
    expect(await json('search', '--filter', 'metrics.acc > 2')).toEqual([]);
  });

  test('--sort: -field and "field DESC" descending, several fields, with --filter and --limit', async () => {
    expect(await runsOf('search', '--sort=-metrics.acc')).toEqual([3, 2, 1, 4, 5]);
    // the issue's own spelling: a descending field as the next argument
    expect(await runsOf('search', '--sort', '-metrics.acc')).toEqual([3, 2, 1, 4, 5]);
    expect(await runsOf('search', '--sort', 'metrics.acc DESC')).toEqual([3, 2, 1, 4, 5]);
    expect(await runsOf('search', '--sort', 'metrics.acc')).toEqual([5, 4, 1, 2, 3]);
    // by model (as text), then the later run first among equal models
    expect(await runsOf('search', '--sort', 'params.model,-run')).toEqual([5, 2, 1, 4, 3]);
    expect(await runsOf('search', '--sort', 'params.model ASC, run DESC')).toEqual([5, 2, 1, 4, 3]);
    expect(await runsOf('search', '--sort=-metrics.acc', '--limit', '2')).toEqual([3, 2]);
    expect(await runsOf('search', '--filter', "tags.team = 'nlp'", '--sort=-metrics.loss')).toEqual([2, 3]);
    // runs without the field sort last, whichever the direction
    expect(await runsOf('search', '--sort=-metrics.loss')).toEqual([5, 1, 2, 3, 4]);
  });

  test('the table shows the rows in the order asked for', async () => {
    const table = await cliIn(env, [
      'runs',
      'search',
      '--sort=-metrics.acc',
      '--columns',
      'run,name,metrics.acc',
    ]);
    expect(table.code).toBe(0);
    const lines = table.out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^run\s+name\s+metrics\.acc$/);
    expect(lines.slice(2).map((l) => l.split(/\s+/)[0])).toEqual(['3', '2', '1', '4', '5']);
    expect(lines[2]).toMatch(/^3\s+0\.95$/);
    expect(lines[3]).toMatch(/^2\s+wide\s+0\.91$/);
  });

  test('--columns picks columns in its order, metrics by last, min, max or count', async () => {
    const rows = await json(
      'search',
      '--columns',
      'run,name,metrics.acc,params.lr,metrics.acc.min,metrics.acc.max,metrics.acc.count,metrics.loss.min,tags.team',
    );
    expect(Object.keys(rows[0])).toEqual([
      'run',
      'name',
      'metrics.acc',
      'params.lr',
      'metrics.acc.min',
      'metrics.acc.max',
      'metrics.acc.count',
      'metrics.loss.min',
      'tags.team',
    ]);
    expect(rows[0]).toEqual({
      run: 1,
      name: 'baseline',
      'metrics.acc': 0.6,
      'params.lr': 0.1,
      'metrics.acc.min': 0.5,
      'metrics.acc.max': 0.7,
      'metrics.acc.count': 3,
      'metrics.loss.min': 1,
      'tags.team': 'vision',
    });
    // what a run lacks is left out of its JSON object
    expect(rows[3]).toEqual({
      run: 4,
      name: 'crashed',
      'metrics.acc': 0.2,
      'params.lr': 0.1,
      'metrics.acc.min': 0.2,
      'metrics.acc.max': 0.2,
      'metrics.acc.count': 1,
    });
    const csv = parseCsv(
      (await cliIn(env, ['runs', 'search', '--columns', 'run,metrics.acc.last,status', '--format', 'csv']))
        .out,
    );
    expect(csv).toEqual([
      ['run', 'metrics.acc.last', 'status'],
      ['1', '0.6', 'STOPPED'],
      ['2', '0.91', 'STOPPED'],
      ['3', '0.95', 'STOPPED'],
      ['4', '0.2', 'FAILED'],
      ['5', '0.123456789', 'STOPPED'],
    ]);
  });

  test('a metric whose key ends like a figure is taken whole; backticks quote a key', async () => {
    // such keys are written in backticks in the header, which --columns takes back as it is
    expect(await json('keys', '--columns', 'metrics.loss.min,metrics.`loss`.min,metrics.loss.max')).toEqual([
      { 'metrics.`loss.min`': 42, 'metrics.loss.min': 1, 'metrics.loss.max': 3 },
    ]);
    expect(await json('keys', '--columns', 'run,metrics.`f1,macro`,metrics.`loss.min`.count')).toEqual([
      { run: 1, 'metrics.`f1,macro`': 0.75, 'metrics.`loss.min`.count': 1 },
    ]);
    const csv = parseCsv((await cliIn(env, ['runs', 'keys', '--format', 'csv'])).out);
    const metrics = csv[0].filter((h) => h.startsWith('metrics.'));
    expect(metrics).toEqual(['metrics.loss', 'metrics.`loss.min`', 'metrics.`f1,macro`']);
    expect(await json('keys', '--columns', metrics.join(','))).toEqual([
      { 'metrics.loss': 1, 'metrics.`loss.min`': 42, 'metrics.`f1,macro`': 0.75 },
    ]);
  });

  test('hostile names and values: escaped in a table, guarded in CSV, exact in JSON', async () => {
    const table = await cliIn(env, ['runs', 'search', '--filter', 'attributes.run = 5']);
    expect(table.code).toBe(0);
    // no control character reaches the terminal but the line ends
    const raw = [...table.out].filter((ch) => {
      const code = ch.charCodeAt(0);
      return (code < 0x20 && code !== 0x0a) || code === 0x7f || code === 0x202e;
    });
    expect(raw).toEqual([]);
    expect(table.out).toContain('=HYPERLINK("http://x")\\x1b]0;owned\\x07');
    expect(table.out).toContain('evil\\x1b[31mred');
    expect(table.out).toContain('\\u202edesrever');
    // a table rounds for people
    expect(table.out).toMatch(/\s0\.123457\s/);

    const csv = parseCsv(
      (await cliIn(env, ['runs', 'search', '--filter', 'attributes.run = 5', '--format', 'csv'])).out,
    );
    const at = (column: string): string => csv[1][csv[0].indexOf(column)];
    expect(at('name')).toBe(`'${hostileName}`);
    expect(at('params.model')).toBe(hostileModel);

    const [row] = await json('search', '--filter', 'attributes.run = 5');
    expect(row).toMatchObject({ name: hostileName, 'params.model': hostileModel, 'tags.team': hostileTag });
  });

  test('a filter that does not parse: its position and what was expected, exit 1', async () => {
    const cases: Array<[string, number | undefined]> = [
      ['metrics.acc >', 13],
      ['foo.bar = 1', 0],
      ['1; DROP TABLE runs', undefined],
      ["params.model = 'unterminated", undefined],
      ['metrics.acc > 1 or metrics.acc < 0', undefined],
    ];
    for (const [filter, position] of cases) {
      const r = await cliIn(env, ['runs', 'search', '--filter', filter]);
      expect(r.code).toBe(1);
      expect(r.out).toBe('');
      const quoted = JSON.stringify(filter).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      expect(r.err).toMatch(
        new RegExp(`^omega-track runs: filter ${quoted} at position ${position ?? '\\d+'}: expected .+\\n$`),
      );
    }
  });

  test('a bad --sort, --columns or --limit: exit 1 with a message naming the option', async () => {
    const sort = await cliIn(env, ['runs', 'search', '--sort', 'metrics.acc SIDEWAYS']);
    expect(sort.code).toBe(1);
    expect(sort.err).toMatch(
      /^omega-track runs: --sort "metrics\.acc SIDEWAYS" at position \d+: expected .*DESC/,
    );
    const columns = await cliIn(env, ['runs', 'search', '--columns', 'run,bogus']);
    expect(columns.code).toBe(1);
    expect(columns.err).toMatch(/^omega-track runs: --columns: no column 'bogus'; columns are run, name/);
    const limit = await cliIn(env, ['runs', 'search', '--limit', '0']);
    expect(limit.code).toBe(1);
    expect(limit.err).toMatch(/--limit/);
  });
});
