import { redactUrls } from 'omega-track/internal';
import { runFixture } from '../helpers/child';

describe('signals', () => {
  test("a program's own process.once('SIGINT') handler gets to finish its async cleanup", async () => {
    const { code, signal, stdout } = await runFixture('onceSigint.js', []);
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(stdout).toContain('cleaned up');
  });
});

describe('redacting URLs in messages', () => {
  test('is linear in the text: a long run of letters (a request path, an echoed filter) costs little', () => {
    const long = 'a'.repeat(200_000);
    // a result, not a time, is asserted; before the fix this call took minutes
    expect(redactUrls(`${long} redis://:secret@h:1`)).toBe(`${long} redis://:***@h:1`);
  });
});
