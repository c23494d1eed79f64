import { spawn } from 'node:child_process';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Experiment, MlflowTracker, Omega, OmegaProfilingTracker } from 'omega-track';
import { TrackingInputError, omega, setDiagWriter } from 'omega-track';
import { MlflowClient, MlflowSpool, runCli } from 'omega-track/internal';
import { describeProviderContract } from './contract/providerContract';
import { FakeMlflowServer } from './mlflow/FakeMlflowServer';
import { collectDiag, sleep, tempDir } from './helpers/tmp';

// tfjs prints an 'install tfjs-node' banner unless it knows it runs under test
tf.env().set('IS_TEST', true);

setDiagWriter(() => undefined);
jest.setTimeout(120_000);

/** Requests the server refused, but for the lookup that finds an experiment missing before creating it. */
const refused = (fake: FakeMlflowServer): unknown[] =>
  fake.requests.filter(
    (r) => r.status >= 400 && !(r.status === 404 && r.path.endsWith('/experiments/get-by-name')),
  );

/** A fresh fake MLflow server, a temporary spool, and an om whose experiments use them. */
async function mlflowFixture(): Promise<{
  fake: FakeMlflowServer;
  om: Omega;
  spool: string;
  cleanup: () => Promise<void>;
}> {
  const fake = new FakeMlflowServer();
  await fake.start();
  const tmp = tempDir();
  const om = omega({ store: 'memory:', onError: () => undefined });
  return {
    fake,
    om,
    spool: path.join(tmp.dir, 'spool.db'),
    cleanup: async () => {
      await fake.stop();
      tmp.cleanup();
    },
  };
}

describe('MLflow contract against an MLflow-compatible fake server', () => {
  let fake: FakeMlflowServer;
  let spool: string;
  let cleanupFake: () => Promise<void>;
  describeProviderContract(
    'mlflow (fake server)',
    async () => {
      const fx = await mlflowFixture();
      fake = fx.fake;
      spool = fx.spool;
      cleanupFake = fx.cleanup;
      return {
        om: fx.om,
        experiment: (name) =>
          fx.om.runtime.experiment(name, { provider: 'mlflow', trackingUri: fake.url, spool }),
        cleanup: () => cleanupFake(),
      };
    },
    { records: true },
  );
});

if (process.env.MLFLOW_TRACKING_URI) {
  // a real server keeps what earlier test runs left: names get a suffix unique to this run
  const suffix = `-${Date.now().toString(36)}`;
  describeProviderContract(
    `mlflow (real server at ${new MlflowClient().baseUrl})`,
    async () => {
      const tmp = tempDir();
      const om = omega({ store: 'memory:', onError: () => undefined });
      const spool = path.join(tmp.dir, 'spool.db');
      return {
        om,
        experiment: (name) =>
          om.runtime.experiment(name.endsWith(suffix) ? name : name + suffix, { provider: 'mlflow', spool }),
        cleanup: async () => tmp.cleanup(),
      };
    },
    { records: true },
  );
} else {
  console.log(
    'MLFLOW_TRACKING_URI is not set: the contract suite against a real MLflow server does not run (it runs against the fake).',
  );
}

