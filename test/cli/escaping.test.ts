import path from 'node:path';
import { omega } from 'omega-track';
import { tempDir } from '../helpers/tmp';
import { cliIn, parseCsv } from './cliRunner';

/** Issue 9.10: tables show control characters escaped; CSV text cells get the formula guard. */
describe('what a logged value can do to a terminal or a spreadsheet', () => {
  const tmp = tempDir();
  const env = { OMEGA_STORE: `sqlite:${path.join(tmp.dir, 'omega.db')}` };
  // retitle the terminal, ring the bell, overwrite the line, a one-byte CSI, reversed text
  const hostile = '\u001b]0;owned\u0007\u001b[31mred\r\u009b2J\u202eevil\u0000';

  beforeAll(async () => {
    const om = omega({ store: env.OMEGA_STORE });
    await om.runtime.experiment('esc').run((e) => {
      e.logParam('title', hostile);
      e.logMetric(`k\u001b[2Jey`, 1, { step: 0, note: 'tab\there\nnext line' });
      e.logParam('formula', '=HYPERLINK("http://x","click")');
      e.logParam('plus', '+1+2');
      e.logParam('minus', '-2+3');
      e.logParam('at', '@SUM(A1)');
      e.logParam('tab', '\t=1');
      e.logParam('cr', '\r=1');
      e.logParam('plain', 'fine');
      e.logParam('@key', 'v');
      e.logMetric('negative', -1.5);
      e.logMetric('neginf', -Infinity);
    });
    await om.close();
  });
  afterAll(() => tmp.cleanup());

  test('table: no raw control character reaches the terminal; each is shown as an escape', async () => {
    const { code, out } = await cliIn(env, ['data', 'esc']);
    expect(code).toBe(0);
    const lines = out.split('\n');
    // nothing but printable text and the line ends
    const controls = [...out].filter((c) => {
      const code = c.charCodeAt(0);
      return (
        (code < 0x20 && c !== '\n') ||
        (code >= 0x7f && code <= 0x9f) ||
        (code >= 0x2028 && code <= 0x202e) ||
        (code >= 0x2066 && code <= 0x2069)
      );
    });
    expect(controls).toEqual([]);
    const title = lines.find((l) => l.includes('title'))!;
    expect(title).toContain('\\x1b]0;owned\\x07\\x1b[31mred\\r\\x9b2J\\u202eevil\\x00');
    expect(out).toContain('k\\x1b[2Jey');
    expect(out).toContain('tab\\there\\nnext line');
  });

  test('summary tables escape too', async () => {
    const summary = await cliIn(env, ['summary', 'esc']);
    expect(summary.out).toContain('k\\x1b[2Jey');
    expect(summary.out).not.toContain('\u001b');
  });

  test('csv: text that a spreadsheet would run gets a leading quote; numbers stay numbers', async () => {
    const { code, out } = await cliIn(env, ['data', 'esc', '--format', 'csv']);
    expect(code).toBe(0);
    const [header, ...rows] = parseCsv(out);
    const value = (key: string) => rows.find((r) => r[3] === key)?.[header.indexOf('value')];
    expect(value('formula')).toBe(`'=HYPERLINK("http://x","click")`);
    expect(value('plus')).toBe("'+1+2");
    expect(value('minus')).toBe("'-2+3");
    expect(value('at')).toBe("'@SUM(A1)");
    expect(value('tab')).toBe("'\t=1");
    expect(value('cr')).toBe("'\r=1");
    expect(value('plain')).toBe('fine');
    expect(value('negative')).toBe('-1.5');
    expect(value('neginf')).toBe('-Infinity');
    // keys are text as well
    expect(rows.some((r) => r[3] === "'@key")).toBe(true);
    // json keeps the values exactly
    const json = JSON.parse((await cliIn(env, ['data', 'esc', '--format', 'json'])).out) as Array<{
      key: string;
      value: unknown;
    }>;
    expect(json.find((r) => r.key === 'title')?.value).toBe(hostile);
    expect(json.find((r) => r.key === 'minus')?.value).toBe('-2+3');
  });
});
