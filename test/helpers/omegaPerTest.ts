import path from 'node:path';
import type { Omega } from '@omega-track/core';
import { omega } from 'omega-track';
import { tempDir } from './tmp';

/**
 * A fresh `omega()` on an SQLite store in a new temporary folder for every test of the enclosing
 * describe block, closed and removed after it. Read `om()` and `dir()` inside the tests.
 */
export function omegaPerTest(): { om: () => Omega; dir: () => string } {
  let tmp: ReturnType<typeof tempDir> | undefined;
  let current: Omega | undefined;
  beforeEach(() => {
    tmp = tempDir();
    current = omega({ store: `sqlite:${path.join(tmp.dir, 'omega.db')}` });
  });
  afterEach(async () => {
    await current?.close();
    tmp?.cleanup();
  });
  return { om: () => current!, dir: () => tmp!.dir };
}
