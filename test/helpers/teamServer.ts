/**
 * `omega-track server` as a real process of the built CLI (cli/dist/bin.js) on 127.0.0.1, a free
 * port: started, its printed URL read, signalled, restarted on the same port.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import path from 'node:path';

const BIN = path.join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');

/** Options of `startTeamServer`. */
export interface TeamServerStart {
  /** The store URL the server serves (`--store`). */
  store: string;
  /** More arguments of `omega-track server` (`--port 0 --host 127.0.0.1` unless given here). */
  args?: string[];
  env?: NodeJS.ProcessEnv;
  /** How long to wait for the URL line (default 20 s). */
  timeoutMs?: number;
}

/** A running server process. */
export interface TeamServer {
  /** The URL it serves, e.g. `http://127.0.0.1:40123` (no trailing slash). */
  url: string;
  port: number;
  /** What it wrote on stdout and stderr so far. */
  output(): { stdout: string; stderr: string };
  /** The process id of the server running now. */
  pid(): number;
  /** SIGTERM, then waits for the exit; resolves with its exit code. */
  close(): Promise<number | null>;
  /** Sends `signal` and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Starts it again with the same arguments on the same port (after it exited). */
  restart(): Promise<void>;
}

/** The line the server prints once it listens. */
const SERVING = /omega-track server: serving (https?:\/\/\S+)/;

/** Starts one process; resolves with it and its URL once it printed the URL. */
function spawnServer(
  opts: TeamServerStart,
  portArgs: string[],
): Promise<{ child: ChildProcess; url: string; out: { stdout: string; stderr: string } }> {
  const args = [BIN, 'server', '--store', opts.store, ...portArgs, ...(opts.args ?? [])];
  if (!(opts.args ?? []).includes('--host')) args.push('--host', '127.0.0.1');
  const child = spawn(process.execPath, args, {
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`omega-track server printed no URL in time:\n${out.stdout}\n${out.stderr}`));
    }, opts.timeoutMs ?? 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out.stdout += d.toString();
      const m = SERVING.exec(out.stdout);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], out });
      }
    });
    child.stderr.on('data', (d: Buffer) => (out.stderr += d.toString()));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(
        new Error(
          `omega-track server exited (${code ?? signal}) before serving:\n${out.stdout}\n${out.stderr}`,
        ),
      );
    });
  });
}

/** Waits for a process to exit. */
function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** Starts `omega-track server` on 127.0.0.1, a free port (unless `--port` is in `args`). */
export async function startTeamServer(opts: TeamServerStart): Promise<TeamServer> {
  const ownPort = (opts.args ?? []).includes('--port');
  let current = await spawnServer(opts, ownPort ? [] : ['--port', '0']);
  const port = Number(new URL(current.url).port);
  const kill = async (signal: NodeJS.Signals = 'SIGTERM') => {
    const done = exited(current.child);
    current.child.kill(signal);
    return done;
  };
  return {
    url: current.url,
    port,
    output: () => current.out,
    pid: () => current.child.pid as number,
    kill,
    close: async () => (await kill('SIGTERM')).code,
    restart: async () => {
      await exited(current.child);
      // the same port: clients keep the URL they were given
      current = await spawnServer(opts, ownPort ? [] : ['--port', String(port)]);
    },
  };
}