describe('the mlflow provider', () => {
  let fx: Awaited<ReturnType<typeof mlflowFixture>>;
  beforeEach(async () => {
    fx = await mlflowFixture();
  });
  afterEach(async () => {
    await fx.om.close();
    await fx.cleanup();
  });
  const experiment = (name: string, opts: Record<string, unknown> = {}): Experiment<MlflowTracker> =>
    fx.om.runtime.experiment<MlflowTracker>(name, {
      provider: 'mlflow',
      trackingUri: fx.fake.url,
      spool: fx.spool,
      ...opts,
    });

  test('an omega run is an MLflow run named run-<n>, tagged, FINISHED or FAILED at stop', async () => {
    const exp = experiment('mapped');
    await exp.run((e) => {
      e.logMetric('loss', 0.5, 1);
      e.logParam('lr', 0.01);
    });
    await expect(exp.run(() => Promise.reject(new Error('diverged')))).rejects.toThrow('diverged');
    const mlExp = fx.fake.experimentByName('mapped');
    expect(mlExp?.lifecycle_stage).toBe('active');
    const runs = fx.fake.runsOf(mlExp!.experiment_id);
    expect(runs.map((r) => r.info.run_name).sort()).toEqual(['run-1', 'run-2']);
    const byName = Object.fromEntries(runs.map((r) => [r.info.run_name, r]));
    const tags = Object.fromEntries(byName['run-1'].data.tags.map((t) => [t.key, t.value]));
    expect(tags).toMatchObject({ 'omega.run': '1', 'mlflow.source.type': 'LOCAL' });
    expect(tags['mlflow.user']).toBeTruthy();
    expect(tags['mlflow.source.name']).toBeTruthy();
    expect(byName['run-1'].info.status).toBe('FINISHED');
    expect(byName['run-2'].info.status).toBe('FAILED');
    expect(byName['run-1'].data.params).toEqual([{ key: 'lr', value: '0.01' }]);
    expect(fx.fake.metricHistory(byName['run-1'].info.run_id, 'loss')).toEqual([
      expect.objectContaining({ key: 'loss', value: 0.5, step: 1 }),
    ]);
  });

  test('2,500 metrics and 150 params in one flush arrive whole, in requests within MLflow limits', async () => {
    const exp = experiment('bulk', { maxEvents: 10_000 });
    await exp.start();
    for (let i = 0; i < 2500; i++) exp.logMetric('m', i, i);
    for (let i = 0; i < 150; i++) exp.logParam(`p${i}`, i);
    await exp.flush();
    const batches = fx.fake.requests.filter((r) => r.path.endsWith('/runs/log-batch') && r.status === 200);
    for (const { body } of batches) {
      const b = body as { metrics?: unknown[]; params?: unknown[]; tags?: unknown[] };
      const [m, p, t] = [b.metrics?.length ?? 0, b.params?.length ?? 0, b.tags?.length ?? 0];
      expect(m).toBeLessThanOrEqual(1000);
      expect(p).toBeLessThanOrEqual(100);
      expect(t).toBeLessThanOrEqual(100);
      expect(m + p + t).toBeLessThanOrEqual(1000);
    }
    // params in requests of their own (at most 100 each), metrics in 3 requests of at most 1000
    const sizes = batches.map(({ body }) => {
      const b = body as { metrics?: unknown[]; params?: unknown[] };
      return [b.metrics?.length ?? 0, b.params?.length ?? 0];
    });
    expect(sizes.filter(([m]) => m > 0).every(([, p]) => p === 0)).toBe(true);
    expect(sizes.reduce((n, [m]) => n + m, 0)).toBe(2500);
    expect(sizes.reduce((n, [, p]) => n + p, 0)).toBe(150);
    expect(batches.length).toBe(5);
    expect(refused(fx.fake)).toEqual([]);
    const run = fx.fake.runsOf(fx.fake.experimentByName('bulk')!.experiment_id)[0];
    expect(fx.fake.metricHistory(run.info.run_id, 'm').map((p) => p.step)).toEqual(
      Array.from({ length: 2500 }, (_, i) => i),
    );
    expect(run.data.params).toHaveLength(150);
    await exp.stop();
  });

  test('bad input is refused at the call: a#b, 300-character key, a param changed, a metric that is not a number', async () => {
    const exp = experiment('bad');
    await exp.start();
    exp.logParam('lr', 0.01);
    exp.logMetric('kept', 1);
    const cases: Array<[() => void, RegExp]> = [
      [() => exp.logMetric('a#b', 1), /metric key 'a#b' has characters MLflow rejects/],
      [() => exp.logParam('k'.repeat(300), 1), /300 characters long; MLflow allows at most 250|at most 250/],
      [
        () => exp.logParam('lr', 0.02),
        /param 'lr' of run 1 was logged as 0.01; MLflow does not allow changing it to 0.02/,
      ],
      [() => exp.logMetrics({ ok: 1, '../up': 2 }), /not a normalized relative name/],
      [() => exp.logMetric('text', 'high'), /must be a number for MLflow/],
      [() => exp.logEvent('metric', 'x#y', 1), /has characters MLflow rejects/],
    ];
    for (const [call, message] of cases) {
      expect(call).toThrow(TrackingInputError);
      expect(call).toThrow(message);
    }
    exp.logParam('lr', 0.01);
    await exp.stop();
    expect(
      (await exp.data()).filter((r) => r.event !== 'start' && r.event !== 'stop').map((r) => r.key),
    ).toEqual(['lr', 'kept', 'lr']);
    expect(refused(fx.fake)).toEqual([]);
  });

  test('params keep their type on the way back; MLflow sees them as text', async () => {
    const exp = experiment('params');
    await exp.run((e) => e.logParams({ lr: 0.01, layers: [64, 32], optimizer: 'adam', shuffle: true }));
    const params = Object.fromEntries((await exp.data({ event: 'param' })).map((r) => [r.key, r.value]));
    expect(params).toEqual({ lr: 0.01, layers: [64, 32], optimizer: 'adam', shuffle: true });
    const run = fx.fake.runsOf(fx.fake.experimentByName('params')!.experiment_id)[0];
    expect(Object.fromEntries(run.data.params.map((p) => [p.key, p.value]))).toEqual({
      lr: '0.01',
      layers: '[64,32]',
      optimizer: 'adam',
      shuffle: 'true',
    });
  });

  test('NaN and ±Infinity are sent as MLflow expects and come back as such', async () => {
    const exp = experiment('nonfinite');
    await exp.run((e) => {
      e.logMetric('nan', NaN, 0);
      e.logMetric('inf', Infinity, 0);
      e.logMetric('ninf', -Infinity, 0);
    });
    const sent = fx.fake.requests.flatMap(
      (r) => (r.body as { metrics?: Array<{ key: string; value: unknown }> })?.metrics ?? [],
    );
    expect(Object.fromEntries(sent.map((m) => [m.key, m.value]))).toEqual({
      nan: 'NaN',
      inf: 'Infinity',
      ninf: '-Infinity',
    });
    const back = Object.fromEntries((await exp.data({ event: 'metric' })).map((r) => [r.key, r.value]));
    expect(back.nan).toBeNaN();
    expect(back.inf).toBe(Infinity);
    expect(back.ninf).toBe(-Infinity);
  });

  test('a tfjs model artifact is uploaded as files and restored with equal predictions', async () => {
    const exp = experiment('tfjs');
    const model = tf.sequential({
      layers: [
        tf.layers.dense({
          units: 3,
          inputShape: [2],
          kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }),
        }),
      ],
    });
    await exp.run((e) => e.logArtifact(model, 'model'));
    const files = [...fx.fake.artifactFiles().keys()].filter((p) => p.includes('/omega/artifacts/'));
    expect(files.some((p) => p.endsWith('/model.json'))).toBe(true);
    expect(files.some((p) => p.endsWith('/weights.bin'))).toBe(true);
    const restored = (await exp.restoreArtifact('model')) as tf.LayersModel;
    const x = tf.tensor2d([
      [1, 2],
      [-3, 0.5],
    ]);
    const a = (model.predict(x) as tf.Tensor).dataSync();
    const b = (restored.predict(x) as tf.Tensor).dataSync();
    for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-6);
  });

  test('{ profile: true } also sends the profiler samples as MLflow system metrics', async () => {
    const exp = experiment('profiled', { profile: true });
    (exp as unknown as OmegaProfilingTracker).profiler.interval = 0.1;
    await exp.run(() => sleep(450));
    const run = fx.fake.runsOf(fx.fake.experimentByName('profiled')!.experiment_id)[0];
    const cpu = fx.fake.metricHistory(run.info.run_id, 'system/cpu_utilization_percentage');
    expect(cpu.length).toBeGreaterThanOrEqual(2);
    expect(cpu.map((p) => p.step)).toEqual(Array.from({ length: cpu.length }, (_, i) => i));
    expect(fx.fake.metricHistory(run.info.run_id, 'system/system_memory_usage_megabytes').length).toBe(
      cpu.length,
    );
    const profile = await exp.data({ event: 'profile', key: 'memory_used' });
    expect(profile.length).toBe(cpu.length);
    expect(profile[0].value as number).toBeGreaterThan(1e6);
    expect((await exp.data({ event: 'profile', key: 'profile_dt' })).length).toBe(cpu.length);
  });

  test('retries 503 with Retry-After and 429; a server error that retrying cannot help is not retried', async () => {
    const client = new MlflowClient({ trackingUri: fx.fake.url, backoffMs: 10 });
    fx.fake.failNext(2, 503, 1);
    const t0 = Date.now();
    const exp = await client.ensureExperiment('retried');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(exp.name).toBe('retried');
    fx.fake.failNext(1, 429);
    expect((await client.getExperimentByName('retried'))?.experiment_id).toBe(exp.experiment_id);
    const before = fx.fake.requests.length;
    await expect(client.downloadArtifact('mlflow-artifacts:/1/x/artifacts', 'missing.txt')).rejects.toThrow(
      /500 INTERNAL_ERROR/,
    );
    expect(fx.fake.requests.length - before).toBe(1);
  });

  test('credentials: user:password in the URI become Basic auth; MLFLOW_TRACKING_TOKEN a Bearer token', async () => {
    const secured = new FakeMlflowServer({ auth: { username: 'alice', password: 's3cret' } });
    await secured.start();
    try {
      const url = new URL(secured.url);
      const withUser = new MlflowClient({ trackingUri: `http://alice:s3cret@${url.host}` });
      expect(withUser.baseUrl).toBe(`http://${url.host}`);
      expect((await withUser.ensureExperiment('secured')).name).toBe('secured');
      const wrong = new MlflowClient({ trackingUri: `http://alice:nope@${url.host}`, maxRetries: 0 });
      await expect(wrong.getExperimentByName('secured')).rejects.toThrow(/401/);
      const bearer = new MlflowClient({ trackingUri: secured.url, token: 'tok', maxRetries: 0 });
      await expect(bearer.getExperimentByName('secured')).rejects.toThrow(/401/);
    } finally {
      await secured.stop();
    }
  });

  test('an unreachable server from the start: exp.run completes, all waits in the spool, one line names the URL without its password', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const diag = collectDiag(setDiagWriter);
    const om = omega({ store: 'memory:' });
    try {
      const exp = om.runtime.experiment('offline', {
        provider: 'mlflow',
        trackingUri: `http://bob:hunter2@127.0.0.1:${port}`,
        spool: fx.spool,
      });
      const t0 = Date.now();
      await exp.run((e) => {
        for (let i = 0; i < 50; i++) e.logMetric('m', i, i);
      });
      expect(Date.now() - t0).toBeLessThan(15_000);
      expect(MlflowSpool.at(fx.spool).pending(`http://127.0.0.1:${port}`)).toBeGreaterThanOrEqual(1);
      const lines = diag.lines.filter((l) => l.includes('unavailable'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toContain(`http://127.0.0.1:${port}`);
      expect(diag.lines.join('\n')).not.toContain('hunter2');
    } finally {
      diag.restore();
      await om.close();
    }
  });
});

