import type { OmegaOptions } from '@omega-track/core';
import { Omega, ProviderRegistry } from '@omega-track/core';
import { OmegaSimpleTracker, NoTrackTracker, OmegaProfilingTracker } from '@omega-track/providers';
import { useTfjs } from '@omega-track/adapters';
import { loadTfjs } from '@omega-track/adapters/internal';
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
  else if ((globalThis as { tf?: unknown }).tf !== undefined) {
    // the page's tfjs from a <script> tag: logSystem() and the profiler tell of it from now on
    try {
      loadTfjs();
    } catch {
      // a global `tf` that is not TensorFlow.js: tfjs tracking says so when it is used
    }
  }
  return new Omega({ ...opts, registry });
}
