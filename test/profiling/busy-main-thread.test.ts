/**
 * The profiler's worker samples on schedule while the main thread is busy; its samples reach the
 * main thread as messages only when that thread is free again. A run that is one synchronous
 * stretch must still store every sample the worker took, with the time it was taken.
 */
import type { Experiment, Omega, OmegaProfilingTracker, TrackingEvent } from 'omega-track';
import { omega, setDiagWriter } from 'omega-track';
import path from 'node:path';
import { sleep, tempDir } from '../helpers/tmp';

setDiagWriter(() => undefined);

type Profiled = Experiment<OmegaProfilingTracker>;

/** Keeps the main thread busy, without a single await, for `ms` milliseconds. */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) Math.sqrt(Math.random());
}

const sampleTimes = (rows: TrackingEvent[]): number[] =>
  rows.filter((r) => r.event === 'profile' && r.key === 'profile_dt').map((r) => r.dt.getTime());

describe('profiling a main thread that is busy the whole run', () => {
  let om: Omega;
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
    om = omega({ store: `sqlite:${path.join(tmp.dir, 'omega.db')}` });
  });
  afterEach(async () => {
    await om.close();
    tmp.cleanup();
  });

  test('a run that is one synchronous stretch stores the samples taken during it, with their own times', async () => {
    const exp = om.runtime.experiment<OmegaProfilingTracker>('busy-run', {
      provider: 'profiling',
    }) as Profiled;
    exp.profiler.interval = 0.2;
    let busyFrom = 0;
    let busyUntil = 0;
    await exp.run(() => {
      busyFrom = Date.now();
      busy(1500);
      busyUntil = Date.now();
    });
    const rows = await exp.data();
    const times = sampleTimes(rows);
    expect(times.length).toBeGreaterThanOrEqual(2);
    // taken while the main thread was busy, not when it got to them; the last one may be the
    // sample taken as the run stops
    for (const t of times.slice(0, -1)) {
      expect(t).toBeGreaterThanOrEqual(busyFrom);
      expect(t).toBeLessThanOrEqual(busyUntil);
    }
    expect(times.filter((t) => t <= busyUntil).length).toBeGreaterThanOrEqual(2);
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThan(times[i - 1]);
    const steps = rows.filter((r) => r.key === 'profile_dt').map((r) => r.step);
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => i));
    // every metric of a sample is stored with the sample's time
    const load = rows.filter((r) => r.key === 'memory_used').map((r) => r.dt.getTime());
    expect(load).toEqual(times);
    const stop = rows.find((r) => r.event === 'stop')!;
    expect(times[times.length - 1]).toBeGreaterThanOrEqual(busyFrom);
    expect(Math.max(...times)).toBeLessThanOrEqual(stop.dt.getTime());
  });

  test('explicit start() and stop() around a busy stretch: stop() keeps what the worker took', async () => {
    const exp = om.runtime.experiment<OmegaProfilingTracker>('busy-stop', {
      provider: 'profiling',
      maxBuffer: 100,
    }) as Profiled;
    exp.profiler.interval = 0.2;
    await exp.start();
    busy(1200);
    await exp.stop();
    expect(sampleTimes(await exp.data()).length).toBeGreaterThanOrEqual(2);
    // nothing arrives after the stop
    const before = (await exp.data()).length;
    await sleep(400);
    expect((await exp.data()).length).toBe(before);
  });

  test('stopRuntime() after a busy stretch keeps the samples, and the run goes on', async () => {
    const exp = om.runtime.experiment<OmegaProfilingTracker>('busy-runtime', {
      provider: 'profiling',
    }) as Profiled;
    exp.profiler.interval = 0.2;
    await exp.start();
    busy(1200);
    const tracker = (await exp.provider()) as OmegaProfilingTracker;
    await tracker.stopRuntime();
    expect(tracker.profiler.running).toBe(false);
    expect(await exp.status()).toBe('STARTED');
    expect(sampleTimes(await exp.data()).length).toBeGreaterThanOrEqual(2);
    await exp.stop();
  });
});
