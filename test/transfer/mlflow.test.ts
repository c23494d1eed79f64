import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { NotMlflowServerError, mlflowSource } from 'omega-track/internal';
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