describe('the mlflow provider when runs meet: drops, other processes, refusals', () => {
  let fx: Awaited<ReturnType<typeof mlflowFixture>>;
  beforeEach(async () => {
    fx = await mlflowFixture();
  });
  afterEach(async () => {
    await fx.om.close();
    await fx.cleanup();
  });
  const open = (om: Omega, name: string): Experiment<MlflowTracker> =>
    om.runtime.experiment<MlflowTracker>(name, {
      provider: 'mlflow',
      trackingUri: fx.fake.url,
      spool: fx.spool,
    });

  test('a dropped and recreated experiment starts new MLflow runs, never writes into the old ones', async () => {
    await open(fx.om, 'again').run((e) => e.logParam('lr', 0.01));
    expect(await fx.om.experiments.drop('again', { force: true })).toBe(true);
    const exp = open(fx.om, 'again');
    await exp.run((e) => e.logParam('lr', 0.02));
    expect(refused(fx.fake)).toEqual([]);
    const runs = fx.fake.runsOf(fx.fake.experimentByName('again')!.experiment_id);
    expect(runs.map((r) => [r.info.run_name, r.info.lifecycle_stage])).toEqual([
      ['run-1', 'deleted'],
      ['run-1', 'active'],
    ]);
    expect((await exp.data({ event: 'param' })).map((r) => r.value)).toEqual([0.02]);
  });

  test('a process with a fresh store numbers its runs after those MLflow already has', async () => {
    await open(fx.om, 'numbers').run(() => undefined);
    await open(fx.om, 'numbers').run(() => undefined);
    const other = omega({ store: 'memory:', onError: () => undefined });
    try {
      expect(await open(other, 'numbers').start()).toBe(3);
    } finally {
      await other.close();
    }
  });

  test('a param another process changed is refused by the server: only it is set aside, the metrics arrive', async () => {
    const errors: string[] = [];
    const om = omega({ store: 'memory:', onError: (e) => errors.push(String((e as Error).message)) });
    try {
      const exp = open(om, 'conflict');
      await exp.start();
      await exp.flush();
      const runId = fx.fake.runsOf(fx.fake.experimentByName('conflict')!.experiment_id)[0].info.run_id;
      await new MlflowClient({ trackingUri: fx.fake.url }).logParam(runId, 'lr', '0.5');
      exp.logParam('lr', 0.01);
      for (let i = 0; i < 5; i++) exp.logMetric('loss', i, i);
      await exp.flush();
      exp.logParam('lr', 0.01);
      exp.logMetric('loss', 5, 5);
      await exp.stop();
      expect(fx.fake.metricHistory(runId, 'loss').map((p) => p.step)).toEqual([0, 1, 2, 3, 4, 5]);
      expect(fx.fake.runsOf(fx.fake.experimentByName('conflict')!.experiment_id)[0].info.status).toBe(
        'FINISHED',
      );
      expect(MlflowSpool.at(fx.spool).deadLetters(fx.fake.url.replace(/\/$/, ''))).toHaveLength(2);
      expect(errors.filter((m) => m.includes('Changing param values is not allowed'))).toHaveLength(2);
    } finally {
      await om.close();
    }
  });

  test('identical points, another user per event, extra fields and missing steps all come back', async () => {
    const exp = open(fx.om, 'exact');
    const dt = Date.now();
    await exp.run((e) => {
      for (let i = 0; i < 3; i++) e.logMetric('clicks', 1, { step: 0, dt });
      e.logExtra({ userid: 'worker-7' });
      e.logMetric('loss', 0.5, 1);
      e.logExtra(null);
      e.logMetric('free', 2);
    });
    const rows = await exp.data({ event: 'metric' });
    expect(rows.filter((r) => r.key === 'clicks')).toHaveLength(3);
    expect(rows.find((r) => r.key === 'loss')?.userid).toBe('worker-7');
    expect(rows.find((r) => r.key === 'free')?.step).toBeNull();
    expect(rows.find((r) => r.key === 'free')?.userid).not.toBe('worker-7');
  });

  test('during an outage, status, use() and runs() still answer; data() says why it cannot', async () => {
    const exp = open(fx.om, 'away');
    await exp.start();
    await exp.flush();
    await fx.fake.stop();
    exp.logMetric('m', 1);
    expect(await exp.status()).toBe('STARTED');
    const again = open(fx.om, 'away');
    await again.use();
    expect(again.currentRun).toBe(1);
    expect((await exp.runs()).map((r) => [r.run, r.status])).toEqual([[1, 'STARTED']]);
    await expect(exp.data()).rejects.toThrow(/has not received all events of 'away' yet/);
    await fx.fake.start();
    await exp.stop();
    expect((await exp.data()).map((r) => r.event)).toEqual(['start', 'metric', 'stop']);
  });

  test('while another process is the sender, flush waits on a timer and leaves the event loop free', async () => {
    const exp = open(fx.om, 'shared');
    await exp.start();
    await exp.flush();
    const spool = MlflowSpool.at(fx.spool);
    const uri = new MlflowClient({ trackingUri: fx.fake.url }).baseUrl;
    // pretend the parent process (alive, same host) holds the sender role
    const db = (spool as unknown as { db: { prepare: (sql: string) => { run: (...a: unknown[]) => void } } })
      .db;
    db.prepare('INSERT OR REPLACE INTO senders (uri, pid, host, heartbeat) VALUES (?,?,?,?)').run(
      uri,
      process.ppid,
      os.hostname(),
      Date.now(),
    );
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 20);
    exp.logMetric('m', 1);
    const t0 = Date.now();
    await exp.flush({ timeoutMs: 500 });
    clearInterval(ticker);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(450);
    expect(ticks).toBeGreaterThanOrEqual(10);
    expect(spool.pending(uri, 'shared')).toBe(1);
    db.prepare('DELETE FROM senders WHERE uri = ?').run(uri);
    await exp.stop();
    expect(spool.pending(uri, 'shared')).toBe(0);
  });

  test('`omega-track sync` keeps batches when the server refuses the credentials, and sends them with the right ones', async () => {
    const secured = new FakeMlflowServer({ auth: { username: 'alice', password: 's3cret' } });
    await secured.start();
    const host = new URL(secured.url).host;
    const om = omega({ store: 'memory:', onError: () => undefined });
    try {
      const exp = om.runtime.experiment('creds', {
        provider: 'mlflow',
        trackingUri: `http://alice:wrong@${host}`,
        spool: fx.spool,
      });
      await exp.run((e) => e.logMetric('m', 1, 0));
      const io = (out: string[]) => ({
        stdout: (t: string) => out.push(t),
        stderr: (t: string) => out.push(t),
        env: {},
      });
      const first: string[] = [];
      expect(
        await runCli(
          ['sync', '--spool', fx.spool, '--uri', `http://alice:wrong@${host}`, '--timeout', '3'],
          io(first),
        ),
      ).toBe(1);
      expect(first.join('')).toMatch(/still waiting/);
      expect(first.join('')).not.toContain('wrong@');
      const second: string[] = [];
      expect(
        await runCli(['sync', '--spool', fx.spool, '--uri', `http://alice:s3cret@${host}`], io(second)),
      ).toBe(0);
      expect(second.join('')).toMatch(/0 still waiting/);
      const run = secured.runsOf(secured.experimentByName('creds')!.experiment_id)[0];
      expect(secured.metricHistory(run.info.run_id, 'm')).toHaveLength(1);
    } finally {
      await om.close();
      await secured.stop();
    }
  });
});

