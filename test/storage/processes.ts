import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';

/** A fixture of the storage tests, running in its own process. */
export interface FixtureProcess {
  child: ChildProcessWithoutNullStreams;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once the process has printed `text` on stdout. */
  printed: (text: string) => Promise<void>;
  /** Resolves with the exit code once it ends. */
  exited: Promise<number | null>;
}

/** Starts test/storage/fixtures/<script> with node, from the repo root. */
export function startStorageFixture(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): FixtureProcess {
  const child = spawn(process.execPath, [path.join(__dirname, 'fixtures', script), ...args], {
    cwd: path.join(__dirname, '..', '..'),
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  const waiters: Array<{ text: string; resolve: () => void }> = [];
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const w of waiters.splice(0)) {
      if (out.includes(w.text)) w.resolve();
      else waiters.push(w);
    }
  });
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    printed: (text) =>
      new Promise<void>((resolve, reject) => {
        if (out.includes(text)) return resolve();
        waiters.push({ text, resolve });
        void exited.then(() => {
          if (!out.includes(text)) reject(new Error(`${script} ended without printing ${text}: ${err}`));
        });
      }),
    exited,
  };
}

/** The last JSON line a fixture printed. */
export function lastJson<T>(text: string): T {
  const lines = text
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'));
  return JSON.parse(lines[lines.length - 1]) as T;
}
