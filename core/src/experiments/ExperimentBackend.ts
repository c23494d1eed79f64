import { env } from '../process/env';
import { diag } from '../diag/diag';
import type { ErrorHandler } from '../diag/diag';
import { TrackingError } from '../errors/TrackingError';
import { TrackingInputError } from '../errors/TrackingInputError';
import { validateExperimentName } from '../events/validation';
import type { ObjectStore } from '../objects/ObjectStore';
import { OmegaTrackingProxy } from '../proxy/OmegaTrackingProxy';
import { forgetEntered } from '../proxy/activeExperiment';
import type { ProviderContext } from '../providers/ProviderContext';
import type { TrackingProvider } from '../providers/TrackingProvider';
import type { ProviderRegistry } from '../registry/ProviderRegistry';
import type { MetadataEntry, Store } from '../store/Store';
import { WeakMembers } from '../process/weakSet';
import { deleteExperimentData } from './deleteExperimentData';

/** The stored configuration of an experiment (JSON, never code). */
export interface ExperimentConfig {
  /** The registered provider name. */
  provider: string;
  /** Provider options and settings (e.g. profiler interval, maxBuffer). */
  options: Record<string, unknown>;
  created: string;
  /** Where the events live (informational; the store keys events by experiment name). */
  dataset: string;
}

/** Options of `om.runtime.experiment(name, opts)`. */
export interface ExperimentOptions {
  /** The provider name; switches an existing experiment to it. Default: the stored one, else OMEGA_TRACKING_PROVIDER, else `default`. */
  provider?: string;
  /** Drop the experiment (events, artifacts, configuration) and create it anew. */
  recreate?: boolean;
  /**
   * How this handle's `run(fn)` and `enter()` treat runs (omega-ml's `implied_run`). `true`
   * (default): each starts a new run and stops it. `false`: each joins the latest run if it is
   * STARTED (another process's run, e.g. the client's run a runtime worker tracks into), starts
   * one only when there is none, and stops only a run it started itself. An option of the handle,
   * not of the experiment: it is never stored with the configuration.
   */
  impliedRun?: boolean;
  /** Anything else is a provider option, stored with the configuration. */
  [option: string]: unknown;
}

/** The entry kind of experiment configurations in the models store. */
export const EXPERIMENT_KIND = 'experiment.tracker';
/** The models-store prefix of experiment configurations. */
export const EXPERIMENT_PREFIX = 'experiments/';

/**
 * Stores experiment configurations as models-store entries `experiments/<name>` of kind
 * `experiment.tracker`, and creates the providers they name.
 */
export class ExperimentBackend {
  /** Every provider created and still in use, so `shutdownAll()` can flush them when `om` closes. */
  private readonly live = new WeakMembers<TrackingProvider>();

  constructor(
    private readonly store: Store,
    private readonly models: ObjectStore,
    private readonly datasets: ObjectStore,
    private readonly registry: ProviderRegistry,
    private readonly onError?: ErrorHandler,
  ) {}

  /** The default provider name for new experiments (OMEGA_TRACKING_PROVIDER, else `default`). */
  static defaultProvider(): string {
    return env().OMEGA_TRACKING_PROVIDER || 'default';
  }

  /** The stored configuration of `name`, undefined when the experiment does not exist. */
  async get(name: string): Promise<ExperimentConfig | undefined> {
    const entry = await this.store.getEntry('models', EXPERIMENT_PREFIX + validateExperimentName(name));
    return entry ? toConfig(entry) : undefined;
  }

  /** Names of all experiments, sorted. */
  async list(): Promise<string[]> {
    const entries = await this.store.listEntries('models', EXPERIMENT_PREFIX);
    return entries
      .filter((e) => e.kind === EXPERIMENT_KIND)
      .map((e) => e.name.slice(EXPERIMENT_PREFIX.length));
  }

