import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import net from 'node:net';

/** Where the tests find redis-server (the Debian package's path, else whatever PATH has). */
const REDIS_SERVER = process.env.REDIS_SERVER_BIN || 'redis-server';

/** A redis-server the test started on 127.0.0.1. */
export interface RedisServer {
  readonly port: number;
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  /** What the server printed, for failure messages. */
  output(): string;
  /** Whether the process is still running. */
  running(): boolean;
  /** Stops the server (SIGTERM, then SIGKILL if it lingers); resolves once it has exited. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A loopback port nobody listens on right now. Another process may take it before it is used,
 * which is why `startRedisServer` tries again on a new port when redis-server cannot bind.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * Sends PING over a plain TCP connection (no client library, so the helper does not depend on
 * what it tests) and resolves true on +PONG, false on anything else or after `timeoutMs`.
 */
export function ping(port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let answer = '';
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d: Buffer) => {
      answer += d.toString();
      if (answer.includes('\r\n')) done(answer.startsWith('+PONG'));
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Every server started and not yet stopped, so one call can stop them all after a failed test. */
const started = new Set<RedisServer>();

async function startOnce(port: number, extraArgs: string[]): Promise<RedisServer | 'port-taken'> {
  // no persistence: nothing is written to disk and nothing outlives the test
  const child = spawn(
    REDIS_SERVER,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...extraArgs],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  let spawnError: Error | undefined;
  child.once('error', (error) => (spawnError = error));
  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    output: () => out,
    running: () => child.exitCode === null && child.signalCode === null && !spawnError,
    async stop() {
      started.delete(server);
      if (!server.running()) return;
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited(child);
      clearTimeout(killer);
    },
  };
  started.add(server);
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (spawnError) {
      started.delete(server);
      throw new Error(`could not start ${REDIS_SERVER}: ${spawnError.message}`);
    }
    if (!server.running()) {
      started.delete(server);
      if (/Address already in use/i.test(out)) return 'port-taken';
      throw new Error(`redis-server exited before it answered:\n${out}`);
    }
    if (await ping(port, 500)) return server;
    await new Promise((r) => setTimeout(r, 50));
  }
  await server.stop();
  throw new Error(`redis-server on port ${port} did not answer PING within 15 s:\n${out}`);
}

/**
 * Starts `redis-server` on a free loopback port and resolves once it answers PING. `extraArgs`
 * are more server options (e.g. `['--requirepass', 'secret']`).
 */
export async function startRedisServer(extraArgs: string[] = []): Promise<RedisServer> {
  for (let tries = 0; tries < 5; tries++) {
    const server = await startOnce(await freePort(), extraArgs);
    if (server !== 'port-taken') return server;
  }
  throw new Error('redis-server found no free port in 5 tries');
}

/** Stops every server this process started and has not stopped yet (for afterAll). */
export async function stopAllRedisServers(): Promise<void> {
  await Promise.all([...started].map((s) => s.stop()));
}

/**
 * Starts `redis-server` again on `port` (a server of the test that was stopped: a Redis that
 * restarted, empty as the helper keeps nothing on disk); tries for a while when the port is not
 * free yet.
 */
export async function startRedisServerOn(port: number, extraArgs: string[] = []): Promise<RedisServer> {
  for (let tries = 0; tries < 20; tries++) {
    const server = await startOnce(port, extraArgs);
    if (server !== 'port-taken') return server;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`redis-server could not bind port ${port} again`);
}
