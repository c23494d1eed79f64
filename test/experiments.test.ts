import fs from 'node:fs';
import path from 'node:path';
import type { MetricSummary, PendingEvent, RunInfo, RunStatus, TrackingEvent } from '@omega-track/core';
import type { EncodedArtifact } from '@omega-track/core';
import {
  OmegaTrackingProxy,
  ProviderRegistry,
  TrackingInputError,
  TrackingProvider,
  UnknownProviderError,
  activeExperiment,
  setDiagWriter,
} from '@omega-track/core';
import { EXPERIMENT_KIND } from '@omega-track/core/internal';
import { NoTrackTracker, OmegaSimpleTracker } from '@omega-track/providers';
import { collectDiag } from './helpers/tmp';
import { omegaPerTest } from './helpers/omegaPerTest';
import type { Omega } from '@omega-track/core';

/** A custom provider as a user would write one: keeps events in an array. */
class ListTracker extends TrackingProvider {
  static readonly recorded: PendingEvent[] = [];
  private runs_ = 0;
  async start(): Promise<number> {
    this.run_ = ++this.runs_;
    this.logRunEvent('start', 'start', null);
    return this.run_;
  }
  async stop(): Promise<void> {
    this.logRunEvent('stop', 'stop', { status: 'STOPPED' });
  }
  async activeRun(run?: number): Promise<number> {
    return run ?? this.run_ ?? this.start();
  }
  async status(): Promise<RunStatus> {
    return this.run_ ? 'STARTED' : 'PENDING';
  }
  async data(): Promise<TrackingEvent[]> {
    return ListTracker.recorded.map((e) => ({ ...e, experiment: this.experiment, dt: new Date(e.dt) }));
  }
  async *iterate(): AsyncIterable<TrackingEvent[]> {
    yield await this.data();
  }
  async runs(): Promise<RunInfo[]> {
    return [];
  }
  async summary(): Promise<MetricSummary[]> {
    return [];
  }
  async restoreArtifacts(): Promise<unknown[]> {
    return [];
  }
  async clear(): Promise<void> {
    ListTracker.recorded.length = 0;
  }
  async flush(): Promise<void> {}
  async shutdown(): Promise<void> {}
  protected record(events: PendingEvent[]): void {
    ListTracker.recorded.push(...events);
  }
  protected encodeArtifact(obj: unknown, name: string): EncodedArtifact {
    return { value: { name, format: 'type', data: obj }, write: undefined };
  }
}

