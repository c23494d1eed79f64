import { SweepStopped } from '../errors/SweepStopped';
import type { OmegaTrackingProxy } from '../proxy/OmegaTrackingProxy';
import type { SweepTrialScope } from './sweepTrial';

function stepOf(opts: unknown): number | undefined {
  if (typeof opts === 'number') return opts;
  if (typeof opts === 'object' && opts !== null) {
    const step = (opts as { step?: unknown }).step;
    if (typeof step === 'number') return step;
  }
  return undefined;
}

/** Reports a value to the trial; throws SweepStopped when the trial must stop. */
function check(trial: SweepTrialScope, value: unknown, opts: unknown): void {
  if (typeof value !== 'number') return;
  const decision = trial.report(value, stepOf(opts));
  // a decision that needs the store lands later: it stops the trial at a later report
  if (decision instanceof Promise) void decision.catch(() => undefined);
  if (trial.stopped !== undefined && !trial.deferStop) throw new SweepStopped(trial.stopped);
}

/**
 * The handle a trial gets: the experiment handle (its calls record into the trial's run, which
 * the run scope binds), whose `logMetric` / `logMetrics` of the sweep's metric also report the
 * value to the sweep and throw SweepStopped once the trial is to stop.
 */
export function trialHandle<E extends OmegaTrackingProxy>(exp: E, trial: SweepTrialScope): E {
  const logMetric = (key: string, value: unknown, opts?: unknown): void => {
    (exp.logMetric as (k: string, v: unknown, o?: unknown) => void)(key, value, opts);
    if (key === trial.metric) check(trial, value, opts);
  };
  const logMetrics = (record: Record<string, unknown>, opts?: unknown): void => {
    (exp.logMetrics as (r: Record<string, unknown>, o?: unknown) => void)(record, opts);
    if (record && typeof record === 'object' && trial.metric in record)
      check(trial, record[trial.metric], opts);
  };
  return new Proxy(exp, {
    get(target, prop) {
      if (prop === 'logMetric') return logMetric;
      if (prop === 'logMetrics') return logMetrics;
      return Reflect.get(target, prop, target) as unknown;
    },
  });
}
