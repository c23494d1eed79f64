import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TrackingError, TrackingInputError, openStore } from '@omega-track/core';
import { omega } from 'omega-track';
import { TokenRegistry, roleAllows, tokenAllows } from 'omega-track/internal';
import { freshDatabaseName, removeAllPostgresServers, startPostgresServer } from '../helpers/postgresServer';
import { tempDir } from '../helpers/tmp';
import { cliBin } from './cliRunner';

/** Every file of an SQLite store (the database and its WAL), as one text. */
function storeBytes(file: string): string {
  return [file, `${file}-wal`]
    .filter((f) => fs.existsSync(f))
    .map((f) => fs.readFileSync(f).toString('latin1'))
    .join('');
}

describe('omega-track token on the embedded store', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  test('create prints the token once, list never shows it, the registry verifies it, revoke ends it', async () => {
    const file = path.join(tmp.dir, 'a', 'server.db');
    const store = `sqlite:${file}`;
    const created = cliBin([
      'token',
      'create',
      'ci-writer',
      '--role',
      'write',
      '--experiments',
      'demo/*',
      '--store',
      store,
    ]);
    expect(created.code).toBe(0);
    // only the token on stdout; the note that it is shown once on stderr
    expect(created.out).toMatch(/^omt_[A-Za-z0-9_-]{43}\n$/);
    const token = created.out.trim();
    expect(created.err).toMatch(
      /token 'ci-writer' created \(role write, experiments demo\/\*\)\. It is shown this once/,
    );
    expect(created.err).not.toContain(token);
    const admin = cliBin(['token', 'create', 'ops', '--role', 'admin', '--store', store]);
    expect(admin.code).toBe(0);

    // a name in use is refused (exit 1), and the first token still works
    const again = cliBin(['token', 'create', 'ci-writer', '--role', 'read', '--store', store]);
    expect(again).toMatchObject({ code: 1, out: '' });
    expect(again.err).toMatch(/a token named 'ci-writer' exists already: revoke it first/);

    const table = cliBin(['token', 'list', '--store', store]);
    expect(table.code).toBe(0);
    const lines = table.out.trim().split('\n');
    expect(lines[0]).toMatch(/^name\s+role\s+experiments\s+created$/);
    expect(lines.slice(2).map((l) => l.split(/\s+/).slice(0, 3))).toEqual([
      ['ci-writer', 'write', 'demo/*'],
      ['ops', 'admin', '*'],
    ]);
    const json = cliBin(['token', 'list', '--json', '--store', store]);
    const listed = JSON.parse(json.out) as Array<Record<string, unknown>>;
    expect(listed.map((t) => [t.name, t.role, t.experiments])).toEqual([
      ['ci-writer', 'write', 'demo/*'],
      ['ops', 'admin', null],
    ]);
    expect(Object.keys(listed[0]).sort()).toEqual(['created', 'experiments', 'name', 'role']);
    expect(Number.isNaN(Date.parse(listed[0].created as string))).toBe(false);
    const digest = crypto.createHash('sha256').update(token).digest('hex');
    for (const out of [table.out, json.out]) {
      expect(out).not.toContain(token);
      expect(out).not.toContain(digest);
    }

    // stored hashed: the token's text is nowhere in the store's files, its sha256 is
    const bytes = storeBytes(file);
    expect(bytes).not.toContain(token);
    expect(bytes).not.toContain(token.slice(4));
    expect(bytes).toContain(digest);

    const registry = new TokenRegistry(openStore(store));
    try {
      const info = await registry.verify(token);
      expect(info).toEqual({
        name: 'ci-writer',
        role: 'write',
        experiments: 'demo/*',
        created: expect.any(Date),
      });
      expect(tokenAllows(info!, 'demo/a')).toBe(true);
      expect(tokenAllows(info!, 'prod/x')).toBe(false);
      expect(roleAllows(info!, 'write')).toBe(true);
      expect(roleAllows(info!, 'admin')).toBe(false);
      // a wrong token, one character off, of another form, or none at all lets nobody in
      const off = token.slice(0, -1) + (token.endsWith('A') ? 'B' : 'A');
      for (const wrong of [off, 'omt_' + 'x'.repeat(43), token + 'x', token.slice(4), '', undefined, 42])
        expect(await registry.verify(wrong)).toBeUndefined();

      // revoked from another process: refused within a second, by this registry too
      const revoked = cliBin(['token', 'revoke', 'ci-writer', '--store', store]);
      expect(revoked).toMatchObject({ code: 0, out: "revoked token 'ci-writer'\n" });
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(await registry.verify(token)).toBeUndefined();
      expect((await registry.list()).map((t) => t.name)).toEqual(['ops']);
    } finally {
      await registry.store.close();
    }
    const unknown = cliBin(['token', 'revoke', 'ci-writer', '--store', store]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/no token named 'ci-writer'/);

    // tokens are no models, datasets or experiments
    const om = omega({ store });
    try {
      expect(await om.models.list()).toEqual([]);
      expect(await om.datasets.list()).toEqual([]);
      expect(await om.experiments.list()).toEqual([]);
    } finally {
      await om.close();
    }
  }, 60_000);

  test.each([
    [['token', 'create', 'bad name', '--role', 'read'], 2, /a token name is 1 to 64 characters/],
    [['token', 'create', 'x'.repeat(65), '--role', 'read'], 2, /a token name is 1 to 64 characters/],
    [['token', 'create', '..', '--role', 'read'], 2, /'\.\.' is no token name/],
    [['token', 'create', 'x', '--role', 'root'], 2, /a token role is read, write or admin, got 'root'/],
    [['token', 'create', 'x'], 2, /name the role with --role read\|write\|admin/],
    [['token', 'create', 'x', '--role', 'read', '--experiments', ''], 2, /--experiments is empty/],
    [
      ['token', 'create', 'x', '--role', 'read', '--experiments', 'a\u0001b'],
      2,
      /must not contain control characters/,
    ],
    [
      ['token', 'create', 'x', '--role', 'read', '--experiments', 'a'.repeat(251)],
      2,
      /at most 250 characters/,
    ],
    [['token', 'create', '--role', 'read'], 2, /name the token/],
    [['token', 'list', '--role', 'read'], 2, /--role is not for 'token list'/],
    [['token', 'revoke', 'x', '--json'], 2, /--json is not for 'token revoke'/],
    [['token', 'rotate', 'x'], 2, /unknown action 'rotate': create, list or revoke/],
    [['token'], 2, /name the action/],
    [['token', 'create', 'x', 'y', '--role', 'read'], 2, /unexpected argument 'y'/],
    [
      ['token', 'create', 'x', '--role', 'read', '--store', 'http://127.0.0.1:9/'],
      2,
      /is a server: tokens are made on the server's own store/,
    ],
  ])('%j exits %i and says why; nothing is made', (argv, code, message) => {
    const file = path.join(tmp.dir, 'bad', 'server.db');
    const store = argv.includes('--store') ? [] : ['--store', `sqlite:${file}`];
    const result = cliBin([...argv, ...store]);
    expect(result.code).toBe(code);
    expect(result.out).toBe('');
    expect(result.err).toMatch(message);
    expect(result.err).not.toMatch(/^\s+at /m);
    // a bad command line makes no store, and so no token
    expect(fs.existsSync(file)).toBe(false);
  });

  test('list and revoke never create a store; list of a store without tokens says how to make one', () => {
    const file = path.join(tmp.dir, 'none', 'server.db');
    for (const argv of [
      ['token', 'list'],
      ['token', 'revoke', 'x'],
    ]) {
      const result = cliBin([...argv, '--store', `sqlite:${file}`]);
      expect(result.code).toBe(1);
      expect(result.err).toMatch(/no store at/);
    }
    expect(fs.existsSync(file)).toBe(false);
    const other = path.join(tmp.dir, 'empty', 'server.db');
    const om = omega({ store: `sqlite:${other}` });
    return om.close().then(() => {
      const result = cliBin(['token', 'list', '--store', `sqlite:${other}`]);
      expect(result).toMatchObject({ code: 0, out: '' });
      expect(result.err).toMatch(/no tokens: make one with omega-track token create/);
      expect(JSON.parse(cliBin(['token', 'list', '--json', '--store', `sqlite:${other}`]).out)).toEqual([]);
    });
  });
});

