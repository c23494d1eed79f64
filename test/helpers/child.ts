import { spawn } from 'node:child_process';
import path from 'node:path';

/** Runs a fixture script with node; resolves with its output once it exits. */
export function runFixture(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(__dirname, '..', 'fixtures', script), ...args], {
      env: { ...process.env, ...env },
      cwd: path.join(__dirname, '..', '..'),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Starts a fixture and returns the child, to be signalled by the test. */
export function startFixture(script: string, args: string[]): ReturnType<typeof spawn> {
  return spawn(process.execPath, [path.join(__dirname, '..', 'fixtures', script), ...args], {
    cwd: path.join(__dirname, '..', '..'),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}
