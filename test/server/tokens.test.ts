/**
 * Tokens on `omega-track server` (a real process): beyond loopback nothing is served or taken
 * without a valid token; roles and experiment scopes hold for the write API and the UI alike;
 * refused writes store nothing; every event carries the writing token's name.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { startTeamServer } from '../helpers/teamServer';
import type { TeamServer } from '../helpers/teamServer';
import { sleep, tempDir } from '../helpers/tmp';
import { call, experimentEntry, metricBatch, startBody, storedRows } from './api';

const BIN = path.join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
const enc = encodeURIComponent;
/** What a request from beyond this machine looks like when it comes through a proxy here. */
const PROXIED = { 'X-Forwarded-For': '203.0.113.7' };

let tmp: ReturnType<typeof tempDir>;
let store: string;
let server: TeamServer;
const tokens: Record<string, string> = {};

/** `omega-track token …` on the server's store; returns its stdout. */
function tokenCli(...args: string[]): string {
  return execFileSync(process.execPath, [BIN, 'token', ...args, '--store', store], { encoding: 'utf8' });
}

/** Creates a token with the CLI and returns its text (printed once). */
function createToken(name: string, role: string, experiments?: string): string {
  const out = tokenCli(
    'create',
    name,
    '--role',
    role,
    ...(experiments ? ['--experiments', experiments] : []),
  );
  const m = /omt_[A-Za-z0-9_-]{43}/.exec(out);
  if (!m) throw new Error(`no token printed: ${out}`);
  return m[0];
}

/** Prepares an experiment (config and one run) as the loopback admin; returns the run. */
async function prepare(name: string): Promise<number> {
  const put = await call(server.url, `/api/v1/entries/models/entry?name=${enc(`experiments/${name}`)}`, {
    method: 'PUT',
    body: experimentEntry(name),
  });
  expect(put.status).toBe(204);
  return (
    (await call(server.url, `/api/v1/experiments/${enc(name)}/runs`, { body: startBody() })).json as {
      run: number;
    }
  ).run;
}

/** The metric rows stored in `name`. */
async function metrics(name: string): Promise<Array<Record<string, unknown>>> {
  return (await storedRows(server.url, name)).filter((r) => r.event === 'metric');
}

beforeAll(async () => {
  tmp = tempDir('omega-server-tokens-');
  store = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
  // the store exists before the tokens go into it
  server = await startTeamServer({ store });
  tokens.writer = createToken('trainer-1', 'write');
  tokens.reader = createToken('dashboards', 'read');
  tokens.demo = createToken('demo-page', 'write', 'demo/*');
  tokens.revoked = createToken('old-laptop', 'write');
  await prepare('prod/x');
  await prepare('demo/a');
});

afterAll(async () => {
  await server?.close();
  tmp?.cleanup();
});

