import type { OmegaOptions } from '@omega-track/core';
import { Omega, ProviderRegistry } from '@omega-track/core';
import { OmegaSimpleTracker, NoTrackTracker, OmegaProfilingTracker } from '@omega-track/providers';
import { useTfjs } from '@omega-track/adapters';
import type { TfjsModule } from '@omega-track/adapters';

export interface BrowserOmegaOptions extends OmegaOptions {
  tf?: TfjsModule;
}

export function omega(opts: BrowserOmegaOptions = {}): Omega {
  const registry = opts.registry ?? new ProviderRegistry();
  registry.register('default', OmegaSimpleTracker);
  registry.register('simple', OmegaSimpleTracker);
  registry.register('notrack', NoTrackTracker);
  registry.register('profiling', OmegaProfilingTracker);
  if (opts.tf) useTfjs(opts.tf);
  return new Omega({ ...opts, registry });
}
