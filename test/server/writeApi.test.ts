/**
 * The write API of `omega-track server` (a real process on 127.0.0.1): a round trip, and every
 * kind of bad body refused with a 4xx that stores nothing while the server keeps serving.
 */
import path from 'node:path';
import { startTeamServer } from '../helpers/teamServer';
import type { TeamServer } from '../helpers/teamServer';
import { tempDir } from '../helpers/tmp';
import { call, experimentEntry, metricBatch, startBody, storedRows } from './api';

let tmp: ReturnType<typeof tempDir>;
let server: TeamServer;
let url: string;

beforeAll(async () => {
  tmp = tempDir('omega-server-');
  server = await startTeamServer({ store: `sqlite:${path.join(tmp.dir, 'omega.db')}` });
  url = server.url;
});

afterAll(async () => {
  await server?.close();
  tmp?.cleanup();
});

const enc = encodeURIComponent;

/** Makes an experiment with its configuration and one started run; returns the run. */
async function prepare(name: string): Promise<number> {
  expect(
    (
      await call(url, `/api/v1/entries/models/entry?name=${enc(`experiments/${name}`)}`, {
        method: 'PUT',
        body: experimentEntry(name),
      })
    ).status,
  ).toBe(204);
  const started = await call(url, `/api/v1/experiments/${enc(name)}/runs`, { body: startBody() });
  expect(started.status).toBe(200);
  return (started.json as { run: number }).run;
}

