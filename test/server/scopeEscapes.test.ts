/**
 * What a writer stores must not take the server beyond the writer's reach: artifact events that
 * name another experiment's content, experiment configurations that name a provider the server
 * would run with the writer's options, bodies of a type a page of any site may send.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { startTeamServer } from '../helpers/teamServer';
import type { TeamServer } from '../helpers/teamServer';
import { tempDir } from '../helpers/tmp';
import { call, experimentEntry, startBody, storedRows } from './api';

const BIN = path.join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');
const enc = encodeURIComponent;
/** A request from beyond this machine, through a proxy here. */
const PROXIED = { 'X-Forwarded-For': '203.0.113.7' };
const SECRET = 'PROD-WEIGHTS-NOT-FOR-DEMO';
const PROD_BLOB = '.experiments/prod%2Fx/0123456789abcdef';
const PROD_MODEL = '.experiments/.artefacts/0123456789abcdef';

let tmp: ReturnType<typeof tempDir>;
let store: string;
let server: TeamServer;
let demo: string;
let demoRun: number;

/** A batch of one `artifact` event `stolen` of `run` with `value`. */
function artifactBatch(id: string, run: number, value: unknown): Record<string, unknown> {
  return {
    batch: id,
    strings: ['artifact', 'stolen', 'host1', 'mallory'],
    run: [run],
    event: [0],
    key: [1],
    value: [value],
    step: [null],
    dt: [Date.now()],
    node: [2],
    userid: [3],
  };
}

beforeAll(async () => {
  tmp = tempDir('omega-server-escapes-');
  store = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
  server = await startTeamServer({ store });
  const out = execFileSync(
    process.execPath,
    [BIN, 'token', 'create', 'demo-page', '--role', 'write', '--experiments', 'demo/*', '--store', store],
    { encoding: 'utf8' },
  );
  demo = (/omt_[A-Za-z0-9_-]{43}/.exec(out) ?? [''])[0];
  // prod/x holds a blob and a model entry of its own, written by the loopback admin
  for (const name of ['prod/x', 'demo/a'])
    expect(
      (
        await call(server.url, `/api/v1/entries/models/entry?name=${enc(`experiments/${name}`)}`, {
          method: 'PUT',
          body: experimentEntry(name),
        })
      ).status,
    ).toBe(204);
  expect(
    (
      await call(server.url, `/api/v1/blobs?key=${enc(PROD_BLOB)}`, {
        method: 'PUT',
        body: Buffer.from(SECRET),
        headers: { 'Content-Type': 'application/octet-stream' },
      })
    ).status,
  ).toBe(204);
  const now = Date.now();
  expect(
    (
      await call(server.url, `/api/v1/entries/models/entry?name=${enc(PROD_MODEL)}`, {
        method: 'PUT',
        body: {
          name: PROD_MODEL,
          kind: 'json.object',
          attributes: { experiment: 'prod/x', artifact: 'm' },
          data: { secret: SECRET },
          created: now,
          modified: now,
        },
      })
    ).status,
  ).toBe(204);
  const started = await call(server.url, '/api/v1/experiments/demo%2Fa/runs', {
    body: startBody(),
    token: demo,
    headers: PROXIED,
  });
  demoRun = (started.json as { run: number }).run;
});

afterAll(async () => {
  await server?.close();
  tmp?.cleanup();
});

