/**
 * The mlflow provider answers names, tags, notes, child runs, the run filter language and
 * deleteRun through MLflow itself: metadata become MLflow's run name, tags and description; a
 * filter goes to MLflow's runs/search and the answer is mapped back; a deleted run is deleted in
 * MLflow and its number never given out again. The same experiment written to the embedded store
 * is the reference. Against the fake always; with MLFLOW_TRACKING_URI also against that server.
 */
import path from 'node:path';
import type { Omega, RunInfo, RunQuery } from 'omega-track';
import { MlflowApiError, TrackingError, TrackingInputError, omega, setDiagWriter } from 'omega-track';
import { MlflowClient } from 'omega-track/internal';
import type { MlflowRun } from 'omega-track/internal';
import { FakeMlflowServer } from './FakeMlflowServer';
import { tempDir } from '../helpers/tmp';
import type { Exp } from '../search/helpers';
import { pick, seededRandom } from '../search/helpers';

setDiagWriter(() => undefined);
jest.setTimeout(300_000);

/** An MLflow server the tests write to. */
interface Server {
  label: string;
  /** A real server keeps what earlier test runs left: experiment names get a suffix unique to this run. */
  suffix: string;
  open(): Promise<{ url: string; close(): Promise<void> }>;
}

const fakeServer: Server = {
  label: 'the fake MLflow server',
  suffix: '',
  open: async () => {
    const fake = new FakeMlflowServer();
    await fake.start();
    return { url: fake.url, close: () => fake.stop() };
  },
};

const servers: Server[] = [fakeServer];
if (process.env.MLFLOW_TRACKING_URI) {
  const url = process.env.MLFLOW_TRACKING_URI;
  servers.push({
    label: `the real MLflow server at ${new MlflowClient().baseUrl}`,
    suffix: `-${Date.now().toString(36)}`,
    open: async () => ({ url, close: async () => undefined }),
  });
} else {
  console.log(
    'MLFLOW_TRACKING_URI is not set: the run search tests against a real MLflow server do not run (they run against the fake).',
  );
}

/** An om on an embedded SQLite store, and experiments of it written to MLflow or to the store. */
interface Fixture {
  om: Omega;
  url: string;
  client: MlflowClient;
  /** The MLflow experiment's name for `name`. */
  mlflowName(name: string): string;
  mlflow(name: string, options?: Record<string, unknown>): Exp;
  embedded(name: string): Exp;
  spool: string;
  close(): Promise<void>;
}

async function fixture(server: Server): Promise<Fixture> {
  const srv = await server.open();
  const tmp = tempDir();
  const om = omega({ store: `sqlite:${path.join(tmp.dir, 'omega.db')}`, onError: () => undefined });
  const spool = path.join(tmp.dir, 'spool.db');
  const mlflowName = (name: string): string => `${name}${server.suffix}`;
  return {
    om,
    url: srv.url,
    client: new MlflowClient({ trackingUri: srv.url }),
    mlflowName,
    mlflow: (name, options = {}) =>
      om.runtime.experiment(mlflowName(name), {
        provider: 'mlflow',
        trackingUri: srv.url,
        spool,
        ...options,
      }),
    embedded: (name) => om.runtime.experiment(`${name}-embedded`),
    spool,
    close: async () => {
      await om.close();
      await srv.close();
      tmp.cleanup();
    },
  };
}

/** The omega run number of an MLflow run (its tag omega.run). */
const omegaNumber = (run: MlflowRun): number =>
  Number(run.data.tags?.find((t) => t.key === 'omega.run')?.value ?? NaN);

/** The MLflow runs of an omega experiment by run number. */
async function mlflowRuns(client: MlflowClient, experiment: string): Promise<Map<number, MlflowRun>> {
  const exp = await client.getExperimentByName(experiment);
  const runs = await client.searchRuns([exp!.experiment_id]);
  return new Map(runs.map((r) => [omegaNumber(r), r]));
}

const tagsOf = (run: MlflowRun): Record<string, string> =>
  Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));