describe('the token matrix on the write API (from beyond loopback)', () => {
  const write = (
    experiment: string,
    token: string | undefined,
    id: string,
    headers: Record<string, string> = PROXIED,
  ) =>
    call(server.url, `/api/v1/experiments/${enc(experiment)}/events`, {
      body: metricBatch(id, 1, 3),
      token,
      headers,
    });

  test('no token: 401 with WWW-Authenticate, nothing stored', async () => {
    const a = await write('prod/x', undefined, 'nt-1');
    expect(a.status).toBe(401);
    expect(a.headers.get('www-authenticate')).toBe('Bearer');
    expect((a.json as { code: string }).code).toBe('unauthorized');
    // Forwarded (RFC 7239) counts as much as X-Forwarded-For
    expect((await write('prod/x', undefined, 'nt-2', { Forwarded: 'for=203.0.113.7' })).status).toBe(401);
    expect(await metrics('prod/x')).toHaveLength(0);
  });

  test('a wrong token: 401, also on loopback where no token would do', async () => {
    expect((await write('prod/x', 'omt_' + 'x'.repeat(43), 'wt-1')).status).toBe(401);
    expect((await write('prod/x', tokens.writer + 'x', 'wt-2', {})).status).toBe(401);
    expect(await metrics('prod/x')).toHaveLength(0);
  });

  test('a read token writing: 403, nothing stored; it reads', async () => {
    const a = await write('prod/x', tokens.reader, 'rt-1');
    expect({ status: a.status, code: (a.json as { code: string }).code }).toEqual({
      status: 403,
      code: 'forbidden',
    });
    expect(
      (
        await call(server.url, `/api/v1/experiments/prod%2Fx/runs`, {
          body: startBody(),
          token: tokens.reader,
          headers: PROXIED,
        })
      ).status,
    ).toBe(403);
    expect(
      (
        await call(server.url, '/api/v1/experiments/prod%2Fx/latest-run', {
          token: tokens.reader,
          headers: PROXIED,
        })
      ).json,
    ).toEqual({ run: 1 });
    expect(await metrics('prod/x')).toHaveLength(0);
  });

  test('a demo/* token writing prod/x: 403, nothing stored; demo/a is fine, stamped with its name', async () => {
    expect((await write('prod/x', tokens.demo, 'dt-1')).status).toBe(403);
    expect(await metrics('prod/x')).toHaveLength(0);
    const ok = await write('demo/a', tokens.demo, 'dt-2');
    expect(ok.json).toEqual({ stored: 3, duplicate: false });
    expect((await metrics('demo/a')).map((r) => r.writer)).toEqual(['demo-page', 'demo-page', 'demo-page']);
    // it sees only its experiments, and reaches no entry or blob of another
    const listed = await call(server.url, '/api/v1/experiments', { token: tokens.demo, headers: PROXIED });
    expect(listed.json).toEqual({ experiments: ['demo/a'] });
    const other = await call(server.url, `/api/v1/entries/models/entry?name=${enc('experiments/prod/x')}`, {
      token: tokens.demo,
      headers: PROXIED,
    });
    expect(other.status).toBe(403);
    const entries = await call(server.url, '/api/v1/entries/models', {
      token: tokens.demo,
      headers: PROXIED,
    });
    expect((entries.json as { entries: Array<{ name: string }> }).entries.map((e) => e.name)).toEqual([
      'experiments/demo/a',
    ]);
    const blob = await call(server.url, `/api/v1/blobs?key=${enc(`.experiments/${enc('prod/x')}/a`)}`, {
      method: 'PUT',
      body: Buffer.from('x'),
      headers: { ...PROXIED, 'Content-Type': 'application/octet-stream' },
      token: tokens.demo,
    });
    expect(blob.status).toBe(403);
    expect(
      (await call(server.url, '/api/v1/server', { token: tokens.demo, headers: PROXIED })).json,
    ).toMatchObject({
      writer: 'demo-page',
      role: 'write',
      experiments: 'demo/*',
    });
  });

  test('a writer token: stored, stamped with its name; a revoked one: 401 within a second, nothing stored', async () => {
    expect((await write('prod/x', tokens.writer, 'wr-1')).json).toEqual({ stored: 3, duplicate: false });
    expect((await metrics('prod/x')).map((r) => r.writer)).toEqual(['trainer-1', 'trainer-1', 'trainer-1']);
    expect((await write('prod/x', tokens.revoked, 'rv-1')).status).toBe(200);
    tokenCli('revoke', 'old-laptop');
    await sleep(1500);
    const a = await write('prod/x', tokens.revoked, 'rv-2');
    expect(a.status).toBe(401);
    expect(await metrics('prod/x')).toHaveLength(6);
    // a write token cannot delete: that is an admin's
    const del = await call(server.url, '/api/v1/experiments/prod%2Fx/events', {
      method: 'DELETE',
      token: tokens.writer,
      headers: PROXIED,
    });
    expect(del.status).toBe(403);
    expect(await metrics('prod/x')).toHaveLength(6);
  });

  test('no token is ever written to the server’s output', () => {
    const { stdout, stderr } = server.output();
    for (const t of Object.values(tokens)) expect(stdout + stderr).not.toContain(t);
  });
});

describe('the UI beyond loopback', () => {
  test('through a proxy: no data without a token; a scoped token sees only its experiments', async () => {
    for (const p of ['/', '/api/experiments', '/api/experiments/prod%2Fx/runs', '/api/live']) {
      const a = await call(server.url, p, { headers: PROXIED });
      expect({ p, status: a.status }).toEqual({ p, status: 401 });
      expect(a.text).not.toContain('prod/x');
    }
    const scoped = await call(server.url, '/api/experiments', { token: tokens.demo, headers: PROXIED });
    expect((scoped.json as { experiments: Array<{ name: string }> }).experiments.map((e) => e.name)).toEqual([
      'demo/a',
    ]);
    expect(
      (await call(server.url, '/api/experiments/prod%2Fx/runs', { token: tokens.demo, headers: PROXIED }))
        .status,
    ).toBe(403);
    const all = await call(server.url, `/api/experiments?token=${tokens.reader}`, { headers: PROXIED });
    expect(
      (all.json as { experiments: Array<{ name: string }> }).experiments.map((e) => e.name).sort(),
    ).toEqual(['demo/a', 'prod/x']);
  });

  test('bound to 0.0.0.0: every request needs a token, from anywhere; the page sets the cookie', async () => {
    const open = await startTeamServer({ store, args: ['--host', '0.0.0.0'] });
    try {
      // the note goes to stderr, a pipe of its own: it may come a moment after the URL
      for (let i = 0; i < 50 && !/needs a token/.test(open.output().stderr); i++) await sleep(100);
      expect(open.output().stderr).toMatch(/needs a token/);
      for (const p of ['/', '/api/experiments', '/api/v1/server', '/api/v1/experiments'])
        expect({ p, status: (await call(open.url, p)).status }).toEqual({ p, status: 401 });
      const refused = await call(open.url, '/api/v1/experiments/prod%2Fx/events', {
        body: metricBatch('o-1', 1, 1),
      });
      expect(refused.status).toBe(401);
      const page = await call(open.url, `/?token=${tokens.reader}`);
      expect(page.status).toBe(200);
      expect(page.headers.get('set-cookie')).toMatch(/^omega_ui_token=omt_/);
      const cookie = (page.headers.get('set-cookie') ?? '').split(';')[0];
      expect((await call(open.url, '/api/experiments', { headers: { Cookie: cookie } })).status).toBe(200);
      // the API itself takes the Bearer header only
      expect((await call(open.url, '/api/v1/experiments', { headers: { Cookie: cookie } })).status).toBe(401);
      expect((await call(open.url, '/api/v1/experiments', { token: tokens.reader })).status).toBe(200);
    } finally {
      await open.close();
    }
    expect(await metrics('prod/x')).toHaveLength(6);
  });
});
