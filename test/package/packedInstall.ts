import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The monorepo's root. */
export const repoRoot = path.join(__dirname, '..', '..');

/** The folders of the packages that publish, in dependency order. */
export const PUBLISHED = ['core', 'providers', 'adapters', 'cli'] as const;

/** What `npm pack --json` says of one tarball. */
export interface PackedTarball {
  name: string;
  version: string;
  filename: string;
  files: { path: string; size: number }[];
}

/** Packs every publishable package (as `npm publish` would) into `dest`. */
export function packAll(dest: string): PackedTarball[] {
  const out = execFileSync(
    'npm',
    ['pack', '--json', '--pack-destination', dest, ...PUBLISHED.flatMap((p) => ['-w', p])],
    { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  // lifecycle scripts (prepack) may print before the JSON
  return JSON.parse(out.slice(out.indexOf('['))) as PackedTarball[];
}

/**
 * A fresh project outside the repository with the tarballs installed together, as a user would
 * (`npm install omega-track` pulls the scoped packages; here they come from the tarballs), plus
 * `@types/node` for the TypeScript checks. No optional peer (bullmq, mongodb, tfjs) is installed.
 *
 * Install scripts are skipped and better-sqlite3's native addon is taken from the repository's
 * own install when the versions agree: the repository's `npm ci` has just compiled that very
 * version from source on this machine (its prebuilt download is unreachable here), and compiling
 * it again would double this test's time without testing anything of ours. When npm picks
 * another version, it is rebuilt from source.
 */
export function installTarballs(tarballs: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-track-user-'));
  fs.writeFileSync(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'user-project', version: '1.0.0', private: true }, null, 2),
  );
  execFileSync(
    'npm',
    [
      'install',
      ...tarballs,
      '@types/node@20',
      '--ignore-scripts',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--loglevel=error',
    ],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const version = (p: string): string =>
    (
      JSON.parse(fs.readFileSync(path.join(p, 'better-sqlite3', 'package.json'), 'utf8')) as {
        version: string;
      }
    ).version;
  const theirs = path.join(dir, 'node_modules');
  const ours = path.join(repoRoot, 'node_modules');
  if (version(theirs) === version(ours))
    fs.cpSync(path.join(ours, 'better-sqlite3', 'build'), path.join(theirs, 'better-sqlite3', 'build'), {
      recursive: true,
    });
  else execFileSync('npm', ['rebuild', 'better-sqlite3'], { cwd: dir, stdio: 'ignore' });
  return dir;
}

/** Runs `node` with `args` in `cwd`; returns stdout (throws with stderr on a non-zero exit). */
export function node(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(process.execPath, args, {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  });
}
