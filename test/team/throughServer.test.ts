/**
 * What works "unchanged" through a team server (issue 22): the profiling provider, om.datasets and
 * om.models, and the command line's reading commands with `--store http://…`.
 */
import path from 'node:path';
import type { Experiment, OmegaProfilingTracker } from 'omega-track';
import { StoreError, omega } from 'omega-track';
import { cliBin } from '../cli/cliRunner';
import { startTeamServer } from '../helpers/teamServer';
import type { TeamServer } from '../helpers/teamServer';
import { sleep, tempDir } from '../helpers/tmp';

jest.setTimeout(60_000);

const tmp = tempDir('team-through');
let server: TeamServer;
const store = `sqlite:${path.join(tmp.dir, 'omega.db')}`;

beforeAll(async () => {
  process.env.OMEGA_SPOOL_DIR = path.join(tmp.dir, 'spool');
  server = await startTeamServer({ store });
});

afterAll(async () => {
  await server?.close();
  tmp.cleanup();
});

test('the profiling provider logs its samples through the server', async () => {
  const om = omega({ store: server.url });
  try {
    const exp: Experiment<OmegaProfilingTracker> = om.runtime.experiment<OmegaProfilingTracker>('profiled', {
      provider: 'profiling',
    });
    // a server store reads the experiment's configuration asynchronously: open it first
    await exp.provider();
    exp.profiler.interval = 0.2;
    await exp.run(() => sleep(1500));
    const rows = (await exp.data({ event: 'profile', key: 'memory_load' })).map((r) => r.step);
    expect(rows.length).toBeGreaterThanOrEqual(5);
    expect(rows).toEqual(Array.from({ length: rows.length }, (_, i) => i));
  } finally {
    await om.close();
  }
  // another client (a fresh process's view) reads the same from the server
  const reader = omega({ store: server.url });
  try {
    const exp = await reader.runtime.experiment('profiled').use(1);
    expect(await exp.status(1)).toBe('STOPPED');
    expect((await exp.data({ event: 'profile', key: 'memory_load' })).length).toBeGreaterThanOrEqual(5);
  } finally {
    await reader.close();
  }
});

test('om.datasets and om.models through the server: put on one client, get on another', async () => {
  const writer = omega({ store: server.url });
  await writer.datasets.put({ rows: [1, 2, 3] }, 'ds/plain');
  await writer.datasets.put(new Float32Array([0.5, 1.5]), 'ds/floats');
  await writer.close();
  const reader = omega({ store: server.url });
  try {
    expect(await reader.datasets.get('ds/plain')).toEqual({ rows: [1, 2, 3] });
    expect(Array.from(await reader.datasets.get<Float32Array>('ds/floats'))).toEqual([0.5, 1.5]);
    expect(await reader.datasets.list('ds/*')).toEqual(['ds/floats', 'ds/plain']);
  } finally {
    await reader.close();
  }
});

test('the command line reads through the server: experiments, runs, data, summary', async () => {
  const om = omega({ store: server.url });
  const exp = om.runtime.experiment('cli-through');
  await exp.run(async (e) => {
    e.logParam('lr', 0.01);
    for (let i = 0; i < 5; i++) e.logMetric('loss', 1 / (i + 1), i);
  });
  await om.close();
  const store = ['--store', server.url];
  const experiments = cliBin(['experiments', ...store, '--format', 'json']);
  expect(experiments.code).toBe(0);
  expect(experiments.out).toContain('cli-through');
  const runs = cliBin(['runs', 'cli-through', ...store, '--format', 'json']);
  expect(runs.code).toBe(0);
  expect(JSON.parse(runs.out)).toMatchObject([{ run: 1, status: 'STOPPED', 'params.lr': 0.01 }]);
  const data = cliBin(['data', 'cli-through', ...store, '--event', 'metric', '--format', 'csv']);
  expect(data.code).toBe(0);
  expect(data.out.trim().split('\n')).toHaveLength(6);
  const summary = cliBin(['summary', 'cli-through', ...store, '--format', 'json']);
  expect(summary.code).toBe(0);
  expect(JSON.parse(summary.out)).toMatchObject([{ run: 1, key: 'loss', count: 5 }]);
  // reading leaves no spool behind
  expect(cliBin(['sync', '--spool-dir', path.join(tmp.dir, 'spool')]).code).toBe(0);
});

test('a token refused says why as a code: unauthorized (no valid token), forbidden (not allowed)', async () => {
  const make = (name: string, role: string, ...more: string[]): string =>
    cliBin(['token', 'create', name, '--role', role, ...more, '--store', store]).out.trim();
  const demo = make('demo-writer', 'write', '--experiments', 'demo/*');
  const reader = make('reader', 'read');
  // a token given is checked even on loopback (it wins over the tokenless local admin)
  const attempt = async (token: string, experiment: string): Promise<unknown> => {
    const om = omega({ store: server.url, token });
    try {
      await om.runtime.experiment(experiment).start();
      return 'started';
    } catch (error) {
      return error;
    } finally {
      await om.close();
    }
  };
  expect(await attempt(demo, 'demo/a')).toBe('started');
  const other = await attempt(demo, 'prod/x');
  expect(other).toBeInstanceOf(StoreError);
  expect(other).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/may not do this/) });
  expect(await attempt(reader, 'demo/b')).toMatchObject({ code: 'forbidden' });
  expect(await attempt('omt_' + 'x'.repeat(43), 'demo/c')).toMatchObject({ code: 'unauthorized' });
});

test("a token scoped to demo/* logs and restores a dataset artifact of its experiment; other tokens' scopes do not reach it", async () => {
  const make = (name: string, ...more: string[]): string =>
    cliBin(['token', 'create', name, '--role', 'write', ...more, '--store', store]).out.trim();
  const demo = make('demo-artifacts', '--experiments', 'demo/*');
  const other = make('other-artifacts', '--experiments', 'other/*');
  const big = Array.from({ length: 20_000 }, (_, i) => i / 2);
  const om = omega({ store: server.url, token: demo });
  let entry: string;
  try {
    const exp = om.runtime.experiment('demo/with-artifact');
    await exp.run((e) => e.logArtifact(big, 'big'));
    const [row] = await exp.data({ event: 'artifact', key: 'big' });
    // an array this long is stored as a dataset, its content under the experiment's artifacts
    expect(row.value).toMatchObject({ format: 'dataset' });
    entry = (row.value as { data: string }).data;
    expect(await exp.restoreArtifact('big')).toEqual(big);
  } finally {
    await om.close();
  }
  const asOther = await fetch(
    `${server.url}/api/v1/entries/datasets/entry?name=${encodeURIComponent(entry)}`,
    {
      headers: { Authorization: `Bearer ${other}` },
    },
  );
  expect(asOther.status).toBe(403);
  // nor may another scope overwrite it
  const overwrite = await fetch(
    `${server.url}/api/v1/entries/datasets/entry?name=${encodeURIComponent(entry)}`,
    {
      method: 'PUT',
      headers: { Authorization: `Bearer ${other}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: entry,
        kind: 'json',
        attributes: { experiment: 'other/x' },
        data: [1],
        created: Date.now(),
        modified: Date.now(),
      }),
    },
  );
  expect(overwrite.status).toBe(403);
  const reader = omega({ store: server.url, token: demo });
  try {
    const exp = await reader.runtime.experiment('demo/with-artifact').use(1);
    expect(await exp.restoreArtifact('big')).toEqual(big);
  } finally {
    await reader.close();
  }
});
