import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { inspect } from 'node:util';
import { omega, openStore } from 'omega-track';
import {
  MlflowClient,
  NotMlflowServerError,
  mlflowSource,
  pushToMlflow,
  storeSource,
  transferRuns,
} from 'omega-track/internal';
import { tempDir } from '../helpers/tmp';
import { SAMPLE_ARTIFACTS, logSample } from './sampleRuns';
import { FakeMlflowServer } from '../mlflow/FakeMlflowServer';
import type { SeededMlflow } from './mlflowTransferFixture';
import { seedMlflow } from './mlflowTransferFixture';

jest.setTimeout(120_000);

type Source = ReturnType<typeof mlflowSource>;
type Log = Parameters<Source['experiments']>[0];

function recordingLog(): Log & { skips: Array<{ what: string; why: string }>; notes: string[] } {
  const skips: Array<{ what: string; why: string }> = [];
  const notes: string[] = [];
  return { skips, notes, skipped: (what, why) => skips.push({ what, why }), note: (m) => notes.push(m) };
}

/** Everything a source gives, read as a writer would: experiments, runs, events, blobs. */
async function readAll(source: Source, log = recordingLog()) {
  const out: Array<{
    experiment: string;
    runCount?: number;
    runs: Array<{
      origin?: string;
      parentOrigin?: string;
      start: { dt: number; userid: string; node: string; value: unknown };
      events: Array<{ event: string; key: string; value: unknown; step: number | null; dt: number }>;
      blobs: Map<string, Buffer>;
    }>;
  }> = [];
  for await (const exp of source.experiments(log)) {
    const runs = [];
    for await (const run of exp.runs()) {
      const events = [];
      const blobs = new Map<string, Buffer>();
      for await (const batch of run.events())
        for (const e of batch) {
          events.push({ event: e.event, key: e.key, value: e.value, step: e.step, dt: e.dt });
          const blob = (e.value as { data?: { blob?: string } } | null)?.data?.blob;
          if (e.event === 'artifact' && blob)
            blobs.set(blob, Buffer.from((await run.content!.getBlob(blob))!));
        }
      runs.push({ origin: run.origin, parentOrigin: run.parentOrigin, start: run.start, events, blobs });
    }
    out.push({ experiment: exp.name, runCount: exp.runCount, runs });
  }
  return out;
}

