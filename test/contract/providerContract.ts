import type { Experiment, Omega, TrackingEvent } from '@omega-track/core';
import { Metadata, NoActiveRunError, TrackingError, TrackingInputError } from '@omega-track/core';

/** What a provider under test is set up with. */
export interface ProviderFixture {
  om: Omega;
  /** A fresh experiment handle of the provider under test. */
  experiment: (name: string) => Experiment;
  cleanup: () => Promise<void>;
}

/** What the provider does; `notrack` records nothing, so only the part that applies runs. */
export interface ProviderCapabilities {
  records: boolean;
  /** Artifact formats it restores (default: all). */
  artifactFormats?: string[];
}

const eventsOf = (rows: TrackingEvent[]): string[] => rows.map((r) => r.event);

/**
 * The rows a test logged: a profiled run also has the profiler's own `profile` rows (a sample as
 * it starts and one as it stops, however short), which the contract does not count.
 */
const logged = (rows: TrackingEvent[]): TrackingEvent[] => rows.filter((r) => r.event !== 'profile');

/**
 * The provider contract (SPEC §1–§4): every provider passes the same assertions, through the
 * proxy users get from `om.runtime.experiment()`.
 */
export function describeProviderContract(
  label: string,
  setup: () => Promise<ProviderFixture>,
  caps: ProviderCapabilities,
): void {
  describe(`provider contract: ${label}`, () => {
    let fx: ProviderFixture;
    let n = 0;
    const fresh = (): Experiment => fx.experiment(`contract-${label}-${process.pid}-${++n}`);
    beforeEach(async () => {
      fx = await setup();
    });
    afterEach(async () => {
      await fx.om.close();
      await fx.cleanup();
    });

    test('run(fn) returns fn’s value, and flush/shutdown can be called twice', async () => {
      const exp = fresh();
      await expect(exp.run(async (e) => (e.logMetric('m', 1), 42))).resolves.toBe(42);
      await exp.flush();
      await exp.flush({ timeoutMs: 1000 });
      await exp.shutdown();
      await exp.shutdown();
    });

    if (!caps.records) {
      test('every call is accepted and dropped', async () => {
        const exp = fresh();
        exp.logMetric('m', 1);
        await exp.run(async (e) => {
          e.logMetric('m', 1);
          e.logParam('p', 2);
          e.logArtifact({ a: 1 }, 'a');
          e.logEvents('x', 'k', [1, 2]);
          e.logSystem();
          e.logExtra({ t: 1 });
        });
        expect(await exp.data({ run: 'all' })).toEqual([]);
        expect(await exp.status()).toBe('STOPPED');
        expect(await exp.runs()).toEqual([]);
        expect(await exp.summary()).toEqual([]);
        expect(await exp.restoreArtifacts()).toEqual([]);
      });
      return;
    }

    test('exp.run with one logMetric records start, metric, stop (SPEC §7)', async () => {
      const exp = fresh();
      await exp.run(async (e) => e.logMetric('mymetric', 0.78));
      const rows = logged(await exp.data());
      expect(eventsOf(rows)).toEqual(['start', 'metric', 'stop']);
      expect(rows[1]).toMatchObject({ run: 1, event: 'metric', key: 'mymetric', value: 0.78, step: null });
      expect(rows[0].key).toBe('start');
      expect(rows[2]).toMatchObject({ key: 'stop', value: { status: 'STOPPED' } });
      expect(rows[1].dt).toBeInstanceOf(Date);
      expect(typeof rows[1].node).toBe('string');
      expect(typeof rows[1].userid).toBe('string');
    });

    test('runs are numbered 1, 2, 3; status goes PENDING, STARTED, STOPPED; FAILED on error', async () => {
      const exp = fresh();
      expect(await exp.status()).toBe('PENDING');
      expect(await exp.start()).toBe(1);
      expect(await exp.status()).toBe('STARTED');
      await exp.stop();
      expect(await exp.status()).toBe('STOPPED');
      await exp.run(() => undefined);
      await expect(
        exp.run(() => {
          throw new Error('diverged');
        }),
      ).rejects.toThrow('diverged');
      expect(await exp.status(3)).toBe('FAILED');
      expect(await exp.status(1)).toBe('STOPPED');
      expect(await exp.status(99)).toBe('PENDING');
      const runs = await exp.runs();
      expect(runs.map((r) => [r.run, r.status])).toEqual([
        [1, 'STOPPED'],
        [2, 'STOPPED'],
        [3, 'FAILED'],
      ]);
      expect(runs[0].duration).toBeGreaterThanOrEqual(0);
      expect(runs[0].started).toBeInstanceOf(Date);
      const stop = (await exp.data({ run: 3, event: 'stop' }))[0];
      expect(stop.value).toEqual({ status: 'FAILED', error: 'diverged' });
    });

    test('logging with no active run is a TrackingError naming start(), use() or run()', async () => {
      const exp = fresh();
      await exp.provider();
      expect(() => exp.logMetric('m', 1)).toThrow(NoActiveRunError);
      expect(() => exp.logMetric('m', 1)).toThrow(/start\(\), use\(\) or run\(\)/);
      expect(NoActiveRunError.prototype).toBeInstanceOf(TrackingError);
    });

    test('use() joins the latest STARTED run, else starts a new one; use(n) uses run n', async () => {
      const exp = fresh();
      await exp.use();
      expect(exp.currentRun).toBe(1);
      exp.logMetric('a', 1);
      await exp.flush();
      const again = fx.experiment(exp.experiment);
      await again.use();
      expect(again.currentRun).toBe(1);
      await again.stop();
      const third = fx.experiment(exp.experiment);
      await third.use();
      expect(third.currentRun).toBe(2);
      await third.use(1);
      expect(third.currentRun).toBe(1);
      expect((await third.data()).map((r) => r.key)).toEqual(['start', 'a', 'stop']);
    });

    test('events logged after stop() still go to that run', async () => {
      const exp = fresh();
      await exp.start();
      await exp.stop();
      exp.logMetric('late', 1);
      expect((await exp.data({ key: 'late' }))[0].run).toBe(1);
    });

    test('data() queries: runs, events, keys, steps, time, extras, limit/offset', async () => {
      const exp = fresh();
      for (let r = 1; r <= 3; r++) {
        await exp.run((e) => {
          for (let s = 0; s < 3; s++) e.logMetric('loss', r * 10 + s, s);
          e.logMetric('acc', r / 10, { step: 0, phase: r === 2 ? 'val' : 'train' });
          e.logParam('lr', 0.1 * r);
        });
      }
      expect((await exp.data()).every((e) => e.run === 3)).toBe(true);
      expect((await exp.data({ run: -1 })).every((e) => e.run === 3)).toBe(true);
      expect(new Set((await exp.data({ run: -2 })).map((e) => e.run))).toEqual(new Set([2]));
      expect(new Set((await exp.data({ run: [1, -1] })).map((e) => e.run))).toEqual(new Set([1, 3]));
      expect(new Set((await exp.data({ run: { from: 2, to: 3 } })).map((e) => e.run))).toEqual(
        new Set([2, 3]),
      );
      expect(logged(await exp.data({ run: 'all' })).length).toBe(3 * 7);
      expect((await exp.data({ run: '*', event: 'param' })).map((e) => e.value)).toEqual([0.1, 0.2, 0.1 * 3]);
      expect((await exp.data({ run: 2, key: 'loss', step: [0, 2] })).map((e) => e.value)).toEqual([20, 22]);
      expect((await exp.data({ run: 'all', phase: 'val' })).map((e) => e.value)).toEqual([0.2]);
      expect(logged(await exp.data({ run: 'all', since: '1h' })).length).toBe(21);
      expect(await exp.data({ run: 'all', since: new Date(Date.now() + 60_000) })).toEqual([]);
      expect((await exp.data({ run: 'all', end: '1h' })).length).toBe(0);
      expect(
        logged(await exp.data({ run: 'all', end: new Date(Date.now() + 1000).toISOString() })).length,
      ).toBe(21);
      expect((await exp.data({ run: 1, limit: 2, offset: 1 })).map((e) => e.value)).toEqual([10, 11]);
      const batches = [];
      for await (const batch of exp.iterate({ run: 'all' }, { batchSize: 5 })) batches.push(batch);
      expect(batches.flat()).toEqual(await exp.data({ run: 'all' }));
      expect(Math.max(...batches.map((b) => b.length))).toBe(5);
    });

    test('an experiment with no events gives []', async () => {
      expect(await fresh().data({ run: 'all' })).toEqual([]);
    });

    test('summary(): count, mean, std, quartiles, min, max, last per run and key', async () => {
      const exp = fresh();
      await exp.run((e) => [4, 1, 3, 2, NaN].forEach((v, i) => e.logMetric('loss', v, i)));
      const [s] = await exp.summary({ run: 1 });
      expect(s).toMatchObject({
        run: 1,
        event: 'metric',
        key: 'loss',
        count: 5,
        mean: 2.5,
        min: 1,
        max: 4,
        p50: 2.5,
        p25: 1.75,
        p75: 3.25,
      });
      expect(s.std).toBeCloseTo(Math.sqrt(5 / 3), 10);
      expect(s.last).toBeNaN();
      expect(s.duration).toBeGreaterThanOrEqual(0);
    });

    test('NaN, Infinity and -Infinity come back as such', async () => {
      const exp = fresh();
      await exp.run((e) => {
        e.logMetric('nan', NaN);
        e.logMetric('inf', Infinity);
        e.logMetric('ninf', -Infinity);
        e.logEvent('custom', 'nested', { v: [NaN, Infinity] });
      });
      const byKey = Object.fromEntries((await exp.data()).map((e) => [e.key, e.value]));
      expect(byKey.nan).toBeNaN();
      expect(byKey.inf).toBe(Infinity);
      expect(byKey.ninf).toBe(-Infinity);
      expect(byKey.nested).toEqual({ v: [NaN, Infinity] });
    });

    test('logEvents, logMetrics, logParams, logData, logSystem, logExtra', async () => {
      const exp = fresh();
      await exp.run((e) => {
        e.logEvents('pipeline', 'stage', ['a', 'b'], { step: 3 });
        e.logMetrics({ loss: 1, acc: 0.5 }, 1);
        e.logParams({ lr: 0.1, layers: [4, 2] });
        e.logExtra({ taskid: 'T1' });
        e.logData('X', [1, 2]);
        e.logData('X', [3]);
        e.logExtra(null);
        e.logSystem();
      });
      const rows = await exp.data();
      const pipeline = rows.filter((r) => r.event === 'pipeline');
      expect(pipeline.map((r) => [r.value, r.step])).toEqual([
        ['a', 3],
        ['b', 3],
      ]);
      expect(pipeline[0].dt).toEqual(pipeline[1].dt);
      expect(rows.filter((r) => r.event === 'metric').map((r) => [r.key, r.value, r.step])).toEqual([
        ['loss', 1, 1],
        ['acc', 0.5, 1],
      ]);
      expect(rows.find((r) => r.key === 'layers')?.value).toEqual([4, 2]);
      expect(rows.filter((r) => r.event === 'data').every((r) => r.taskid === 'T1')).toBe(true);
      const system = rows.find((r) => r.event === 'system');
      expect(system?.taskid).toBeUndefined();
      expect(system?.value).toMatchObject({ node: process.version, platform: expect.any(Object) });
      expect(await exp.restoreData('X')).toEqual([1, 2, 3]);
      expect(await exp.data({ taskid: 'T1', event: 'data' })).toHaveLength(2);
    });

    test('artifacts are restored in their formats, by name, in logging order', async () => {
      const exp = fresh();
      const meta = await fx.om.models.put({ w: [1, 2] }, 'mymodel');
      const big = Array.from({ length: 20_000 }, (_, i) => i);
      const cls = new (class Point {
        x = 1;
        norm(): number {
          return this.x;
        }
      })();
      const shapes: Array<[unknown, string, string]> = [
        [{ a: 1, b: [true, null, 'x'] }, 'type', 'somedata'],
        [meta, 'metadata', 'meta'],
        [Buffer.from('bytes'), 'binary', 'raw'],
        [new Float64Array([1.5, 2.5]), 'dataset', 'typed'],
        [big, 'dataset', 'big'],
        [new Map([['k', new Set([1])]]), 'serialized', 'map'],
        [new Date('2026-01-02T03:04:05Z'), 'serialized', 'date'],
        [cls, 'repr', 'instance'],
        [{ a: 2 }, 'type', 'somedata'],
      ];
      await exp.run((e) => shapes.forEach(([obj, , name]) => e.logArtifact(obj, name)));
      const rows = await exp.data({ event: 'artifact' });
      expect(rows.map((r) => (r.value as { format: string }).format)).toEqual(shapes.map(([, f]) => f));
      const restored = await exp.restoreArtifacts();
      expect(restored[0]).toEqual({ a: 1, b: [true, null, 'x'] });
      expect(restored[1]).toBeInstanceOf(Metadata);
      expect((restored[1] as Metadata).name).toBe('mymodel');
      expect(Buffer.isBuffer(restored[2]) && restored[2].toString()).toBe('bytes');
      expect(restored[3]).toEqual(new Float64Array([1.5, 2.5]));
      expect(restored[4]).toEqual(big);
      // v8.deserialize builds objects in Node's realm, not jest's: compare by content
      const map = restored[5] as Map<string, Set<number>>;
      expect(Object.prototype.toString.call(map)).toBe('[object Map]');
      expect([...map].map(([k, v]) => [k, [...v]])).toEqual([['k', [1]]]);
      expect(Object.prototype.toString.call(restored[6])).toBe('[object Date]');
      expect((restored[6] as Date).toISOString()).toBe('2026-01-02T03:04:05.000Z');
      expect(restored[7]).toContain('x: 1');
      expect(await exp.restoreArtifact('somedata')).toEqual({ a: 2 });
      expect(await exp.restoreArtifact('missing')).toBeUndefined();
    });

    test('clear() needs { force: true }, then deletes events and artifact content', async () => {
      const exp = fresh();
      await exp.run((e) => {
        e.logMetric('m', 1);
        e.logArtifact(new Float32Array(3), 'typed');
        e.logArtifact(Buffer.from('x'), 'raw');
      });
      const typedName = ((await exp.data({ key: 'typed' }))[0].value as { data: unknown }).data;
      await expect(exp.clear()).rejects.toThrow(TrackingInputError);
      await expect(exp.clear()).rejects.toThrow(/force: true/);
      expect(logged(await exp.data({ run: 'all' })).length).toBe(5);
      await exp.clear({ force: true });
      expect(await exp.data({ run: 'all' })).toEqual([]);
      // stores that keep artifact content in om.datasets must have dropped it too
      if (typeof typedName === 'string') expect(await fx.om.datasets.exists(typedName)).toBe(false);
      expect(await exp.start()).toBe(1);
    });

    test('bad input is a TrackingInputError naming the problem, and nothing logged is lost', async () => {
      const exp = fresh();
      await exp.start();
      exp.logMetric('kept', 1);
      const circular: Record<string, unknown> = { a: 1 };
      circular.self = circular;
      const cases: Array<[() => unknown, RegExp]> = [
        [() => exp.logMetric('', 1), /key must not be empty/],
        [() => exp.logMetric('k'.repeat(300), 1), /300 characters long; at most 250/],
        [() => exp.logMetric('m', 1, NaN), /step must be an integer, got NaN/],
        [() => exp.logMetric('m', 1, 1.5), /step must be an integer, got 1\.5/],
        [() => exp.logMetric('m', 1, { step: 1.5 }), /step must be an integer/],
        [() => exp.logMetric('m', () => 1), /value cannot be stored: a function/],
        [() => exp.logEvent('e', 'k', circular), /circular/],
        [() => exp.logMetric('m', 1, { run: 5 }), /extra field 'run' collides/],
        [() => exp.logMetrics({ ok: 1, bad: Symbol('x') }), /cannot be stored: a symbol/],
      ];
      for (const [call, message] of cases) {
        expect(call).toThrow(TrackingInputError);
        expect(call).toThrow(message);
      }
      await expect(exp.data({ key: { $ne: null } as unknown as string })).rejects.toThrow(TrackingInputError);
      await expect(exp.data({ key: { $ne: null } as unknown as string })).rejects.toThrow(
        /must be a plain value/,
      );
      await expect(exp.data({ run: 0 })).rejects.toThrow(TrackingInputError);
      await expect(exp.data({ since: 'yesterday-ish' })).rejects.toThrow(/neither an ISO date nor a span/);
      exp.logArtifact({ secret: false }, '../../etc/passwd');
      expect(await exp.restoreArtifact('../../etc/passwd')).toEqual({ secret: false });
      const rows = await exp.data();
      expect(rows.map((r) => r.key)).toEqual(['start', 'kept', '../../etc/passwd']);
    });
  });
}