describe('TokenRegistry', () => {
  test('checks what it is given, with typed errors, and reads the store again after the cache time', async () => {
    let now = 1_000_000;
    const store = openStore('memory:');
    const registry = new TokenRegistry(store, { now: () => now });
    const other = new TokenRegistry(store, { now: () => now });
    try {
      await expect(registry.create('a/b', 'read')).rejects.toBeInstanceOf(TrackingInputError);
      await expect(registry.create('a', 'owner' as 'read')).rejects.toBeInstanceOf(TrackingInputError);
      await expect(registry.create('a', 'read', { experiments: ' ' })).rejects.toBeInstanceOf(
        TrackingInputError,
      );
      await expect(registry.revoke('')).rejects.toBeInstanceOf(TrackingInputError);
      const token = await registry.create('a', 'read', { experiments: 'team-[ab]/*' });
      await expect(registry.create('a', 'admin')).rejects.toBeInstanceOf(TrackingError);
      const info = await other.verify(token);
      expect(info?.name).toBe('a');
      expect(tokenAllows(info!, 'team-a/x')).toBe(true);
      expect(tokenAllows(info!, 'team-c/x')).toBe(false);
      // a pattern without a wildcard reaches that one experiment only
      const exact = await registry.create('exact', 'write', { experiments: 'demo' });
      // (made through `registry`: `other` reads it once its cached list is a second old)
      const exactInfo = (await registry.verify(exact))!;
      expect([tokenAllows(exactInfo, 'demo'), tokenAllows(exactInfo, 'demo/x')]).toEqual([true, false]);
      // revoked through another registry (another process): this one's cached list holds for ≤ 1 s
      expect(await registry.revoke('a')).toBe(true);
      expect(await registry.revoke('a')).toBe(false);
      expect(await registry.verify(token)).toBeUndefined();
      now += 500;
      expect((await other.verify(token))?.name).toBe('a');
      now += 600;
      expect(await other.verify(token)).toBeUndefined();
      // an entry changed by hand (an unknown role) lets nobody in and is not listed
      const entry = (await store.getEntry('system', 'tokens/exact'))!;
      await store.putEntry('system', { ...entry, attributes: { ...entry.attributes, role: 'root' } });
      now += 2000;
      expect(await registry.verify(exact)).toBeUndefined();
      expect(await other.verify(exact)).toBeUndefined();
      expect(await other.list()).toEqual([]);
    } finally {
      await store.close();
    }
  });
});

