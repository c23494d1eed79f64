import type { EventQuery, TrackingEvent } from '../events/types';
import type {
  IterateOptions,
  RunMetadata,
  StartOptions,
  TrackingProvider,
} from '../providers/TrackingProvider';
import { validateRunMetadata } from '../providers/TrackingProvider';
import { scopedRun } from '../providers/runScope';
import type { ScopeStamp } from '../providers/runScope';
import { enterExperiment, leaveExperiment, withActiveExperiment } from './activeExperiment';
import type { SweepOptions, SweepParams, SweepResult, SweepSpec } from '../sweep/types';

/** How many run(fn) scopes use each provider's runtime now (it starts with the first, stops with the last). */
const runtimeUsers = new WeakMap<TrackingProvider, number>();

// Node 20 defines Symbol.asyncDispose in its main realm only; vm contexts (test runners,
// sandboxes) lack it, and `await using` would fail there. Same polyfill TypeScript documents.
(Symbol as { asyncDispose?: symbol }).asyncDispose ??= Symbol.for('Symbol.asyncDispose');

/** How a proxy reaches its provider; the ExperimentBackend supplies it. */
export interface ProviderResolver {
  /** The provider as known now (synchronous members go here). */
  current(): TrackingProvider;
  /** The provider once the experiment's stored configuration is applied. */
  resolve(): Promise<TrackingProvider>;
  /** Who made the handle (the ExperimentBackend of an `om`): runtime tasks take its experiments only. */
  owner?: object;
}

/** Options of the handle itself (not of its provider). */
export interface ProxyOptions {
  /** See `ExperimentOptions.impliedRun`; default true. */
  impliedRun?: boolean;
}

/** Options of `run(fn, opts)`: the new run's name, tags and note, and for runtime tasks a run to join. */
export interface RunOptions extends RunMetadata {
  /**
   * Record into this run if it is STARTED and, with `started`, began at that time (a runtime task
   * joining its caller's run); else a new run is started and stopped. The run is left running.
   */
  join?: { run: number; started?: number };
  /** Fields stamped on every event recorded inside the scope (a task's `taskid`, its caller). */
  stamp?: ScopeStamp;
}

/** A run a scope (`run(fn)`, `enter()`) records to, and whether that scope started it. */
interface ScopeRun {
  run: number;
  startedHere: boolean;
  /** Joined through activeRun (held for the scope): released when the scope ends. */
  joined?: boolean;
}

const boundMembers = new WeakMap<object, Map<PropertyKey, (...args: unknown[]) => unknown>>();

/** Provider members that must wait for the configuration before they are forwarded. */
const ASYNC_MEMBERS: ReadonlySet<PropertyKey> = new Set([
  'activeRun',
  'status',
  'data',
  'runs',
  'summary',
  'restoreArtifacts',
  'restoreArtifact',
  'restoreData',
  'clear',
  'flush',
  'shutdown',
  'startRuntime',
  'stopRuntime',
  'track',
  'deleteRun',
]);

