/**
 * import --from mlflow and export --to mlflow against an MLflow server: always against the
 * MLflow-compatible fake, and against a real server when MLFLOW_TRACKING_URI is set (names then
 * get a suffix unique to this test run, since a real server keeps what earlier runs left).
 */
import type { Experiment } from 'omega-track';
import { omega, openStore } from 'omega-track';
import { MlflowClient, mlflowSource, pushToMlflow, storeSource, transferRuns } from 'omega-track/internal';
import { FakeMlflowServer } from '../mlflow/FakeMlflowServer';
import { tempDir } from '../helpers/tmp';
import { LOSS_POINTS, seedMlflow } from './mlflowTransferFixture';

jest.setTimeout(300_000);

type Log = Parameters<ReturnType<typeof mlflowSource>['experiments']>[0];
const quietLog = (): Log & { skips: string[] } => {
  const skips: string[] = [];
  return { skips, skipped: (what, why) => skips.push(`${what}: ${why}`), note: () => undefined };
};

function describeMlflowTransferContract(
  label: string,
  server: () => Promise<{ uri: string; stop: () => Promise<void> }>,
) {
  describe(`import and push against ${label}`, () => {
    let uri: string;
    let stop: () => Promise<void>;
    const suffix = `-${Date.now().toString(36)}`;
    beforeAll(async () => {
      ({ uri, stop } = await server());
    });
    afterAll(async () => {
      await stop();
    });

    test('imports experiments with their runs, histories, status, parents and artifacts', async () => {
      const seeded = await seedMlflow(uri, suffix);
      const log = quietLog();
      const source = mlflowSource({ uri, experiments: [seeded.train] });
      const seen = new Map<
        string,
        { parentOrigin?: string; metrics: number; stop: unknown; artifacts: string[] }
      >();
      for await (const exp of source.experiments(log))
        for await (const run of exp.runs()) {
          const entry = {
            parentOrigin: run.parentOrigin,
            metrics: 0,
            stop: undefined as unknown,
            artifacts: [] as string[],
          };
          for await (const batch of run.events())
            for (const e of batch) {
              if (e.event === 'metric') entry.metrics++;
              if (e.event === 'stop') entry.stop = e.value;
              if (e.event === 'artifact') {
                const v = e.value as { name: string; data: { blob: string } };
                const bytes = await run.content!.getBlob(v.data.blob);
                expect(Buffer.from(bytes!)).toEqual(seeded.artifacts[v.name]);
                entry.artifacts.push(v.name);
              }
            }
          seen.set(run.origin!.slice(run.origin!.indexOf('#') + 1), entry);
        }
      expect(log.skips).toEqual([]);
      expect([...seen.keys()]).toEqual([seeded.parent, seeded.child, seeded.killed, seeded.running]);
      expect(seen.get(seeded.parent)).toMatchObject({
        metrics: LOSS_POINTS + seeded.acc.length,
        stop: { status: 'STOPPED' },
      });
      expect(seen.get(seeded.parent)!.artifacts.sort()).toEqual(Object.keys(seeded.artifacts).sort());
      expect(seen.get(seeded.child)!.parentOrigin).toMatch(new RegExp(`#${seeded.parent}$`));
      expect(seen.get(seeded.killed)!.stop).toEqual({ status: 'FAILED', error: 'KILLED' });
      expect(seen.get(seeded.running)!.stop).toBeUndefined();

      // into an embedded store, twice: the second import stores nothing
      const tmp = tempDir();
      const url = `sqlite:${tmp.dir}/omega.db`;
      const target = openStore(url);
      try {
        const first = await transferRuns(mlflowSource({ uri, experiments: [seeded.train] }), {
          target,
          log: quietLog(),
        });
        expect(first).toMatchObject({ runs: 4, failed: 0, skipped: [] });
        const second = await transferRuns(mlflowSource({ uri, experiments: [seeded.train] }), {
          target,
          log: quietLog(),
        });
        expect(second).toMatchObject({ runs: 0, alreadyThere: 4, events: 0 });
        const loss = await target.queryEvents(seeded.train, {
          events: ['metric'],
          keys: ['loss'],
          runs: [1],
        });
        expect(loss).toHaveLength(LOSS_POINTS);
      } finally {
        await target.close();
        tmp.cleanup();
      }
    });

    test('pushes local runs once, however often it is asked', async () => {
      const tmp = tempDir();
      const om = omega({ store: `sqlite:${tmp.dir}/omega.db`, onError: () => undefined });
      try {
        const name = `pushed${suffix}`;
        const exp: Experiment = om.runtime.experiment(name);
        await exp.run(async (e) => {
          e.setName('local');
          e.logParam('lr', 0.01);
          for (let step = 0; step < 2500; step++) e.logMetric('loss', 1 / (step + 1), { step });
        });
        await exp.flush();
        const events = (await exp.data({ run: 1 })).length - 1;
        const store = openStore(`sqlite:${tmp.dir}/omega.db`);
        const source = () => storeSource(store, { experiments: [name] });
        const first = await pushToMlflow(source(), { uri, log: quietLog() });
        expect(first).toMatchObject({ runs: 1, alreadyThere: 0, failed: 0, events });
        const again = await pushToMlflow(source(), { uri, log: quietLog() });
        expect(again).toMatchObject({ runs: 0, alreadyThere: 1, failed: 0, events: 0 });
        const client = new MlflowClient({ trackingUri: uri });
        const expId = (await client.getExperimentByName(name))!.experiment_id;
        const runs = await client.searchRuns([expId]);
        expect(runs).toHaveLength(1);
        const tags = Object.fromEntries(runs[0].data.tags!.map((t) => [t.key, t.value]));
        expect(tags).toMatchObject({
          'mlflow.runName': 'local',
          'omega.run': '1',
          'omega.pushed': 'complete',
        });
        expect(runs[0].data.params).toEqual([{ key: 'lr', value: '0.01' }]);
        expect(await client.getMetricHistory(runs[0].info.run_id, 'loss')).toHaveLength(2500);
        await store.close();
      } finally {
        await om.close();
        tmp.cleanup();
      }
    });
  });
}

describeMlflowTransferContract('the MLflow-compatible fake', async () => {
  const fake = new FakeMlflowServer();
  await fake.start();
  return { uri: fake.url, stop: () => fake.stop() };
});

if (process.env.MLFLOW_TRACKING_URI) {
  const uri = process.env.MLFLOW_TRACKING_URI;
  describeMlflowTransferContract(
    `a real MLflow server at ${new MlflowClient({ trackingUri: uri }).baseUrl}`,
    async () => ({
      uri,
      stop: async () => undefined,
    }),
  );
} else {
  console.log(
    'MLFLOW_TRACKING_URI is not set: import and push against a real MLflow server do not run (they run against the fake).',
  );
}
