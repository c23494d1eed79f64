import { AsyncLocalStorage } from 'node:async_hooks';
import type { OmegaTrackingProxy } from './OmegaTrackingProxy';

const storage = new AsyncLocalStorage<OmegaTrackingProxy>();

/** Experiments in a run begun with `enter()` or `start()`, latest last (no async context marks those). */
const entered: OmegaTrackingProxy[] = [];

/**
 * The experiment whose `run(fn)` encloses the current async context, else the one whose run was
 * begun last with `enter()` or `start()` and is not stopped yet. Runtime tasks and the
 * TensorFlow.js callback use it when no experiment is passed to them.
 */
export function activeExperiment(): OmegaTrackingProxy | undefined {
  return storage.getStore() ?? entered[entered.length - 1];
}

/** Marks `exp` as in a run begun with `enter()` / `start()`. */
export function enterExperiment(exp: OmegaTrackingProxy): void {
  entered.push(exp);
}

/** Undoes one `enterExperiment(exp)`. */
export function leaveExperiment(exp: OmegaTrackingProxy): void {
  const i = entered.lastIndexOf(exp);
  if (i >= 0) entered.splice(i, 1);
}

/** Runs `fn` with `exp` as the active experiment. */
export function withActiveExperiment<T>(exp: OmegaTrackingProxy, fn: () => T): T {
  return storage.run(exp, fn);
}