describe('omega-track server: the write API', () => {
  test('start a run, log events, read them back through the API, the UI API and the live view', async () => {
    const name = 'team/round trip';
    const info = await call(url, '/api/v1/server');
    expect(info.json).toMatchObject({ api: 1, writer: 'local', role: 'admin', experiments: null });
    const run = await prepare(name);
    expect(run).toBe(1);
    const batch = metricBatch('rt-000001', run, 3);
    (batch.value as unknown[])[1] = { '$omega.nonfinite': 'NaN' };
    batch.extra = [null, { fold: 2, writer: 'mallory' }, null];
    const stored = await call(url, `/api/v1/experiments/${enc(name)}/events`, { body: batch });
    expect({ status: stored.status, body: stored.json }).toEqual({
      status: 200,
      body: { stored: 3, duplicate: false },
    });
    // a second batch, gzip-encoded
    const more = await call(url, `/api/v1/experiments/${enc(name)}/events`, {
      body: metricBatch('rt-000002', run, 2, 3),
      gzip: true,
    });
    expect(more.json).toEqual({ stored: 2, duplicate: false });

    const rows = await storedRows(url, name);
    expect(rows.map((r) => [r.event, r.step])).toEqual([
      ['start', null],
      ['metric', 0],
      ['metric', 1],
      ['metric', 2],
      ['metric', 3],
      ['metric', 4],
    ]);
    expect(rows[2].value).toEqual({ '$omega.nonfinite': 'NaN' });
    expect(rows[2].fold).toBe(2);
    // the server's word for who wrote: the client's own 'writer' is replaced
    expect(rows.every((r) => r.writer === 'local')).toBe(true);
    expect(rows[1]).toMatchObject({ node: 'host1', userid: 'alice', value: 1 });

    expect((await call(url, `/api/v1/experiments/${enc(name)}/latest-run`)).json).toEqual({ run: 1 });
    expect((await call(url, '/api/v1/experiments')).json).toEqual({ experiments: [name] });
    const mark = (await call(url, `/api/v1/experiments/${enc(name)}/mark`)).json as {
      runs: number;
      mark: string;
    };
    expect(mark.runs).toBe(1);
    const stats = (await call(url, `/api/v1/experiments/${enc(name)}/run-stats`, { body: {} })).json as {
      rows: Array<{ key: string; count: number }>;
    };
    expect(stats.rows.find((r) => r.key === 'loss')?.count).toBe(5);
    expect(
      (
        await call(url, `/api/v1/experiments/${enc(name)}/beats`, {
          body: { runs: [1], owner: 'p1', intervalMs: 5000 },
        })
      ).status,
    ).toBe(204);
    const live = (await call(url, `/api/v1/experiments/${enc(name)}/liveness`)).json as { runs: number[][] };
    expect(live.runs[0].slice(0, 1)).toEqual([1]);

    // the UI's read API over the same store
    const ui = await call(url, `/api/experiments/${enc(name)}/runs`);
    expect(ui.status).toBe(200);
    const uiRuns = (ui.json as { runs: Array<{ run: number; metrics: Record<string, { count: number }> }> })
      .runs;
    expect(uiRuns[0].run).toBe(1);
    expect(uiRuns[0].metrics.loss.count).toBe(5);
    const events = await call(url, `/api/experiments/${enc(name)}/runs/1/events?event=metric`);
    expect((events.json as { total: number }).total).toBe(5);
  });

  test('a batch sent again with the same id and content is stored once', async () => {
    const name = 'replay';
    const run = await prepare(name);
    const batch = metricBatch('replay-1', run, 4);
    expect((await call(url, `/api/v1/experiments/${name}/events`, { body: batch })).json).toEqual({
      stored: 4,
      duplicate: false,
    });
    expect((await call(url, `/api/v1/experiments/${name}/events`, { body: batch })).json).toEqual({
      stored: 0,
      duplicate: true,
    });
    // the same id with other content: a conflict, nothing stored
    const other = metricBatch('replay-1', run, 4, 100);
    const conflict = await call(url, `/api/v1/experiments/${name}/events`, { body: other });
    expect({ status: conflict.status, code: (conflict.json as { code: string }).code }).toEqual({
      status: 409,
      code: 'conflict',
    });
    expect((await storedRows(url, name)).filter((r) => r.event === 'metric')).toHaveLength(4);
    // a run start sent again with its request id answers the run it started
    const start = startBody('req-1');
    const a = await call(url, `/api/v1/experiments/${name}/runs`, { body: start });
    expect(a.json).toEqual({ run: 2 });
    expect((await call(url, `/api/v1/experiments/${name}/runs`, { body: start })).json).toEqual({ run: 2 });
    const otherStart = await call(url, `/api/v1/experiments/${name}/runs`, {
      body: { ...start, atLeast: 10 },
    });
    expect(otherStart.status).toBe(409);
    expect((await call(url, `/api/v1/experiments/${name}/latest-run`)).json).toEqual({ run: 2 });
  });

  describe('bad bodies: a 4xx, nothing stored, the server keeps serving', () => {
    const name = 'bad/bodies';
    let run: number;
    beforeAll(async () => {
      run = await prepare(name);
    });

    const cases: Array<[string, (b: Record<string, unknown>) => unknown]> = [
      ['columns of different lengths', (b) => ({ ...b, step: [0] })],
      ['an index out of range', (b) => ({ ...b, key: [1, 9] })],
      ['a negative index', (b) => ({ ...b, node: [2, -1] })],
      ['run 0', (b) => ({ ...b, run: [1, 0] })],
      ['a run not started yet', (b) => ({ ...b, run: [1, 99] })],
      ["a forged 'start' event", (b) => ({ ...b, strings: ['start', 'loss', 'host1', 'alice'] })],
      ['a NaN step', (b) => ({ ...b, step: [0, { '$omega.nonfinite': 'NaN' }] })],
      ['a negative step', (b) => ({ ...b, step: [0, -1] })],
      ['a fractional step', (b) => ({ ...b, step: [0, 1.5] })],
      ['a dt that is text', (b) => ({ ...b, dt: [Date.now(), 'yesterday'] })],
      ['an infinite dt', (b) => ({ ...b, dt: [Date.now(), { '$omega.nonfinite': 'Infinity' }] })],
      ['an over-long key', (b) => ({ ...b, strings: ['metric', 'k'.repeat(251), 'host1', 'alice'] })],
      [
        'a param over its cap',
        (b) => ({ ...b, strings: ['param', 'lr', 'host1', 'alice'], value: ['x', 'y'.repeat(6001)] }),
      ],
      ['an extra that is an array', (b) => ({ ...b, extra: [null, [1, 2]] })],
      ['an extra that is a number', (b) => ({ ...b, extra: [null, 5] })],
      ['an extra named like a base field', (b) => ({ ...b, extra: [null, { step: 3 }] })],
      ['a batch id with a slash', (b) => ({ ...b, batch: 'a/b' })],
      ['an empty batch id', (b) => ({ ...b, batch: '' })],
      ['a batch id of 129 characters', (b) => ({ ...b, batch: 'x'.repeat(129) })],
      ['no batch id', (b) => ({ ...b, batch: undefined })],
      ['a column missing', (b) => ({ ...b, userid: undefined })],
      ['not an object', () => [1, 2, 3]],
    ];
    test.each(cases)('%s', async (_what, mutate) => {
      const body = mutate(metricBatch(`bad-${Math.random().toString(36).slice(2)}`, run, 2));
      const a = await call(url, `/api/v1/experiments/${enc(name)}/events`, { body });
      expect(a.status).toBe(400);
      expect(a.json).toMatchObject({ code: 'bad-request', error: expect.any(String) });
      expect((await storedRows(url, name)).filter((r) => r.event !== 'start')).toHaveLength(0);
      expect((await call(url, '/api/v1/server')).status).toBe(200);
    });

    test('one bad row among good ones refuses the whole batch, naming the row', async () => {
      const body = metricBatch('bad-row', run, 1000);
      (body.step as unknown[])[617] = -3;
      const a = await call(url, `/api/v1/experiments/${enc(name)}/events`, { body });
      expect(a.status).toBe(400);
      expect((a.json as { error: string }).error).toMatch(/row 617/);
      expect((await storedRows(url, name)).filter((r) => r.event !== 'start')).toHaveLength(0);
    });

    test('truncated JSON, a gzip body that is no gzip, another content type, another encoding', async () => {
      const text = JSON.stringify(metricBatch('cut', run, 10));
      const cut = await call(url, `/api/v1/experiments/${enc(name)}/events`, {
        body: text.slice(0, text.length / 2),
      });
      expect(cut.status).toBe(400);
      const notGzip = await call(url, `/api/v1/experiments/${enc(name)}/events`, {
        body: text,
        headers: { 'Content-Encoding': 'gzip' },
      });
      expect(notGzip.status).toBe(400);
      const xml = await call(url, `/api/v1/experiments/${enc(name)}/events`, {
        body: '<batch/>',
        headers: { 'Content-Type': 'application/xml' },
      });
      expect(xml.status).toBe(415);
      const br = await call(url, `/api/v1/experiments/${enc(name)}/events`, {
        body: text,
        headers: { 'Content-Encoding': 'br' },
      });
      expect(br.status).toBe(415);
      expect((await storedRows(url, name)).filter((r) => r.event !== 'start')).toHaveLength(0);
    });

    test('a 100 MB body is a 413 at once (declared or not), and a gzip bomb too', async () => {
      const big = Buffer.alloc(100 * 1024 * 1024, 0x20);
      const t0 = Date.now();
      const a = await call(url, `/api/v1/experiments/${enc(name)}/events`, { body: big });
      expect(a.status).toBe(413);
      expect((a.json as { code: string }).code).toBe('too-large');
      // sent in chunks without a length: refused once the limit is passed
      async function* chunks(): AsyncGenerator<Buffer> {
        for (let i = 0; i < 100; i++) yield Buffer.alloc(1024 * 1024, 0x20);
      }
      const streamed = await fetch(`${url}/api/v1/experiments/${enc(name)}/events`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: chunks(),
        duplex: 'half',
      }).then(
        (r) => r.status,
        () => 'cut',
      );
      expect(streamed).toBe(413);
      // 200 MiB of spaces gzip to 200 KiB: the decoded size is what counts
      const bomb = await call(url, `/api/v1/experiments/${enc(name)}/events`, {
        body: Buffer.alloc(200 * 1024 * 1024, 0x20),
        gzip: true,
      });
      expect(bomb.status).toBe(413);
      expect(Date.now() - t0).toBeLessThan(20_000);
      expect((await storedRows(url, name)).filter((r) => r.event !== 'start')).toHaveLength(0);
      expect((await call(url, '/api/v1/server')).status).toBe(200);
    });

    test('a run start that is not one: 400, no run made', async () => {
      const bad = startBody();
      (bad.start as Record<string, unknown>).event = 'metric';
      const a = await call(url, `/api/v1/experiments/${enc(name)}/runs`, { body: bad });
      expect(a.status).toBe(400);
      const stepped = startBody();
      (stepped.start as Record<string, unknown>).step = 'x';
      expect((await call(url, `/api/v1/experiments/${enc(name)}/runs`, { body: stepped })).status).toBe(400);
      expect(
        (await call(url, `/api/v1/experiments/${enc(name)}/runs`, { body: { ...startBody(), more: 1 } }))
          .status,
      ).toBe(400);
      expect((await call(url, `/api/v1/experiments/${enc(name)}/latest-run`)).json).toEqual({ run });
    });

    test('names no experiment can have, buckets and blobs out of reach', async () => {
      expect((await call(url, `/api/v1/experiments/${enc('a/../b')}/latest-run`)).status).toBe(400);
      expect((await call(url, '/api/v1/entries/system?prefix=tokens/')).status).toBe(404);
      expect((await call(url, '/api/v1/entries/models/entry?name=nope')).status).toBe(404);
      const entry = experimentEntry('x');
      const mismatch = await call(url, `/api/v1/entries/models/entry?name=${enc('experiments/y')}`, {
        method: 'PUT',
        body: entry,
      });
      expect(mismatch.status).toBe(400);
    });
  });

  test('blobs: put as a stream, read back, deleted by prefix; over the limit a 413', async () => {
    const key = `.experiments/${enc('blobby')}/art-1`;
    const data = Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251));
    const put = await fetch(`${url}/api/v1/blobs?key=${enc(key)}`, {
      method: 'PUT',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: data,
    });
    expect(put.status).toBe(204);
    const got = await fetch(`${url}/api/v1/blobs?key=${enc(key)}`);
    expect(got.status).toBe(200);
    expect(Buffer.from(await got.arrayBuffer()).equals(data)).toBe(true);
    expect((await call(url, `/api/v1/blobs?key=${enc('.experiments/none/x')}`)).status).toBe(404);
    const del = await call(url, `/api/v1/blobs?prefix=${enc(`.experiments/${enc('blobby')}/`)}`, {
      method: 'DELETE',
    });
    expect(del.json).toEqual({ deleted: 1 });
  });
});
