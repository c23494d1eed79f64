import type { Experiment, Omega, TrackingEvent, OmegaProfilingTracker } from 'omega-track';
import { TrackingInputError, omega, setDiagWriter } from 'omega-track';
import { runCli } from 'omega-track/internal';
import path from 'node:path';
import { describeProviderContract } from './contract/providerContract';
import { sleep, tempDir } from './helpers/tmp';

setDiagWriter(() => undefined);

describeProviderContract(
  'profiling',
  async () => {
    const om = omega({ store: 'memory:' });
    return {
      om,
      experiment: (name) => om.runtime.experiment(name, { provider: 'profiling' }),
      cleanup: async () => undefined,
    };
  },
  { records: true },
);

type Profiled = Experiment<OmegaProfilingTracker>;

const profileRows = (rows: TrackingEvent[], key?: string): TrackingEvent[] =>
  rows.filter((r) => r.event === 'profile' && (key === undefined || r.key === key));

/** Keys this kind of machine always has (GPU keys come only where a GPU is visible). */
const ALWAYS = [
  'cpu_load',
  'cpu_load_user',
  'cpu_load_system',
  'cpu_count',
  'cpu_avg',
  'memory_used',
  'memory_total',
  'memory_load',
  'disk_use',
  'disk_total',
  'process_cpu',
  'process_rss',
  'process_heap_used',
];