describe('artifact events name only content of their own experiment', () => {
  test("a scoped writer's artifact that names another experiment's blob is refused; the UI cannot be made to serve it", async () => {
    const forged = [
      { name: 'stolen', format: 'binary', data: { blob: PROD_BLOB, bytes: SECRET.length } },
      { name: 'stolen', format: 'serialized', data: { blob: PROD_BLOB } },
      // a prefix: delete-run deletes every blob under what the reference names
      { name: 'stolen', format: 'binary', data: { blob: '.experiments/' } },
      { name: 'stolen', format: 'binary', data: { blob: '.experiments/demo%2Fa/' } },
      // an entry that is no artifact entry: delete-run and drop would drop it
      { name: 'stolen', format: 'model', data: 'experiments/prod/x' },
      { name: 'stolen', format: 'dataset', data: ['experiments/prod/x'] },
    ];
    for (const [i, value] of forged.entries()) {
      const a = await call(server.url, '/api/v1/experiments/demo%2Fa/events', {
        body: artifactBatch(`forged-${i}`, demoRun, value),
        token: demo,
        headers: PROXIED,
      });
      expect({ i, status: a.status, code: (a.json as { code?: string }).code }).toEqual({
        i,
        status: 400,
        code: 'bad-request',
      });
    }
    // an artifact entry of another experiment: the scoped token does not own it
    const model = await call(server.url, '/api/v1/experiments/demo%2Fa/events', {
      body: artifactBatch('forged-model', demoRun, { name: 'stolen', format: 'model', data: PROD_MODEL }),
      token: demo,
      headers: PROXIED,
    });
    expect(model.status).toBe(403);
    expect((await storedRows(server.url, 'demo/a')).filter((r) => r.event === 'artifact')).toEqual([]);
    const ui = await call(server.url, `/api/experiments/demo%2Fa/runs/${demoRun}/artifact?key=stolen`, {
      token: demo,
      headers: PROXIED,
    });
    expect(ui.status).toBe(404);
    expect(ui.text).not.toContain(SECRET);
  });

  test("an artifact in the experiment's own blobs is taken and served", async () => {
    const key = '.experiments/demo%2Fa/fedcba9876543210';
    const put = await call(server.url, `/api/v1/blobs?key=${enc(key)}`, {
      method: 'PUT',
      body: Buffer.from('demo bytes'),
      token: demo,
      headers: { ...PROXIED, 'Content-Type': 'application/octet-stream' },
    });
    expect(put.status).toBe(204);
    const a = await call(server.url, '/api/v1/experiments/demo%2Fa/events', {
      body: artifactBatch('own-1', demoRun, {
        name: 'own',
        format: 'binary',
        data: { blob: key, bytes: 10 },
      }),
      token: demo,
      headers: PROXIED,
    });
    expect(a.status).toBe(200);
    const ui = await call(server.url, `/api/experiments/demo%2Fa/runs/${demoRun}/artifact?key=stolen`, {
      token: demo,
      headers: PROXIED,
    });
    expect({ status: ui.status, text: ui.text }).toEqual({ status: 200, text: 'demo bytes' });
  });
});

test("a writer's experiment configuration naming MLflow does not make the server call a URL or create a file", async () => {
  let calls = 0;
  const mlflow = http.createServer((_req, res) => {
    calls++;
    res.writeHead(500).end();
  });
  await new Promise<void>((r) => mlflow.listen(0, '127.0.0.1', r));
  try {
    const spool = path.join(tmp.dir, 'chosen-by-the-writer.db');
    const entry = experimentEntry('demo/evil') as { attributes: { tracking: Record<string, unknown> } };
    entry.attributes.tracking.provider = 'mlflow';
    entry.attributes.tracking.options = {
      trackingUri: `http://127.0.0.1:${(mlflow.address() as AddressInfo).port}/`,
      spool,
    };
    const put = await call(server.url, `/api/v1/entries/models/entry?name=${enc('experiments/demo/evil')}`, {
      method: 'PUT',
      body: entry,
      token: demo,
      headers: PROXIED,
    });
    expect(put.status).toBe(204);
    const ui = await call(server.url, '/api/experiments/demo%2Fevil/runs', { token: demo, headers: PROXIED });
    // read from the server's store, as an experiment of a provider the server does not run
    expect(ui.status).toBe(200);
    expect(fs.existsSync(spool)).toBe(false);
    expect(calls).toBe(0);
  } finally {
    await new Promise<void>((r) => mlflow.close(() => r()));
  }
});

test('a body sent as text/plain (what any page may POST without a preflight) is a 415', async () => {
  const a = await call(server.url, '/api/v1/experiments/demo%2Fa/runs', {
    body: JSON.stringify(startBody()),
    headers: { 'Content-Type': 'text/plain;charset=UTF-8' },
  });
  expect({ status: a.status, code: (a.json as { code?: string }).code }).toEqual({
    status: 415,
    code: 'unsupported-media-type',
  });
});
