import type { OmegaOptions } from '@omega-track/core';
import { Omega, ProviderRegistry } from '@omega-track/core';
import { registerBuiltinProviders } from '@omega-track/providers';
import { TfjsLayersBackend, installSweepStop, tfjsModelBackend } from '@omega-track/adapters/internal';

/**
 * The batteries-included entry point: an `Omega` on the embedded store (OMEGA_STORE, else
 * `sqlite:.omega/omega.db`) with every built-in provider registered, and TensorFlow.js models
 * storable in `om.models` and runnable as runtime tasks (`om.runtime.model(name).fit(…)`).
 */
export function omega(opts: OmegaOptions = {}): Omega {
  const registry = opts.registry ?? new ProviderRegistry();
  registerBuiltinProviders(registry);
  const om = new Omega({ ...opts, registry });
  // tfjs models (loaded only when one is stored) go to om.models and become `model` artifacts
  om.models.registerBackend(tfjsModelBackend);
  om.backends.register('tfjs.layers', TfjsLayersBackend);
  // sweep trials training tfjs models stop early through the TensorflowCallback (Node only)
  installSweepStop();
  return om;
}
