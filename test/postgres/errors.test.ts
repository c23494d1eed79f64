import { execFile } from 'node:child_process';
import path from 'node:path';
import { Client } from 'pg';
import { StoreError, openStore, setDiagWriter } from '@omega-track/core';
import { PostgresStore, parsePgUrl } from '@omega-track/core/internal';
import { omega } from 'omega-track';
import { freePort } from '../helpers/redisServer';
import { freshDatabaseName, removeAllPostgresServers, startPostgresServer } from '../helpers/postgresServer';
import type { PostgresServer } from '../helpers/postgresServer';
import { runFixture } from '../helpers/child';

// Typed errors of the PostgreSQL store against private servers of this file: one that trusts
// loopback connections, one that asks for a password.

setDiagWriter(() => undefined);

const PASSWORD = 'Sup3r-secret-pw';
const WRONG = 'Wr0ng-guess-pw';

let trusting: PostgresServer;
let guarded: PostgresServer;
beforeAll(async () => {
  [trusting, guarded] = await Promise.all([
    startPostgresServer(),
    startPostgresServer({ password: PASSWORD }),
  ]);
}, 60_000);
afterAll(() => removeAllPostgresServers(), 30_000);

const start = {
  event: 'start',
  key: 'start',
  value: null,
  step: null,
  dt: 1000,
  node: 'n',
  userid: 'u',
  extra: undefined,
};

/** What start() on a store of `url` rejects with, and how long it took. */
async function startError(url: string): Promise<{ error: StoreError; ms: number }> {
  const om = omega({ store: url });
  const began = Date.now();
  try {
    const error = await om.runtime
      .experiment('e')
      .start()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(StoreError);
    return { error: error as StoreError, ms: Date.now() - began };
  } finally {
    await om.close();
  }
}

function expectNoSecret(error: StoreError, ...secrets: string[]): void {
  const texts = [
    error.message,
    error.location,
    String(error.stack),
    String((error as { cause?: Error }).cause?.message),
  ];
  for (const secret of secrets) for (const text of texts) expect(text).not.toContain(secret);
}

test('a wrong password: cannot-open within 10 s, no password in any message', async () => {
  const db = await guarded.createDatabase(freshDatabaseName());
  const url = guarded.url(new URL(db).pathname.slice(1), WRONG);
  const { error, ms } = await startError(url);
  expect(error.code).toBe('cannot-open');
  expect(error.message).toMatch(/authentication failed: check the user and password/);
  expect(error.location).toBe(url.replace(`:${WRONG}@`, ':***@'));
  expect(ms).toBeLessThan(10_000);
  expectNoSecret(error, WRONG, PASSWORD);
  // the right password opens it
  const store = openStore(guarded.url(new URL(db).pathname.slice(1)));
  try {
    expect(await store.startRun('e', start)).toBe(1);
  } finally {
    await store.close();
  }
});

test('an unknown database: not-found within 10 s, naming it', async () => {
  const url = guarded.url('no_such_db');
  const { error, ms } = await startError(url);
  expect(error.code).toBe('not-found');
  expect(error.message).toMatch(/no_such_db.*database "no_such_db" does not exist/);
  expect(ms).toBeLessThan(10_000);
  expectNoSecret(error, PASSWORD);
});

test('an unreachable port: cannot-open within 10 s; the CLI prints one line and exits non-zero', async () => {
  const url = `postgres://omega:${PASSWORD}@127.0.0.1:${await freePort()}/omega`;
  const { error, ms } = await startError(url);
  expect(error.code).toBe('cannot-open');
  expect(error.message).toMatch(/no PostgreSQL server listens there/);
  expect(ms).toBeLessThan(10_000);
  expectNoSecret(error, PASSWORD);
  const cli = await new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      [path.join(__dirname, '..', '..', 'cli', 'dist', 'bin.js'), 'runs', 'e', '--store', url],
      (err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
    );
  });
  expect(cli.code).not.toBe(0);
  expect(cli.stderr.trim().split('\n')).toHaveLength(1);
  expect(cli.stderr).toMatch(/127\.0\.0\.1/);
  expect(cli.stderr + cli.stdout).not.toContain(PASSWORD);
}, 30_000);

test('permission denied: a user without rights on the database gets read-only for writes', async () => {
  const db = freshDatabaseName();
  await trusting.createDatabase(db);
  trusting.sql(db, 'CREATE ROLE visitor LOGIN');
  const store = openStore(`postgres://visitor@127.0.0.1:${trusting.port}/${db}`);
  try {
    const error = await store.startRun('e', start).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('read-only');
    expect((error as StoreError).message).toMatch(/permission denied/);
  } finally {
    await store.close();
  }
});

