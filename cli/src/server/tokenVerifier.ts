/** The tokens `omega-track server` accepts: those of its store's token registry. */
import type { Omega } from '@omega-track/core';
import type { TokenVerifier } from './auth';
import { TokenRegistry } from './tokens/TokenRegistry';

/** The verifier of the server's tokens (`omega-track token create` on the same store). */
export function openTokenVerifier(om: Omega): TokenVerifier {
  return new TokenRegistry(om.store);
}
