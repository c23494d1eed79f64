import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { tempDir } from './helpers/tmp';

const examplesDir = path.join(__dirname, '..', 'examples', 'dist');

/** Runs a compiled example on a temporary store and returns what it printed. */
function runExample(name: string, env: NodeJS.ProcessEnv = {}): string {
  const tmp = tempDir();
  try {
    return execFileSync(process.execPath, [path.join(examplesDir, `${name}.js`)], {
      cwd: tmp.dir,
      env: { ...process.env, OMEGA_STORE: `sqlite:${path.join(tmp.dir, 'omega.db')}`, ...env },
      timeout: 120_000,
    }).toString();
  } finally {
    tmp.cleanup();
  }
}

describe('examples run as smoke tests', () => {
  test('every example has a smoke test here', () => {
    const examples = fs
      .readdirSync(examplesDir)
      .filter((f) => f.endsWith('.js'))
      .map((f) => f.replace(/\.js$/, ''));
    expect(examples.sort()).toEqual(['custom-provider', 'quickstart']);
  });

  test('quickstart trains, tracks and prints the summary', () => {
    const out = runExample('quickstart');
    expect(out).toMatch(/experiment 'quickstart', run 1/);
    expect(out).toMatch(/epoch\s+loss\s+acc/);
    expect(out.match(/^\s+\d+\s+\d\.\d{4}\s+\d\.\d{4}$/gm)).toHaveLength(8);
    expect(out).toMatch(/run 1: STOPPED/);
    expect(out).toContain('npx omega-track summary quickstart');
  });

  test('custom-provider registers and uses its own provider', () => {
    const out = runExample('custom-provider');
    expect(out).toContain('[custom-demo run 1] loss = 0.5');
    expect(out).toContain("stored 3 metrics through provider 'console-echo'");
  });
});