describe('registry, experiments and the proxy', () => {
  const fresh = omegaPerTest();
  let om: Omega;
  beforeEach(() => (om = fresh.om()));

  test('the built-in providers are registered by name', () => {
    expect(om.registry.names()).toEqual(['default', 'mlflow', 'notrack', 'profiling', 'simple']);
    expect(om.registry.resolveClass('default')).toBe(OmegaSimpleTracker);
    expect(om.registry.resolveClass('notrack')).toBe(NoTrackTracker);
  });

  test('an unknown provider name is an UnknownProviderError listing the registered names', () => {
    expect(() => om.runtime.experiment('x', { provider: 'nosuch' })).toThrow(UnknownProviderError);
    expect(() => om.runtime.experiment('x', { provider: 'nosuch' })).toThrow(
      "Unknown tracking provider 'nosuch'. Registered providers: default, mlflow, notrack, profiling, simple",
    );
    expect(() => new ProviderRegistry().create('default', 'x', {} as never)).toThrow(
      /Registered providers: \(none\)/,
    );
  });

  test('registries are separate: registering in one does not leak into another', () => {
    const a = new ProviderRegistry();
    a.register('mine', ListTracker);
    expect(a.has('mine')).toBe(true);
    expect(new ProviderRegistry().has('mine')).toBe(false);
    expect(() => a.register('bad name!', ListTracker)).toThrow(TrackingInputError);
  });

  test('a custom provider class is used by name', async () => {
    om.registry.register('list', ListTracker);
    const exp = om.runtime.experiment('custom', { provider: 'list' });
    await exp.run((e) => e.logMetric('m', 3));
    expect(await exp.provider()).toBeInstanceOf(ListTracker);
    expect(ListTracker.recorded.map((e) => [e.event, e.key, e.value])).toEqual([
      ['start', 'start', null],
      ['metric', 'm', 3],
      ['stop', 'stop', { status: 'STOPPED' }],
    ]);
    expect((await om.experiments.get('custom'))?.provider).toBe('list');
  });

  test('the configuration is stored as JSON under experiments/<name>, kind experiment.tracker', async () => {
    const exp = om.runtime.experiment('myapp/regmodel', { maxBuffer: 50 });
    await exp.run(() => undefined);
    const entry = await om.store.getEntry('models', 'experiments/myapp/regmodel');
    expect(entry?.kind).toBe(EXPERIMENT_KIND);
    expect(entry?.attributes.tracking).toMatchObject({
      provider: 'default',
      options: { maxBuffer: 50 },
      dataset: '.experiments/myapp/regmodel',
    });
    expect(await om.experiments.list()).toEqual(['myapp/regmodel']);
    const again = om.runtime.experiment('myapp/regmodel');
    expect((again as unknown as OmegaSimpleTracker).maxBuffer).toBe(50);
  });

  test('settings changed on the handle are stored with the configuration', async () => {
    const exp = om.runtime.experiment<OmegaSimpleTracker>('settings');
    exp.maxBuffer = 7;
    await exp.run(() => undefined);
    expect((await om.experiments.get('settings'))?.options.maxBuffer).toBe(7);
    expect(() => {
      exp.maxBuffer = 0;
    }).toThrow(TrackingInputError);
  });

  test('naming another provider switches the experiment, says so once, and keeps its events', async () => {
    const diag = collectDiag(setDiagWriter);
    try {
      await om.runtime.experiment('sw').run((e) => e.logMetric('m', 1));
      const switched = om.runtime.experiment('sw', { provider: 'notrack' });
      await switched.run((e) => e.logMetric('m', 2));
      expect(await switched.provider()).toBeInstanceOf(NoTrackTracker);
      expect(diag.lines).toEqual([
        "experiment 'sw' switches from provider 'default' to 'notrack'; its events stay",
      ]);
      const back = om.runtime.experiment('sw', { provider: 'default' });
      expect((await back.data({ run: 'all', event: 'metric' })).map((e) => e.value)).toEqual([1]);
    } finally {
      diag.restore();
    }
  });

  test('OMEGA_TRACKING_PROVIDER chooses the provider of new experiments', async () => {
    process.env.OMEGA_TRACKING_PROVIDER = 'notrack';
    try {
      expect(await om.runtime.experiment('env').provider()).toBeInstanceOf(NoTrackTracker);
    } finally {
      delete process.env.OMEGA_TRACKING_PROVIDER;
    }
  });

  test('recreate drops the experiment first', async () => {
    await om.runtime.experiment('re').run((e) => e.logMetric('m', 1));
    const exp = om.runtime.experiment('re', { recreate: true });
    expect(await exp.data({ run: 'all' })).toEqual([]);
    expect(await exp.start()).toBe(1);
  });

  test('bad experiment names are refused', () => {
    for (const name of ['a/../b', '', 'x'.repeat(251), 'a\0b', '../up']) {
      expect(() => om.runtime.experiment(name)).toThrow(TrackingInputError);
    }
    expect(() => om.runtime.experiment('a/../b')).toThrow(
      "experiment name 'a/../b' must not contain a '.' or '..' path segment",
    );
  });

  test('drop() needs force and removes events, artifacts and configuration', async () => {
    const exp = om.runtime.experiment('gone');
    await exp.run((e) => {
      e.logArtifact(Buffer.alloc(10), 'raw');
      e.logArtifact(new Int32Array(4), 'typed');
    });
    await expect(om.experiments.drop('gone')).rejects.toThrow(/pass \{ force: true \}/);
    expect(await om.experiments.drop('gone', { force: true })).toBe(true);
    expect(await om.experiments.list()).toEqual([]);
    expect(await om.datasets.list('.experiments/')).toEqual([]);
    expect(await om.store.queryEvents('gone', {})).toEqual([]);
  });

  test('artifact names are names, never paths: nothing is written outside the store', async () => {
    const exp = om.runtime.experiment('paths');
    await exp.run((e) => {
      e.logArtifact(Buffer.from('secret'), '../../etc/passwd');
      e.logArtifact(new Map([[1, 1]]), '/etc/passwd');
    });
    expect((await exp.restoreArtifact('../../etc/passwd')) as Buffer).toEqual(Buffer.from('secret'));
    expect(await exp.restoreArtifact('/etc/passwd')).toBeDefined();
    expect(fs.readdirSync(fresh.dir()).sort()).toEqual(['omega.db', 'omega.db-shm', 'omega.db-wal']);
    expect(fs.existsSync(path.join(fresh.dir(), '..', '..', 'etc', 'passwd-secret'))).toBe(false);
  });

  test('inside run(fn) the experiment is the active one, also across awaits; outside none is', async () => {
    const exp = om.runtime.experiment('als');
    expect(activeExperiment()).toBeUndefined();
    await exp.run(async () => {
      await new Promise((r) => setTimeout(r, 5));
      expect(activeExperiment()).toBe(exp);
      activeExperiment()?.logMetric('via-active', 1);
    });
    expect(activeExperiment()).toBeUndefined();
    expect((await exp.data({ key: 'via-active' })).length).toBe(1);
  });

  test('await using: enter() starts a run, disposal stops it', async () => {
    {
      await using exp = await om.runtime.experiment('scoped').enter();
      expect(exp).toBeInstanceOf(OmegaTrackingProxy);
      exp.logMetric('m', 1);
      expect(await exp.status()).toBe('STARTED');
    }
    const rows = await om.runtime.experiment('scoped').data({ run: 'all' });
    expect(rows.map((r) => r.event)).toEqual(['start', 'metric', 'stop']);
  });

  test('recording on a closed om is dropped with one diagnostic, never thrown', async () => {
    const diag = collectDiag(setDiagWriter);
    try {
      const exp = om.runtime.experiment('closed');
      await exp.start();
      await exp.shutdown();
      exp.logMetric('m', 1);
      exp.logMetric('m', 2);
      expect(diag.lines).toEqual(['closed: events after shutdown() are dropped']);
    } finally {
      diag.restore();
    }
  });
});