describe('import from MLflow: the source', () => {
  let fake: FakeMlflowServer;
  let seeded: SeededMlflow;
  beforeAll(async () => {
    fake = new FakeMlflowServer();
    await fake.start();
    seeded = await seedMlflow(fake.url);
  });
  afterAll(async () => {
    await fake.stop();
  });

  test('gives every experiment with its runs: names, tags, params, full histories, status, parents, artifacts', async () => {
    const log = recordingLog();
    const all = await readAll(mlflowSource({ uri: fake.url }), log);
    // the empty Default experiment is left out, and said
    expect(all.map((e) => e.experiment).sort()).toEqual([seeded.other, seeded.train]);
    expect(log.notes.join('\n')).toMatch(/Default/);
    const train = all.find((e) => e.experiment === seeded.train)!;
    expect(train.runCount).toBe(4);
    const origin = (id: string): string => `mlflow:${fake.url}#${id}`;
    // the parent before its child, though the child started first
    expect(train.runs.map((r) => r.origin)).toEqual(
      [seeded.parent, seeded.child, seeded.killed, seeded.running].map(origin),
    );
    const [parent, child, killed, running] = train.runs;
    expect(child.parentOrigin).toBe(origin(seeded.parent));
    expect(parent.parentOrigin).toBeUndefined();
    expect(parent.start).toMatchObject({ dt: seeded.t0, userid: 'alice', value: null });
    expect(child.start).toMatchObject({ dt: seeded.t0 - 5000, userid: 'bob' });

    const of = (run: (typeof train.runs)[0], event: string) => run.events.filter((e) => e.event === event);
    expect(of(parent, 'name').map((e) => e.value)).toEqual(['baseline']);
    expect(of(parent, 'note').map((e) => e.value)).toEqual(['first try']);
    const tags = Object.fromEntries(of(parent, 'tag').map((e) => [e.key, e.value]));
    expect(tags).toEqual({ team: 'vision', 'mlflow.user': 'alice', 'mlflow.source.name': 'train.py' });
    // params stay the text MLflow holds
    expect(Object.fromEntries(of(parent, 'param').map((e) => [e.key, e.value]))).toEqual({
      lr: '0.001',
      layers: '[64, 32]',
      optimizer: 'adam',
    });
    // the parent id became the parent, not a tag
    expect(of(child, 'tag').map((e) => e.key)).toEqual(['fold']);

    const loss = of(parent, 'metric').filter((e) => e.key === 'loss');
    expect(loss).toHaveLength(seeded.lossPoints);
    expect(loss.every((e, i) => e.step === i && e.dt === seeded.t0 + i && e.value === 1 / (i + 1))).toBe(
      true,
    );
    // the 30,000 points came in two pages of get-history
    const pages = fake.requests.filter(
      (r) =>
        r.path.endsWith('/metrics/get-history') &&
        r.query.metric_key === 'loss' &&
        r.query.run_id === seeded.parent,
    );
    expect(pages.length).toBe(2);
    expect(pages[1].query.page_token).toBeTruthy();
    const acc = of(parent, 'metric').filter((e) => e.key === 'acc');
    expect(acc.map((e) => [e.step, e.dt, e.value])).toEqual(
      seeded.acc.map((p) => [p.step, p.timestamp, p.value]),
    );
    // metrics of all keys come merged in time order, as they were logged
    const metricTimes = of(parent, 'metric').map((e) => e.dt);
    expect(metricTimes).toEqual([...metricTimes].sort((a, b) => a - b));

    const stop = (run: (typeof train.runs)[0]) => of(run, 'stop').map((e) => [e.value, e.dt]);
    expect(stop(parent)).toEqual([[{ status: 'STOPPED' }, seeded.t0 + seeded.lossPoints + 1000]]);
    expect(stop(child)).toEqual([[{ status: 'FAILED' }, seeded.t0 - 3000]]);
    expect(stop(killed)).toEqual([[{ status: 'FAILED', error: 'KILLED' }, seeded.t0 + 200]]);
    expect(stop(running)).toEqual([]);
    expect(of(running, 'metric').map((e) => e.value)).toEqual([2]);

    const artifacts = of(parent, 'artifact');
    expect(artifacts.map((e) => (e.value as { name: string }).name).sort()).toEqual(
      Object.keys(seeded.artifacts).sort(),
    );
    for (const a of artifacts) {
      const v = a.value as { name: string; format: string; data: { blob: string; bytes: number } };
      expect(v.format).toBe('binary');
      expect(v.data.blob.startsWith(`.experiments/${seeded.train}/`)).toBe(true);
      expect(v.data.bytes).toBe(seeded.artifacts[v.name].length);
      expect(parent.blobs.get(v.data.blob)).toEqual(seeded.artifacts[v.name]);
    }
    expect(log.skips).toEqual([]);
  });

  test('gives the experiments named, and the same origins and blob keys every time', async () => {
    const a = await readAll(mlflowSource({ uri: fake.url, experiments: [seeded.other] }));
    const b = await readAll(mlflowSource({ uri: fake.url, experiments: [seeded.other] }));
    expect(a.map((e) => e.experiment)).toEqual([seeded.other]);
    expect(a[0].runs[0].events.filter((e) => e.event === 'metric')).toEqual([
      { event: 'metric', key: 'score', value: 42, step: 7, dt: seeded.t0 + 1 },
    ]);
    expect(a).toEqual(b);
  });

  test('a name MLflow does not have is refused before anything is given', async () => {
    const source = mlflowSource({ uri: fake.url, experiments: [seeded.other, 'no-such-experiment'] });
    const given: string[] = [];
    await expect(
      (async () => {
        for await (const exp of source.experiments(recordingLog())) given.push(exp.name);
      })(),
    ).rejects.toThrow(/has no experiment 'no-such-experiment'/);
    expect(given).toEqual([]);
  });

  test("reads a run's history page by page as its events are taken", async () => {
    const source = mlflowSource({ uri: fake.url, experiments: [seeded.train] });
    const history = () => fake.requests.filter((r) => r.path.endsWith('/metrics/get-history')).length;
    for await (const exp of source.experiments(recordingLog())) {
      for await (const run of exp.runs()) {
        const before = history();
        const it = run.events()[Symbol.asyncIterator]();
        await it.next();
        // one page of each key: loss and acc; the second page of loss waits
        expect(history() - before).toBe(2);
        await it.return?.();
        break;
      }
    }
  });
});

