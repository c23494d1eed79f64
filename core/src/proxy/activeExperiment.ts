import { AsyncLocalStorage } from 'node:async_hooks';
import type { OmegaTrackingProxy } from './OmegaTrackingProxy';

const storage = new AsyncLocalStorage<OmegaTrackingProxy>();

/**
 * The experiment whose `run(fn)` encloses the current async context, if any. Runtime tasks and
 * the TensorFlow.js callback use it when no experiment is passed to them.
 */
export function activeExperiment(): OmegaTrackingProxy | undefined {
  return storage.getStore();
}

/** Runs `fn` with `exp` as the active experiment. */
export function withActiveExperiment<T>(exp: OmegaTrackingProxy, fn: () => T): T {
  return storage.run(exp, fn);
}