  /** Writes the configuration of `name`. */
  async save(name: string, config: ExperimentConfig): Promise<void> {
    const now = new Date();
    const previous = await this.store.getEntry('models', EXPERIMENT_PREFIX + name);
    await this.store.putEntry('models', {
      name: EXPERIMENT_PREFIX + name,
      kind: EXPERIMENT_KIND,
      // attributes given with om.models.put(…, { attributes }) stay
      attributes: { ...previous?.attributes, tracking: config },
      created: previous?.created ?? now,
      modified: now,
    });
  }

  /**
   * Deletes the experiment: its events and artifacts (through its provider, wherever they live:
   * the store, an MLflow server, …) and its configuration. Requires `{ force: true }`.
   */
  async drop(name: string, opts: { force?: boolean } = {}): Promise<boolean> {
    if (opts.force !== true)
      throw new TrackingInputError(
        `dropping experiment '${name}' deletes all its data: pass { force: true }`,
      );
    validateExperimentName(name);
    const config = await this.get(name);
    const stores = { store: this.store, models: this.models, datasets: this.datasets };
    let events = 0;
    if (config && this.registry.has(config.provider)) {
      const provider = this.createProvider(name, config);
      try {
        await provider.clear({ force: true });
      } finally {
        await provider.shutdown();
        this.live.delete(provider);
      }
    } else events = await deleteExperimentData(name, stores);
    // the store may hold events of the experiment too (an earlier provider, run numbers)
    events += await deleteExperimentData(name, stores);
    const existed = await this.store.deleteEntry('models', EXPERIMENT_PREFIX + name);
    return existed || events > 0;
  }

  /** A new provider object for `name` as configured (without touching the stored configuration). */
  createProvider(name: string, config: Pick<ExperimentConfig, 'provider' | 'options'>): TrackingProvider {
    const context: ProviderContext = {
      store: this.store,
      models: this.models,
      datasets: this.datasets,
      options: config.options,
      onError: this.onError,
      persistSettings: async (settings) => {
        const stored = await this.get(name);
        if (!stored) return;
        const options = { ...stored.options, ...settings };
        if (JSON.stringify(options) !== JSON.stringify(stored.options))
          await this.save(name, { ...stored, options });
      },
    };
    const provider = this.registry.create(config.provider, name, context);
    this.live.add(provider);
    return provider;
  }

  /**
   * Runs `fn` with a provider of its own on the experiment `name`, shut down afterwards (a read
   * that leaves nothing open): undefined when the experiment does not exist or its provider is
   * not registered in this process.
   */
  async read<T>(name: string, fn: (provider: TrackingProvider) => Promise<T>): Promise<T | undefined> {
    const config = await this.get(name);
    if (!config || !this.registry.has(config.provider)) return undefined;
    const provider = this.createProvider(name, config);
    try {
      return await fn(provider);
    } finally {
      await provider.shutdown();
      this.live.delete(provider);
    }
  }

  /** Flushes and shuts down every provider this backend created. */
  async shutdownAll(): Promise<void> {
    forgetEntered((exp) => exp.ownedBy(this));
    for (const provider of [...this.live]) {
      await provider.shutdown();
      this.live.delete(provider);
    }
  }

  /**
   * Loads or creates the configuration of `name` and returns its provider. A named provider
   * that differs from the stored one switches the experiment to it; the events stay.
   */
  async open(name: string, opts: ExperimentOptions = {}): Promise<TrackingProvider> {
    validateExperimentName(name);
    if (opts.recreate) await this.drop(name, { force: true });
    const stored = await this.get(name);
    const config = this.configure(name, opts, stored);
    const provider = this.createProvider(name, config);
    await this.saveIfChanged(name, stored, config);
    return provider;
  }

