import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './redisServer';

/** Where the tests find PostgreSQL's programs: Debian's newest /usr/lib/postgresql/<v>/bin. */
function binDir(): string {
  if (process.env.POSTGRES_BIN_DIR) return process.env.POSTGRES_BIN_DIR;
  const root = '/usr/lib/postgresql';
  const versions = fs.existsSync(root)
    ? fs.readdirSync(root).filter((v) => fs.existsSync(path.join(root, v, 'bin', 'initdb')))
    : [];
  if (!versions.length)
    throw new Error(
      'no PostgreSQL here (/usr/lib/postgresql/*/bin/initdb): npm test installs it (apt-get install postgresql)',
    );
  return path.join(root, versions.sort((a, b) => Number(b) - Number(a))[0], 'bin');
}

/** A private PostgreSQL cluster the test started on 127.0.0.1 (trust, or a password for `omega`). */
export interface PostgresServer {
  readonly port: number;
  /** The superuser's name (`omega`) and password, when the cluster has one. */
  readonly user: string;
  readonly password: string | undefined;
  /** `postgres://omega[:password]@127.0.0.1:PORT/<database>` */
  url(database: string, password?: string): string;
  /** Creates a database (each test file or test its own). */
  createDatabase(name: string): Promise<string>;
  /** Runs SQL as the superuser in `database`, returns psql's unaligned output. */
  sql(database: string, text: string): string;
  /** Stops the server (fast shutdown); its data stays, so start() brings it back as it was. */
  stop(): Promise<void>;
  /** Starts a stopped server again on the same port. */
  start(): Promise<void>;
  /** Stops the server and removes its folder. Idempotent. */
  remove(): Promise<void>;
  output(): string;
}

const started = new Set<PostgresServer>();

/** Runs a command as the `postgres` user when this process is root (initdb refuses root). */
function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/**
 * initdb into a temporary folder (owned by `postgres` when this runs as root), then the server
 * on a free loopback port, its socket in that folder; resolves once it takes connections.
 * With `password`, the cluster asks every TCP connection for it (scram-sha-256).
 */
export async function startPostgresServer(opts: { password?: string } = {}): Promise<PostgresServer> {
  const bin = binDir();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-pg-'));
  const data = path.join(dir, 'data');
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', dir]);
  fs.chmodSync(dir, 0o755);
  const initArgs = ['-D', data, '-U', 'omega', '--no-sync', '-E', 'UTF8', '--locale=C.UTF-8'];
  if (opts.password) {
    const pwfile = path.join(dir, 'pw');
    fs.writeFileSync(pwfile, opts.password, { mode: 0o644 });
    if (process.getuid?.() === 0) execFileSync('chown', ['postgres:postgres', pwfile]);
    initArgs.push('-A', 'scram-sha-256', '--auth-local=trust', `--pwfile=${pwfile}`);
  } else initArgs.push('-A', 'trust');
  const [initCmd, initAll] = asPostgres(path.join(bin, 'initdb'), initArgs);
  execFileSync(initCmd, initAll, { stdio: 'pipe' });
  const port = await freePort();
  let child: ChildProcess | undefined;
  let out = '';
  const psql = (database: string, text: string): string => {
    const [cmd, args] = asPostgres(path.join(bin, 'psql'), [
      '-h',
      dir,
      '-p',
      String(port),
      '-U',
      'omega',
      '-d',
      database,
      '-v',
      'ON_ERROR_STOP=1',
      '-At',
      '-c',
      text,
    ]);
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  };
  const server: PostgresServer = {
    port,
    user: 'omega',
    password: opts.password,
    url: (database, password = opts.password) =>
      `postgres://omega${password ? `:${encodeURIComponent(password)}` : ''}@127.0.0.1:${port}/${database}`,
    async createDatabase(name) {
      psql('postgres', `CREATE DATABASE "${name}"`);
      return server.url(name);
    },
    sql: psql,
    output: () => out,
    async start() {
      const [cmd, args] = asPostgres(path.join(bin, 'postgres'), [
        '-D',
        data,
        '-p',
        String(port),
        '-k',
        dir,
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'fsync=off',
        '-c',
        'max_connections=200',
      ]);
      child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
      const deadline = Date.now() + 20_000;
      while (Date.now() < deadline) {
        if (child.exitCode !== null) throw new Error(`postgres exited before it took connections:\n${out}`);
        try {
          psql('postgres', 'SELECT 1');
          return;
        } catch {
          await new Promise((r) => setTimeout(r, 100));
        }
      }
      throw new Error(`postgres on port ${port} took no connections within 20 s:\n${out}`);
    },
    async stop() {
      if (!child || child.exitCode !== null || child.signalCode !== null) return;
      // runuser passes SIGINT on to postgres: a fast shutdown (connections are cut)
      child.kill('SIGINT');
      const killer = setTimeout(() => child?.kill('SIGKILL'), 10_000);
      await exited(child);
      clearTimeout(killer);
    },
    async remove() {
      started.delete(server);
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  started.add(server);
  try {
    await server.start();
  } catch (error) {
    await server.remove();
    throw error;
  }
  return server;
}

/** Stops and removes every cluster this process started (for afterAll). */
export async function removeAllPostgresServers(): Promise<void> {
  await Promise.all([...started].map((s) => s.remove()));
}

let databases = 0;
/** A database name no earlier test of this process used. */
export function freshDatabaseName(): string {
  return `omega_test_${process.pid}_${++databases}`;
}
