/**
 * The MLflow provider at its edges: what a run is while the server is away, JSON artifacts as
 * files MLflow's UI shows, and the run's user.
 */
import path from 'node:path';
import type { Experiment, MlflowTracker, Omega } from 'omega-track';
import { Metadata, omega, setDiagWriter } from 'omega-track';
import { MlflowClient, MlflowSpool, currentUserId, runCli } from 'omega-track/internal';
import { FakeMlflowServer } from './FakeMlflowServer';
import { sleep, tempDir } from '../helpers/tmp';

setDiagWriter(() => undefined);
jest.setTimeout(60_000);

let fake: FakeMlflowServer;
let tmp: ReturnType<typeof tempDir>;
let storeUrl: string;
let spool: string;
let om: Omega;

beforeEach(async () => {
  fake = new FakeMlflowServer();
  await fake.start();
  tmp = tempDir();
  storeUrl = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
  spool = path.join(tmp.dir, 'spool.db');
  om = omega({ store: storeUrl, onError: () => undefined });
});

afterEach(async () => {
  await om.close();
  await fake.stop();
  tmp.cleanup();
});

const open = (name: string): Experiment<MlflowTracker> =>
  om.runtime.experiment<MlflowTracker>(name, { provider: 'mlflow', trackingUri: fake.url, spool });

const mlflowRuns = (name: string): ReturnType<FakeMlflowServer['runsOf']> =>
  fake.runsOf(fake.experimentByName(name)!.experiment_id);

/** An artifact file of a run, through the REST API the UI uses (`artifacts/list`, the proxy). */
async function listFiles(runId: string, dir = ''): Promise<string[]> {
  const res = await fetch(
    `${fake.url}/api/2.0/mlflow/artifacts/list?run_id=${runId}${dir ? `&path=${encodeURIComponent(dir)}` : ''}`,
  );
  const body = (await res.json()) as { files?: Array<{ path: string; is_dir: boolean }> };
  return (body.files ?? []).map((f) => f.path);
}

describe('a run stopped during an outage', () => {
  test('status(), runs() and `omega-track runs` say STOPPED, with a duration that no longer grows', async () => {
    const exp = open('outage-stop');
    await exp.start();
    exp.logMetric('m', 1, 0);
    await exp.flush();
    await fake.stop();
    exp.logMetric('m', 2, 1);
    await exp.stop();
    const uri = new MlflowClient({ trackingUri: fake.url }).baseUrl;
    // the stop waits in the spool: the server has not seen it
    expect(MlflowSpool.at(spool).pending(uri, 'outage-stop')).toBeGreaterThanOrEqual(1);

    expect(await exp.status()).toBe('STOPPED');
    expect(await exp.status(1)).toBe('STOPPED');
    const [first] = await exp.runs();
    expect(first).toMatchObject({ run: 1, status: 'STOPPED' });
    expect(first.stopped).toBeInstanceOf(Date);
    await sleep(150);
    const [later] = await exp.runs();
    expect(later.duration).toBe(first.duration);
    expect(later.stopped?.getTime()).toBe(first.stopped?.getTime());

    let out = '';
    const io = { stdout: (t: string) => (out += t), stderr: () => undefined, env: { OMEGA_STORE: storeUrl } };
    expect(await runCli(['runs', 'outage-stop', '--format', 'json'], io)).toBe(0);
    const cliRuns = JSON.parse(out) as Array<{ run: number; status: string; duration: number }>;
    expect(cliRuns).toHaveLength(1);
    expect(cliRuns[0]).toMatchObject({ run: 1, status: 'STOPPED', duration: first.duration });

    // once the server is back, the same answer comes from MLflow
    await fake.start();
    // a read tries the server at once (a flush would wait out the pause after the outage)
    expect((await exp.data()).map((r) => r.event)).toEqual(['start', 'metric', 'metric', 'stop']);
    expect(MlflowSpool.at(spool).pending(uri, 'outage-stop')).toBe(0);
    expect(mlflowRuns('outage-stop')[0].info.status).toBe('FINISHED');
    const [back] = await exp.runs();
    expect(back).toMatchObject({ run: 1, status: 'STOPPED', stopped: first.stopped });
  });

  test('a run that failed during the outage reads FAILED; a run still going reads STARTED', async () => {
    const exp = open('outage-failed');
    await exp.run((e) => e.logMetric('m', 1, 0));
    await fake.stop();
    await expect(
      exp.run(() => {
        throw new Error('diverged');
      }),
    ).rejects.toThrow('diverged');
    await exp.start();
    expect((await exp.runs()).map((r) => [r.run, r.status])).toEqual([
      [1, 'STOPPED'],
      [2, 'FAILED'],
      [3, 'STARTED'],
    ]);
    expect(await exp.status(2)).toBe('FAILED');
    expect(await exp.status()).toBe('STARTED');
    // use() joins the run still going, not a stopped one
    const again = open('outage-failed');
    await again.use();
    expect(again.currentRun).toBe(3);
    await exp.stop();
    expect(await exp.status(3)).toBe('STOPPED');
  });

  test('a stop spooled for an earlier run of the same number does not stop a new run', async () => {
    const exp = open('renumbered');
    await exp.run((e) => e.logMetric('m', 1, 0));
    await exp.flush();
    // the local store forgets its runs (a fresh `memory:` store does the same); MLflow is away,
    // so the next run is numbered 1 again while the spool still holds run 1's old stop
    await om.store.deleteEvents('renumbered');
    await fake.stop();
    await exp.start();
    expect(exp.currentRun).toBe(1);
    expect(await exp.status()).toBe('STARTED');
    expect((await exp.runs()).map((r) => [r.run, r.status])).toEqual([[1, 'STARTED']]);
    await exp.stop();
    expect(await exp.status()).toBe('STOPPED');
  });
});

