import type { SweepEarlyStop, SweepSpec } from './types';

/** The values of the metric a trial reported: [step, value], in the order reported. */
export type TrialHistory = ReadonlyArray<readonly [step: number, value: number]>;

/** A value as a loss (lower is better); NaN (a diverged trial) is the worst there is. */
function lossOf(value: number, goal: SweepSpec['goal']): number {
  if (Number.isNaN(value)) return Infinity;
  return goal === 'maximize' ? -value : value;
}

/** The best loss of `history` up to and including `step`, undefined when it has none there. */
function bestUpTo(history: TrialHistory, step: number, goal: SweepSpec['goal']): number | undefined {
  let best: number | undefined;
  for (const [s, v] of history)
    if (s <= step) {
      const loss = lossOf(v, goal);
      if (best === undefined || loss < best) best = loss;
    }
  return best;
}

/** The loss of `history` at `step` when the trial got that far (its latest value at or before it). */
function lossAt(history: TrialHistory, step: number, goal: SweepSpec['goal']): number | undefined {
  if (!history.some(([s]) => s >= step)) return undefined;
  let at: number | undefined;
  let atStep = -Infinity;
  for (const [s, v] of history) if (s <= step && s >= atStep) [at, atStep] = [lossOf(v, goal), s];
  return at;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function percentile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  if (!Number.isFinite(sorted[hi]) || lo === hi) return sorted[lo];
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

/**
 * Whether a trial should stop now, given what it reported (`mine`, its latest report last) and
 * what the other trials of the sweep reported (running or finished): the reason when it should,
 * else undefined. Pure, so the in-process controller and a worker reading the store decide alike.
 *
 * - median (Golovin et al., Google Vizier; Optuna's MedianPruner): after `minSteps` reports, the
 *   trial's best value so far is worse than the median of the other trials' values at that step,
 *   among at least `minTrials` trials that got that far.
 * - asha (Li et al. 2020, as Ray Tune's AsyncHyperBand): at each rung minResource·η^k ≤
 *   maxResource, a trial whose value is not in the best 1/η of the values recorded at that rung
 *   (by every trial that reached it) stops.
 */
export function earlyStopReason(
  rule: SweepEarlyStop,
  goal: SweepSpec['goal'],
  metric: string,
  mine: TrialHistory,
  others: readonly TrialHistory[],
): string | undefined {
  if (mine.length === 0) return undefined;
  const step = mine[mine.length - 1][0];
  if (rule.type === 'median') {
    if (mine.length < (rule.minSteps ?? 1)) return undefined;
    const theirs = others.map((h) => lossAt(h, step, goal)).filter((v): v is number => v !== undefined);
    if (theirs.length < (rule.minTrials ?? 3)) return undefined;
    const best = bestUpTo(mine, step, goal)!;
    const mid = median(theirs);
    if (!(best > mid)) return undefined;
    const shown = (loss: number): number => (goal === 'maximize' ? -loss : loss);
    return `median: ${metric} ${shown(best)} at step ${step} is worse than the median ${shown(mid)} of ${theirs.length} other trials`;
  }
  const eta = rule.reductionFactor ?? 3;
  for (let rung = rule.minResource; rung <= rule.maxResource && rung <= step; rung *= eta) {
    // a trial is judged once per rung: when its report first reaches it
    const before = mine.length > 1 ? mine[mine.length - 2][0] : -Infinity;
    if (!(before < rung && step >= rung)) continue;
    const own = lossAt(mine, rung, goal)!;
    const recorded = [
      own,
      ...others.map((h) => lossAt(h, rung, goal)).filter((v): v is number => v !== undefined),
    ];
    const cutoff = percentile(recorded, 1 / eta);
    if (own > cutoff)
      return `asha: ${metric} at rung ${rung} is not in the best 1/${eta} of ${recorded.length} trials`;
  }
  return undefined;
}
