/**
 * The UI API of issue 24: values of runs at a step, group bands (mean with ±std or min–max on a
 * shared grid), runs across experiments, the `profile` and `mean` fields of runs rows, and saved
 * views — on `omega-track ui` (loopback: views may be saved) and on the team server (saving needs
 * write on the experiment; every other UI route stays read-only).
 */
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import type { Omega, UiServerHandle } from 'omega-track';
import { omega, startUiServer } from 'omega-track';
import { startTeamServer } from '../helpers/teamServer';
import type { TeamServer } from '../helpers/teamServer';
import { tempDir } from '../helpers/tmp';
import { call } from '../server/api';

const BIN = path.join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');

/** The loss of run r (1-5 of `sweep`) at `step`: runs differ, so a band has a spread. */
const loss = (r: number, step: number): number => 1 / (step + 1) + r * 0.1 + (step % 3) * 0.01 * r;

let tmp: ReturnType<typeof tempDir>;
let store: string;
let om: Omega;
let server: UiServerHandle;
let url: string;

/** GET/PUT/DELETE on the UI server; the answer's status and JSON. */
async function api(
  p: string,
  opts: { method?: string; body?: unknown } = {},
): Promise<{ status: number; json: any }> {
  const a = await call(url, p, { method: opts.method ?? 'GET', body: opts.body });
  return { status: a.status, json: a.json };
}

beforeAll(async () => {
  tmp = tempDir('omega-ui-groups-');
  store = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
  om = omega({ store, onError: () => undefined });
  const sweep = om.runtime.experiment('sweep');
  for (let r = 1; r <= 5; r++) {
    await sweep.start();
    sweep.logParam('lr', r / 100);
    // run 5 is shorter: beyond step 49 only four runs cover the grid
    for (let step = 0; step < (r === 5 ? 50 : 100); step++) sweep.logMetric('loss', loss(r, step), step);
    // a value logged twice at one step: the last one counts
    if (r === 1) sweep.logMetric('loss', 42, 99);
    if (r === 2)
      for (let s = 0; s < 3; s++)
        sweep.logEvent('profile', 'cpu_load', 10 + s, { step: s, dt: Date.now() + s });
    await sweep.stop();
  }
  const other = om.runtime.experiment('other');
  for (let r = 1; r <= 2; r++) await other.run((e) => e.logMetric('loss', r, 0));
  await om.runtime.experiment('secret').run((e) => e.logMetric('loss', 9, 0));
  // `gaps`: four runs of loss over steps 0…9, r + step; run 3 logs NaN at step 5, run 4
  // +Infinity at 5 and -Infinity at 6 and 7
  const gaps = om.runtime.experiment('gaps');
  const odd: Record<number, Record<number, number>> = {
    3: { 5: NaN },
    4: { 5: Infinity, 6: -Infinity, 7: -Infinity },
  };
  for (let r = 1; r <= 4; r++)
    await gaps.run((e) => {
      for (let step = 0; step < 10; step++) e.logMetric('loss', odd[r]?.[step] ?? r + step, step);
    });
  server = await startUiServer({ om, port: 0, uiDir: tmp.dir });
  url = `http://127.0.0.1:${server.port}`;
}, 60_000);

afterAll(async () => {
  await server?.close();
  await om?.close();
  tmp?.cleanup();
});

test('runs rows carry the mean of each metric, and profile: true only on runs with profile events', async () => {
  const { json } = await api('/api/experiments/sweep/runs');
  const runs = json.runs as Array<{ run: number; profile?: boolean; metrics: Record<string, any> }>;
  expect(runs.map((r) => r.profile)).toEqual([undefined, true, undefined, undefined, undefined]);
  const values = Array.from({ length: 50 }, (_, s) => loss(5, s));
  expect(runs[4].metrics.loss.mean).toBeCloseTo(values.reduce((a, b) => a + b) / 50, 12);
  // filters on aggregates reach the API too
  const max = await api(`/api/experiments/sweep/runs?filter=${encodeURIComponent('metrics.loss.max > 40')}`);
  expect(max.json.runs.map((r: { run: number }) => r.run)).toEqual([1]);
  const bad = await api(
    `/api/experiments/sweep/runs?filter=${encodeURIComponent('metrics.`loss`.median > 1')}`,
  );
  expect(bad.status).toBe(400);
  expect(bad.json.error).toMatch(/last, min, max or mean/);
});