/**
 * The handle `om.runtime.experiment(name)` (and `om.models.get('experiments/<name>')`) returns.
 * It forwards every member of the experiment's provider (resolved lazily from the stored
 * configuration), and adds the run scopes: `run(fn)`, `enter()` with `await using`, and
 * `start()`/`stop()` that also start and stop the provider's runtime (the profiler). Inside
 * `run(fn)` the proxy is the active experiment. With `impliedRun: false` the scopes join the
 * latest run if it is STARTED instead of starting their own (what runtime workers use).
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class OmegaTrackingProxy {
  /** The experiment name. */
  readonly experiment: string;
  /**
   * true: `run(fn)` and `enter()` always start a new run and stop it. false: they join the latest
   * run if it is STARTED (starting one only when it is not) and stop only a run they started.
   */
  readonly impliedRun: boolean;
  private readonly resolver: ProviderResolver;
  /** The runs of `enter()` calls not yet disposed, innermost last. */
  private readonly entered: ScopeRun[] = [];

  constructor(experiment: string, resolver: ProviderResolver, opts: ProxyOptions = {}) {
    this.experiment = experiment;
    this.resolver = resolver;
    this.impliedRun = opts.impliedRun ?? true;
    return new Proxy(this, {
      get(target, prop, receiver) {
        if (prop in target) return Reflect.get(target, prop, receiver);
        if (ASYNC_MEMBERS.has(prop))
          return async (...args: unknown[]) => {
            const provider = (await target.resolver.resolve()) as unknown as Record<
              PropertyKey,
              (...a: unknown[]) => unknown
            >;
            return provider[prop](...args);
          };
        let provider: Record<PropertyKey, unknown>;
        try {
          provider = target.resolver.current() as unknown as Record<PropertyKey, unknown>;
        } catch (error) {
          // `await proxy`, inspection and the like ask for `then` and symbols: not a provider member
          if (prop === 'then' || typeof prop === 'symbol') return undefined;
          throw error;
        }
        const member = provider[prop];
        if (typeof member !== 'function') return member;
        // bind once per provider and member: logMetric in a training loop must not allocate
        let bound = boundMembers.get(provider);
        if (!bound) boundMembers.set(provider, (bound = new Map()));
        let fn = bound.get(prop);
        if (!fn) bound.set(prop, (fn = (member as (...a: unknown[]) => unknown).bind(provider)));
        return fn;
      },
      set(target, prop, value) {
        if (prop in target) return false;
        return Reflect.set(target.resolver.current(), prop, value);
      },
      has(target, prop) {
        return prop in target || prop in target.resolver.current();
      },
    });
  }

  /** Whether this handle was made by `owner` (see ProviderResolver.owner). */
  ownedBy(owner: object): boolean {
    return this.resolver.owner === owner;
  }

  /** The resolved provider instance. */
  async provider(): Promise<TrackingProvider> {
    return this.resolver.resolve();
  }

  /** Starts a new run (with a name, tags, note) and the provider's runtime (e.g. the profiler); returns the run number. */
  async start(opts: StartOptions = {}): Promise<number> {
    const provider = await this.resolver.resolve();
    const run = await provider.start(opts);
    await provider.startRuntime();
    enterExperiment(this);
    return run;
  }

  /** Stops the provider's runtime and the current run. */
  async stop(opts?: Parameters<TrackingProvider['stop']>[0]): ReturnType<TrackingProvider['stop']> {
    const provider = await this.resolver.resolve();
    leaveExperiment(this);
    await provider.stopRuntime();
    return provider.stop(opts);
  }

  /** Joins the latest run if STARTED, else starts one (with `run`, uses that run); returns this proxy. */
  async use(run?: number): Promise<this> {
    await (await this.resolver.resolve()).activeRun(run);
    return this;
  }

  /** The rows of `data(query)` in batches. */
  async *iterate(query?: EventQuery, opts?: IterateOptions): AsyncIterable<TrackingEvent[]> {
    yield* (await this.resolver.resolve()).iterate(query, opts);
  }

  /**
   * Runs `fn` in a new run: start, startRuntime, fn, stopRuntime, stop. When `fn` throws, the
   * run stops as FAILED with the error's message and the error is rethrown. With `impliedRun:
   * false`, `fn` runs in the latest run if that is STARTED, which is then left running (also when
   * `fn` throws); a run is started and stopped only when there is none.
   */
  async run<T>(fn: (exp: this) => T | Promise<T>, opts: RunOptions = {}): Promise<T> {
    const { join, stamp, ...meta } = opts;
    validateRunMetadata(meta);
    const provider = await this.resolver.resolve();
    const { run, startedHere, joined } = join
      ? await this.joinRun(provider, join)
      : await this.scopeRun(provider, meta);
    // the runtime (profiler) runs once for all the runs of a provider that are in flight
    const users = runtimeUsers.get(provider) ?? 0;
    runtimeUsers.set(provider, users + 1);
    if (users === 0) await provider.startRuntime();
    const stopRuntime = async (): Promise<void> => {
      const left = (runtimeUsers.get(provider) ?? 1) - 1;
      runtimeUsers.set(provider, left);
      if (left === 0) await provider.stopRuntime();
    };
    return provider.inRunScope(
      run,
      async () => {
        let result: T;
        try {
          result = await withActiveExperiment(this, () => fn(this));
        } catch (error) {
          await stopRuntime();
          if (startedHere) await provider.stop({ status: 'FAILED', error });
          else if (joined) provider.releaseRun(run);
          throw error;
        }
        await stopRuntime();
        if (startedHere) await provider.stop();
        else if (joined) provider.releaseRun(run);
        return result;
      },
      stamp,
    );
  }

  /**
   * Starts a new run like `run(fn)` does and returns this proxy; disposing it stops the run. With
   * `impliedRun: false` it joins the latest run if that is STARTED, and disposing leaves that run
   * running (it flushes).
   */
  async enter(): Promise<this> {
    if (this.impliedRun) {
      this.entered.push({ run: await this.start(), startedHere: true });
      return this;
    }
    const provider = await this.resolver.resolve();
    const scope = await this.scopeRun(provider);
    await provider.startRuntime();
    this.entered.push(scope);
    enterExperiment(this);
    return this;
  }

  /** Ends the scope begun by `enter()` (for `await using`): stops its run if `enter()` started it. */
  async [Symbol.asyncDispose](): Promise<void> {
    const scope = this.entered.pop();
    if (scope === undefined || scope.startedHere) {
      await this.stop();
      return;
    }
    leaveExperiment(this);
    const provider = await this.resolver.resolve();
    await provider.stopRuntime();
    if (scope.joined) provider.releaseRun(scope.run);
  }

  /** The run `join` names if it is STARTED (and began at `join.started`), else a new run. */
  private async joinRun(
    provider: TrackingProvider,
    join: NonNullable<RunOptions['join']>,
  ): Promise<ScopeRun> {
    const [info] = await provider.runs({ run: join.run });
    if (
      info?.status === 'STARTED' &&
      (join.started === undefined || info.started === undefined || info.started.getTime() === join.started)
    )
      return { run: await provider.activeRun(join.run), startedHere: false, joined: true };
    return { run: await provider.start(), startedHere: true };
  }

  /**
   * The run a new scope records to. impliedRun: a new run (a child run inside another run(fn)
   * of this experiment). Otherwise the run of the enclosing run(fn), else the latest run when it
   * is STARTED (not CRASHED: nobody keeps that one alive), else a new run.
   */
  private async scopeRun(provider: TrackingProvider, meta: RunMetadata = {}): Promise<ScopeRun> {
    const scoped = scopedRun(provider);
    if (!this.impliedRun) {
      if (scoped !== undefined) return { run: scoped, startedHere: false };
      const [latest] = await provider.runs({ run: -1 });
      if (latest?.status === 'STARTED')
        return { run: await provider.activeRun(latest.run), startedHere: false, joined: true };
    }
    const run = await provider.start(scoped === undefined ? meta : { ...meta, parent: scoped });
    return { run, startedHere: true };
  }
}

