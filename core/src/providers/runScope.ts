import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Which run each provider records to in the current async context: `run(fn)` binds its own run
 * here, so that every recording call made inside `fn` — across awaits, through any handle of
 * the experiment — goes to that run, also when runs of one handle nest or overlap.
 */
const scopes = new AsyncLocalStorage<ReadonlyMap<object, number>>();

/** The run `owner` records to in the current async context, if a run scope binds one. */
export function scopedRun(owner: object): number | undefined {
  return scopes.getStore()?.get(owner);
}

/** Runs `fn` with `run` as `owner`'s run in this async context (inner scopes win). */
export function withRunScope<T>(owner: object, run: number, fn: () => T): T {
  const next = new Map(scopes.getStore());
  next.set(owner, run);
  return scopes.run(next, fn);
}
