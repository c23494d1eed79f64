import { execFileSync } from 'node:child_process';
import { tempDir } from './tmp';

/** Mounts a tmpfs of `size` at `dir`; returns why not when this machine does not allow it. */
export function mountTmpfs(dir: string, size: string): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (error) {
    return (error as Error).message.split('\n')[0];
  }
}

/**
 * `test`, when this machine lets the suite mount a tmpfs (root, as CI runs), else `test.skip`
 * with one line saying why (`what`: the tests that need it).
 */
export function testWithTmpfs(what: string): jest.It {
  const probe = tempDir('omega-track-mount-');
  const cannotMount = mountTmpfs(probe.dir, '1m');
  if (cannotMount === undefined) execFileSync('umount', [probe.dir]);
  probe.cleanup();
  if (cannotMount) console.log(`${what} need to mount a tmpfs (root); skipped here because: ${cannotMount}`);
  return cannotMount ? test.skip : test;
}