/** What two providers must agree on of a run: all but the times (and the ids that locate it). */
function comparable(r: RunInfo): Record<string, unknown> {
  return {
    run: r.run,
    name: r.name,
    status: r.status,
    error: r.error,
    parent: r.parent,
    tags: r.tags,
    note: r.note,
    params: r.params,
    metrics: Object.fromEntries(
      Object.entries(r.metrics ?? {}).map(([k, m]) => [k, { last: m.last, step: m.step }]),
    ),
  };
}

/** The runs of an answer as [number, name]: what the comparisons compare. */
const named = (runs: readonly RunInfo[]): Array<[number, string | null]> =>
  runs.map((r) => [r.run, r.name ?? null]);

/**
 * 36 trials and two parents with a child each, the same in every experiment it is logged to:
 * trials named `trial-NN` (every 9th unnamed), tags team/stage/priority (a number), a note on
 * every 4th, params lr (a number), opt and layers, metrics acc and loss over 5 steps, f1 on some
 * (NaN on one), every 11th FAILED.
 */
async function prepare(exp: Exp): Promise<void> {
  const random = seededRandom(11);
  const value = (): number => Math.round(random() * 1e6) / 1e6;
  for (let i = 1; i <= 36; i++) {
    const name = i % 9 === 0 ? undefined : `trial-${String(i).padStart(2, '0')}`;
    const tags = {
      team: pick(random, ['nlp', 'vision', 'Speech']),
      stage: pick(random, ['dev', 'prod']),
      priority: 1 + Math.floor(random() * 3),
    };
    const note = i % 4 === 0 ? `notes on trial ${i}` : undefined;
    const params = {
      lr: pick(random, [0.1, 0.01, 0.001]),
      opt: pick(random, ['adam', 'sgd', 'AdamW']),
      layers: 1 + Math.floor(random() * 4),
    };
    const acc = [value(), value(), value(), value(), value()];
    const loss = [value(), value(), value(), value(), value()];
    const f1 = i === 7 ? NaN : random() < 0.6 ? value() : undefined;
    const fails = i % 11 === 0;
    const body = async (e: Exp): Promise<void> => {
      e.logParams(params);
      for (let step = 0; step < 5; step++) e.logMetrics({ acc: acc[step], loss: loss[step] }, step);
      if (f1 !== undefined) e.logMetric('f1', f1, 0);
      if (fails) throw new Error(`trial ${i} diverged`);
    };
    const meta = { ...(name ? { name } : {}), tags, ...(note ? { note } : {}) };
    if (fails) await expect(exp.run(body, meta)).rejects.toThrow('diverged');
    else await exp.run(body, meta);
  }
  for (const family of ['a', 'b']) {
    await exp.run(
      async (p) => {
        p.logMetric('acc', value(), 0);
        await exp.run(
          async (c) => {
            c.logParam('lr', 0.1);
            c.logMetric('acc', value(), 0);
          },
          { name: `child-${family}`, tags: { kind: 'child' } },
        );
      },
      { name: `parent-${family}`, tags: { kind: 'parent' } },
    );
  }
}

/** Filters in MLflow's own syntax that MLflow evaluates exactly as omega-track (no NaN, no case-folding LIKE). */
const NATIVE_FILTERS = [
  'metrics.acc > 0.5',
  'metrics.acc >= 0.3 and metrics.loss < 0.6',
  "params.opt = 'adam'",
  "params.lr = '0.01'",
  "params.opt != 'sgd' and params.layers = '2'",
  "params.opt ILIKE 'adam%'",
  "tags.team = 'nlp'",
  "tags.`mlflow.runName` LIKE 'trial-1%'",
  "attributes.run_name LIKE '%-0%'",
  "attributes.status = 'FAILED'",
  "attributes.status = 'FINISHED' and metrics.loss <= 0.5",
  "tags.kind = 'child'",
  'metrics.`acc` < 0.25',
];

/** Filters MLflow refuses (400 INVALID_PARAMETER_VALUE). */
const REFUSED_FILTERS = [
  "params.opt IN ('adam', 'sgd')",
  "attributes.run_name IN ('trial-01')",
  "metrics.acc = 'high'",
  'params.layers = 2',
  "attributes.start_time = 'yesterday'",
  "attributes.status < 'FINISHED'",
  "metrics.acc LIKE '0.%'",
  'attributes.duration > 5',
  "tags.team = 'nlp' or tags.team = 'vision'",
  "params.opt = 'adam",
  '1; DROP TABLE runs',
];