describe('JSON artifacts as files of the run', () => {
  test('format type and metadata are also <name>.json files; restoreArtifact and data() are unchanged', async () => {
    const exp = open('json-files');
    const value = { a: 1, b: [1, 2, 3], nested: { s: 'x' } };
    const when = new Date('2024-01-02T03:04:05.000Z');
    const meta = new Metadata({
      name: 'mymodel',
      kind: 'tfjs.layers',
      attributes: { team: 'ts' },
      created: when,
      modified: when,
    });
    await exp.run((e) => {
      e.logArtifact(value, 'somedata');
      e.logArtifact(meta, 'meta');
      e.logArtifact([1, 2], 'configs/list.json');
      e.logArtifact(value, 'omega/events/trap');
    });
    const [run] = mlflowRuns('json-files');
    const files = await listFiles(run.info.run_id);
    expect(files).toEqual(expect.arrayContaining(['somedata.json', 'meta.json', 'configs', 'omega']));
    expect(await listFiles(run.info.run_id, 'configs')).toEqual(['configs/list.json']);
    const client = new MlflowClient({ trackingUri: fake.url });
    const read = async (file: string): Promise<unknown> =>
      JSON.parse((await client.downloadArtifact(run.info.artifact_uri, file)).toString());
    expect(await read('somedata.json')).toEqual(value);
    expect(await read('configs/list.json')).toEqual([1, 2]);
    expect(await read('meta.json')).toEqual({
      name: 'mymodel',
      kind: 'tfjs.layers',
      attributes: { team: 'ts' },
      created: when.toISOString(),
      modified: when.toISOString(),
    });

    // the exact read-back, once per artifact
    expect(await exp.restoreArtifact('somedata')).toEqual(value);
    expect(await exp.restoreArtifact('meta')).toEqual(meta);
    expect(await exp.restoreArtifact('configs/list.json')).toEqual([1, 2]);
    expect(await exp.restoreArtifact('omega/events/trap')).toEqual(value);
    const rows = await exp.data({ run: 'all' });
    expect(rows.filter((r) => r.event === 'artifact').map((r) => (r.value as { name: string }).name)).toEqual(
      ['somedata', 'meta', 'configs/list.json', 'omega/events/trap'],
    );
    expect(rows.map((r) => r.event)).toEqual([
      'start',
      'artifact',
      'artifact',
      'artifact',
      'artifact',
      'stop',
    ]);
  });

  test('the same name logged twice: the file holds the latest value, both come back in data()', async () => {
    const exp = open('json-twice');
    await exp.run(async (e) => {
      e.logArtifact({ v: 1 }, 'state');
      await e.flush();
      e.logArtifact({ v: 2 }, 'state');
    });
    const [run] = mlflowRuns('json-twice');
    const client = new MlflowClient({ trackingUri: fake.url });
    expect(
      JSON.parse((await client.downloadArtifact(run.info.artifact_uri, 'state.json')).toString()),
    ).toEqual({
      v: 2,
    });
    expect(await exp.restoreArtifacts({ run: 'all' })).toEqual([{ v: 1 }, { v: 2 }]);
  });
});