test('values: each run at a step (the last logged there), null where a run has none', async () => {
  const { status, json } = await api('/api/experiments/sweep/values?key=loss&step=99&runs=1,2,5');
  expect(status).toBe(200);
  expect(json).toEqual({ key: 'loss', step: 99, values: { '1': 42, '2': loss(2, 99), '5': null } });
  expect((await api('/api/experiments/sweep/values?key=loss&runs=1')).status).toBe(400);
});

test('a band of 5 runs: its mean at a step is the mean of the members there, ± their std', async () => {
  const runs = '1,2,3,4,5';
  const { status, json } = await api(`/api/experiments/sweep/band?key=loss&runs=${runs}&x=step&band=std`);
  expect(status).toBe(200);
  expect(json).toMatchObject({ key: 'loss', x: 'step', band: 'std', runs: [1, 2, 3, 4, 5] });
  const at = (step: number): number => (json.grid as number[]).indexOf(step);
  const members = (await api(`/api/experiments/sweep/values?key=loss&step=20&runs=${runs}`)).json.values;
  const ys = Object.values<number>(members);
  const mean = ys.reduce((a, b) => a + b) / ys.length;
  const std = Math.sqrt(ys.reduce((a, y) => a + (y - mean) ** 2, 0) / (ys.length - 1));
  expect(json.count[at(20)]).toBe(5);
  expect(json.mean[at(20)]).toBeCloseTo(mean, 12);
  expect(json.lower[at(20)]).toBeCloseTo(mean - std, 12);
  expect(json.upper[at(20)]).toBeCloseTo(mean + std, 12);
  // beyond run 5's last step only four members
  expect(json.count[at(80)]).toBe(4);
  expect(json.mean[at(80)]).toBeCloseTo([1, 2, 3, 4].reduce((a, r) => a + loss(r, 80), 0) / 4, 12);
  expect(json.grid.length).toBe(json.mean.length);
});

test('a min–max band, and bad parameters refused', async () => {
  const { json } = await api('/api/experiments/sweep/band?key=loss&runs=1,3,5&band=minmax');
  const i = (json.grid as number[]).indexOf(10);
  expect(json.lower[i]).toBeCloseTo(Math.min(loss(1, 10), loss(3, 10), loss(5, 10)), 12);
  expect(json.upper[i]).toBeCloseTo(Math.max(loss(1, 10), loss(3, 10), loss(5, 10)), 12);
  expect((await api('/api/experiments/sweep/band?key=loss&runs=1&band=iqr')).status).toBe(400);
  expect((await api('/api/experiments/sweep/band?key=loss')).status).toBe(400);
  const many = Array.from({ length: 501 }, (_, k) => k + 1).join(',');
  expect((await api(`/api/experiments/sweep/band?key=loss&runs=${many}`)).status).toBe(400);
});

