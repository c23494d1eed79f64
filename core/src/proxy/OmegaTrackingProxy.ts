import type { EventQuery, TrackingEvent } from '../events/types';
import type { IterateOptions, TrackingProvider } from '../providers/TrackingProvider';
import { scopedRun } from '../providers/runScope';
import { withActiveExperiment } from './activeExperiment';

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
]);

/**
 * The handle `om.runtime.experiment(name)` returns. It forwards every member of the experiment's
 * provider (resolved lazily from the stored configuration), and adds the run scopes: `run(fn)`,
 * `enter()` with `await using`, and `start()`/`stop()` that also start and stop the provider's
 * runtime (the profiler). Inside `run(fn)` the proxy is the active experiment.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class OmegaTrackingProxy {
  /** The experiment name. */
  readonly experiment: string;
  private readonly resolver: ProviderResolver;

  constructor(experiment: string, resolver: ProviderResolver) {
    this.experiment = experiment;
    this.resolver = resolver;
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

  /** The resolved provider instance. */
  async provider(): Promise<TrackingProvider> {
    return this.resolver.resolve();
  }

  /** Starts a new run and the provider's runtime (e.g. the profiler); returns the run number. */
  async start(): Promise<number> {
    const provider = await this.resolver.resolve();
    const run = await provider.start();
    await provider.startRuntime();
    return run;
  }

  /** Stops the provider's runtime and the current run. */
  async stop(opts?: Parameters<TrackingProvider['stop']>[0]): ReturnType<TrackingProvider['stop']> {
    const provider = await this.resolver.resolve();
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
   * run stops as FAILED with the error's message and the error is rethrown.
   */
  async run<T>(fn: (exp: this) => T | Promise<T>): Promise<T> {
    const provider = await this.resolver.resolve();
    // inside another run(fn) of this experiment: a child run of that one
    const parent = scopedRun(provider);
    const run = await provider.start(parent === undefined ? {} : { parent });
    // the runtime (profiler) runs once for all the runs of a provider that are in flight
    const users = runtimeUsers.get(provider) ?? 0;
    runtimeUsers.set(provider, users + 1);
    if (users === 0) await provider.startRuntime();
    const stopRuntime = async (): Promise<void> => {
      const left = (runtimeUsers.get(provider) ?? 1) - 1;
      runtimeUsers.set(provider, left);
      if (left === 0) await provider.stopRuntime();
    };
    return provider.inRunScope(run, async () => {
      let result: T;
      try {
        result = await withActiveExperiment(this, () => fn(this));
      } catch (error) {
        await stopRuntime();
        await provider.stop({ status: 'FAILED', error });
        throw error;
      }
      await stopRuntime();
      await provider.stop();
      return result;
    });
  }

  /** Starts a new run like `run(fn)` does and returns this proxy; disposing it stops the run. */
  async enter(): Promise<this> {
    await this.start();
    return this;
  }

  /** Stops the run begun by `enter()` (for `await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

type ForwardedMembers = Omit<TrackingProvider, 'start' | 'stop' | 'use' | 'iterate' | 'experiment'>;

/** Every provider member is available on the proxy (forwarded by the Proxy handler). */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging, @typescript-eslint/no-empty-object-type
export interface OmegaTrackingProxy extends ForwardedMembers {}