describe('the user of a run', () => {
  test('runs are created with user_id set, and the mlflow.user tag kept', async () => {
    const exp = open('users');
    await exp.run((e) => e.logMetric('m', 1, 0));
    const [run] = mlflowRuns('users');
    const tags = Object.fromEntries(run.data.tags.map((t) => [t.key, t.value]));
    expect(run.info.user_id).toBe(currentUserId());
    expect(run.info.user_id).not.toBe('');
    expect(tags['mlflow.user']).toBe(run.info.user_id);
    const created = fake.requests.find((r) => r.path.endsWith('/runs/create'));
    expect((created?.body as { user_id?: string }).user_id).toBe(currentUserId());
    expect((await exp.runs())[0].userid).toBe(currentUserId());
  });
});

describe('a run whose process died', () => {
  test('reads CRASHED, and MLflow hears of it: the MLflow run is set KILLED at its last sign of life', async () => {
    const previous = process.env.OMEGA_CRASH_AFTER_MS;
    process.env.OMEGA_CRASH_AFTER_MS = '500';
    try {
      // the process that ran it: it holds the run, then goes away without stop() (shut down, no beats)
      const gone = omega({ store: storeUrl, onError: () => undefined });
      const dying = gone.runtime.experiment<MlflowTracker>('crashing', {
        provider: 'mlflow',
        trackingUri: fake.url,
        spool,
        heartbeatIntervalMs: 100,
      });
      await dying.start();
      dying.logMetric('loss', 1, 0);
      await dying.flush();
      await sleep(300);
      expect(await dying.status()).toBe('STARTED');
      await gone.close();
      expect(mlflowRuns('crashing')[0].info.status).toBe('RUNNING');
      await sleep(1000);
      const exp = open('crashing');
      const runs = await exp.runs();
      expect(runs.map((r) => r.status)).toEqual(['CRASHED']);
      const info = mlflowRuns('crashing')[0].info;
      expect(info.status).toBe('KILLED');
      expect(Number(info.end_time)).toBe(runs[0].started!.getTime() + runs[0].duration!);
      // a later stop() still works, and wins
      await exp.use(1);
      await exp.stop();
      expect(await exp.status(1)).toBe('STOPPED');
    } finally {
      if (previous === undefined) delete process.env.OMEGA_CRASH_AFTER_MS;
      else process.env.OMEGA_CRASH_AFTER_MS = previous;
    }
  });
});

describe('restoring artifacts from rows', () => {
  test('rows of data() (and { value }) restore without a query, from the row’s own run', async () => {
    const exp = open('rows');
    await exp.run(async (e) => {
      e.logArtifact({ a: 1 }, 'json');
      e.logArtifact(Buffer.from('bytes of run 1'), 'bin');
    });
    await exp.run(async (e) => e.logArtifact(Buffer.from('bytes of run 2'), 'bin'));
    const rows = await exp.data({ run: 'all', event: 'artifact' });
    const restored = await exp.restoreArtifacts(rows);
    expect(restored[0]).toEqual({ a: 1 });
    expect(Buffer.from(restored[1] as Uint8Array).toString()).toBe('bytes of run 1');
    expect(Buffer.from(restored[2] as Uint8Array).toString()).toBe('bytes of run 2');
    expect(await exp.restoreArtifact({ value: rows[0].value })).toEqual({ a: 1 });
  });
});