test('a band leaves non-finite member values out of its figures and its count at their steps', async () => {
  const at = (json: any, step: number): { mean: number; lower: number; upper: number; count: number } => {
    const i = (json.grid as number[]).indexOf(step);
    return { mean: json.mean[i], lower: json.lower[i], upper: json.upper[i], count: json.count[i] };
  };
  const mean = (runs: number[], step: number): number => runs.reduce((s, r) => s + r + step, 0) / runs.length;
  for (const x of ['step', 'time']) {
    const { status, json } = await api(`/api/experiments/gaps/band?key=loss&runs=1,2,3,4&x=${x}&band=minmax`);
    expect(status).toBe(200);
    if (x === 'time') {
      // by time the grid is not the steps (and the runs are apart): no point has a mean that is not a number
      for (let i = 0; i < json.grid.length; i++) {
        expect(json.count[i]).toBeLessThanOrEqual(4);
        expect(json.mean[i] === null || Number.isFinite(json.mean[i])).toBe(true);
      }
      continue;
    }
    expect(at(json, 4)).toEqual({ mean: mean([1, 2, 3, 4], 4), lower: 1 + 4, upper: 4 + 4, count: 4 });
    // step 5: run 3 has NaN, run 4 +Infinity: the mean, min and max of runs 1 and 2 alone
    expect(at(json, 5)).toEqual({ mean: mean([1, 2], 5), lower: 1 + 5, upper: 2 + 5, count: 2 });
    expect(at(json, 6)).toEqual({ mean: mean([1, 2, 3], 6), lower: 1 + 6, upper: 3 + 6, count: 3 });
    expect(at(json, 7)).toMatchObject({ mean: mean([1, 2, 3], 7), count: 3 });
    expect(at(json, 8)).toMatchObject({ mean: mean([1, 2, 3, 4], 8), count: 4 });
  }
  const std = await api('/api/experiments/gaps/band?key=loss&runs=3,4&x=step&band=std');
  // at step 5 neither run has a value: no mean there, and no member counted
  expect(at(std.json, 5)).toEqual({ mean: null, lower: null, upper: null, count: 0 });
  expect(at(std.json, 6)).toEqual({ mean: 3 + 6, lower: 3 + 6, upper: 3 + 6, count: 1 });
});

test('runs across experiments: names and patterns, each run with its experiment', async () => {
  const { status, json } = await api(
    '/api/runs?experiments=sweep,oth*&orderBy=metrics.loss.max%20DESC&limit=3',
  );
  expect(status).toBe(200);
  expect(json.total).toBe(7);
  expect(json.runs.map((r: { experiment: string; run: number }) => `${r.experiment}:${r.run}`)).toEqual([
    'sweep:1',
    'other:2',
    'sweep:5',
  ]);
  const all = await api(`/api/runs?filter=${encodeURIComponent('metrics.loss = 9')}`);
  expect(all.json.runs.map((r: { experiment: string }) => r.experiment)).toEqual(['secret']);
});

test('saved views: put, list, replace, delete, and what is refused', async () => {
  const put = await api('/api/experiments/sweep/views/best%20runs', {
    method: 'PUT',
    body: { state: { filter: 'metrics.loss.max > 1', sel: [1, 2] } },
  });
  expect(put.status).toBe(200);
  expect(put.json).toEqual({
    name: 'best runs',
    state: { filter: 'metrics.loss.max > 1', sel: [1, 2] },
    saved: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
  });
  await api('/api/experiments/sweep/views/a', { method: 'PUT', body: { state: { x: 'step' } } });
  await api('/api/experiments/sweep/views/a', { method: 'PUT', body: { state: { x: 'time' } } });
  // another experiment's views are its own
  await api('/api/experiments/other/views/a', { method: 'PUT', body: { state: { x: 'other' } } });
  const list = await api('/api/experiments/sweep/views');
  expect(list.json.views.map((v: { name: string; state: unknown }) => [v.name, v.state])).toEqual([
    ['a', { x: 'time' }],
    ['best runs', { filter: 'metrics.loss.max > 1', sel: [1, 2] }],
  ]);
  // another UI on the same store sees them
  const second = await startUiServer({ store, port: 0, uiDir: tmp.dir });
  try {
    const seen = await call(`http://127.0.0.1:${second.port}`, '/api/experiments/sweep/views');
    expect((seen.json as { views: unknown[] }).views).toHaveLength(2);
  } finally {
    await second.close();
  }
  const refused = [
    { name: 'x'.repeat(101), body: { state: {} } },
    { name: 'ok', body: { state: [1, 2] } },
    { name: 'ok', body: { state: 'text' } },
    { name: 'ok', body: {} },
    { name: 'ok', body: { state: { big: 'y'.repeat(64 * 1024) } } },
  ];
  for (const r of refused) {
    const a = await api(`/api/experiments/sweep/views/${r.name}`, { method: 'PUT', body: r.body });
    expect({ name: r.name.slice(0, 10), status: a.status, error: typeof a.json?.error }).toEqual({
      name: r.name.slice(0, 10),
      status: 400,
      error: 'string',
    });
  }
  expect((await api('/api/experiments/sweep/views/a', { method: 'DELETE' })).json).toEqual({ deleted: true });
  expect((await api('/api/experiments/sweep/views/a', { method: 'DELETE' })).json).toEqual({
    deleted: false,
  });
  expect((await api('/api/experiments/sweep/views')).json.views.map((v: { name: string }) => v.name)).toEqual(
    ['best runs'],
  );
  // the other routes stay read-only
  expect((await api('/api/experiments/sweep/runs', { method: 'PUT', body: {} })).status).toBe(405);
});

