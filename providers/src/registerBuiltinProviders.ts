import type { ProviderRegistry } from '@omega-track/core';
import { OmegaSimpleTracker } from './default/OmegaSimpleTracker';
import { NoTrackTracker } from './notrack/NoTrackTracker';
import { OmegaProfilingTracker } from './profiling/OmegaProfilingTracker';
import { MlflowTracker } from './mlflow/MlflowTracker';

/**
 * Registers the built-in providers on `registry`: `default` (alias `simple`), `notrack`, `profiling` and `mlflow`.
 * The composition root calls this; importing a provider never registers anything by itself.
 */
export function registerBuiltinProviders(registry: ProviderRegistry): ProviderRegistry {
  registry.register('default', OmegaSimpleTracker);
  registry.register('simple', OmegaSimpleTracker);
  registry.register('notrack', NoTrackTracker);
  registry.register('profiling', OmegaProfilingTracker);
  registry.register('mlflow', MlflowTracker);
  return registry;
}

// `om.runtime.experiment(name, { provider: 'profiling' })` is typed as that provider's handle
declare module '@omega-track/core' {
  interface ProviderTypes {
    default: OmegaSimpleTracker;
    simple: OmegaSimpleTracker;
    notrack: NoTrackTracker;
    profiling: OmegaProfilingTracker;
    mlflow: MlflowTracker;
  }
}
