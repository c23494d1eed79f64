/**
 * Issue 9, points 2–4: inputs that must be refused at the call with a TrackingInputError, with
 * nothing written — times a Date cannot hold, NUL characters in names, steps outside the
 * safe-integer range, values nested too deeply, non-string experiment names, forged start/stop
 * events — and provider classes that are not TrackingProviders.
 */
import path from 'node:path';
import { MAX_VALUE_DEPTH } from '@omega-track/core';
import type { Omega } from 'omega-track';
import {
  OmegaSimpleTracker,
  TrackingInputError,
  TrackingProvider,
  UnknownProviderError,
  omega,
} from 'omega-track';
import { omegaPerTest } from '../helpers/omegaPerTest';
import { FakeMlflowServer } from '../mlflow/FakeMlflowServer';

/** `levels` arrays in one another around 1: nest(1) is [1], nest(2) is [[1]]. */
function nest(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

/** `levels` plain objects in one another. */
function nestObjects(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = { v };
  return v;
}

/** `levels` Maps in one another (an artifact of format `serialized`). */
function nestMaps(levels: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = new Map([['v', v]]);
  return v;
}

describe('inputs refused at the call', () => {
  const fresh = omegaPerTest();
  let om: Omega;
  beforeEach(() => (om = fresh.om()));

  /** Runs `calls` in a fresh run, each expected to throw TrackingInputError; returns what was stored. */
  async function refused(name: string, calls: Array<(e: TrackingProvider) => void>): Promise<unknown[]> {
    const exp = om.runtime.experiment(name);
    await exp.start();
    const provider = await exp.provider();
    for (const call of calls) expect(() => call(provider)).toThrow(TrackingInputError);
    await exp.stop();
    const rows = await exp.data({ run: 'all' });
    return rows.map((r) => r.event);
  }

  test('dt outside what a Date can hold', async () => {
    const bad = [8.64e15 + 1, 1e300, -8.64e15 - 1, -1e300];
    const stored = await refused(
      'dt',
      bad.flatMap((dt) => [
        (e) => e.logMetric('loss', 1, { dt }),
        (e) => e.logParam('lr', 0.1, { dt }),
        (e) => e.logEvent('custom', 'k', 'v', { dt }),
        (e) => e.logEvents('custom', 'k', [1, 2], { dt }),
        (e) => e.logArtifact({ a: 1 }, 'art', { dt }),
      ]),
    );
    expect(stored).toEqual(['start', 'stop']);
    // as a Date or an ISO string past the range they are invalid times, refused as well
    expect(
      await refused('dt-text', [
        (e) => e.logMetric('loss', 1, { dt: new Date(8.64e15 + 1) }),
        (e) => e.logMetric('loss', 1, { dt: '+275760-09-13T00:00:00.001Z' }),
      ]),
    ).toEqual(['start', 'stop']);
  });

  test('dt at the edges of the range is accepted and reads back', async () => {
    const exp = om.runtime.experiment('dt-edge');
    await exp.run((e) => {
      e.logMetric('max', 1, { dt: 8.64e15 });
      e.logMetric('min', 2, { dt: -8.64e15 });
    });
    const byKey = Object.fromEntries(
      (await exp.data({ run: 'all', event: 'metric' })).map((r) => [r.key, r.dt.getTime()]),
    );
    expect(byKey).toEqual({ max: 8.64e15, min: -8.64e15 });
  });

  test('a NUL character in a key, an event name or an extra field name', async () => {
    const stored = await refused('nul', [
      (e) => e.logMetric('a\0b', 1), // the inline fast path
      (e) => e.logMetric('a\0b', 1, 3),
      (e) => e.logMetric('a\0b', 1, { step: 3 }),
      (e) => e.logMetrics({ ok: 1, 'a\0b': 2 }),
      (e) => e.logParam('p\0', 'x'),
      (e) => e.logParams({ 'p\0': 'x' }),
      (e) => e.logEvent('ev\0nt', 'k', 1),
      (e) => e.logEvents('ev\0nt', 'k', [1]),
      (e) => e.logEvent('custom', 'k\0', 'text'),
      (e) => e.logMetric('loss', 1, { 'pha\0se': 'epoch' }),
      (e) => e.logExtra({ 'task\0id': 'x' }),
      (e) => e.logArtifact({ a: 1 }, 'art\0'),
      (e) => e.logData('d\0', [1]),
    ]);
    expect(stored).toEqual(['start', 'stop']);
  });

  test('a step outside the safe-integer range', async () => {
    const stored = await refused('step', [
      (e) => e.logMetric('loss', 1, 2 ** 60), // the inline fast path
      (e) => e.logMetric('loss', 1, -(2 ** 60)),
      (e) => e.logMetric('loss', 1, { step: 2 ** 60 }),
      (e) => e.logMetric('loss', 1, Number.MAX_SAFE_INTEGER + 1),
      (e) => e.logParam('lr', 0.1, 2 ** 60),
      (e) => e.logEvent('custom', 'k', 'v', { step: 2 ** 60 }),
      (e) => e.logMetrics({ a: 1 }, 2 ** 60),
    ]);
    expect(stored).toEqual(['start', 'stop']);
    const exp = om.runtime.experiment('step-edge');
    await exp.run((e) => {
      e.logMetric('hi', 1, Number.MAX_SAFE_INTEGER);
      e.logMetric('lo', 1, { step: Number.MIN_SAFE_INTEGER });
    });
    const steps = (await exp.data({ run: 'all', event: 'metric' })).map((r) => r.step);
    expect(steps).toEqual([Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER]);
  });

  test(`a value nested deeper than ${MAX_VALUE_DEPTH} levels, also as an artifact`, async () => {
    expect(MAX_VALUE_DEPTH).toBe(100);
    const calls: Array<(e: TrackingProvider) => void> = [];
    for (const levels of [MAX_VALUE_DEPTH + 1, 10_000]) {
      const deep = nest(levels);
      calls.push(
        (e) => e.logEvent('custom', 'deep', deep),
        (e) => e.logEvents('custom', 'deep', [1, deep]),
        (e) => e.logParam('deep', deep),
        (e) => e.logMetric('loss', 1, { deep }),
        (e) => e.logExtra({ deep }),
        (e) => e.logEvent('custom', 'obj', nestObjects(levels)),
        (e) => e.logArtifact(deep, 'deep'),
        (e) => e.logArtifact(nestObjects(levels), 'deep'),
        (e) => e.logArtifact(nestMaps(levels), 'deep'),
        (e) => e.logData('deep', [deep]),
      );
    }
    // the error is the typed one, not "Maximum call stack size exceeded"
    const exp = om.runtime.experiment('deep-message');
    await exp.run((e) => {
      expect(() => e.logArtifact(nest(10_000), 'deep')).toThrow(/nested more than 100 levels/);
    });
    expect(await refused('deep', calls)).toEqual(['start', 'stop']);
  });

  test(`values of exactly ${MAX_VALUE_DEPTH} levels are stored, and cycles in artifacts do not count`, async () => {
    const exp = om.runtime.experiment('deep-ok');
    const cyclic = new Map<string, unknown>();
    cyclic.set('self', cyclic);
    await exp.run((e) => {
      e.logEvent('custom', 'deep', nest(MAX_VALUE_DEPTH));
      e.logArtifact(nestObjects(MAX_VALUE_DEPTH), 'objects');
      e.logArtifact(nestMaps(MAX_VALUE_DEPTH), 'maps');
      e.logArtifact(cyclic, 'cyclic');
    });
    const [row] = await exp.data({ run: 'all', event: 'custom' });
    expect(row.value).toEqual(nest(MAX_VALUE_DEPTH));
    expect(await exp.restoreArtifact('objects')).toEqual(nestObjects(MAX_VALUE_DEPTH));
    // v8.deserialize builds Maps of Node's realm, not of jest's: compared by walking them
    let maps = 0;
    for (let m = await exp.restoreArtifact('maps'); m !== 1; m = (m as Map<string, unknown>).get('v')) maps++;
    expect(maps).toBe(MAX_VALUE_DEPTH);
    const restored = (await exp.restoreArtifact('cyclic')) as Map<string, unknown>;
    expect(restored.get('self')).toBe(restored);
  });

  test('a deep value given to om.models / om.datasets does not overflow the stack', async () => {
    // plain JSON that deep is not JSON-plain any more, so no backend takes it: a typed error
    await expect(om.datasets.put(nest(10_000), 'deep')).rejects.toThrow(TrackingInputError);
  });

  test('om.runtime.experiment(5) and other non-string names', () => {
    for (const name of [5, null, undefined, {}, ['x'], true])
      expect(() => om.runtime.experiment(name as string)).toThrow(TrackingInputError);
    expect(() => om.runtime.experiment(5 as unknown as string)).toThrow(/experiment name must be a string/);
  });

  test('forged start and stop events are refused; stop() still stops the run', async () => {
    const exp = om.runtime.experiment('forge');
    await exp.start();
    expect(() => exp.logEvent('stop', 'stop', { status: 'STOPPED' })).toThrow(TrackingInputError);
    expect(() => exp.logEvent('stop', 'stop', 1)).toThrow(TrackingInputError); // numeric: the fast path
    expect(() => exp.logEvent('start', 'start', null)).toThrow(TrackingInputError);
    expect(() => exp.logEvent('start', 'start', 1)).toThrow(/reserved/);
    expect(() => exp.logEvents('stop', 'stop', [{ status: 'FAILED' }])).toThrow(TrackingInputError);
    expect(() => exp.logEvents('start', 'k', [1, 2])).toThrow(TrackingInputError);
    expect(await exp.status()).toBe('STARTED');
    await exp.stop();
    expect(await exp.status()).toBe('STOPPED');
    const events = (await exp.data({ run: 'all' })).map((r) => r.event);
    expect(events).toEqual(['start', 'stop']);
    // run(fn) stops its run through the same internal path, also when fn fails
    await expect(
      exp.run(() => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await exp.status()).toBe('FAILED');
  });

  test('the mlflow provider refuses forged stop events too, and stops as before', async () => {
    const fake = new FakeMlflowServer();
    await fake.start();
    try {
      const exp = om.runtime.experiment('forge-mlflow', {
        provider: 'mlflow',
        trackingUri: fake.url,
        spool: path.join(fresh.dir(), 'spool.db'),
      });
      await exp.start();
      expect(() => exp.logEvent('stop', 'stop', { status: 'FAILED' })).toThrow(TrackingInputError);
      expect(() => exp.logEvents('start', 'start', [1])).toThrow(TrackingInputError);
      expect(() => exp.logMetric('a\0b', 1)).toThrow(TrackingInputError);
      expect(await exp.status()).toBe('STARTED');
      await exp.stop();
      expect(await exp.status()).toBe('STOPPED');
      expect((await exp.data({ run: 'all' })).map((r) => r.event)).toEqual(['start', 'stop']);
    } finally {
      await om.close();
      await fake.stop();
    }
  });

  test('the profiling provider stops as before', async () => {
    const exp = om.runtime.experiment('forge-profiling', { provider: 'profiling' });
    await exp.run((e) => e.logMetric('loss', 1));
    expect(await exp.status()).toBe('STOPPED');
  });
});

describe('provider registration', () => {
  let om: Omega;
  beforeEach(() => {
    om = omega({ store: 'memory:' });
  });

  test("register('bad', class {}) is refused at registration; om.close() still works", async () => {
    expect(() => om.registry.register('bad', class {} as never)).toThrow(TrackingInputError);
    expect(() => om.registry.register('bad', class {} as never)).toThrow(/extending TrackingProvider/);
    expect(om.registry.has('bad')).toBe(false);
    expect(() => om.runtime.experiment('x', { provider: 'bad' })).toThrow(UnknownProviderError);
    await expect(om.close()).resolves.toBeUndefined();
  });

  test('anything that is not a class extending TrackingProvider is refused', async () => {
    class NotAProvider {
      start(): void {}
    }
    const bad: unknown[] = [
      NotAProvider,
      function provider() {},
      () => undefined,
      {},
      'default',
      null,
      undefined,
      TrackingProvider, // abstract: the contract itself, not a provider
    ];
    for (const cls of bad)
      expect(() => om.registry.register('bad', cls as never)).toThrow(TrackingInputError);
    expect(om.registry.has('bad')).toBe(false);
    await om.close();
  });

  test('invalid names are refused; subclasses of TrackingProvider and of providers are accepted', async () => {
    for (const name of ['', '1abc', 'a b', 'a/b', 'x'.repeat(65), 5])
      expect(() => om.registry.register(name as string, OmegaSimpleTracker)).toThrow(TrackingInputError);
    class Mine extends OmegaSimpleTracker {}
    om.registry.register('mine', Mine);
    expect(om.registry.has('mine')).toBe(true);
    const exp = om.runtime.experiment('custom', { provider: 'mine' });
    await exp.run((e) => e.logMetric('loss', 1));
    expect(await exp.provider()).toBeInstanceOf(Mine);
    expect(await exp.status()).toBe('STOPPED');
    await om.close();
  });
});
