import { runFixture } from '../helpers/child';

describe('signals', () => {
  test("a program's own process.once('SIGINT') handler gets to finish its async cleanup", async () => {
    const { code, signal, stdout } = await runFixture('onceSigint.js', []);
    expect(signal).toBeNull();
    expect(code).toBe(0);
    expect(stdout).toContain('cleaned up');
  });
});
