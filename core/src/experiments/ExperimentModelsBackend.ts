import { TrackingError } from '../errors/TrackingError';
import { TrackingInputError } from '../errors/TrackingInputError';
import { validateExperimentName, validateValue } from '../events/validation';
import type {
  DropOptions,
  ObjectBackend,
  ObjectPutResult,
  ObjectWriteContext,
} from '../objects/ObjectBackend';
import { OmegaTrackingProxy } from '../proxy/OmegaTrackingProxy';
import { TrackingProvider } from '../providers/TrackingProvider';
import type { ProviderRegistry } from '../registry/ProviderRegistry';
import type { MetadataEntry } from '../store/Store';
import type { ExperimentBackend, ExperimentConfig } from './ExperimentBackend';
import { EXPERIMENT_KIND, EXPERIMENT_PREFIX } from './ExperimentBackend';

/**
 * The `om.models` backend of kind `experiment.tracker` (omega-ml's "ExperimentBackend: backend
 * to om.models"): `om.models.get('experiments/<name>')` gives the experiment's handle, the same
 * `OmegaTrackingProxy` that `om.runtime.experiment(name)` gives; `om.models.put(provider or
 * handle, 'experiments/<name>')` stores that provider's configuration (registered provider name
 * and options, JSON, never code); `om.models.drop('experiments/<name>', { force: true })` drops
 * the experiment with its events and artifacts.
 */
export class ExperimentModelsBackend implements ObjectBackend {
  /** The entry kind of experiment configurations. */
  readonly kind = EXPERIMENT_KIND;
  /** An experiment handle logged as an artifact is not a model (it stays `repr`, as before). */
  readonly generic = true;

  constructor(
    private readonly experiments: ExperimentBackend,
    private readonly registry: ProviderRegistry,
  ) {}

  /** A TrackingProvider or an experiment handle. */
  supports(obj: unknown): boolean {
    return obj instanceof TrackingProvider || obj instanceof OmegaTrackingProxy;
  }

  /** `experiments/<name>`: `x` is stored as `experiments/x` (as omega-ml does), and `<name>` must be an experiment name. */
  entryName(name: string): string {
    const experiment = name.startsWith(EXPERIMENT_PREFIX) ? name.slice(EXPERIMENT_PREFIX.length) : name;
    return EXPERIMENT_PREFIX + validateExperimentName(experiment);
  }

  async put(obj: unknown, ctx: ObjectWriteContext): Promise<ObjectPutResult> {
    const experiment = experimentOf(ctx.name);
    const provider = obj instanceof OmegaTrackingProxy ? await obj.provider() : (obj as TrackingProvider);
    return { kind: EXPERIMENT_KIND, attributes: { tracking: await this.configOf(provider, experiment) } };
  }

  async get(entry: MetadataEntry): Promise<OmegaTrackingProxy> {
    const experiment = experimentOf(entry.name);
    // a damaged configuration is said now, not at the handle's first call
    await this.experiments.get(experiment);
    return this.experiments.proxy(experiment);
  }

  async drop(entry: MetadataEntry, opts: DropOptions): Promise<boolean> {
    return this.experiments.drop(experimentOf(entry.name), opts);
  }

  /**
   * The configuration `provider` runs with, for experiment `experiment`: its registered name, the
   * options stored with its own experiment (when that uses the same provider) and its current
   * settings (exp.maxBuffer, profiler interval, …). Data only: a provider's code is never stored.
   */
  private async configOf(provider: TrackingProvider, experiment: string): Promise<ExperimentConfig> {
    const source = await this.experiments.get(provider.experiment);
    const name = this.registeredName(provider, source?.provider);
    const options = {
      ...(source?.provider === name ? source.options : {}),
      ...provider.settings(),
    };
    validateValue(options, `the options of provider '${name}'`);
    const target = experiment === provider.experiment ? source : await this.experiments.get(experiment);
    return {
      provider: name,
      options: JSON.parse(JSON.stringify(options)) as Record<string, unknown>,
      created: target?.created ?? new Date().toISOString(),
      dataset: `.experiments/${experiment}`,
    };
  }

  /** The registered name of the provider's class; `preferred` (the stored one) when it names that class too (aliases). */
  private registeredName(provider: TrackingProvider, preferred: string | undefined): string {
    const cls = provider.constructor;
    const names = preferred === undefined ? this.registry.names() : [preferred, ...this.registry.names()];
    const name = names.find((n) => this.registry.has(n) && this.registry.resolveClass(n) === cls);
    if (name === undefined)
      throw new TrackingInputError(
        `om.models.put: the provider class ${cls.name || '(anonymous)'} is not registered; register it first (om.registry.register('name', ${cls.name || 'Class'}))`,
      );
    return name;
  }
}

function experimentOf(entryName: string | undefined): string {
  if (entryName === undefined || !entryName.startsWith(EXPERIMENT_PREFIX))
    throw new TrackingError(
      `an entry of kind '${EXPERIMENT_KIND}' must be named ${EXPERIMENT_PREFIX}<name>, got '${String(entryName)}'`,
    );
  return entryName.slice(EXPERIMENT_PREFIX.length);
}