test('an MLflow 2.x server, which answers a whole history at once, gives it whole too', async () => {
  const fake = new FakeMlflowServer({ paginateHistory: false });
  await fake.start();
  try {
    const seeded = await seedMlflow(fake.url);
    const [train] = await readAll(mlflowSource({ uri: fake.url, experiments: [seeded.train] }));
    const loss = train.runs[0].events.filter((e) => e.event === 'metric' && e.key === 'loss');
    expect(loss.map((e) => e.step)).toEqual(Array.from({ length: seeded.lossPoints }, (_, i) => i));
    expect(
      fake.requests.filter(
        (r) =>
          r.path.endsWith('/metrics/get-history') &&
          r.query.metric_key === 'loss' &&
          r.query.run_id === seeded.parent,
      ),
    ).toHaveLength(1);
  } finally {
    await fake.stop();
  }
});

describe('import from a URI that is not MLflow', () => {
  test('another web server: a clear error before anything is given', async () => {
    const server = http.createServer((req, res) => {
      res.writeHead(404, { 'Content-Type': 'text/html' });
      res.end('<html><body>Not Found</body></html>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const given: string[] = [];
      const error = await (async () => {
        for await (const exp of mlflowSource({ uri }).experiments(recordingLog())) given.push(exp.name);
      })().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(NotMlflowServerError);
      expect((error as Error).message).toMatch(
        new RegExp(`^${uri} does not answer as an MLflow tracking server: .*404`),
      );
      expect(given).toEqual([]);
    } finally {
      server.close();
    }
  });

  test('a server answering JSON of its own, and nothing listening', async () => {
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const read = async (uri: string) => {
      for await (const exp of mlflowSource({ uri }).experiments(recordingLog())) void exp;
    };
    await expect(read(`http://127.0.0.1:${port}`)).rejects.toThrow(
      /does not answer as an MLflow tracking server: it answered runs\/get for a run that cannot exist/,
    );
    await new Promise((r) => server.close(r));
    await expect(read(`http://127.0.0.1:${port}`)).rejects.toThrow(
      new RegExp(
        `^http://127.0.0.1:${port} does not answer as an MLflow tracking server: nothing answers there`,
      ),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// export --to mlflow
// ---------------------------------------------------------------------------------------------

type Pushed = Parameters<typeof pushToMlflow>[0];
type Event = { event: string; key: string; value: unknown; step: number | null; dt: number };

interface LocalRun {
  run: number;
  parent?: number;
  dt: number;
  events: Event[];
  blobs?: Record<string, Buffer>;
  /** Its status in the store's run table (a run still running is STARTED). */
  status?: string;
  /** Called before batch `i` of the run's events is given. */
  before?: (i: number) => Promise<void>;
}

/** Runs as a store source gives them (kept numbers, start with the parent, batches of 1000). */
function localSource(experiment: string, runs: LocalRun[]): Pushed {
  const content = (blobs: Record<string, Buffer> = {}) => ({
    getEntry: async () => undefined,
    listBlobs: async (prefix: string) =>
      Object.keys(blobs)
        .filter((k) => k.startsWith(prefix))
        .sort(),
    getBlob: async (key: string) => blobs[key],
  });
  return {
    describe: 'test runs',
    async *experiments() {
      yield {
        name: experiment,
        runCount: runs.length,
        async *runs() {
          for (const r of runs)
            yield {
              experiment,
              run: r.run,
              start: {
                event: 'start',
                key: 'start',
                value: r.parent ? { parent: r.parent } : null,
                step: null,
                dt: r.dt,
                node: 'box',
                userid: 'alice',
                extra: undefined,
              },
              content: content(r.blobs),
              ...(r.status ? { info: { run: r.run, status: r.status } as never } : {}),
              async *events() {
                for (let i = 0; i * 1000 < r.events.length; i++) {
                  await r.before?.(i);
                  yield r.events
                    .slice(i * 1000, (i + 1) * 1000)
                    .map((e) => ({ ...e, run: r.run, node: 'box', userid: 'alice', extra: undefined }));
                }
              },
            };
        },
      };
    },
  };
}

function localRuns(t0: number): LocalRun[] {
  const at = (dt: number, event: string, key: string, value: unknown, step: number | null = null): Event => ({
    event,
    key,
    value,
    step,
    dt,
  });
  const one: Event[] = [
    at(t0 + 1, 'name', 'name', 'baseline'),
    at(t0 + 1, 'tag', 'team', 'vision'),
    at(t0 + 2, 'param', 'lr', 0.001),
    at(t0 + 2, 'param', 'optimizer', 'adam'),
  ];
  for (let step = 0; step < 3000; step++)
    one.push(at(t0 + 10 + step, 'metric', 'loss', 1 / (step + 1), step));
  one.push(at(t0 + 4000, 'metric', 'loss', NaN, 3000));
  one.push(at(t0 + 4001, 'note', 'note', 'first try'));
  one.push(
    at(t0 + 4002, 'artifact', 'weights', {
      name: 'weights',
      format: 'binary',
      data: { blob: '.experiments/pushed/b1', bytes: 4 },
    }),
  );
  one.push(at(t0 + 4003, 'stop', 'stop', { status: 'STOPPED' }));
  const two: Event[] = [];
  for (let step = 0; step < 12_000; step++)
    two.push(at(t0 + 5000 + step, 'metric', 'acc', step / 12_000, step));
  two.push(at(t0 + 20_000, 'stop', 'stop', { status: 'FAILED', error: 'boom' }));
  return [
    { run: 1, dt: t0, events: one, blobs: { '.experiments/pushed/b1': Buffer.from([9, 8, 7, 6]) } },
    { run: 2, parent: 1, dt: t0 + 4500, events: two },
  ];
}

describe('export --to mlflow', () => {
  let fake: FakeMlflowServer;
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(async () => {
    fake = new FakeMlflowServer();
    await fake.start();
    tmp = tempDir();
  });
  afterEach(async () => {
    await fake.stop();
    tmp.cleanup();
  });

  /** The experiment as the mlflow provider reads it back. */
  async function readBack(name: string) {
    const om = omega({ store: 'memory:', onError: () => undefined });
    try {
      const exp = om.runtime.experiment(name, {
        provider: 'mlflow',
        trackingUri: fake.url,
        spool: path.join(tmp.dir, 'spool.db'),
      });
      const rows = (await exp.data({ run: 'all' })).map((r) => ({
        run: r.run,
        event: r.event,
        key: r.key,
        value: r.value,
        step: r.step,
        dt: r.dt.getTime(),
      }));
      const runs = await exp.runs();
      const weights = await exp
        .restoreArtifacts({ run: 1, event: 'artifact', key: 'weights' })
        .catch((e: unknown) => e);
      return { rows, runs, weights };
    } finally {
      await om.close();
    }
  }

  const activeRuns = (name: string) =>
    fake
      .runsOf(fake.experimentByName(name)!.experiment_id)
      .filter((r) => r.info.lifecycle_stage === 'active');

  test('sends runs as the mlflow provider writes them, and a second push sends nothing', async () => {
    const t0 = 1_700_000_000_000;
    const runs = localRuns(t0);
    const log = recordingLog();
    const counted = { events: 0, runs: 0 };
    const progress = { events: (n: number) => (counted.events += n), run: () => counted.runs++ };
    const first = await pushToMlflow(localSource('pushed', runs), { uri: fake.url, log, progress });
    const total = runs[0].events.length + runs[1].events.length;
    expect(first).toEqual({
      experiments: 1,
      runs: 2,
      alreadyThere: 0,
      failed: 0,
      events: total,
      skipped: [],
    });
    expect(counted).toEqual({ events: total, runs: 2 });

    const mlflowRuns = activeRuns('pushed');
    expect(mlflowRuns).toHaveLength(2);
    const tags = (n: number) =>
      Object.fromEntries(
        mlflowRuns
          .find((r) => r.data.tags.some((t) => t.key === 'omega.run' && t.value === String(n)))!
          .data.tags.map((t) => [t.key, t.value]),
      );
    const one = mlflowRuns.find(
      (r) => tags(1)['omega.run_uid'] === r.data.tags.find((t) => t.key === 'omega.run_uid')?.value,
    )!;
    expect(tags(1)).toMatchObject({
      'mlflow.runName': 'baseline',
      team: 'vision',
      'mlflow.note.content': 'first try',
      'mlflow.user': 'alice',
      'omega.pushed': 'complete',
    });
    expect(tags(2)).toMatchObject({ 'mlflow.parentRunId': one.info.run_id, 'omega.error': 'boom' });
    expect(one.info.status).toBe('FINISHED');
    expect(fake.metricHistory(one.info.run_id, 'loss')).toHaveLength(3001);
    // log-batch within MLflow's limits
    const batches = fake.requests.filter((r) => r.path.endsWith('/runs/log-batch'));
    expect(batches.every((r) => ((r.body as { metrics?: unknown[] }).metrics?.length ?? 0) <= 1000)).toBe(
      true,
    );

    // the mlflow provider reads back what was pushed
    const back = await readBack('pushed');
    const expected = runs.flatMap((r) => r.events.map((e) => ({ run: r.run, ...e })));
    const key = (r: { run: number; event: string; key: string; dt: number; step: number | null }) =>
      `${r.run} ${r.dt} ${r.event} ${r.key} ${r.step}`;
    const sort = <T extends { run: number; event: string; key: string; dt: number; step: number | null }>(
      a: T[],
    ) => [...a].sort((x, y) => (key(x) < key(y) ? -1 : key(x) > key(y) ? 1 : 0));
    const backRows = sort(back.rows.filter((r) => r.event !== 'start' && r.event !== 'artifact'));
    expect(backRows).toEqual(sort(expected.filter((r) => r.event !== 'artifact')));
    expect(back.runs.map((r) => [r.run, r.status, r.name])).toEqual([
      [1, 'STOPPED', 'baseline'],
      [2, 'FAILED', undefined],
    ]);
    expect(back.rows.find((r) => r.run === 2 && r.event === 'start')?.value).toEqual({ parent: 1 });
    expect(back.weights).toEqual([Buffer.from([9, 8, 7, 6])]);

    // again: everything is there, nothing is sent
    const requestsBefore = fake.requests.length;
    const second = await pushToMlflow(localSource('pushed', runs), { uri: fake.url, log });
    expect(second).toEqual({ experiments: 1, runs: 0, alreadyThere: 2, failed: 0, events: 0, skipped: [] });
    const sent = fake.requests
      .slice(requestsBefore)
      .filter((r) => r.method !== 'GET' && !r.path.endsWith('/runs/search'));
    expect(sent.map((r) => r.path)).toEqual([]);
    expect(activeRuns('pushed')).toHaveLength(2);
  });

  test('an interrupted push, pushed again, leaves every run once and no point twice', async () => {
    const t0 = 1_700_000_000_000;
    const runs = localRuns(t0);
    // the server goes away while run 2 is on its way, after part of its history was accepted
    runs[1].before = async (i) => {
      if (i === 5) await fake.stop();
    };
    const log = recordingLog();
    const first = await pushToMlflow(localSource('pushed', runs), { uri: fake.url, log });
    expect(first).toMatchObject({ runs: 1, failed: 1 });
    expect(first.skipped[0]).toEqual({
      what: "run 2 of 'pushed'",
      why: expect.stringMatching(/not reachable.*push again/),
    });
    expect(log.skips).toEqual(first.skipped);

    await fake.start();
    const half = activeRuns('pushed').filter((r) =>
      r.data.tags.some((t) => t.key === 'omega.run' && t.value === '2'),
    );
    expect(half).toHaveLength(1);
    expect(half[0].data.tags.some((t) => t.key === 'omega.pushed')).toBe(false);
    const halfPoints = fake.metricHistory(half[0].info.run_id, 'acc').length;
    expect(halfPoints).toBeGreaterThan(0);
    expect(halfPoints).toBeLessThan(12_000);

    delete runs[1].before;
    const second = await pushToMlflow(localSource('pushed', runs), { uri: fake.url, log: recordingLog() });
    expect(second).toMatchObject({ runs: 1, alreadyThere: 1, failed: 0, skipped: [] });
    const active = activeRuns('pushed');
    expect(active).toHaveLength(2);
    const two = active.find((r) => r.data.tags.some((t) => t.key === 'omega.run' && t.value === '2'))!;
    expect(two.info.run_id).not.toBe(half[0].info.run_id);
    expect(fake.metricHistory(two.info.run_id, 'acc')).toHaveLength(12_000);
    const back = await readBack('pushed');
    expect(back.rows.filter((r) => r.run === 2 && r.event === 'metric')).toHaveLength(12_000);
    expect(back.runs.map((r) => r.run)).toEqual([1, 2]);
  });

  test('a run still running is sent anew by every push, and its children follow it', async () => {
    const runs = localRuns(1_700_000_000_000);
    runs[0].status = 'STARTED';
    runs[0].events.pop(); // no stop yet
    const log = recordingLog();
    const first = await pushToMlflow(localSource('pushed', runs), { uri: fake.url, log });
    expect(first).toMatchObject({ runs: 2, alreadyThere: 0, failed: 0, skipped: [] });
    expect(log.notes).toEqual([expect.stringMatching(/run 1 of 'pushed' is still running/)]);
    const second = await pushToMlflow(localSource('pushed', runs), { uri: fake.url, log: recordingLog() });
    expect(second).toMatchObject({ runs: 1, alreadyThere: 1, failed: 0 });
    const active = activeRuns('pushed');
    expect(active).toHaveLength(2);
    const byNumber = (n: string) =>
      active.find((r) => r.data.tags.some((t) => t.key === 'omega.run' && t.value === n))!;
    expect(byNumber('1').info.status).toBe('RUNNING');
    expect(byNumber('2').data.tags.find((t) => t.key === 'mlflow.parentRunId')?.value).toBe(
      byNumber('1').info.run_id,
    );
    const back = await readBack('pushed');
    expect(back.rows.find((r) => r.run === 2 && r.event === 'start')?.value).toEqual({ parent: 1 });
    expect(back.rows.filter((r) => r.run === 1 && r.key === 'loss')).toHaveLength(3001);
  });

  test('a run whose number MLflow has from elsewhere is not sent, and that is said', async () => {
    const client = new MlflowClient({ trackingUri: fake.url });
    const expId = (await client.ensureExperiment('pushed')).experiment_id;
    await client.createRun(expId, 'run-1', 1, [{ key: 'omega.run', value: '1' }]);
    const runs = localRuns(1_700_000_000_000).slice(0, 1);
    const summary = await pushToMlflow(localSource('pushed', runs), { uri: fake.url, log: recordingLog() });
    expect(summary).toMatchObject({ runs: 0, failed: 1 });
    expect(summary.skipped[0].why).toMatch(/already has a run 1 that was not pushed from this run/);
    expect(activeRuns('pushed')).toHaveLength(1);
  });

  test('a URI that is not MLflow: a clear error, nothing read or sent', async () => {
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<html>hello</html>');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const uri = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    let read = false;
    const source = localSource('pushed', localRuns(1));
    const spy: Pushed = {
      describe: source.describe,
      experiments: (log) => ((read = true), source.experiments(log)),
    };
    try {
      await expect(pushToMlflow(spy, { uri, log: recordingLog() })).rejects.toThrow(
        `${uri} does not answer as an MLflow tracking server: its answer to runs/get is not JSON`,
      );
      expect(read).toBe(false);
    } finally {
      server.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// end to end: into a store with transferRuns, and out of one with storeSource
// ---------------------------------------------------------------------------------------------

describe('import --from mlflow into an embedded store', () => {
  let fake: FakeMlflowServer;
  let tmp: ReturnType<typeof tempDir>;
  let seeded: SeededMlflow;
  beforeAll(async () => {
    fake = new FakeMlflowServer();
    await fake.start();
    seeded = await seedMlflow(fake.url);
    tmp = tempDir();
  });
  afterAll(async () => {
    await fake.stop();
    tmp.cleanup();
  });

  test('brings every run with its history, status, parent and artifacts; a second import stores nothing', async () => {
    const url = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
    const target = openStore(url);
    const first = await transferRuns(mlflowSource({ uri: fake.url }), { target, log: recordingLog() });
    expect(first).toMatchObject({ experiments: 2, runs: 5, alreadyThere: 0, failed: 0, skipped: [] });
    expect(first.blobs).toBe(3);
    const second = await transferRuns(mlflowSource({ uri: fake.url }), { target, log: recordingLog() });
    expect(second).toMatchObject({ runs: 0, alreadyThere: 5, failed: 0, events: 0, blobs: 0 });
    await target.close();

    const om = omega({ store: url });
    try {
      const exp = om.runtime.experiment(seeded.train);
      const runs = await exp.runs({ run: 'all' });
      expect(runs.map((r) => [r.run, r.name, r.status])).toEqual([
        [1, 'baseline', 'STOPPED'],
        [2, 'child', 'FAILED'],
        [3, 'killed', 'FAILED'],
        [4, 'running', expect.stringMatching(/STARTED|CRASHED/)],
      ]);
      expect(runs[0].started?.getTime()).toBe(seeded.t0);
      expect(runs[0].tags).toMatchObject({
        team: 'vision',
        'import.source': `mlflow:${fake.url}#${seeded.parent}`,
      });
      const rows = await exp.data({ run: 'all' });
      expect(rows.filter((r) => r.event === 'start' && r.run === 2).map((r) => r.value)).toEqual([
        { parent: 1 },
      ]);
      const loss = rows.filter((r) => r.run === 1 && r.event === 'metric' && r.key === 'loss');
      expect(loss).toHaveLength(seeded.lossPoints);
      expect(loss[29_999]).toMatchObject({
        step: 29_999,
        value: 1 / 30_000,
        dt: new Date(seeded.t0 + 29_999),
      });
      const acc = rows.filter((r) => r.run === 1 && r.key === 'acc').map((r) => [r.step, r.value]);
      expect(acc).toEqual(seeded.acc.map((p) => [p.step, p.value]));
      expect(rows.filter((r) => r.run === 1 && r.event === 'param').map((r) => [r.key, r.value])).toEqual([
        ['lr', '0.001'],
        ['layers', '[64, 32]'],
        ['optimizer', 'adam'],
      ]);
      expect(rows.filter((r) => r.run === 1).every((r) => r.userid === 'alice')).toBe(true);
      for (const [name, bytes] of Object.entries(seeded.artifacts))
        expect(Buffer.from((await exp.restoreArtifact(name, { run: 1 })) as Uint8Array)).toEqual(bytes);
      // nothing twice
      expect(rows.filter((r) => r.run === 1)).toHaveLength(
        // start, name, note, 3 tags, the origin tag, 3 params, the histories, 3 artifacts, stop
        1 + 1 + 1 + 3 + 1 + 3 + seeded.lossPoints + seeded.acc.length + 3 + 1,
      );
      expect(await om.runtime.experiment(seeded.other).data({ event: 'metric' })).toHaveLength(1);
    } finally {
      await om.close();
    }
  });
});

describe('export --to mlflow from an embedded store', () => {
  let fake: FakeMlflowServer;
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(async () => {
    fake = new FakeMlflowServer();
    await fake.start();
    tmp = tempDir();
  });
  afterEach(async () => {
    await fake.stop();
    tmp.cleanup();
  });

  test('the mlflow provider reads back what a store had: events, runs and artifacts of every format', async () => {
    const url = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
    const local = omega({ store: url, onError: () => undefined });
    await logSample(local, 'sample');
    const store = openStore(url);
    try {
      const log = recordingLog();
      const summary = await pushToMlflow(storeSource(store, { experiments: ['sam*'] }), {
        uri: fake.url,
        log,
      });
      // run 4 is still running: sent as it is, and sent anew (replaced) by every push
      expect(summary).toEqual({
        experiments: 1,
        runs: 4,
        alreadyThere: 0,
        failed: 0,
        events: expect.any(Number),
        skipped: [],
      });
      expect(log.notes).toEqual([expect.stringMatching(/run 4 of 'sample' is still running/)]);
      const again = await pushToMlflow(storeSource(store), { uri: fake.url, log: recordingLog() });
      expect(again).toMatchObject({ runs: 1, alreadyThere: 3, failed: 0 });
      const inMlflow = fake.runsOf(fake.experimentByName('sample')!.experiment_id);
      expect(inMlflow.filter((r) => r.info.lifecycle_stage === 'active')).toHaveLength(4);

      const remote = omega({ store: 'memory:', onError: () => undefined });
      try {
        const exp = remote.runtime.experiment('sample', {
          provider: 'mlflow',
          trackingUri: fake.url,
          spool: path.join(tmp.dir, 'spool.db'),
        });
        const mine = local.runtime.experiment('sample');
        const rows = async (e: Pick<typeof exp, 'data'>, run: number) =>
          (await e.data({ run })).map((r) =>
            // an artifact's content is where each provider keeps it: compared restored, below
            r.event === 'artifact' ? { ...r, value: (r.value as { name: string }).name } : r,
          );
        for (const run of [1, 2, 3, 4]) {
          const back = await rows(exp, run);
          let want = await rows(mine, run);
          // -0 travels as 0 in MLflow's JSON
          for (const r of want) if (Object.is(r.value, -0)) r.value = 0;
          // MLflow keeps one end per run: a run stopped twice (run 2 of the sample) reads back with
          // its last stop, as it does when logged through the mlflow provider
          const lastStop = want.filter((r) => r.event === 'stop').pop();
          want = want.filter((r) => r.event !== 'stop' || r === lastStop);
          expect(back).toEqual(want);
        }
        const status = (s: string) => (s === 'CRASHED' ? 'STARTED' : s);
        expect((await exp.runs({ run: 'all' })).map((r) => [r.run, r.name, status(r.status)])).toEqual(
          (await mine.runs({ run: 'all' })).map((r) => [r.run, r.name, r.status]),
        );
        for (const name of SAMPLE_ARTIFACTS)
          expect(inspect(await exp.restoreArtifact(name, { run: 1 }))).toEqual(
            inspect(await mine.restoreArtifact(name, { run: 1 })),
          );
      } finally {
        await remote.close();
      }
    } finally {
      await store.close();
      await local.close();
    }
  });
});
