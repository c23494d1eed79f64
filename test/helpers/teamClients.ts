import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';

/** A client process of test/fixtures/teamClient.js and what it printed once it ends. */
export interface TeamClient {
  readonly child: ChildProcess;
  /** Resolves once the process exited. */
  readonly done: Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>;
  /** Resolves once the client printed `READY` (mode `spool`). */
  readonly ready: Promise<void>;
}

/** Starts `teamClient.js <mode> <count> <experiment>` with `env` over this process's environment. */
export function startTeamClient(
  mode: 'burst' | 'timer' | 'spool',
  count: number,
  experiment: string,
  env: NodeJS.ProcessEnv,
): TeamClient {
  const child = spawn(
    process.execPath,
    [path.join(__dirname, '..', 'fixtures', 'teamClient.js'), mode, String(count), experiment],
    {
      env: { ...process.env, ...env },
      cwd: path.join(__dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (onReady = resolve));
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.includes('READY\n')) onReady();
  });
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{
    code: number | null;
    signal: NodeJS.Signals | null;
    stdout: string;
    stderr: string;
  }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, ready };
}

/** The JSON object a client printed on its first line. */
export function clientReport<T>(stdout: string): T {
  return JSON.parse(stdout.split('\n')[0]) as T;
}
