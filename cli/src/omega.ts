import type { OmegaOptions } from '@omega-track/core';
import { Omega, ProviderRegistry } from '@omega-track/core';
import { registerBuiltinProviders } from '@omega-track/providers';

/**
 * The batteries-included entry point: an `Omega` on the embedded store (OMEGA_STORE, else
 * `sqlite:.omega/omega.db`) with every built-in provider registered.
 */
export function omega(opts: OmegaOptions = {}): Omega {
  const registry = opts.registry ?? new ProviderRegistry();
  registerBuiltinProviders(registry);
  return new Omega({ ...opts, registry });
}