test('a statement timeout (tables locked by another session): a StoreError that says so, and the write succeeds later', async () => {
  const url = await trusting.createDatabase(freshDatabaseName());
  const owner = openStore(url);
  await owner.startRun('e', start);
  const locker = new Client({ connectionString: url });
  await locker.connect();
  const hurried = openStore(`${url}?options=${encodeURIComponent('-c statement_timeout=300')}`);
  try {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE omega.chunks IN ACCESS EXCLUSIVE MODE');
    const error = await hurried
      .appendEvents('e', [{ ...start, run: 1, event: 'metric', key: 'm', value: 1 }])
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('io');
    expect((error as StoreError).message).toMatch(/statement timeout.*statement_timeout/);
    await locker.query('ROLLBACK');
    await hurried.appendEvents('e', [{ ...start, run: 1, event: 'metric', key: 'm', value: 1 }]);
    expect((await owner.queryEvents('e', { events: ['metric'] })).length).toBe(1);
  } finally {
    await locker.end();
    await hurried.close();
    await owner.close();
  }
});

test('a table another session keeps locked: start() fails after OMEGA_LOCK_TIMEOUT_MS with StoreError locked, and works once it is free', async () => {
  const url = await trusting.createDatabase(freshDatabaseName());
  const owner = openStore(url);
  await owner.startRun('e', start);
  const locker = new Client({ connectionString: url });
  await locker.connect();
  const waiting = openStore(url, { lockTimeoutMs: 1000 });
  try {
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE omega.counters IN ACCESS EXCLUSIVE MODE');
    const began = Date.now();
    const error = await waiting.startRun('e', start).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('locked');
    // a guard against waiting for the lock's holder (it would hold it until the end of the test)
    expect(Date.now() - began).toBeLessThan(10_000);
    await locker.query('ROLLBACK');
    expect(await waiting.startRun('e', start)).toBe(2);
  } finally {
    await locker.end();
    await waiting.close();
    await owner.close();
  }
});

test('a schema of a newer version is refused by name; ?schema= keeps stores apart; reading code creates nothing', async () => {
  const url = await trusting.createDatabase(freshDatabaseName());
  const db = new URL(url).pathname.slice(1);
  const reader = openStore(url, { create: false });
  try {
    const error = await reader.listEntries('models').catch((e: unknown) => e);
    expect((error as StoreError).code).toBe('not-found');
  } finally {
    await reader.close();
  }
  expect(trusting.sql(db, "SELECT count(*) FROM pg_namespace WHERE nspname = 'omega'")).toBe('0');
  const a = openStore(url);
  const b = openStore(`${url.replace('postgres://', 'postgresql://')}?schema=team_b`);
  try {
    expect(b).toBeInstanceOf(PostgresStore);
    expect(await a.startRun('e', start)).toBe(1);
    expect(await b.startRun('e', start)).toBe(1);
    expect(await a.startRun('e', start)).toBe(2);
  } finally {
    await a.close();
    await b.close();
  }
  trusting.sql(db, "UPDATE team_b.meta SET value = '99' WHERE key = 'schema_version'");
  const newer = openStore(`${url}?schema=team_b`);
  try {
    const error = await newer.latestRun('e').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('not-a-database');
    expect((error as StoreError).message).toMatch(
      /schema 'team_b' has version 99, newer than this omega-track reads \(3\)/,
    );
  } finally {
    await newer.close();
  }
  // a version edited by hand or damaged is refused as such, never overwritten nor migrated from
  for (const damaged of ['abc', '0']) {
    trusting.sql(db, `UPDATE team_b.meta SET value = '${damaged}' WHERE key = 'schema_version'`);
    for (const create of [true, false]) {
      const store = openStore(`${url}?schema=team_b`, { create });
      try {
        const error = await store.latestRun('e').catch((e: unknown) => e);
        expect((error as StoreError).code).toBe('not-a-database');
        expect((error as StoreError).message).toMatch(/schema 'team_b' has an unreadable schema version/);
      } finally {
        await store.close();
      }
    }
    expect(trusting.sql(db, "SELECT value FROM team_b.meta WHERE key = 'schema_version'")).toBe(damaged);
  }
});

test('URLs: the password is hidden (in the user info and password=), ?schema= is checked', () => {
  expect(parsePgUrl('postgres://al:p@ss:w/rd@db1:5432/omega?sslmode=require').display).toBe(
    'postgres://al:***@db1:5432/omega?sslmode=require',
  );
  expect(parsePgUrl('postgresql://al@db1/omega?password=topsecret&schema=x').display).toBe(
    'postgresql://al@db1/omega?password=***',
  );
  expect(parsePgUrl('postgres://db1/omega?schema=team_a')).toMatchObject({
    schema: 'team_a',
    connectionString: 'postgres://db1/omega',
  });
  expect(parsePgUrl('postgres://db1/omega').schema).toBe('omega');
  expect(() => parsePgUrl('postgres://u:pw123@db1/omega?schema=a;drop')).toThrow(/schema 'a;drop' must be/);
  expect(() => parsePgUrl('postgres://u:pw123@db1/omega?schema=a;drop')).not.toThrow(/pw123/);
});

test('without the pg package: the embedded store works, and a postgres:// store says how to install it', async () => {
  const { stdout } = await runFixture('withoutPackage.js', [
    'pg',
    'postgres://alice:s3cret-pw@127.0.0.1:1/omega',
    'postgres',
  ]);
  expect(JSON.parse(stdout)).toEqual({
    memory: 3,
    postgres: {
      name: 'ProviderPackageNotInstalledError',
      message: "The PostgreSQL store needs the package 'pg', which is not installed. Run: npm install pg",
      packageName: 'pg',
    },
  });
});