describe('outage: nothing is lost, nothing is sent twice', () => {
  test('server stopped after 100 metrics, 1,000 more logged, process exits; server back, `omega-track sync` sends them: 1,100 points in order', async () => {
    const fake = new FakeMlflowServer();
    await fake.start();
    const tmp = tempDir();
    const spool = path.join(tmp.dir, 'spool.db');
    try {
      const child = spawn(
        process.execPath,
        [path.join(__dirname, 'fixtures', 'mlflowOutage.js'), fake.url, spool],
        {
          cwd: path.join(__dirname, '..'),
          stdio: ['pipe', 'pipe', 'pipe'],
        },
      );
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('SENT 100')) resolve();
        });
        void exited.then(() => reject(new Error(`fixture ended early: ${err}`)));
      });
      await fake.stop();
      child.stdin.write('go\n');
      expect(await exited).toBe(0);
      expect(out).toContain('LOGGED 1000');
      expect(err).toBe('');
      const run = fake.runsOf(fake.experimentByName('outage')!.experiment_id)[0];
      expect(fake.metricHistory(run.info.run_id, 'm')).toHaveLength(100);
      expect(MlflowSpool.at(spool).pending()).toBeGreaterThanOrEqual(1);

      await fake.start();
      const bin = path.join(__dirname, '..', 'cli', 'bin', 'omega-track.js');
      const sync = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
        const p = spawn(process.execPath, [bin, 'sync', '--spool', spool], {
          env: { ...process.env, OMEGA_STORE: 'memory:' },
        });
        let stdout = '';
        p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        p.on('exit', (code) => resolve({ code, stdout }));
      });
      expect(sync.stdout).toMatch(/sent \d+ batch\(es\), 0 still waiting/);
      expect(sync.code).toBe(0);
      const points = fake.metricHistory(run.info.run_id, 'm');
      expect(points).toHaveLength(1100);
      expect(points.map((p) => p.step)).toEqual(Array.from({ length: 1100 }, (_, i) => i));
      expect(points.map((p) => p.value)).toEqual(Array.from({ length: 1100 }, (_, i) => i));
      const om = omega({ store: 'memory:' });
      let cli = '';
      expect(
        await runCli(['sync', '--spool', spool], {
          stdout: (t) => (cli += t),
          stderr: () => undefined,
          env: {},
        }),
      ).toBe(0);
      expect(cli).toContain('nothing waits');
      await om.close();
    } finally {
      await fake.stop();
      tmp.cleanup();
    }
  });
});
