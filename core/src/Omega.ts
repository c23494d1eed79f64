import type { ErrorHandler } from './diag/diag';
import { TrackingInputError } from './errors/TrackingInputError';
import { ExperimentBackend } from './experiments/ExperimentBackend';
import { ExperimentModelsBackend } from './experiments/ExperimentModelsBackend';
import { ObjectStore } from './objects/ObjectStore';
import type { OmegaTrackingProxy } from './proxy/OmegaTrackingProxy';
import type { TrackingProvider } from './providers/TrackingProvider';
import { ProviderRegistry } from './registry/ProviderRegistry';
import type { Store } from './store/Store';
import { openStore } from './store/openStore';
import { ModelBackendRegistry } from './runtime/ModelBackendRegistry';
import { OmegaRuntime } from './runtime/OmegaRuntime';
import { OmegaRuns } from './search/OmegaRuns';
import type { RuntimeOptions } from './runtime/OmegaRuntime';

/** Options of `new Omega()` / `omega()`. */
export interface OmegaOptions extends RuntimeOptions {
  /** A store URL (`sqlite:<path>`, `memory:`, `postgres://…`, `https://…` a team server) or an open Store. Default: OMEGA_STORE, else `sqlite:.omega/omega.db`. */
  store?: string | Store;
  /** The registry to use; default: a fresh one (the `omega-track` package registers the built-ins). */
  registry?: ProviderRegistry;
  /** Where recording-time failures go (default: one diagnostic line each). */
  onError?: ErrorHandler;
  /** Create the store when there is none (default `true`); `false` for reading code. */
  create?: boolean;
  /** How long a write waits for another process's write lock (default 30 s, or OMEGA_LOCK_TIMEOUT_MS). */
  lockTimeoutMs?: number;
  /** The token of a team server store (`store: 'https://…'`); default OMEGA_TOKEN. */
  token?: string;
}

/** An experiment handle typed with its provider's own members (e.g. `profiler`). */
export type Experiment<P extends TrackingProvider = TrackingProvider> = OmegaTrackingProxy &
  Omit<P, keyof OmegaTrackingProxy>;

/**
 * The facade: one store, the models and datasets stores on it, the provider registry, the
 * experiment backend, the model backends and the runtime. `close()` shuts down providers and the store.
 */
export class Omega {
  readonly store: Store;
  readonly models: ObjectStore;
  readonly datasets: ObjectStore;
  readonly registry: ProviderRegistry;
  readonly experiments: ExperimentBackend;
  readonly runtime: OmegaRuntime;
  /** Runs across experiments: `om.runs.search({ experiments: 'team/*', filter, orderBy, limit })`. */
  readonly runs: OmegaRuns;
  /** Model backends by kind: what runtime tasks use to fit, score and predict (see ModelBackend). */
  readonly backends: ModelBackendRegistry;
  private closing: Promise<void> | undefined;

  constructor(opts: OmegaOptions = {}) {
    checkOptions(opts);
    this.store =
      typeof opts.store === 'object'
        ? opts.store
        : openStore(opts.store, {
            create: opts.create,
            lockTimeoutMs: opts.lockTimeoutMs,
            token: opts.token,
            // a team server's shipping trouble goes where the rest of the recording trouble goes
            http: opts.onError ? { onError: opts.onError } : undefined,
          });
    this.models = new ObjectStore(this.store, 'models');
    this.datasets = new ObjectStore(this.store, 'datasets');
    this.registry = opts.registry ?? new ProviderRegistry();
    this.experiments = new ExperimentBackend(
      this.store,
      this.models,
      this.datasets,
      this.registry,
      opts.onError,
    );
    // experiments live in the models store: om.models.get('experiments/<name>') is the experiment
    this.models.registerBackend(new ExperimentModelsBackend(this.experiments, this.registry));
    this.backends = new ModelBackendRegistry();
    this.runs = new OmegaRuns(this.experiments);
    this.runtime = new OmegaRuntime(this, { runtime: opts.runtime, runtimeQueue: opts.runtimeQueue });
  }

  /** Flushes and shuts down every provider handed out, then closes the store. Idempotent. */
  close(): Promise<void> {
    return (this.closing ??= (async () => {
      // tasks in flight finish (and record) before the providers they record to shut down
      await this.runtime.close();
      await this.experiments.shutdownAll();
      await this.store.close();
    })());
  }
}

/**
 * What JavaScript callers (and pages) can get wrong that the types would have caught: said here,
 * as a TrackingInputError, rather than as a TypeError deep inside, or a token that fetch cannot
 * send taken for a server that does not answer.
 */
function checkOptions(opts: OmegaOptions): void {
  const { store, token, onError } = opts;
  if (store !== undefined && typeof store !== 'string' && (typeof store !== 'object' || store === null))
    throw new TrackingInputError(`store must be a store URL (a string) or a Store, got ${typeof store}`);
  // a token travels in an HTTP header: printable ASCII only (omega-track's are `omt_` + base64url)
  if (token !== undefined && (typeof token !== 'string' || !/^[\x21-\x7e]+$/.test(token)))
    throw new TrackingInputError(
      'token must be the text of a server token (printable ASCII, no spaces: omega-track token create)',
    );
  if (onError !== undefined && typeof onError !== 'function')
    throw new TrackingInputError(`onError must be a function, got ${typeof onError}`);
}
