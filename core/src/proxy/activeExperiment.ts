import { AsyncScope } from '../process/asyncScope';
import type { OmegaTrackingProxy } from './OmegaTrackingProxy';

const storage = new AsyncScope<OmegaTrackingProxy>();

/** Experiments in a run begun with `enter()` or `start()`, latest last (no async context marks those). */
const entered: OmegaTrackingProxy[] = [];

/**
 * The experiment whose `run(fn)` encloses the current async context, if any. Runtime tasks and
 * the TensorFlow.js callback use it when no experiment is passed to them.
 */
export function activeExperiment(): OmegaTrackingProxy | undefined {
  return storage.get();
}

/**
 * The experiment whose run was begun last with `enter()` or `start()` and is not stopped yet,
 * among those `accept` takes (runtime tasks take the ones of their own `om`).
 */
export function enteredExperiment(
  accept: (exp: OmegaTrackingProxy) => boolean,
): OmegaTrackingProxy | undefined {
  for (let i = entered.length - 1; i >= 0; i--) if (accept(entered[i])) return entered[i];
  return undefined;
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

/** Forgets every entered experiment `drop` takes (those of an `om` that closes). */
export function forgetEntered(drop: (exp: OmegaTrackingProxy) => boolean): void {
  for (let i = entered.length - 1; i >= 0; i--) if (drop(entered[i])) entered.splice(i, 1);
}

/** Runs `fn` with `exp` as the active experiment. */
export function withActiveExperiment<T>(exp: OmegaTrackingProxy, fn: () => T): T {
  return storage.run(exp, fn);
}
