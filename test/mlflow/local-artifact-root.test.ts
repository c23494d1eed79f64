/**
 * The MLflow provider against a server that keeps artifacts itself instead of proxying them
 * (`mlflow server --default-artifact-root /some/path`, a common setup): runs then have a bare path
 * (or a `file:` URI, or an `s3:` one) as their artifact_uri. Where that folder is on this machine
 * too, omega-track writes and reads it as MLflow's own client does; where it is not, metrics,
 * params and tags still read back, and the artifacts fail with a TrackingError that names the
 * location and what to change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Experiment, MlflowTracker, Omega } from 'omega-track';
import { TrackingError, omega, setDiagWriter } from 'omega-track';
import { MlflowClient, MlflowSpool } from 'omega-track/internal';
import { describeProviderContract } from '../contract/providerContract';
import { FakeMlflowServer } from './FakeMlflowServer';
import { tempDir } from '../helpers/tmp';

setDiagWriter(() => undefined);
jest.setTimeout(60_000);

describe('a server with a local --default-artifact-root on this machine', () => {
  let root: ReturnType<typeof tempDir>;
  let fake: FakeMlflowServer;
  let spool: string;
  describeProviderContract(
    'mlflow (fake server, local artifact root)',
    async () => {
      root = tempDir();
      fake = new FakeMlflowServer({ artifactRoot: path.join(root.dir, 'mlruns') });
      fs.mkdirSync(path.join(root.dir, 'mlruns'));
      await fake.start();
      spool = path.join(root.dir, 'spool.db');
      const om = omega({ store: 'memory:', onError: () => undefined });
      return {
        om,
        experiment: (name) =>
          om.runtime.experiment(name, { provider: 'mlflow', trackingUri: fake.url, spool }),
        cleanup: async () => {
          await fake.stop();
          root.cleanup();
        },
      };
    },
    { records: true },
  );
});

let fake: FakeMlflowServer;
let tmp: ReturnType<typeof tempDir>;
let om: Omega;
let spool: string;
let errors: Array<{ error: unknown; context?: string }>;

async function serve(artifactRoot: string): Promise<void> {
  fake = new FakeMlflowServer({ artifactRoot });
  await fake.start();
}

beforeEach(() => {
  tmp = tempDir();
  spool = path.join(tmp.dir, 'spool.db');
  errors = [];
  om = omega({ store: 'memory:', onError: (error, context) => errors.push({ error, context }) });
});

afterEach(async () => {
  await om.close();
  await fake?.stop();
  tmp.cleanup();
});

const open = (name: string): Experiment<MlflowTracker> =>
  om.runtime.experiment<MlflowTracker>(name, { provider: 'mlflow', trackingUri: fake.url, spool });

const mlflowRun = (name: string): ReturnType<FakeMlflowServer['runsOf']>[number] =>
  fake.runsOf(fake.experimentByName(name)!.experiment_id)[0];

/** A run that logs a bit of everything, flushed in two batches. */
async function logRun(exp: Experiment<MlflowTracker>): Promise<void> {
  await exp.run(async (e) => {
    for (let step = 0; step < 3; step++) e.logMetric('loss', 1 / (step + 1), step);
    e.logParam('lr', 0.01);
    e.logParam('layers', [8, 4]);
    e.setTag('team', 'vision');
    e.setName('baseline');
    e.logArtifact({ a: 1 }, 'obj');
    e.logArtifact(Buffer.from('raw bytes'), 'raw');
    await e.flush();
    e.logMetric('loss', 0.2, 3);
    e.logParam('optimizer', 'adam');
  });
}

/** What every setup reads back: the metric points, typed params, tags and name, and summary(). */
async function expectEventsBack(exp: Experiment<MlflowTracker>): Promise<void> {
  const rows = await exp.data();
  const of = (event: string): Array<[string, unknown]> =>
    rows.filter((r) => r.event === event).map((r) => [r.key, r.value]);
  expect(rows[0].event).toBe('start');
  expect(rows[rows.length - 1]).toMatchObject({ event: 'stop', value: { status: 'STOPPED' } });
  expect(rows.filter((r) => r.event === 'metric').map((r) => [r.step, r.value])).toEqual([
    [0, 1],
    [1, 0.5],
    [2, 1 / 3],
    [3, 0.2],
  ]);
  expect(of('param')).toEqual(
    expect.arrayContaining([
      ['lr', 0.01],
      ['layers', [8, 4]],
      ['optimizer', 'adam'],
    ]),
  );
  expect(of('tag')).toEqual([['team', 'vision']]);
  expect(of('name')).toEqual([['name', 'baseline']]);
  const [summary] = await exp.summary();
  expect(summary).toMatchObject({ run: 1, key: 'loss', count: 4, min: 0.2, max: 1, last: 0.2 });
  expect(await exp.status()).toBe('STOPPED');
}

