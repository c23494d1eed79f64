/**
 * Sweep early stopping for tfjs training (Node): wraps `TensorflowCallback.prototype.onEpochEnd`
 * so that in a sweep trial (exp.sweep in process, or a runtime worker's trial `fit`) each epoch's
 * value of the sweep's metric is reported to the trial, and when the sweep stops the trial,
 * training ends at this epoch boundary (tfjs reads `model.stopTraining` after onEpochEnd):
 * cleanly, never by throwing into fit. Installed by the Node `omega()` (installSweepStop): the
 * page's bundle, where sweeps do not run, keeps the callback as it is.
 */
import { sweepTrial } from '@omega-track/core/internal';
import { TensorflowCallback } from './TensorflowCallback';
import type { TrainingLogs } from './tfjsTypes';

/** A log value that may still be a tf.Scalar. */
async function numberOf(value: unknown): Promise<number | undefined> {
  if (typeof value === 'number') return value;
  const scalar = value as { data?: () => Promise<ArrayLike<number>> } | null;
  if (scalar && typeof scalar.data === 'function') return (await scalar.data())[0];
  return undefined;
}

let installed = false;

/** Wraps the callback's onEpochEnd for sweeps (see above); once per process. */
export function installSweepStop(): void {
  if (installed) return;
  installed = true;
  // called below with the callback as `this`
  // eslint-disable-next-line @typescript-eslint/unbound-method
  const onEpochEnd = TensorflowCallback.prototype.onEpochEnd;
  TensorflowCallback.prototype.onEpochEnd = async function sweepAwareEpochEnd(
    this: TensorflowCallback,
    epoch: number,
    logs?: TrainingLogs,
  ): Promise<void> {
    const trial = sweepTrial();
    if (!trial) return onEpochEnd.call(this, epoch, logs);
    // the callback logs the epoch through the trial's handle: the stop is this hook's to act on,
    // not an error for the callback to report
    trial.deferStop = true;
    try {
      await onEpochEnd.call(this, epoch, logs);
    } finally {
      trial.deferStop = false;
    }
    try {
      const value = await numberOf(logs?.[trial.metric]);
      if (value !== undefined) await trial.report(value, epoch);
    } catch (error) {
      // reading the other trials failed: the trial goes on, as if no rule applied
      void error;
    }
    if (trial.stopped !== undefined && this.model)
      (this.model as { stopTraining?: boolean }).stopTraining = true;
  };
}