describe.each(servers)('against $label', (server) => {
  describe('the same experiment in MLflow and in the embedded store', () => {
    let fx: Fixture;
    let exp: Exp;
    let ref: Exp;
    beforeAll(async () => {
      fx = await fixture(server);
      exp = fx.mlflow('search');
      ref = fx.embedded('search');
      await prepare(exp);
      await prepare(ref);
    });
    afterAll(async () => fx.close());

    test('runs(): every run with name, status, error, parent, tags, note, params and latest metrics', async () => {
      const runs = await exp.runs();
      expect(runs).toHaveLength(40);
      expect(runs.map(comparable)).toEqual((await ref.runs()).map(comparable));
      expect(runs.find((r) => r.run === 11)).toMatchObject({
        status: 'FAILED',
        error: expect.stringContaining('trial 11 diverged') as unknown,
      });
      expect(runs.filter((r) => r.parent !== undefined).map((r) => [r.run, r.name, r.parent])).toEqual([
        [38, 'child-a', 37],
        [40, 'child-b', 39],
      ]);
      // MLflow keeps only the latest value per key: for a table this size min/max/count are not read
      expect(runs[0].metrics?.acc.min).toBeNaN();
      // a few runs (compare, a top-k) get them from the metric histories, the same as the embedded store's
      const few = await exp.runs({ run: [1, 7, 11] });
      expect(few.map((r) => r.metrics)).toEqual((await ref.runs({ run: [1, 7, 11] })).map((r) => r.metrics));
      expect(few[0].metrics?.acc.count).toBe(5);
    });

    test('every filter selects the same runs as the embedded store; omega-track evaluates what MLflow cannot', async () => {
      const [t20] = await exp.runs({ run: 20 });
      const [r20] = await ref.runs({ run: 20 });
      const filters: Array<[string, string]> = [
        ...NATIVE_FILTERS.map((f): [string, string] => [f, f]),
        // MLflow compares NaN as 0 and has no unnamed runs: it narrows, omega-track decides
        ['metrics.f1 < 0.5', 'metrics.f1 < 0.5'],
        ['metrics.f1 != 0.25', 'metrics.f1 != 0.25'],
        // NaN is unequal to every number, 0 too (MLflow holds NaN as 0: evaluated here)
        ['metrics.f1 != 0', 'metrics.f1 != 0'],
        ['metrics.f1 NOT IN (0)', 'metrics.f1 NOT IN (0)'],
        ["params.opt LIKE 'a%'", "params.opt LIKE 'a%'"],
        ["attributes.run_name != 'trial-01'", "attributes.run_name != 'trial-01'"],
        // not for MLflow at all: numbers against params and tags, IN, run numbers, parents, durations
        ['params.lr = 0.01', 'params.lr = 0.01'],
        ['tags.priority >= 2 AND tags.stage = "prod"', 'tags.priority >= 2 AND tags.stage = "prod"'],
        [
          "params.opt IN ('sgd', 'AdamW') and metrics.acc > 0.3",
          "params.opt IN ('sgd', 'AdamW') and metrics.acc > 0.3",
        ],
        ["tags.team NOT IN ('nlp')", "tags.team NOT IN ('nlp')"],
        ['attributes.run > 30', 'attributes.run > 30'],
        ['run.run_number = 5', 'run.run_number = 5'],
        ['attributes.parent = 37', 'attributes.parent = 37'],
        [
          "attributes.status = 'STOPPED' AND attributes.duration >= 0",
          "attributes.status = 'STOPPED' AND attributes.duration >= 0",
        ],
        [
          "attributes.status != 'FAILED' and params.layers = '3'",
          "attributes.status != 'FAILED' and params.layers = '3'",
        ],
        ["tags.`mlflow.note.content` LIKE '%trial 2%'", "tags.`mlflow.note.content` LIKE '%trial 2%'"],
        ["attributes.user_id = 'nobody'", "attributes.user_id = 'nobody'"],
        // times: each store's own run 20 started at its own time
        [
          `attributes.start_time >= ${t20.started!.getTime()}`,
          `attributes.start_time >= ${r20.started!.getTime()}`,
        ],
        [
          "attributes.start_time > '2000-01-01' and metrics.loss > 0.9",
          "attributes.start_time > '2000-01-01' and metrics.loss > 0.9",
        ],
      ];
      for (const [mine, theirs] of filters) {
        const got = named(await exp.runs({ filter: mine }));
        expect({ filter: mine, runs: got }).toEqual({
          filter: mine,
          runs: named(await ref.runs({ filter: theirs })),
        });
      }
      // the filters select something (and not everything) where they should
      expect((await exp.runs({ filter: 'metrics.f1 < 0.5' })).some((r) => r.run === 7)).toBe(false);
      expect((await exp.runs({ filter: 'attributes.run > 30' })).map((r) => r.run)).toEqual([
        31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
      ]);
    });

    test('orderBy, limit and offset order and page the same as the embedded store', async () => {
      const queries: RunQuery[] = [
        { orderBy: ['metrics.acc DESC'], limit: 5 },
        { orderBy: ['metrics.loss ASC', 'attributes.start_time DESC'], limit: 7, offset: 2 },
        { orderBy: ['params.lr DESC', 'metrics.acc ASC'] },
        { orderBy: ['attributes.run_name'] },
        { orderBy: ['-metrics.f1'], limit: 4 },
        { orderBy: 'metrics.f1', limit: 30 },
        { filter: "params.opt = 'adam'", orderBy: ['metrics.acc DESC'], limit: 3 },
        {
          filter: "tags.team != 'nlp'",
          orderBy: ['tags.priority DESC', 'attributes.run_name ASC'],
          limit: 10,
        },
        { filter: 'metrics.acc > 0.1', orderBy: ['start_time'], limit: 6, offset: 3 },
        { limit: 5, offset: 30 },
        { run: { from: 5, to: 15 }, filter: "tags.stage = 'dev'", orderBy: ['metrics.acc'] },
      ];
      for (const query of queries) {
        const got = named(await exp.runs(query));
        expect({ query, runs: got }).toEqual({ query, runs: named(await ref.runs(query)) });
      }
    });

    test("MLflow's runs/search itself selects the same runs for filters in its syntax, and refuses the others", async () => {
      const id = (await fx.client.getExperimentByName(fx.mlflowName('search')))!.experiment_id;
      for (const filter of NATIVE_FILTERS) {
        const numbers = (await fx.client.searchRuns([id], filter)).map(omegaNumber).sort((a, b) => a - b);
        const expected = (await ref.runs({ filter })).map((r) => r.run);
        expect({ filter, numbers }).toEqual({ filter, numbers: expected });
        expect(expected.length).toBeGreaterThan(0);
      }
      const byAcc = (await fx.client.searchRuns([id], undefined, ['metrics.`acc` DESC'])).map(omegaNumber);
      expect(byAcc).toEqual((await ref.runs({ orderBy: ['metrics.acc DESC'] })).map((r) => r.run));
      // lists: for run ids only
      const three = (await mlflowRuns(fx.client, fx.mlflowName('search'))).get(3)!;
      const listed = await fx.client.searchRuns([id], `attributes.run_id IN ('${three.info.run_id}')`);
      expect(listed.map(omegaNumber)).toEqual([3]);
      for (const filter of REFUSED_FILTERS) {
        const error = await fx.client.searchRunsPage({ experimentIds: [id], filter }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect({ filter, error }).toEqual({ filter, error: expect.any(MlflowApiError) });
        expect({
          filter,
          status: (error as MlflowApiError).status,
          code: (error as MlflowApiError).errorCode,
        }).toEqual({
          filter,
          status: 400,
          code: 'INVALID_PARAMETER_VALUE',
        });
      }
      // omega-track's own parser refuses a bad filter before asking MLflow
      await expect(exp.runs({ filter: 'metrics.acc >' })).rejects.toThrow(TrackingInputError);
      await expect(exp.runs({ filter: 'foo.bar = 1' })).rejects.toThrow(/position 0/);
    });
  });

  describe('run metadata and deleting runs', () => {
    let fx: Fixture;
    beforeEach(async () => {
      fx = await fixture(server);
    });
    afterEach(async () => fx.close());

    test("names, tags, notes and child runs round-trip through runs() and data(), as MLflow's own", async () => {
      const exp = fx.mlflow('meta');
      const ref = fx.embedded('meta');
      for (const e of [exp, ref]) {
        await e.start({ name: 'first', tags: { team: 'nlp', lr: 0.01 }, note: 'hello' });
        e.setTag('team', 'vision');
        e.setTags({ epochs: 3, 'with space.and-dash': 'ok', nested: { a: [1, 2] } });
        e.setNote('updated,\nover two lines');
        e.setName('renamed');
        await e.stop();
        await e.run(
          async () => {
            await e.run(async (c) => c.setTag('kind', 'child'), { name: 'kid', note: 'a child' });
          },
          { name: 'mom' },
        );
        await e.run(async (u) => u.logMetric('m', 1, 0));
      }
      const runs = await exp.runs();
      expect(runs.map((r) => [r.run, r.name, r.parent, r.tags, r.note])).toEqual([
        [
          1,
          'renamed',
          undefined,
          { team: 'vision', lr: 0.01, epochs: 3, 'with space.and-dash': 'ok', nested: { a: [1, 2] } },
          'updated,\nover two lines',
        ],
        [2, 'mom', undefined, undefined, undefined],
        [3, 'kid', 2, { kind: 'child' }, 'a child'],
        [4, undefined, undefined, undefined, undefined],
      ]);
      expect(runs.map(comparable)).toEqual((await ref.runs()).map(comparable));
      // data() gives the metadata events as logged, and the child's start names its parent (run by
      // run: rows of different runs in one millisecond may come in either order)
      const events = async (e: Exp): Promise<unknown[]> =>
        (await e.data({ run: 'all', event: ['start', 'name', 'tag', 'note'] }))
          .sort((a, b) => a.run - b.run)
          .map((x) => [x.run, x.event, x.key, x.value]);
      const mine = await events(exp);
      expect(mine).toEqual(await events(ref));
      expect(mine).toContainEqual([3, 'start', 'start', { parent: 2 }]);
      // in MLflow they are the run name, tags and description its UI shows, and the nesting
      const remote = await mlflowRuns(fx.client, fx.mlflowName('meta'));
      const first = remote.get(1)!;
      expect(first.info.run_name).toBe('renamed');
      expect(tagsOf(first)).toMatchObject({
        'mlflow.runName': 'renamed',
        'mlflow.note.content': 'updated,\nover two lines',
        team: 'vision',
        lr: '0.01',
        epochs: '3',
        nested: '{"a":[1,2]}',
      });
      expect(tagsOf(remote.get(3)!)['mlflow.parentRunId']).toBe(remote.get(2)!.info.run_id);
      expect(tagsOf(remote.get(2)!)['mlflow.parentRunId']).toBeUndefined();
      expect(remote.get(4)!.info.run_name).toBe('run-4');
      // a search on them
      expect(
        named(await exp.runs({ filter: "tags.team = 'vision' and attributes.run_name = 'renamed'" })),
      ).toEqual([[1, 'renamed']]);
      expect(named(await exp.runs({ filter: 'tags.epochs = 3' }))).toEqual([[1, 'renamed']]);
      expect(named(await exp.runs({ filter: "tags.`mlflow.note.content` = 'a child'" }))).toEqual([
        [3, 'kid'],
      ]);
    });

    test('tag keys MLflow refuses, or omega-track keeps its bookkeeping in, are refused at the call', async () => {
      const exp = fx.mlflow('keys');
      await exp.start();
      expect(() => exp.setTag('bad#key', 1)).toThrow(TrackingInputError);
      expect(() => exp.setTags({ fine: 1, 'omega.run': 7 })).toThrow(/bookkeeping/);
      await exp.stop();
      await expect(exp.start({ tags: { 'omega.node': 'x' } })).rejects.toThrow(TrackingInputError);
      // nothing was started, and the refused tags were not set
      expect((await exp.runs()).map((r) => [r.run, r.tags])).toEqual([[1, undefined]]);
    });

    test('deleteRun: runs/delete in MLflow, gone from runs() and data(), its number never given out again', async () => {
      const exp = fx.mlflow('delete');
      for (let i = 1; i <= 3; i++)
        await exp.run(
          async (e) => {
            e.logParam('i', i);
            e.logMetric('m', i, 0);
          },
          { name: `r${i}` },
        );
      await expect(exp.deleteRun(2)).rejects.toThrow(TrackingInputError);
      const before = await mlflowRuns(fx.client, fx.mlflowName('delete'));
      expect(await exp.deleteRun(2, { force: true })).toBe(true);
      expect(named(await exp.runs())).toEqual([
        [1, 'r1'],
        [3, 'r3'],
      ]);
      expect([...new Set((await exp.data({ run: 'all' })).map((e) => e.run))]).toEqual([1, 3]);
      expect((await fx.client.getRun(before.get(2)!.info.run_id)).info.lifecycle_stage).toBe('deleted');
      expect(await exp.deleteRun(2, { force: true })).toBe(false);
      // a run this process is running is not deleted
      expect(await exp.start()).toBe(4);
      await expect(exp.deleteRun(4, { force: true })).rejects.toThrow(/running here/);
      await exp.stop();
      expect(await exp.deleteRun(4, { force: true })).toBe(true);
      // also another machine (a local store that never saw these runs) does not give out 2 or 4 again
      const tmp = tempDir();
      const other = omega({ store: 'memory:', onError: () => undefined });
      try {
        const elsewhere = other.runtime.experiment(fx.mlflowName('delete'), {
          provider: 'mlflow',
          trackingUri: fx.url,
          spool: path.join(tmp.dir, 'spool.db'),
        });
        expect(await elsewhere.start()).toBe(5);
        await elsewhere.stop();
      } finally {
        await other.close();
        tmp.cleanup();
      }
      expect(named(await exp.runs())).toEqual([
        [1, 'r1'],
        [3, 'r3'],
        [5, null],
      ]);
    });
  });
});

describe('the mlflow provider and the fake: what goes over the wire', () => {
  let fx: Fixture;
  let fake: FakeMlflowServer;
  beforeEach(async () => {
    fake = new FakeMlflowServer();
    await fake.start();
    fx = await fixture({
      label: 'fake',
      suffix: '',
      open: async () => ({ url: fake.url, close: () => fake.stop() }),
    });
  });
  afterEach(async () => fx.close());

  const searches = (): Array<{ filter?: string; order_by?: string[]; run_view_type?: string }> =>
    fake.requests
      .filter((r) => r.path.endsWith('/runs/search'))
      .map((r) => r.body as { filter?: string; order_by?: string[] });

  test("the part of a filter MLflow can evaluate goes to runs/search, with MLflow's names for ours", async () => {
    const exp = fx.mlflow('wire');
    await exp.run(async (e) => e.logParam('opt', 'adam'), { tags: { priority: 2 } });
    await exp.run(async (e) => e.logParam('opt', 'sgd'), { tags: { priority: 2 } });
    fake.requests.length = 0;
    const found = await exp.runs({
      filter:
        "params.opt = 'adam' and tags.priority = 2 and attributes.status = 'STOPPED' and attributes.run = 1 and attributes.start_time > '2001-02-03T00:00:00Z'",
      orderBy: ['metrics.acc DESC'],
      limit: 5,
    });
    expect(found.map((r) => r.run)).toEqual([1]);
    expect(searches()).toContainEqual(
      expect.objectContaining({
        filter:
          "params.`opt` = 'adam' and attributes.status = 'FINISHED' and tags.`omega.run` = '1' and attributes.start_time > 981158400000",
        order_by: ['metrics.`acc` DESC'],
      }),
    );
  });

  test('metadata logged while MLflow is away wait in the spool and reach it; meanwhile a search by them fails', async () => {
    const exp = fx.mlflow('away');
    await exp.start();
    await exp.flush();
    await fake.stop();
    exp.setName('named offline');
    exp.setTag('team', 'nlp');
    exp.setNote('written offline');
    await exp.stop();
    expect((await exp.runs()).map((r) => [r.run, r.status])).toEqual([[1, 'STOPPED']]);
    await expect(exp.runs({ filter: "tags.team = 'nlp'" })).rejects.toThrow(TrackingError);
    await fake.start();
    expect(named(await exp.runs({ filter: "tags.team = 'nlp'" }))).toEqual([[1, 'named offline']]);
    const [run] = await exp.runs();
    expect(run).toMatchObject({ name: 'named offline', tags: { team: 'nlp' }, note: 'written offline' });
  });

  test('a limited, ordered search reads pages until the limit is safe: ties at its edge included', async () => {
    // 250 omega runs made in MLflow directly: 1–150 tie at acc 0.5, 151–250 below, all different
    const name = 'pages';
    const { experiment_id: id } = await fx.client.ensureExperiment(name);
    const t0 = Date.UTC(2024, 0, 1);
    for (let n = 1; n <= 250; n++) {
      const tags = [
        { key: 'omega.run', value: String(n) },
        { key: 'mlflow.user', value: 'me' },
        { key: 'omega.node', value: 'here' },
      ];
      const run = await fx.client.createRun(id, `run-${n}`, t0 + n * 1000, tags, 'me');
      const acc = n <= 150 ? 0.5 : (n - 150) / 1000;
      await fx.client.logBatch(run.info.run_id, {
        metrics: [{ key: 'acc', value: acc, timestamp: t0 + n * 1000, step: 0 }],
      });
      await fx.client.updateRun(run.info.run_id, 'FINISHED', t0 + n * 1000 + 500);
    }
    const exp = fx.mlflow(name, { metricStatsRuns: 0 });
    const pages = async (query: RunQuery): Promise<[number[], number]> => {
      fake.requests.length = 0;
      const runs = await exp.runs(query);
      return [runs.map((r) => r.run), searches().length];
    };
    // the top three tie with 147 others: MLflow orders those by start time, omega-track by number
    expect(await pages({ orderBy: ['metrics.acc DESC'], limit: 3 })).toEqual([[1, 2, 3], 2]);
    expect(await pages({ orderBy: ['metrics.acc ASC'], limit: 4 })).toEqual([[151, 152, 153, 154], 1]);
    // a filter only omega-track evaluates: pages go on until enough runs pass it
    expect(await pages({ filter: 'attributes.run > 245', orderBy: ['-metrics.acc'], limit: 2 })).toEqual([
      [250, 249],
      2,
    ]);
    // a page holds twice what the limit needs: one page, past the tie
    expect(await pages({ orderBy: ['metrics.acc DESC'], limit: 2, offset: 149 })).toEqual([[150, 250], 1]);
    const all = await exp.runs();
    expect(all.map((r) => r.run)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(all[200]).toMatchObject({ status: 'STOPPED', userid: 'me', node: 'here', duration: 500 });
  });

  test('metricStatsRuns: 0 reads no metric histories; min, max and count are then NaN', async () => {
    const exp = fx.mlflow('stats', { metricStatsRuns: 0 });
    await exp.run(async (e) => {
      for (let s = 0; s < 3; s++) e.logMetric('acc', s / 10, s);
    });
    fake.requests.length = 0;
    const [run] = await exp.runs({ run: 1 });
    expect(run.metrics?.acc).toMatchObject({ last: 0.2, step: 2, min: NaN, max: NaN, count: NaN });
    expect(fake.requests.some((r) => r.path.includes('get-history'))).toBe(false);
  });

  test('a short answer gets min, max and count from one bulk history request per metric key', async () => {
    const exp = fx.mlflow('bulk');
    await exp.run(async (e) => {
      for (let s = 0; s < 3; s++) e.logMetrics({ acc: s / 10, loss: 1 - s / 10 }, s);
    });
    fake.requests.length = 0;
    const [run] = await exp.runs({ run: 1 });
    expect(run.metrics).toEqual({
      acc: { last: 0.2, step: 2, min: 0, max: 0.2, mean: expect.closeTo(0.1, 10), count: 3 },
      loss: { last: 0.8, step: 2, min: 0.8, max: 1, mean: expect.closeTo(0.9, 10), count: 3 },
    });
    expect(fake.requests.filter((r) => r.path.includes('get-history')).map((r) => r.path)).toEqual([
      '/ajax-api/2.0/mlflow/metrics/get-history-bulk',
      '/ajax-api/2.0/mlflow/metrics/get-history-bulk',
    ]);
  });
});