describe('omega-track token on PostgreSQL', () => {
  afterAll(() => removeAllPostgresServers(), 30_000);

  test('create, list, verify and revoke work on a PostgreSQL store, which never holds the token', async () => {
    const server = await startPostgresServer();
    const db = freshDatabaseName();
    const url = await server.createDatabase(db);
    const created = cliBin([
      'token',
      'create',
      'demo',
      '--role',
      'write',
      '--experiments',
      'demo/*',
      '--store',
      url,
    ]);
    expect(created.code).toBe(0);
    const token = created.out.trim();
    expect(JSON.parse(cliBin(['token', 'list', '--json', '--store', url]).out)).toEqual([
      { name: 'demo', role: 'write', experiments: 'demo/*', created: expect.any(String) },
    ]);
    expect(server.sql(db, `SELECT count(*) FROM omega.entries WHERE attributes LIKE '%${token}%'`)).toBe('0');
    expect(server.sql(db, "SELECT bucket || ' ' || name || ' ' || kind FROM omega.entries")).toBe(
      'system tokens/demo server.token',
    );
    const registry = new TokenRegistry(openStore(url));
    try {
      expect((await registry.verify(token))?.role).toBe('write');
      expect(cliBin(['token', 'revoke', 'demo', '--store', url]).code).toBe(0);
      expect(await registry.list()).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect(await registry.verify(token)).toBeUndefined();
    } finally {
      await registry.store.close();
    }
  }, 90_000);
});