describe('saved views on the team server', () => {
  let team: TeamServer;
  const tokens: Record<string, string> = {};
  const create = (name: string, role: string, experiments?: string): string => {
    const out = execFileSync(
      process.execPath,
      [
        BIN,
        'token',
        'create',
        name,
        '--role',
        role,
        ...(experiments ? ['--experiments', experiments] : []),
        '--store',
        store,
      ],
      { encoding: 'utf8' },
    );
    return /omt_[A-Za-z0-9_-]{43}/.exec(out)![0];
  };
  beforeAll(async () => {
    tokens.reader = create('viewer', 'read');
    tokens.writer = create('saver', 'write', 'sweep');
    team = await startTeamServer({ store });
  }, 60_000);
  afterAll(() => team?.close());

  test('a read token lists views but gets 403 on PUT and DELETE; write on the experiment saves them', async () => {
    const view = '/api/experiments/sweep/views/shared';
    const body = { state: { group: 'params.lr' } };
    const read = await call(team.url, view, { method: 'PUT', body, token: tokens.reader });
    expect(read.status).toBe(403);
    expect((await call(team.url, view, { method: 'DELETE', token: tokens.reader })).status).toBe(403);
    const written = await call(team.url, view, { method: 'PUT', body, token: tokens.writer });
    expect(written.status).toBe(200);
    // write on another experiment than the token's is refused
    const elsewhere = await call(team.url, '/api/experiments/other/views/x', {
      method: 'PUT',
      body,
      token: tokens.writer,
    });
    expect(elsewhere.status).toBe(403);
    const listed = await call(team.url, '/api/experiments/sweep/views', { token: tokens.reader });
    expect(listed.status).toBe(200);
    expect((listed.json as { views: Array<{ name: string }> }).views.map((v) => v.name)).toContain('shared');
    // every other UI route stays read-only, whatever the token
    expect(
      (await call(team.url, '/api/experiments/sweep/runs', { method: 'PUT', body, token: tokens.writer }))
        .status,
    ).toBe(405);
  });

  test('`omega-track ui` on the team server (an http:// store) saves, lists and deletes views through it', async () => {
    const ui = spawn(process.execPath, [BIN, 'ui', '--store', team.url, '--port', '0'], {
      env: { ...process.env, OMEGA_TOKEN: tokens.writer },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        ui.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m) resolve(m[1]);
        });
        ui.on('exit', (code) => reject(new Error(`omega-track ui exited (${code}): ${out}`)));
      });
      const view = '/api/experiments/sweep/views/through%20the%20server';
      const saved = await call(url, view, { method: 'PUT', body: { state: { sort: 'run:desc' } } });
      expect(saved.status).toBe(200);
      // the team server's own UI sees it: one store
      const listed = await call(team.url, '/api/experiments/sweep/views', { token: tokens.reader });
      expect((listed.json as { views: Array<{ name: string }> }).views.map((v) => v.name)).toContain(
        'through the server',
      );
      expect((await call(url, view, { method: 'DELETE' })).json).toEqual({ deleted: true });
      const after = await call(url, '/api/experiments/sweep/views');
      expect((after.json as { views: Array<{ name: string }> }).views.map((v) => v.name)).not.toContain(
        'through the server',
      );
    } finally {
      ui.kill();
    }
  });
});