type ForwardedMembers = Omit<TrackingProvider, 'start' | 'stop' | 'use' | 'iterate' | 'experiment'>;

/**
 * Every provider member is available on the proxy (forwarded by the Proxy handler), and `sweep`,
 * which core/src/sweep/installSweep.ts puts on the prototype in Node (not here: the sweep
 * controller stays out of the page's bundle, where sweeps do not run).
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface OmegaTrackingProxy extends ForwardedMembers {
  /**
   * A hyperparameter sweep: a run of this experiment (params = the spec, tag `sweep: true`) whose
   * trials are child runs (tag `sweep.trial`, params = the trial's), each running
   * `trial(params, exp, { trial, run, sweepRun })` with `exp` bound to the trial's run,
   * `spec.parallel` at a time. A trial's value is the number it returns, else the best of its
   * metric (min or max by `spec.goal`); one that throws ends FAILED and ranks last. With
   * `spec.earlyStop`, a trial worse than the others gets SweepStopped from its next `logMetric`
   * of the metric (the tfjs callback ends training at the epoch boundary) and ends STOPPED,
   * tagged `sweep.stopped`. `{ resume: run }` goes on with a sweep whose process died: finished
   * trials are not run again. Resolves with the trials ranked best first, the best params and
   * the sweep's run. Node only.
   */
  sweep(
    spec: SweepSpec,
    trial: (
      params: SweepParams,
      exp: this,
      info: { trial: number; run: number; sweepRun: number },
    ) => unknown,
    opts?: SweepOptions,
  ): Promise<SweepResult>;
}
