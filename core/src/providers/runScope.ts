import { AsyncScope } from '../process/asyncScope';

/**
 * Fields a scope stamps on every event recorded inside it: a runtime task stamps its `taskid`,
 * the caller's `userid` and its `attempt`, so that events of tasks running at once on one worker
 * (and what a model backend or the tfjs callback logs for them) each carry their own task.
 */
export interface ScopeStamp {
  /** Replaces the user the events are stamped with (the task's caller). */
  userid?: string;
  /** Extra fields added to every event (the event's own extras win). */
  extra?: Record<string, unknown>;
}

/** A run scope: the run recorded to, and what its events are stamped with. */
export interface RunScope {
  run: number;
  stamp?: ScopeStamp;
}

/**
 * Which run each provider records to in the current async context: `run(fn)` binds its own run
 * here, so that every recording call made inside `fn` — across awaits, through any handle of
 * the experiment — goes to that run, also when runs of one handle nest or overlap.
 */
const scopes = new AsyncScope<ReadonlyMap<object, RunScope>>();

/** The run `owner` records to in the current async context, if a run scope binds one. */
export function scopedRun(owner: object): number | undefined {
  return scopes.get()?.get(owner)?.run;
}

/** The scope binding `owner` in the current async context, if any. */
export function runScopeOf(owner: object): RunScope | undefined {
  return scopes.get()?.get(owner);
}

/**
 * Runs `fn` with `run` as `owner`'s run in this async context (inner scopes win). An inner scope
 * without a stamp of its own keeps the stamp of the scope around it (a child run of a task).
 */
export function withRunScope<T>(owner: object, run: number, fn: () => T, stamp?: ScopeStamp): T {
  const next = new Map(scopes.get());
  const outer = next.get(owner);
  next.set(owner, { run, stamp: stamp ?? outer?.stamp });
  return scopes.run(next, fn);
}
