import type { TrackingProvider } from '../providers/TrackingProvider';
import type { TrialHistory } from './earlyStop';
import { earlyStopReason } from './earlyStop';
import { readHistories } from './sweepState';
import type { SweepTrialScope } from './sweepTrial';
import type { SweepEarlyStop, SweepSpec } from './types';

/** What a trial's reporter needs to know of its sweep. */
export interface TrialRules {
  metric: string;
  goal: SweepSpec['goal'];
  earlyStop?: SweepEarlyStop;
}

/**
 * Records the values of the sweep's metric one trial reports and decides early stopping from
 * them and the other trials' histories. Reporting a step again (the tfjs callback and the
 * trial's handle both see an epoch's value) changes nothing.
 */
abstract class TrialReporter implements SweepTrialScope {
  readonly metric: string;
  readonly history: Array<[number, number]> = [];
  stopped: string | undefined;
  deferStop = false;

  constructor(protected readonly rules: TrialRules) {
    this.metric = rules.metric;
  }

  report(value: number, step: number | undefined): string | undefined | Promise<string | undefined> {
    if (this.stopped !== undefined) return this.stopped;
    const last = this.history[this.history.length - 1];
    const at = step ?? this.history.length;
    if (last && last[0] === at && Object.is(last[1], value)) return undefined;
    this.history.push([at, value]);
    if (!this.rules.earlyStop) return undefined;
    return this.decide(this.rules.earlyStop);
  }

  protected judge(rule: SweepEarlyStop, others: readonly TrialHistory[]): string | undefined {
    const why = earlyStopReason(rule, this.rules.goal, this.metric, this.history, others);
    if (why !== undefined) this.stopped ??= why;
    return this.stopped;
  }

  protected abstract decide(rule: SweepEarlyStop): string | undefined | Promise<string | undefined>;
}

/** In the controller's process: the other trials' histories are in memory, the decision is immediate. */
export class LocalTrialReporter extends TrialReporter {
  constructor(
    rules: TrialRules,
    private readonly others: () => readonly TrialHistory[],
  ) {
    super(rules);
  }

  protected decide(rule: SweepEarlyStop): string | undefined {
    return this.judge(rule, this.others());
  }
}

/** Where a trial's task runs (a worker): reads the other trials' histories from the store. */
export class StoreTrialReporter extends TrialReporter {
  constructor(
    rules: TrialRules,
    private readonly sweepRun: number,
    private readonly ownRun: number | undefined,
    private readonly tracking: Pick<TrackingProvider, 'runs' | 'data' | 'setTag'>,
  ) {
    super(rules);
  }

  protected async decide(rule: SweepEarlyStop): Promise<string | undefined> {
    const siblings = (await this.tracking.runs())
      .filter((r) => r.parent === this.sweepRun && r.run !== this.ownRun)
      .map((r) => r.run);
    const histories = await readHistories(this.tracking, siblings, this.metric);
    const already = this.stopped;
    const why = this.judge(rule, [...histories.values()]);
    // the caller learns it from the trial's run: the task itself ends normally
    if (why !== undefined && already === undefined) this.tracking.setTag('sweep.stopped', why);
    return why;
  }
}