describe('the profiling provider', () => {
  let om: Omega;
  beforeEach(() => {
    om = omega({ store: 'memory:' });
  });
  afterEach(async () => {
    await om.close();
  });

  test('interval 0.2 s over a 2 s run: >= 8 samples of every metric, steps 0,1,2,… without gap, times increasing', async () => {
    const exp = om.runtime.experiment<OmegaProfilingTracker>('samples', {
      provider: 'profiling',
    }) as Profiled;
    exp.profiler.interval = 0.2;
    await exp.run(() => sleep(2000));
    const rows = profileRows(await exp.data());
    const keys = [...new Set(rows.map((r) => r.key))];
    expect(keys).toEqual(expect.arrayContaining(['profile_dt', ...ALWAYS]));
    for (const key of keys) {
      const steps = profileRows(rows, key).map((r) => r.step);
      expect(steps.length).toBeGreaterThanOrEqual(8);
      expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i));
    }
    const times = profileRows(rows, 'profile_dt').map((r) => Date.parse(r.value as string));
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]);
    expect(
      profileRows(rows, 'profile_dt').every((r) => r.dt.getTime() === Date.parse(r.value as string)),
    ).toBe(true);
    const load = profileRows(rows, 'memory_load').map((r) => r.value as number);
    expect(load.every((v) => v > 0 && v <= 100)).toBe(true);
    expect(profileRows(rows, 'cpu_count')[0].value).toBeGreaterThanOrEqual(1);
  });

  test('samples keep arriving on time while the main thread is busy for 1 s', async () => {
    const exp = om.runtime.experiment<OmegaProfilingTracker>('busy', { provider: 'profiling' }) as Profiled;
    exp.profiler.interval = 0.2;
    await exp.run(async () => {
      await sleep(500);
      const until = Date.now() + 1000;
      while (Date.now() < until) Math.sqrt(Math.random());
      await sleep(500);
    });
    const times = profileRows(await exp.data(), 'profile_dt').map((r) => r.dt.getTime());
    expect(times.length).toBeGreaterThanOrEqual(8);
    const gaps = times.slice(1).map((t, i) => t - times[i]);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(400);
  });

  test('no profile events after stop()', async () => {
    const exp = om.runtime.experiment<OmegaProfilingTracker>('stopped', {
      provider: 'profiling',
    }) as Profiled;
    exp.profiler.interval = 0.1;
    await exp.start();
    await sleep(450);
    await exp.stop();
    const stoppedAt = (await exp.data({ event: 'stop' }))[0].dt.getTime();
    const before = profileRows(await exp.data()).length;
    expect(before).toBeGreaterThan(0);
    await sleep(300);
    const after = profileRows(await exp.data());
    expect(after.length).toBe(before);
    expect(Math.max(...after.map((r) => r.dt.getTime()))).toBeLessThanOrEqual(stoppedAt);
    expect((await exp.provider()) as OmegaProfilingTracker).toMatchObject({
      profiler: { running: false, threads: 0 },
    });
  });

  test('two experiments profile at once, each its own samples; stopping one leaves the other running', async () => {
    const a = om.runtime.experiment<OmegaProfilingTracker>('a', { provider: 'profiling' }) as Profiled;
    const b = om.runtime.experiment<OmegaProfilingTracker>('b', { provider: 'profiling' }) as Profiled;
    a.profiler.interval = 0.1;
    b.profiler.interval = 0.15;
    await a.start();
    await b.start();
    await sleep(900);
    await a.stop();
    const bAtStop = profileRows(await b.data(), 'profile_dt').length;
    await sleep(500);
    await b.stop();
    const aTimes = profileRows(await a.data(), 'profile_dt').map((r) => r.step);
    const bTimes = profileRows(await b.data(), 'profile_dt').map((r) => r.step);
    expect(aTimes.length).toBeGreaterThanOrEqual(3);
    expect(aTimes).toEqual(Array.from({ length: aTimes.length }, (_, i) => i));
    expect(bTimes).toEqual(Array.from({ length: bTimes.length }, (_, i) => i));
    expect(bTimes.length).toBeGreaterThanOrEqual(bAtStop + 2);
  });

  test('changing the interval while running restarts one sampler, never two, and steps go on', async () => {
    const exp = om.runtime.experiment<OmegaProfilingTracker>('restart', {
      provider: 'profiling',
    }) as Profiled;
    exp.profiler.interval = 0.2;
    await exp.start();
    await sleep(500);
    exp.profiler.interval = 0.3;
    exp.profiler.interval = 0.1;
    await sleep(700);
    expect(exp.profiler.threads).toBe(1);
    await exp.stop();
    const rows = profileRows(await exp.data(), 'profile_dt');
    expect(rows.map((r) => r.step)).toEqual(Array.from({ length: rows.length }, (_, i) => i));
    const times = rows.map((r) => r.dt.getTime());
    const lastGaps = times
      .slice(-3)
      .map((t, i, all) => (i ? t - all[i - 1] : 0))
      .slice(1);
    for (const gap of lastGaps) expect(gap).toBeLessThan(160);
  });

  test('metrics can be chosen; interval, metrics and maxBuffer are stored with the experiment', async () => {
    const tmp = tempDir();
    const url = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
    const first = omega({ store: url });
    const exp = first.runtime.experiment<OmegaProfilingTracker>('chosen', {
      provider: 'profiling',
    }) as Profiled;
    exp.profiler.metrics = ['memory', 'process'];
    exp.profiler.interval = 0.1;
    exp.maxBuffer = 2;
    await exp.run(() => sleep(450));
    const keys = new Set(profileRows(await exp.data()).map((r) => r.key));
    expect([...keys].sort()).toEqual(
      [
        'memory_load',
        'memory_total',
        'memory_used',
        'process_cpu',
        'process_heap_used',
        'process_rss',
        'profile_dt',
      ].sort(),
    );
    await first.close();
    const second = omega({ store: url });
    const again = second.runtime.experiment<OmegaProfilingTracker>('chosen') as Profiled;
    expect(again.profiler.interval).toBe(0.1);
    expect(again.profiler.metrics).toEqual(['memory', 'process']);
    expect(again.maxBuffer).toBe(2);
    expect((await second.experiments.get('chosen'))?.options).toMatchObject({
      maxBuffer: 2,
      profiler: { interval: 0.1 },
    });
    await second.close();
    tmp.cleanup();
  });

  test('held samples are written every maxBuffer samples, not only at the end', async () => {
    const exp = om.runtime.experiment<OmegaProfilingTracker>('held', {
      provider: 'profiling',
      maxBuffer: 2,
    }) as Profiled;
    exp.profiler.interval = 0.1;
    await exp.start();
    await sleep(550);
    // read the store directly: data() would flush what is held
    const written = await om.store.queryEvents('held', { events: ['profile'], keys: ['profile_dt'] });
    expect(written.length).toBeGreaterThanOrEqual(2);
    await exp.stop();
  });

  test('a 1.5 s run at the default 10 s interval has a profile: a sample at its start and one at its stop', async () => {
    const exp = om.runtime.experiment<OmegaProfilingTracker>('short', { provider: 'profiling' }) as Profiled;
    expect(exp.profiler.interval).toBe(10);
    let began = 0;
    let ended = 0;
    await exp.run(async () => {
      began = Date.now();
      await sleep(1500);
      ended = Date.now();
    });
    const rows = await exp.data();
    const stop = rows.find((r) => r.event === 'stop')!;
    for (const key of ['profile_dt', ...ALWAYS]) {
      const samples = profileRows(rows, key);
      expect(samples.length).toBeGreaterThanOrEqual(2);
      // steps are sample numbers since the run started
      expect(samples.map((r) => r.step)).toEqual(Array.from({ length: samples.length }, (_, i) => i));
    }
    const times = profileRows(rows, 'profile_dt').map((r) => r.dt.getTime());
    // the first is taken as the run begins (long before the interval), the last as it ends, before its stop
    expect(times[0]).toBeGreaterThanOrEqual(began);
    expect(times[0]).toBeLessThan(ended);
    expect(times[times.length - 1]).toBeGreaterThanOrEqual(ended);
    expect(times[times.length - 1]).toBeLessThanOrEqual(stop.dt.getTime());
    const load = profileRows(rows, 'cpu_load').map((r) => r.value as number);
    expect(load.every((v) => v >= 0 && v <= 100)).toBe(true);
  });

  test('a run shorter than the sampler takes to start still has a sample', async () => {
    const exp = om.runtime.experiment<OmegaProfilingTracker>('blink', { provider: 'profiling' }) as Profiled;
    await exp.run(() => undefined);
    const samples = profileRows(await exp.data(), 'memory_used');
    expect(samples.length).toBeGreaterThanOrEqual(1);
    expect(samples[0].step).toBe(0);
  });

  test('bad input: unknown metric, interval <= 0 or NaN are TrackingInputErrors', async () => {
    const exp = om.runtime.experiment<OmegaProfilingTracker>('bad', { provider: 'profiling' }) as Profiled;
    expect(() => (exp.profiler.metrics = ['cpu', 'gpus' as 'gpu'])).toThrow(TrackingInputError);
    expect(() => (exp.profiler.metrics = ['cpu', 'gpus' as 'gpu'])).toThrow(
      "unknown profiler metric 'gpus'; choose from: cpu, memory, disk, network, gpu, process",
    );
    for (const interval of [0, -1, NaN, Infinity])
      expect(() => (exp.profiler.interval = interval)).toThrow(/positive number of seconds/);
    expect(() => (exp.maxBuffer = 0)).toThrow(TrackingInputError);
    const fromOptions = om.runtime.experiment('bad-options', {
      provider: 'profiling',
      profiler: { interval: -2 },
    });
    await expect(fromOptions.start()).rejects.toThrow(TrackingInputError);
    expect(exp.profiler.interval).toBe(10);
  });

  test('logSystem adds the machine: OS, CPU, memory, and Node and V8 versions', async () => {
    const exp = om.runtime.experiment('system', { provider: 'profiling' });
    await exp.run((e) => e.logSystem());
    const [row] = await exp.data({ event: 'system' });
    const value = row.value as Record<string, any>;
    expect(value.node).toBe(process.version);
    expect(value.v8).toBe(process.versions.v8);
    expect(value.machine.os.platform).toBe(process.platform);
    expect(value.machine.cpu.cores).toBeGreaterThanOrEqual(1);
    expect(typeof value.machine.cpu.brand).toBe('string');
    expect(value.machine.memory.total).toBeGreaterThan(0);
    expect(Array.isArray(value.packages)).toBe(true);
  });

  test('the CLI shows profile events and summarizes profile keys beside metrics', async () => {
    const tmp = tempDir();
    const url = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
    const local = omega({ store: url });
    const exp = local.runtime.experiment<OmegaProfilingTracker>('cli', { provider: 'profiling' }) as Profiled;
    exp.profiler.interval = 0.1;
    await exp.run(async (e) => {
      e.logMetric('loss', 0.5);
      await sleep(350);
    });
    await local.close();
    let out = '';
    const io = { stdout: (t: string) => (out += t), stderr: () => undefined, env: { OMEGA_STORE: url } };
    expect(
      await runCli(['data', 'cli', '--event', 'profile', '--key', 'cpu_load', '--format', 'json'], io),
    ).toBe(0);
    const cpu = JSON.parse(out) as TrackingEvent[];
    expect(cpu.length).toBeGreaterThanOrEqual(2);
    expect(cpu.every((r) => r.event === 'profile' && r.key === 'cpu_load')).toBe(true);
    out = '';
    expect(await runCli(['summary', 'cli'], io)).toBe(0);
    expect(out).toMatch(/^1\s+metric\s+loss\s+1\s+0\.5/m);
    expect(out).toMatch(/^1\s+profile\s+memory_used\s+\d+\s+\d/m);
    expect(out).not.toMatch(/profile_dt/);
    tmp.cleanup();
  });
});
