/**
 * The browser client's build: one ES module with no import left (no Node built-in, no package:
 * tfjs is the page's own), its gzipped size printed and within the 40 kB budget, and a
 * build that reaches Node-only code fails, naming it. That it loads and works in a page with no
 * polyfill is what test/browser/client.test.ts does.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from '../helpers/tmp';
import { REPO } from '../ui/browserHelpers';

jest.setTimeout(120_000);

const SCRIPT = path.join(REPO, 'cli', 'scripts', 'buildBrowser.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const build = require(SCRIPT) as {
  buildBrowserBundle(
    entry: string,
    out: string,
  ): Promise<{ bytes: number; gzip: number; nodeOnly: string[] }>;
  BUDGET_GZIP_BYTES: number;
};

test('the build prints the gzipped size within its 40 kB budget; the bundle imports nothing', () => {
  const tmp = tempDir('omega-bundle-');
  try {
    const out = path.join(tmp.dir, 'client.mjs');
    const r = spawnSync(process.execPath, [SCRIPT, '--no-check', '--out', out], {
      cwd: REPO,
      encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const m = /client\.mjs ([\d.]+) kB, ([\d.]+) kB gzipped \(budget 40\.0 kB\)/.exec(r.stdout);
    expect(m).not.toBeNull();
    expect(Number(m![2])).toBeLessThanOrEqual(40);
    const text = fs.readFileSync(out, 'utf8');
    // no static import, no dynamic import of a module, no require: a page loads it as it is
    expect(text).not.toMatch(/(^|[;}\s])import\s*[\w{*"'`]|\bimport\(|\brequire\(|["'`]node:/);
    expect(text).toMatch(/export\s*\{/);
  } finally {
    tmp.cleanup();
  }
});

test('a bundle that reaches Node-only code fails the build, naming the module that imports it', async () => {
  const tmp = tempDir('omega-bundle-');
  try {
    // an entry that uses the embedded store: SQLite needs Node
    const entry = path.join(tmp.dir, 'reachNode.ts');
    fs.writeFileSync(
      entry,
      "import { SqliteStore } from '@omega-track/core/internal';\nexport const store = new SqliteStore(':memory:', 'memory:');\n",
    );
    const result = await build.buildBrowserBundle(entry, path.join(tmp.dir, 'bad.mjs'));
    expect(result.nodeOnly).toEqual(
      expect.arrayContaining(['better-sqlite3 (imported by core/src/store/sqlite/SqliteStore.ts)']),
    );
    const ok = await build.buildBrowserBundle(
      path.join(REPO, 'cli', 'src', 'browser', 'index.ts'),
      path.join(tmp.dir, 'good.mjs'),
    );
    expect(ok.nodeOnly).toEqual([]);
    expect(ok.gzip).toBeLessThanOrEqual(build.BUDGET_GZIP_BYTES);
  } finally {
    tmp.cleanup();
  }
});