  /** The proxy for `name`: resolves its provider on first use and forwards to it. */
  proxy(name: string, opts: ExperimentOptions = {}): OmegaTrackingProxy {
    validateExperimentName(name);
    if (opts.provider !== undefined) this.registry.resolveClass(opts.provider);
    if (opts.impliedRun !== undefined && typeof opts.impliedRun !== 'boolean')
      throw new TrackingInputError(`impliedRun must be true or false, got ${typeof opts.impliedRun}`);
    let resolved: TrackingProvider | undefined;
    let pending: Promise<TrackingProvider> | undefined;
    let unsaved: { stored: ExperimentConfig | undefined; config: ExperimentConfig } | undefined;
    const resolve = (): Promise<TrackingProvider> =>
      (pending ??= (async () => {
        if (resolved && unsaved) {
          // settings changed on the provider since experiment() (exp.maxBuffer = …) are kept
          const config = {
            ...unsaved.config,
            options: { ...unsaved.config.options, ...resolved.settings() },
          };
          await this.saveIfChanged(name, unsaved.stored, config);
        } else {
          const opened = await this.open(name, opts);
          // a synchronous access may have created the provider meanwhile: that one is in use
          if (resolved) this.live.delete(opened);
          else resolved = opened;
        }
        unsaved = undefined;
        return resolved;
      })().catch((error: unknown) => {
        pending = undefined;
        throw error;
      }));
    return new OmegaTrackingProxy(
      name,
      {
        resolve,
        owner: this,
        current: () => {
          if (resolved) return resolved;
          // The embedded store reads synchronously, so provider settings (exp.maxBuffer, …) can
          // be set right after experiment(); the configuration is saved on the first async call.
          const getSync = this.store.getEntrySync?.bind(this.store);
          if (getSync && !opts.recreate) {
            const entry = getSync('models', EXPERIMENT_PREFIX + name);
            const stored = entry ? toConfig(entry) : undefined;
            const config = this.configure(name, opts, stored);
            resolved = this.createProvider(name, config);
            unsaved = { stored, config };
            return resolved;
          }
          throw new TrackingError(
            getSync
              ? `experiment '${name}' is not open yet: call start(), use(), run() or enter() first`
              : `experiment '${name}' is not open yet: store ${this.store.url} reads its configuration ` +
                  'asynchronously, so await one of start(), use(), run(), enter() or provider() before ' +
                  'logging or changing settings (or give settings to experiment(name, { maxBuffer: … }))',
          );
        },
      },
      { impliedRun: opts.impliedRun ?? true },
    );
  }

  private configure(
    name: string,
    opts: ExperimentOptions,
    stored: ExperimentConfig | undefined,
  ): ExperimentConfig {
    // recreate and impliedRun say how to open this handle, not how the experiment is configured
    const { provider: requested, recreate: _recreate, impliedRun: _impliedRun, ...options } = opts;
    if (requested !== undefined) this.registry.resolveClass(requested);
    if (!stored)
      return {
        provider: requested ?? ExperimentBackend.defaultProvider(),
        options,
        created: new Date().toISOString(),
        dataset: `.experiments/${name}`,
      };
    const config = { ...stored, options: { ...stored.options, ...options } };
    if (requested !== undefined && requested !== stored.provider) {
      diag(
        `experiment '${name}' switches from provider '${stored.provider}' to '${requested}'; its events stay`,
      );
      config.provider = requested;
    }
    return config;
  }

  private async saveIfChanged(
    name: string,
    stored: ExperimentConfig | undefined,
    config: ExperimentConfig,
  ): Promise<void> {
    if (!stored || JSON.stringify(stored) !== JSON.stringify(config)) await this.save(name, config);
  }
}

function toConfig(entry: MetadataEntry): ExperimentConfig {
  const tracking = entry.attributes.tracking as ExperimentConfig | undefined;
  if (!tracking || typeof tracking.provider !== 'string')
    throw new TrackingError(`the configuration of ${entry.name} is damaged: it names no provider`);
  return { ...tracking, options: tracking.options ?? {} };
}
