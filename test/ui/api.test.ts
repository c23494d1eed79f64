import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import type { UiServerHandle } from 'omega-track';
import { omega, startUiServer } from 'omega-track';
import { SqliteStore } from 'omega-track/internal';
import { parseCsv } from '../cli/cliRunner';
import type { Answer, PreparedStore } from './helpers';
import { BINARY, XSS_NAME, openEvents, prepareStore, request, startServer } from './helpers';

const enc = encodeURIComponent;
const REPO = path.join(__dirname, '..', '..');

/** What the store holds that a reader could change: the entries and every experiment's events. */
async function snapshot(store: string): Promise<string> {
  const om = omega({ store, create: false });
  try {
    const entries = await om.store.listEntries('models');
    const marks: Record<string, unknown> = {};
    for (const name of await om.experiments.list()) marks[name] = await om.store.changeMark!(name);
    return JSON.stringify({ entries, marks });
  } finally {
    await om.close();
  }
}

describe('the UI server', () => {
  let prepared: PreparedStore;
  let server: UiServerHandle;
  let uiDir: string;
  let before: string;
  const get = (p: string, headers: Record<string, string> = {}): Promise<Answer> =>
    request(server.port, p, { headers });
  const json = async (p: string): Promise<Record<string, unknown>> => {
    const a = await get(p);
    expect({ path: p, status: a.status, body: a.status === 200 ? 'ok' : a.text }).toEqual({
      path: p,
      status: 200,
      body: 'ok',
    });
    return a.json as Record<string, unknown>;
  };

  beforeAll(async () => {
    prepared = await prepareStore();
    // a built UI of our own: the real one is helper-built and not needed for the API
    uiDir = path.join(prepared.dir, 'ui');
    fs.mkdirSync(path.join(uiDir, 'assets', 'sub'), { recursive: true });
    fs.writeFileSync(
      path.join(uiDir, 'index.html'),
      '<!doctype html><title>omega</title><script src="assets/app.js"></script>',
    );
    fs.writeFileSync(path.join(uiDir, 'assets', 'app.js'), 'console.log("app");');
    fs.writeFileSync(path.join(uiDir, 'assets', 'sub', 'x.css'), 'body{}');
    fs.writeFileSync(path.join(uiDir, 'assets', '.hidden'), 'hidden');
    fs.writeFileSync(path.join(uiDir, 'secret.txt'), 'SECRET-OUTSIDE-ASSETS');
    fs.symlinkSync(path.join(uiDir, 'secret.txt'), path.join(uiDir, 'assets', 'link.txt'));
    before = await snapshot(prepared.store);
    server = await startServer(prepared.store, { uiDir });
  });

  afterAll(async () => {
    await server?.close();
    await prepared?.cleanup();
  });

  describe('experiments', () => {
    test('lists every experiment with provider, runs and last activity; names as they are', async () => {
      const body = await json('/api/experiments');
      const list = body.experiments as Array<Record<string, unknown>>;
      expect(list.map((e) => e.name)).toEqual([XSS_NAME, 'mlflow-exp', 'team/a', 'train']);
      const train = list.find((e) => e.name === 'train')!;
      expect(train).toMatchObject({ provider: 'default', runs: 3 });
      expect(Date.parse(train.lastActivity as string)).toBeGreaterThan(Date.now() - 600_000);
      // MLflow's events are not in the store: the run count is the store's, the activity unknown
      expect(list.find((e) => e.name === 'mlflow-exp')).toEqual({
        name: 'mlflow-exp',
        provider: 'mlflow',
        runs: 1,
        lastActivity: null,
      });
    });

    test('as CSV: a download of the same table', async () => {
      const a = await get('/api/experiments?format=csv');
      expect(a.status).toBe(200);
      expect(a.headers['content-type']).toMatch(/^text\/csv/);
      expect(a.headers['content-disposition']).toMatch(/^attachment; filename="experiments.csv"/);
      const [header, ...rows] = parseCsv(a.text);
      expect(header).toEqual(['name', 'provider', 'runs', 'lastActivity']);
      expect(rows.map((r) => r[0])).toEqual([XSS_NAME, 'mlflow-exp', 'team/a', 'train']);
      expect(rows[3][2]).toBe('3');
      expect((await get('/api/experiments?format=xml')).status).toBe(400);
    });
  });

  describe('runs', () => {
    test('every run with status, times, params, metrics and tags; dates ISO, non-finite numbers as text', async () => {
      const body = await json('/api/experiments/train/runs');
      expect(body.total).toBe(3);
      const runs = body.runs as Array<Record<string, any>>;
      expect(runs.map((r) => [r.run, r.status])).toEqual([
        [1, 'STOPPED'],
        [2, 'STOPPED'],
        [3, 'FAILED'],
      ]);
      expect(runs[2].error).toBe('diverged at step 0');
      expect(runs[0]).toMatchObject({
        name: 'run-1',
        params: { lr: 0.01, batch: 32 },
        tags: { team: 'nlp', seed: 1 },
      });
      expect(runs[0].started).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(typeof runs[0].duration).toBe('number');
      expect(runs[0].metrics.loss).toMatchObject({ last: 0.1, step: 9, count: 10 });
      // run 2 logged NaN and +Infinity: counted, the figures from the finite values
      expect(runs[1].metrics.loss).toMatchObject({ last: 1 / 11, min: 1 / 11, max: 0.5, count: 10 });
      expect(runs[1].metrics.gap).toEqual({
        last: 'NaN',
        step: 0,
        min: 'NaN',
        max: 'NaN',
        mean: 'NaN',
        count: 1,
      });
    });

    test('filter, order and page: total counts the matches before the page', async () => {
      const filtered = await json(`/api/experiments/train/runs?filter=${enc('metrics.loss < 0.2')}`);
      expect((filtered.runs as Array<{ run: number }>).map((r) => r.run)).toEqual([1, 2]);
      expect(filtered.total).toBe(2);
      const ordered = await json(`/api/experiments/train/runs?orderBy=${enc('metrics.loss DESC,run')}`);
      expect((ordered.runs as Array<{ run: number }>).map((r) => r.run)).toEqual([3, 1, 2]);
      const page = await json(
        `/api/experiments/train/runs?orderBy=${enc('metrics.loss DESC')}&limit=1&offset=1`,
      );
      expect((page.runs as Array<{ run: number }>).map((r) => r.run)).toEqual([1]);
      expect(page.total).toBe(3);
      const status = await json(`/api/experiments/train/runs?filter=${enc("attributes.status = 'FAILED'")}`);
      expect((status.runs as Array<{ run: number }>).map((r) => r.run)).toEqual([3]);
    });

    test('a filter that does not parse is a 400 that says where', async () => {
      const a = await get(`/api/experiments/train/runs?filter=${enc('metrics.loss <')}`);
      expect(a.status).toBe(400);
      const body = a.json as { error: string; position: number };
      expect(body.error).toMatch(/position \d+/);
      expect(body.position).toBe(14);
      const order = await get(`/api/experiments/train/runs?orderBy=${enc('metrics.loss SIDEWAYS')}`);
      expect(order.status).toBe(400);
      expect(typeof (order.json as { position: unknown }).position).toBe('number');
      expect((await get('/api/experiments/train/runs?limit=-1')).status).toBe(400);
      expect((await get('/api/experiments/train/runs?offset=x')).status).toBe(400);
    });

    test('as CSV: flat columns like the CLI, text that a spreadsheet would run is guarded', async () => {
      const a = await get('/api/experiments/train/runs?format=csv');
      expect(a.status).toBe(200);
      expect(a.headers['content-disposition']).toMatch(/^attachment; filename="train-runs.csv"/);
      const [header, ...rows] = parseCsv(a.text);
      for (const column of ['run', 'status', 'params.lr', 'metrics.loss', 'tags.team', 'tags.cmd'])
        expect(header).toContain(column);
      expect(rows).toHaveLength(3);
      expect(rows[0][header.indexOf('tags.cmd')]).toBe("'=1+2");
      expect(rows[2][header.indexOf('error')]).toBe('diverged at step 0');
    });

    test('an experiment that does not exist is a 404; one named with markup or a slash is found', async () => {
      const missing = await get('/api/experiments/nope/runs');
      expect(missing.status).toBe(404);
      expect((missing.json as { error: string }).error).toMatch(/no experiment 'nope'/);
      const xss = await json(`/api/experiments/${enc(XSS_NAME)}/runs`);
      expect((xss.runs as Array<{ name: string; params: unknown }>)[0]).toMatchObject({
        name: '<script>alert(2)</script>',
        params: { '<b>p</b>': '<i>v</i>' },
      });
      expect(((await json(`/api/experiments/${enc('team/a')}/runs`)).runs as unknown[]).length).toBe(1);
    });

    test('keys: the metric, param and tag keys of the runs', async () => {
      expect(await json('/api/experiments/train/keys')).toEqual({
        metrics: ['acc', 'gap', 'loss'],
        params: ['batch', 'lr'],
        tags: ['cmd', 'seed', 'team'],
        hidden: { metrics: 0, params: 0, tags: 0 },
        // how many runs have each key: the page's default columns are the most common ones
        counts: {
          metrics: { acc: 2, gap: 1, loss: 3 },
          params: { batch: 2, lr: 2 },
          tags: { cmd: 2, seed: 2, team: 2 },
        },
      });
      // keys=shown keeps every key of runs no wider than the columns; anything else is a 400
      const shown = await json('/api/experiments/train/runs?keys=shown');
      expect(shown).toEqual(await json('/api/experiments/train/runs'));
      expect((await get('/api/experiments/train/runs?keys=some')).status).toBe(400);
    });

    test('runs of an MLflow experiment come through its provider', async () => {
      const body = await json('/api/experiments/mlflow-exp/runs');
      const runs = body.runs as Array<Record<string, any>>;
      expect(runs).toHaveLength(1);
      expect(runs[0].params).toEqual({ lr: 0.5 });
      expect(runs[0].metrics.loss.last).toBeCloseTo(0.05);
    });
  });

  describe('series', () => {
    type Series = {
      run: number;
      x: number[];
      y: number[];
      total: number;
      shown: number;
      nonFinite: unknown[];
    };
    const seriesOf = async (query: string): Promise<{ x: string; series: Series[] }> =>
      (await json(`/api/experiments/train/series?${query}`)) as never;

    test('one line per run by step; non-finite values listed apart', async () => {
      const body = await seriesOf('key=loss&runs=1,2');
      expect(body.x).toBe('step');
      const [one, two] = body.series;
      expect(one.run).toBe(1);
      expect(one.x).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      expect(one.y[0]).toBe(1);
      expect(one.total).toBe(10);
      expect(two.x).toEqual([0, 1, 2, 3, 5, 6, 8, 9]);
      expect(two.total).toBe(10);
      expect(two.shown).toBe(8);
      expect(two.nonFinite).toEqual([
        { x: 4, value: 'NaN' },
        { x: 7, value: 'Infinity' },
      ]);
    });

    test('x as wall time or time since the start; a range at full detail', async () => {
      const time = await seriesOf('key=acc&runs=1&x=time');
      const t = time.series[0].x;
      expect(t[0]).toBeGreaterThan(Date.now() - 600_000);
      expect([...t].sort((a, b) => a - b)).toEqual(t);
      const rel = await seriesOf('key=acc&runs=1&x=relative');
      expect(rel.series[0].x[0]).toBeGreaterThanOrEqual(0);
      expect(rel.series[0].x[0]).toBeLessThan(60_000);
      expect(rel.series[0].x.map((v, i) => v - (t[i] - t[0]))).toEqual(
        rel.series[0].x.map(() => rel.series[0].x[0]),
      );
      const range = await seriesOf('key=loss&runs=1&from=2&to=5');
      expect(range.series[0].x).toEqual([2, 3, 4, 5]);
      expect(range.series[0].total).toBe(4);
    });

    test('a run without the key, or that does not exist, has an empty line', async () => {
      const body = await seriesOf('key=loss&runs=3,99');
      expect(body.series.map((s) => [s.run, s.x.length])).toEqual([
        [3, 1],
        [99, 0],
      ]);
    });

    test('bad requests are 400s', async () => {
      for (const q of [
        'runs=1',
        'key=loss',
        'key=loss&runs=a',
        'key=loss&runs=0',
        'key=loss&runs=1&x=depth',
        'key=loss&runs=1&points=x',
        'key=loss&runs=1&from=abc',
      ])
        expect({ q, status: (await get(`/api/experiments/train/series?${q}`)).status }).toEqual({
          q,
          status: 400,
        });
      expect((await get('/api/experiments/nope/series?key=loss&runs=1')).status).toBe(404);
    });

    test('an MLflow experiment’s series is read through its provider', async () => {
      const body = (await json('/api/experiments/mlflow-exp/series?key=loss&runs=1')) as { series: Series[] };
      expect(body.series[0].x).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(body.series[0].y[19]).toBeCloseTo(0.05);
    });

    test('a long series is downsampled with first, last and extremes kept; new data is seen at once', async () => {
      const om = omega({ store: prepared.store });
      const exp = om.runtime.experiment('long');
      try {
        await exp.start();
        for (let i = 0; i < 30_000; i++)
          exp.logMetric('loss', i === 12_345 ? 50 : i === 23_456 ? -50 : Math.sin(i / 300), i);
        await exp.flush();
        const first = (await json('/api/experiments/long/series?key=loss&runs=1&points=300')) as {
          series: Series[];
        };
        const s = first.series[0];
        expect(s.total).toBe(30_000);
        expect(s.shown).toBeLessThanOrEqual(300);
        expect(s.x[0]).toBe(0);
        expect(s.x[s.shown - 1]).toBe(29_999);
        expect(s.x[s.y.indexOf(50)]).toBe(12_345);
        expect(s.x[s.y.indexOf(-50)]).toBe(23_456);
        // the same request again (from the cache), then more points logged: the cache sees them
        expect(await json('/api/experiments/long/series?key=loss&runs=1&points=300')).toEqual(first);
        exp.logMetric('loss', 100, 30_000);
        await exp.flush();
        const later = (await json('/api/experiments/long/series?key=loss&runs=1&points=300')) as {
          series: Series[];
        };
        expect(later.series[0].total).toBe(30_001);
        expect(later.series[0].x[later.series[0].shown - 1]).toBe(30_000);
        // zoomed in, at full detail
        const zoom = (await json(
          '/api/experiments/long/series?key=loss&runs=1&points=300&from=100&to=299',
        )) as {
          series: Series[];
        };
        expect(zoom.series[0].shown).toBe(200);
        // more than the most points per series is the most
        const many = (await json('/api/experiments/long/series?key=loss&runs=1&points=999999')) as {
          points: number;
        };
        expect(many.points).toBe(20_000);
      } finally {
        await exp.stop();
        await om.close();
      }
    });

    test('a key holding the index columns’ mark (U+0001) is its own key, never read as two', async () => {
      const om = omega({ store: prepared.store });
      const exp = om.runtime.experiment('marks');
      try {
        await exp.start();
        for (let i = 0; i < 5; i++) exp.logMetric('loss', 7, i);
        for (let i = 0; i < 5; i++) exp.logMetric('loss\u0001', i, i);
        await exp.stop();
        await exp.start();
        for (let i = 0; i < 5; i++) exp.logMetric('a\u0001a', i, i);
        await exp.stop();
        const loss = (await json('/api/experiments/marks/series?key=loss&runs=1')) as { series: Series[] };
        expect(loss.series[0].y).toEqual([7, 7, 7, 7, 7]);
        const a = (await json('/api/experiments/marks/series?key=a&runs=2')) as { series: Series[] };
        expect(a.series[0].total).toBe(0);
        const events = await json('/api/experiments/marks/runs/2/events?key=a');
        expect(events.total).toBe(0);
        expect((await exp.summary({ key: 'loss', run: 1 })).map((m) => [m.key, m.count])).toEqual([
          ['loss', 5],
        ]);
      } finally {
        await om.close();
      }
    });

    test('chunks whose steps go back, skip, or are missing, and texts among the numbers, come out in x order', async () => {
      const om = omega({ store: prepared.store });
      const exp = om.runtime.experiment('unordered');
      try {
        await exp.start();
        // a chunk of steps counting up from 10,000, then one from 0 (a restarted loop)
        for (let i = 0; i < 5000; i++) exp.logMetric('loss', 10_000 + i, 10_000 + i);
        await exp.flush();
        for (let i = 0; i < 5000; i++) exp.logMetric('loss', i, i);
        await exp.flush();
        // steps that skip by two, then a text under the key, then three without a step
        for (let i = 0; i < 100; i++) exp.logMetric('loss', 20_000 + 2 * i, 20_000 + 2 * i);
        exp.logEvent('metric', 'loss', 'diverged');
        exp.logMetric('loss', -1);
        await exp.flush();
        const body = (await json('/api/experiments/unordered/series?key=loss&runs=1&points=20000')) as {
          series: Series[];
        };
        const s = body.series[0];
        // the step-less value counts as its position among the numbers, 10,100: beside step
        // 10,100, after it (logged later)
        expect(s.total).toBe(10_101);
        expect(s.shown).toBe(10_101);
        expect([...s.x].sort((a, b) => a - b)).toEqual(s.x);
        expect(s.x.slice(0, 3)).toEqual([0, 1, 2]);
        expect(s.x[4999]).toBe(4999);
        expect(s.x[5000]).toBe(10_000);
        expect([s.x[5100], s.y[5100], s.x[5101], s.y[5101]]).toEqual([10_100, 10_100, 10_100, -1]);
        expect(s.x[10_000]).toBe(14_999);
        expect(s.x.slice(10_001)).toEqual(Array.from({ length: 100 }, (_, i) => 20_000 + 2 * i));
        expect(s.y.every((v, i) => i === 5101 || v === s.x[i])).toBe(true);
      } finally {
        await exp.stop();
        await om.close();
      }
    });
  });

  test('profile: the run’s numeric profile series over time, one per GPU', async () => {
    const body = (await json('/api/experiments/train/runs/1/profile')) as {
      series: Record<string, { x: number[]; y: number[] }>;
    };
    expect(Object.keys(body.series)).toEqual(['cpu_load', 'gpu_util[0]', 'gpu_util[1]', 'memory_used']);
    expect(body.series.cpu_load.y).toEqual([10, 11, 12, 13, 14]);
    expect(body.series['gpu_util[1]'].y).toEqual([50, 51, 52, 53, 54]);
    expect(body.series.cpu_load.x[0]).toBeGreaterThan(Date.now() - 600_000);
    expect((await json('/api/experiments/train/runs/2/profile')).series).toEqual({});
    expect((await get('/api/experiments/train/runs/x/profile')).status).toBe(400);
  });

  describe('events', () => {
    test('a page of the raw events, with the total', async () => {
      const all = await json('/api/experiments/train/runs/2/events?limit=1000');
      const events = all.events as Array<Record<string, unknown>>;
      expect(all.total).toBe(events.length);
      expect(events[0]).toMatchObject({ experiment: 'train', run: 2, event: 'start' });
      expect(events[events.length - 1].event).toBe('stop');
      expect(events[0].dt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
      const page = await json('/api/experiments/train/runs/2/events?offset=3&limit=5');
      expect(page.total).toBe(all.total);
      expect(page.events).toEqual(events.slice(3, 8));
      const beyond = await json(`/api/experiments/train/runs/2/events?offset=${events.length}`);
      expect(beyond.events).toEqual([]);
      const loss = await json('/api/experiments/train/runs/2/events?event=metric&key=loss&limit=1000');
      expect(loss.total).toBe(10);
      expect((loss.events as Array<{ value: unknown }>).map((e) => e.value)).toContain('NaN');
      expect((loss.events as Array<{ value: unknown }>).map((e) => e.value)).toContain('Infinity');
      expect((await get('/api/experiments/train/runs/2/events?limit=0')).status).toBe(400);
      expect((await get('/api/experiments/train/runs/2/events?limit=100000')).status).toBe(400);
    });

    test('as CSV: every event of the filter, extra fields as columns, as a download', async () => {
      const a = await get('/api/experiments/train/runs/1/events?format=csv&event=profile');
      expect(a.status).toBe(200);
      expect(a.headers['content-disposition']).toMatch(/^attachment; filename="train-run1-events.csv"/);
      const [header, ...rows] = parseCsv(a.text);
      expect(header).toEqual([
        'experiment',
        'run',
        'event',
        'key',
        'value',
        'step',
        'dt',
        'node',
        'userid',
        'gpu',
      ]);
      expect(rows).toHaveLength(25);
      expect(rows.filter((r) => r[3] === 'gpu_util').map((r) => r[9])).toEqual([
        '0',
        '1',
        '0',
        '1',
        '0',
        '1',
        '0',
        '1',
        '0',
        '1',
      ]);
    });
  });

  describe('artifacts', () => {
    const base = '/api/experiments/train/runs/1/artifacts';

    test('the list: key, index among its key, format, time, size; logData too', async () => {
      const body = await json(base);
      const list = body.artifacts as Array<Record<string, unknown>>;
      expect(list.map((a) => [a.key, a.index, a.format])).toEqual([
        ['config', 0, 'type'],
        ['weights', 0, 'binary'],
        ['big-list', 0, 'dataset'],
        ['floats', 0, 'dataset'],
        ['a map', 0, 'serialized'],
        ['fn', 0, 'repr'],
        ['meta', 0, 'metadata'],
        ['config', 1, 'type'],
        ['rows', 0, 'type'],
      ]);
      expect(list[1].size).toBe(BINARY.length);
      expect(list[3].size).toBe(12);
      expect(list[8].event).toBe('data');
      expect(list[0].dt).toMatch(/^\d{4}-/);
    });

    test('inline formats are JSON: the first or a later one of a key', async () => {
      expect(await json(`${base}/config`)).toEqual({
        format: 'type',
        value: { a: 1, nested: { list: [1, 2, 3] }, text: '<b>bold</b>' },
      });
      expect(await json(`${base}/config?index=1`)).toEqual({ format: 'type', value: { version: 2 } });
      expect((await json(`${base}/fn`)).format).toBe('repr');
      expect((await json(`${base}/meta`)).value).toMatchObject({ name: 'm', attributes: { x: 1 } });
      expect(await json(`${base}/rows`)).toEqual({ format: 'type', value: [{ x: 1 }, { x: 2 }] });
      expect(await json(`${base}/rows?event=data`)).toEqual(await json(`${base}/rows`));
      expect((await get(`${base}/rows?event=artifact`)).status).toBe(404);
    });

    test('content is a download with a safe file name', async () => {
      const weights = await get(`${base}/weights`);
      expect(weights.status).toBe(200);
      expect(weights.headers['content-type']).toBe('application/octet-stream');
      expect(weights.headers['content-disposition']).toMatch(/^attachment; filename="weights.bin"/);
      expect(weights.body.equals(BINARY)).toBe(true);
      const floats = await get(`${base}/floats?raw=1`);
      expect(floats.headers['x-omega-array-type']).toBe('Float32Array');
      expect(Array.from(new Float32Array(new Uint8Array(floats.body).buffer))).toEqual([1.5, 2.5, -3]);
      const list = await get(`${base}/big-list`);
      expect(list.headers['content-disposition']).toMatch(/filename="big-list.json"/);
      expect((list.json as number[]).length).toBe(10_001);
      const map = await get(`${base}/${enc('a map')}`);
      expect(map.headers['content-disposition']).toMatch(/filename="a_map.v8"; filename\*=UTF-8''a%20map/);
      // the test runs in another realm than v8.deserialize: the Map is compared by what it holds
      const restored = v8.deserialize(map.body) as Map<string, number>;
      expect(Object.prototype.toString.call(restored)).toBe('[object Map]');
      expect([...restored.entries()]).toEqual([['k', 1]]);
    });

    test('what is not an artifact of the run is a 404, whatever the path tries', async () => {
      expect((await get(`${base}/config?index=5`)).status).toBe(404);
      expect((await get(`${base}/nope`)).status).toBe(404);
      expect((await get(`${base}/${enc('../../../../etc/passwd')}`)).status).toBe(404);
      expect((await get(`${base}/..%2F..%2Fsecret.txt`)).status).toBe(404);
      expect((await get(`${base}/weights/../../../../secret.txt`)).status).toBe(404);
      expect((await get(`${base}/weights/extra`)).status).toBe(404);
      expect((await get(`/api/experiments/train/runs/2/artifacts/weights`)).status).toBe(404);
      expect((await get(`${base}/weights?event=metric`)).status).toBe(400);
    });

    test('with the key in the query, any key is reached: also "." and "..", which a path drops', async () => {
      const om = omega({ store: prepared.store });
      const exp = om.runtime.experiment('dots');
      try {
        await exp.start();
        exp.logArtifact({ here: true }, '.');
        exp.logArtifact(Buffer.from('up'), '..');
        exp.logArtifact({ slash: 1 }, 'a/b');
        await exp.stop();
      } finally {
        await om.close();
      }
      const one = '/api/experiments/dots/runs/1/artifact';
      expect(await json(`${one}?key=.`)).toEqual({ format: 'type', value: { here: true } });
      const up = await get(`${one}?key=..`);
      expect(up.status).toBe(200);
      expect(up.body.toString()).toBe('up');
      expect(up.headers['content-disposition']).toMatch(/^attachment; filename="/);
      expect(up.headers['content-disposition']).not.toMatch(/filename="\.\./);
      expect(await json(`${one}?key=${enc('a/b')}`)).toEqual({ format: 'type', value: { slash: 1 } });
      // the list names them as they are
      const list = (await json('/api/experiments/dots/runs/1/artifacts')).artifacts as Array<{ key: string }>;
      expect(list.map((a) => a.key)).toEqual(['.', '..', 'a/b']);
      expect((await get(one)).status).toBe(400);
      expect((await get(`${one}?key=nope`)).status).toBe(404);
    });
  });

  describe('HTTP', () => {
    test('only GET and HEAD: anything else is a 405 that writes nothing', async () => {
      for (const method of ['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']) {
        const a = await request(server.port, '/api/experiments', { method });
        expect({ method, status: a.status, allow: a.headers.allow }).toEqual({
          method,
          status: 405,
          allow: 'GET, HEAD',
        });
      }
      const head = await request(server.port, '/api/experiments', { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
    });

    test('unknown paths are 404s with a JSON error', async () => {
      for (const p of [
        '/nope',
        '/api',
        '/api/nope',
        '/api/experiments/train/nope',
        '/api/experiments/train/runs/1/nope',
      ]) {
        const a = await get(p);
        expect({ p, status: a.status }).toEqual({ p, status: 404 });
        expect(typeof (a.json as { error: unknown }).error).toBe('string');
      }
      expect((await get('/api/experiments/%E0%A4%A')).status).toBe(400);
    });

    test('answers are neither framed nor sniffed; the page may only load what the server serves', async () => {
      const a = await get('/api/experiments');
      expect(a.headers['x-content-type-options']).toBe('nosniff');
      expect(a.headers['x-frame-options']).toBe('DENY');
      expect(a.headers['cache-control']).toBe('no-store');
      expect(a.headers['access-control-allow-origin']).toBeUndefined();
      const page = await get('/');
      expect(page.headers['content-security-policy']).toMatch(/script-src 'self'/);
      expect(page.headers['referrer-policy']).toBe('no-referrer');
    });

    test('without a token, a request for another host name (DNS rebinding) is refused', async () => {
      const a = await request(server.port, '/api/experiments', { headers: { Host: 'evil.example:80' } });
      expect(a.status).toBe(403);
      const ok = await request(server.port, '/api/experiments', {
        headers: { Host: `localhost:${server.port}` },
      });
      expect(ok.status).toBe(200);
    });
  });

  describe('static files', () => {
    test('the page and its assets are served', async () => {
      const page = await get('/');
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.text).toContain('<title>omega</title>');
      const app = await get('/assets/app.js');
      expect(app.status).toBe(200);
      expect(app.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(app.text).toBe('console.log("app");');
      expect((await get('/assets/sub/x.css')).headers['content-type']).toBe('text/css; charset=utf-8');
    });

    test('nothing outside the assets folder is reached', async () => {
      for (const p of [
        '/assets/../secret.txt',
        '/assets/%2e%2e/secret.txt',
        '/assets/..%2Fsecret.txt',
        '/assets/%2e%2e%2fsecret.txt',
        '/assets/sub/..%5C..%5Csecret.txt',
        '/assets/link.txt',
        '/assets/.hidden',
        '/assets/sub',
        '/assets/',
        '/assets/app.js%00.png',
        '/secret.txt',
        '/../secret.txt',
        '/assets/%252e%252e/secret.txt',
      ]) {
        const a = await get(p);
        expect({ p, status: a.status }).toEqual({ p, status: 404 });
        expect(a.text).not.toContain('SECRET');
      }
    });

    test('a UI that was not built: the page says how to build it; the API still answers', async () => {
      const empty = path.join(prepared.dir, 'no-ui');
      fs.mkdirSync(empty, { recursive: true });
      const bare = await startServer(prepared.store, { uiDir: empty });
      try {
        const page = await request(bare.port, '/');
        expect(page.status).toBe(503);
        expect(page.text).toMatch(/not built/);
        expect(page.text).toMatch(/npm run build/);
        expect((await request(bare.port, '/assets/app.js')).status).toBe(404);
        expect((await request(bare.port, '/api/experiments')).status).toBe(200);
      } finally {
        await bare.close();
      }
    });
  });

  describe('the access token', () => {
    let secured: UiServerHandle;
    const TOKEN = 'test-token-0123456789';
    beforeAll(async () => {
      secured = await startServer(prepared.store, { uiDir, token: TOKEN });
    });
    afterAll(() => secured.close());

    test('is printed in the URL', () => {
      expect(secured.url).toBe(`http://127.0.0.1:${secured.port}/?token=${TOKEN}`);
      expect(secured.token).toBe(TOKEN);
    });

    test('every request needs it: query, Bearer header or cookie; a wrong or missing one is a 401', async () => {
      const at = (p: string, headers: Record<string, string> = {}): Promise<Answer> =>
        request(secured.port, p, { headers });
      for (const p of [
        '/',
        '/assets/app.js',
        '/api/experiments',
        '/api/experiments/train/runs',
        '/api/live',
        '/nope',
      ]) {
        const a = await at(p);
        expect({ p, status: a.status }).toEqual({ p, status: 401 });
        expect((a.json as { error: string }).error).toMatch(/token/);
      }
      expect((await at(`/api/experiments?token=${TOKEN}`)).status).toBe(200);
      expect((await at('/api/experiments', { Authorization: `Bearer ${TOKEN}` })).status).toBe(200);
      expect((await at('/api/experiments', { Cookie: `other=1; omega_ui_token=${TOKEN}` })).status).toBe(200);
      expect((await at('/api/experiments?token=wrong')).status).toBe(401);
      expect((await at('/api/experiments', { Authorization: 'Bearer wrong' })).status).toBe(401);
      expect((await at('/api/experiments', { Authorization: `Basic ${TOKEN}` })).status).toBe(401);
      expect((await at('/api/experiments', { Cookie: 'omega_ui_token=wrong' })).status).toBe(401);
      expect((await at(`/api/experiments?token=${TOKEN}x`)).status).toBe(401);
      // the token given twice (an old link with a new one added): the right one lets in, either place
      expect((await at(`/api/experiments?token=wrong&token=${TOKEN}`)).status).toBe(200);
      expect((await at(`/api/experiments?token=${TOKEN}&token=wrong`)).status).toBe(200);
      expect((await at('/api/experiments?token=wrong&token=worse')).status).toBe(401);
    });

    test('the page opened with the token sets the cookie that carries it on', async () => {
      const page = await request(secured.port, `/?token=${TOKEN}`);
      expect(page.status).toBe(200);
      const cookie = String(page.headers['set-cookie']);
      expect(cookie).toMatch(new RegExp(`^omega_ui_token=${TOKEN}; Path=/; HttpOnly; SameSite=Strict`));
      const app = await request(secured.port, '/assets/app.js', {
        headers: { Cookie: cookie.split(';')[0] },
      });
      expect(app.status).toBe(200);
    });

    test('bound to loopback, the token does not lift the Host check (DNS rebinding); off loopback a host name is fine', async () => {
      const bearer = { Authorization: `Bearer ${TOKEN}` };
      for (const host of ['evil.com', `evil.com:${secured.port}`, 'evil.example:80', '127.0.0.1.evil.com']) {
        for (const p of [`/api/experiments?token=${TOKEN}`, '/api/experiments', `/?token=${TOKEN}`]) {
          const a = await request(secured.port, p, { headers: { ...bearer, Host: host } });
          expect({ host, p, status: a.status }).toEqual({ host, p, status: 403 });
          expect(a.headers['set-cookie']).toBeUndefined();
        }
      }
      for (const host of [`localhost:${secured.port}`, `127.0.0.1:${secured.port}`, `[::1]:${secured.port}`])
        expect(
          (await request(secured.port, '/api/experiments', { headers: { ...bearer, Host: host } })).status,
        ).toBe(200);
      // beyond this machine clients name it as they know it: the token is what guards it there
      const open = await startUiServer({
        store: prepared.store,
        port: 0,
        host: '0.0.0.0',
        uiDir,
        token: TOKEN,
      });
      try {
        const named = { ...bearer, Host: `ml-box.lan:${open.port}` };
        expect((await request(open.port, '/api/experiments', { headers: named })).status).toBe(200);
        expect(
          (await request(open.port, '/api/experiments', { headers: { Host: 'ml-box.lan' } })).status,
        ).toBe(401);
      } finally {
        await open.close();
      }
    });

    test('off the loopback interface one is generated; none at all is refused', async () => {
      const open = await startUiServer({ store: prepared.store, port: 0, host: '0.0.0.0', uiDir });
      try {
        expect(open.token).toMatch(/^[0-9a-f]{48}$/);
        expect(open.url).toBe(`http://127.0.0.1:${open.port}/?token=${open.token}`);
        expect((await request(open.port, '/api/experiments')).status).toBe(401);
        expect((await request(open.port, `/api/experiments?token=${open.token}`)).status).toBe(200);
      } finally {
        await open.close();
      }
      await expect(
        startUiServer({ store: prepared.store, port: 0, host: '0.0.0.0', token: false }),
      ).rejects.toThrow(/needs an access token/);
      const local = await startServer(prepared.store, { token: true });
      try {
        expect(local.token).toMatch(/^[0-9a-f]{48}$/);
        expect((await request(local.port, '/api/experiments')).status).toBe(401);
      } finally {
        await local.close();
      }
    });
  });

  describe('live updates', () => {
    test('HEAD is answered with the stream’s headers at once, and nobody is left listening', async () => {
      const a = await request(server.port, '/api/live?experiment=train', { method: 'HEAD' });
      expect(a.status).toBe(200);
      expect(a.headers['content-type']).toBe('text/event-stream; charset=utf-8');
      expect(a.body.length).toBe(0);
    });
    test('a name no experiment can have is a 400, before any stream opens', async () => {
      for (const name of ['a/../b', '.', 'x\u0000y']) {
        const a = await get(`/api/live?experiment=${enc(name)}`);
        expect({ name, status: a.status }).toEqual({ name, status: 400 });
      }
    });

    test('an update arrives when another omega() logs and flushes into the experiment', async () => {
      const stream = await openEvents(server.port, '/api/live?experiment=live');
      const om = omega({ store: prepared.store });
      try {
        expect(await stream.next('ready')).toEqual({ experiment: 'live' });
        const exp = om.runtime.experiment('live');
        await exp.start();
        exp.logMetric('loss', 1, 0);
        await exp.flush();
        expect(await stream.next('update')).toMatchObject({ experiment: 'live' });
        // and again for the next flush of the same run
        exp.logMetric('loss', 0.5, 1);
        await exp.flush();
        expect(await stream.next('update')).toMatchObject({ experiment: 'live' });
        await exp.stop();
      } finally {
        stream.close();
        await om.close();
      }
    });

    test('an update arrives when a child process logs; a stream of all experiments hears of it too', async () => {
      const one = await openEvents(server.port, `/api/live?experiment=${enc('child exp')}`);
      const all = await openEvents(server.port, '/api/live');
      try {
        await one.next('ready');
        expect(await all.next('ready')).toEqual({ experiment: null });
        const script = `
          const { omega } = require(${JSON.stringify(path.join(REPO, 'cli', 'dist', 'index.js'))});
          (async () => {
            const om = omega({ store: process.env.STORE });
            await om.runtime.experiment('child exp').run(async (e) => {
              for (let i = 0; i < 5; i++) e.logMetric('loss', 1 / (i + 1), i);
              await e.flush();
            });
            await om.close();
          })();`;
        const child = spawn(process.execPath, ['-e', script], {
          env: { ...process.env, STORE: prepared.store },
          stdio: 'ignore',
        });
        const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
        expect(await one.next('update')).toMatchObject({ experiment: 'child exp' });
        let heard: { experiment?: string } = {};
        while (heard.experiment !== 'child exp')
          heard = (await all.next('update')) as { experiment?: string };
        expect(await exited).toBe(0);
        const series = (await json(`/api/experiments/${enc('child exp')}/series?key=loss&runs=1`)) as {
          series: Array<{ y: number[] }>;
        };
        expect(series.series[0].y).toEqual([1, 0.5, 1 / 3, 0.25, 0.2]);
      } finally {
        one.close();
        all.close();
      }
    });
  });

  test('a store without a cheap change mark: live updates and fresh series from its run aggregates', async () => {
    // the real store, with its changeMark taken away, as a log that cannot tell cheaply would be
    const file = prepared.store.slice('sqlite:'.length);
    const markless = new SqliteStore(file, prepared.store, { create: false });
    Object.defineProperty(markless, 'changeMark', { value: undefined });
    const reading = omega({ store: markless });
    const bare = await startUiServer({ om: reading, port: 0, uiDir });
    const writing = omega({ store: prepared.store });
    const stream = await openEvents(bare.port, '/api/live?experiment=markless');
    try {
      await stream.next('ready');
      const exp = writing.runtime.experiment('markless');
      await exp.start();
      exp.logMetric('m', 1, 0);
      await exp.flush();
      expect(await stream.next('update')).toMatchObject({ experiment: 'markless' });
      const seriesOf = async (): Promise<number[]> =>
        (
          (await request(bare.port, '/api/experiments/markless/series?key=m&runs=1')).json as {
            series: Array<{ y: number[] }>;
          }
        ).series[0].y;
      expect(await seriesOf()).toEqual([1]);
      exp.logMetric('m', 2, 1);
      await exp.flush();
      expect(await seriesOf()).toEqual([1, 2]);
      const list = (await request(bare.port, '/api/experiments')).json as {
        experiments: Array<{ name: string; runs: number }>;
      };
      expect(list.experiments.find((e) => e.name === 'markless')?.runs).toBe(1);
      await exp.stop();
    } finally {
      stream.close();
      await bare.close();
      await writing.close();
      await reading.close();
    }
  });

  test('a store URL’s password never appears in an error', async () => {
    let message = '';
    try {
      // a scheme no store takes (postgres:// is the PostgreSQL store's now, opened on first use)
      await startUiServer({ store: 'mysql://alice:s3cret-pw@db.example/omega', port: 0 });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/alice:\*\*\*@/);
    expect(message).not.toContain('s3cret-pw');
  });

  test('the omega-track ui command prints the URL and serves until SIGTERM', async () => {
    const bin = path.join(REPO, 'cli', 'dist', 'bin.js');
    const child = spawn(
      process.execPath,
      [bin, 'ui', '--port', '0', '--host', '0.0.0.0', '--store', prepared.store],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /(http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.on('close', () => reject(new Error(`ui exited: ${out}${err}`)));
    });
    const parsed = new URL(url);
    expect(parsed.searchParams.get('token')).toMatch(/^[0-9a-f]{48}$/);
    const port = Number(parsed.port);
    expect((await request(port, '/api/experiments')).status).toBe(401);
    const a = await request(port, `/api/experiments?token=${parsed.searchParams.get('token')}`);
    expect((a.json as { experiments: unknown[] }).experiments.length).toBeGreaterThanOrEqual(4);
    const code = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.kill('SIGTERM');
    expect(await code).toBe(0);
    expect(out).toContain(prepared.store);
  });

  test('reading changed nothing in the store', async () => {
    // the experiments other tests logged to are theirs; the prepared ones are as they were
    type Snapshot = { entries: Array<{ name: string }>; marks: Record<string, unknown> };
    const after = JSON.parse(await snapshot(prepared.store)) as Snapshot;
    const was = JSON.parse(before) as Snapshot;
    const names = new Set(was.entries.map((e) => e.name));
    expect(after.entries.filter((e) => names.has(e.name))).toEqual(was.entries);
    for (const name of Object.keys(was.marks)) expect(after.marks[name]).toEqual(was.marks[name]);
  });
});