describe.each([
  ['a bare path', (dir: string) => dir],
  ['a file: URI', (dir: string) => pathToFileURL(dir).href],
])('the artifact root is %s of this machine', (_, uriOf) => {
  test('data(), summary() and restoreArtifact() read the run; its files are in the folder, where the server sees them', async () => {
    const dir = path.join(tmp.dir, 'mlruns');
    fs.mkdirSync(dir);
    await serve(uriOf(dir));
    const exp = open('local-root');
    await logRun(exp);

    const run = mlflowRun('local-root');
    // as the real server answers it: the location itself, not the mlflow-artifacts proxy
    expect(run.info.artifact_uri).toBe(
      `${uriOf(dir)}/${fake.experimentByName('local-root')!.experiment_id}/${run.info.run_id}/artifacts`,
    );
    await expectEventsBack(exp);
    expect(await exp.restoreArtifact('obj')).toEqual({ a: 1 });
    expect(Buffer.from((await exp.restoreArtifact('raw')) as Uint8Array).toString()).toBe('raw bytes');
    expect(errors).toEqual([]);

    // the files are in the run's folder, and the server lists them (its UI shows them)
    const folder = path.join(
      dir,
      fake.experimentByName('local-root')!.experiment_id,
      run.info.run_id,
      'artifacts',
    );
    expect(fs.readdirSync(folder).sort()).toEqual(['obj.json', 'omega']);
    expect(fs.readdirSync(path.join(folder, 'omega')).sort()).toEqual(['artifacts', 'events']);
    const listed = (await (
      await fetch(`${fake.url}/api/2.0/mlflow/artifacts/list?run_id=${run.info.run_id}&path=omega/events`)
    ).json()) as { files: Array<{ path: string }> };
    expect(listed.files.map((f) => f.path)).toEqual(
      fs.readdirSync(path.join(folder, 'omega', 'events')).map((f) => `omega/events/${f}`),
    );
  });
});

describe('the artifact root is out of reach', () => {
  test('a folder of the server that is not on this machine: events read back, artifacts fail clearly, once', async () => {
    const elsewhere = path.join(tmp.dir, 'on-the-server', 'mlruns');
    await serve(elsewhere);
    const exp = open('elsewhere');
    await logRun(exp);

    // every metric batch reached MLflow
    const run = mlflowRun('elsewhere');
    expect(fake.metricHistory(run.info.run_id, 'loss').map((m) => m.value)).toEqual([1, 0.5, 1 / 3, 0.2]);
    await expectEventsBack(exp);

    // the failure went to the error handler once, with what to change
    expect(errors).toHaveLength(1);
    const [{ error, context }] = errors;
    expect(error).toBeInstanceOf(TrackingError);
    expect((error as Error).name).toBe('MlflowArtifactsUnreachableError');
    expect((error as Error).message).toContain(run.info.artifact_uri);
    expect((error as Error).message).toContain(`--artifacts-destination ${elsewhere}`);
    expect((error as Error).message).toContain('the same folder mounted at the same path');
    expect(context).toMatch(/artifacts of 'elsewhere' run 1 cannot be written.*sync --requeue/);

    // restoring says where the artifacts are and what to change, rather than "nothing"
    const restoring = exp.restoreArtifact('obj');
    await expect(restoring).rejects.toThrow(TrackingError);
    await expect(exp.restoreArtifact('obj')).rejects.toThrow(
      `MLflow keeps the artifacts of run 1 of 'elsewhere' at ${run.info.artifact_uri}`,
    );
    await expect(exp.restoreData('obj')).rejects.toThrow(/--artifacts-destination/);

    // nothing is lost: the artifact files wait as dead letters, and go out once the folder is here
    const client = new MlflowClient({ trackingUri: fake.url });
    expect(MlflowSpool.at(spool).deadLetters(client.baseUrl).length).toBeGreaterThanOrEqual(1);
    fs.mkdirSync(elsewhere, { recursive: true });
    MlflowSpool.at(spool).requeue(client.baseUrl);
    expect(await exp.restoreArtifact('obj')).toEqual({ a: 1 });
    expect(Buffer.from((await exp.restoreArtifact('raw')) as Uint8Array).toString()).toBe('raw bytes');
  });

  test('an s3: store the server does not proxy: events read back, artifacts fail clearly', async () => {
    await serve('s3://bucket/mlruns');
    const exp = open('s3');
    await logRun(exp);
    await expectEventsBack(exp);
    const run = mlflowRun('s3');
    expect(run.info.artifact_uri).toMatch(/^s3:\/\/bucket\/mlruns\/\d+\/[0-9a-f]+\/artifacts$/);
    expect(errors).toHaveLength(1);
    await expect(exp.restoreArtifact('raw')).rejects.toThrow(
      /at s3:\/\/bucket\/mlruns\/.*cannot reach.*--serve-artifacts --artifacts-destination s3:\/\/bucket\/mlruns/,
    );
    // an artifact given by its value (a row of data()) fails the same way
    await expect(
      exp.restoreArtifact('raw', { value: { name: 'raw', format: 'binary', data: { path: 'x' } } }),
    ).rejects.toThrow(/cannot reach/);
  });
});
