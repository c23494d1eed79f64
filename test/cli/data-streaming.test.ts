import path from 'node:path';
import { omega } from 'omega-track';
import { tempDir } from '../helpers/tmp';
import { cliIn, parseCsv } from './cliRunner';

/** Issue 9.8: `omega-track data` streams every format through `iterate`, with backpressure. */
describe('omega-track data on a large run', () => {
  const ROWS = 200_000;
  const tmp = tempDir();
  const env = { OMEGA_STORE: `sqlite:${path.join(tmp.dir, 'omega.db')}` };

  /**
   * A stdout like a pipe that is slow to read: every write returns a promise that settles later.
   * It records the largest write and whether the CLI wrote again before the last write settled.
   */
  function slowStdout(): {
    io: { stdout: (t: string) => Promise<void> };
    text: () => string;
    largest: () => number;
    overlapped: () => boolean;
  } {
    const pieces: string[] = [];
    let largest = 0;
    let waiting = false;
    let overlapped = false;
    return {
      io: {
        stdout: (t) => {
          if (waiting) overlapped = true;
          pieces.push(t);
          largest = Math.max(largest, t.length);
          waiting = true;
          return new Promise<void>((resolve) =>
            setImmediate(() => {
              waiting = false;
              resolve();
            }),
          );
        },
      },
      text: () => pieces.join(''),
      largest: () => largest,
      overlapped: () => overlapped,
    };
  }

  beforeAll(async () => {
    const om = omega({ store: env.OMEGA_STORE });
    const exp = om.runtime.experiment('big');
    await exp.start();
    for (let i = 0; i < ROWS; i++) {
      exp.logMetric(i % 2 ? 'loss' : 'acc', i / ROWS, i);
      if (i % 20_000 === 19_999) await exp.flush();
    }
    await exp.stop();
    await om.close();
  }, 120_000);
  afterAll(() => tmp.cleanup());

  test('table: a bounded page by default (widths from those rows), and how to see the rest', async () => {
    const { code, out } = await cliIn(env, ['data', 'big']);
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    // header, rule, 100 rows, the hint
    expect(lines).toHaveLength(103);
    expect(lines[0]).toMatch(/^experiment\s+run\s+event\s+key\s+value\s+step\s+dt\s+node\s+userid$/);
    expect(lines[2]).toMatch(/^big\s+1\s+start\s+start\s/);
    expect(lines[101]).toMatch(/^big\s+1\s+metric\s+acc\s+0\.00049\s+98\s/);
    expect(lines[102]).toMatch(
      /rows 1–100 shown; more follow: --offset 100 .*--limit all.*--format csv or json/,
    );
  });

  test('table: --limit, --offset, --step, --end, and --limit all for every row', async () => {
    const page = await cliIn(env, ['data', 'big', '--event', 'metric', '--offset', '1000', '--limit', '3']);
    expect(page.code).toBe(0);
    const rows = page.out.trimEnd().split('\n');
    expect(rows.slice(2, 5).map((l) => l.split(/\s+/)[5])).toEqual(['1000', '1001', '1002']);
    expect(rows[5]).toMatch(/rows 1001–1003 shown; more follow: --offset 1003/);

    const steps = async (spec: string) =>
      (
        JSON.parse((await cliIn(env, ['data', 'big', '--step', spec, '--format', 'json'])).out) as Array<{
          step: number;
        }>
      ).map((r) => r.step);
    expect(await steps('5,7')).toEqual([5, 7]);
    expect(await steps('150000..150002')).toEqual([150000, 150001, 150002]);

    const ended = await cliIn(env, ['data', 'big', '--end', new Date(0).toISOString(), '--format', 'json']);
    expect(JSON.parse(ended.out)).toEqual([]);
    const nothingYet = await cliIn(env, ['data', 'big', '--end', '1h']);
    expect(nothingYet.out).toBe('(no rows)\n');

    const all = await cliIn(env, ['data', 'big', '--limit', 'all']);
    expect(all.code).toBe(0);
    const lines = all.out.trimEnd().split('\n');
    expect(lines).toHaveLength(ROWS + 4);
    expect(lines[lines.length - 1]).toMatch(/^big\s+1\s+stop\s+stop\s/);
    expect(all.out).not.toMatch(/more follow/);

    expect(await cliIn(env, ['data', 'big', '--limit', '-3'])).toMatchObject({
      code: 1,
      err: expect.stringMatching(/--limit takes a whole number of rows or all, got '-3'/),
    });
  });

  test('json: a valid array of every row, written in pieces that wait for the reader', async () => {
    const stdout = slowStdout();
    const { code } = await cliIn(env, ['data', 'big', '--format', 'json'], stdout.io);
    expect(code).toBe(0);
    const rows = JSON.parse(stdout.text()) as Array<{ event: string; step: number | null; value: unknown }>;
    expect(rows).toHaveLength(ROWS + 2);
    expect(rows[0].event).toBe('start');
    expect(rows[ROWS + 1].event).toBe('stop');
    expect(rows[ROWS]).toMatchObject({ event: 'metric', step: ROWS - 1, value: (ROWS - 1) / ROWS });
    // never the whole output in one string, never a write before the last one was taken
    expect(stdout.largest()).toBeLessThan(4 * 1024 * 1024);
    expect(stdout.overlapped()).toBe(false);
  });

  test('csv: every row, parsed back, written in pieces that wait for the reader', async () => {
    const stdout = slowStdout();
    const { code } = await cliIn(env, ['data', 'big', '--format', 'csv', '--event', 'metric'], stdout.io);
    expect(code).toBe(0);
    const [header, ...rows] = parseCsv(stdout.text());
    expect(header).toEqual(['experiment', 'run', 'event', 'key', 'value', 'step', 'dt', 'node', 'userid']);
    expect(rows).toHaveLength(ROWS);
    expect(rows[12345].slice(3, 6)).toEqual(['loss', String(12345 / ROWS), '12345']);
    expect(stdout.largest()).toBeLessThan(4 * 1024 * 1024);
    expect(stdout.overlapped()).toBe(false);
  });

  test('csv: the header holds the extra fields of any row, also one far down', async () => {
    const om = omega({ store: env.OMEGA_STORE });
    const exp = om.runtime.experiment('extras');
    await exp.start();
    for (let i = 0; i < 30_000; i++) exp.logMetric('m', i, i);
    exp.logMetric('m', -1, { step: 30_000, phase: 'late' });
    await exp.stop();
    await om.close();
    const { out } = await cliIn(env, ['data', 'extras', '--format', 'csv', '--event', 'metric']);
    const [header, ...rows] = parseCsv(out);
    expect(header[header.length - 1]).toBe('phase');
    expect(rows[rows.length - 1].slice(3, 6).concat(rows[rows.length - 1][9])).toEqual([
      'm',
      '-1',
      '30000',
      'late',
    ]);
    expect(rows[0][9]).toBe('');
  });
});
