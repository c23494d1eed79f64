import type { TrackingProvider } from '../providers/TrackingProvider';
import type { TrialHistory } from './earlyStop';
import type { SweepParams } from './types';

/** What the sweep run records of one trial, when it starts and when it ends (event `sweep`, key `trial`). */
export interface TrialRecord {
  trial: number;
  run: number;
  params: SweepParams;
  status: 'STARTED' | 'STOPPED' | 'FAILED';
  value?: number;
  /** Why the sweep stopped it early. */
  stopped?: string;
  error?: string;
}

/** What a model sweep records so `omega-track sweep resume` can go on without the caller's code. */
export interface ModelSweepRecord {
  model: string;
  /** The om.datasets names of X and Y (resume needs them by name). */
  X?: string;
  Y?: string;
  /** The fit and score options every trial got. */
  fit?: Record<string, unknown>;
  score?: Record<string, unknown>;
}

/** A sweep as its run holds it: the spec params, each trial's latest record, and a model sweep's target. */
export interface SweepState {
  params: Record<string, unknown>;
  trials: Map<number, TrialRecord>;
  model?: ModelSweepRecord;
  /** The run's status when it was read. */
  status: string;
}

/** The handle members the state is read through. */
type Reader = Pick<TrackingProvider, 'runs' | 'data'>;

/** Reads the state of sweep `run` back from the store (for resume and `sweep show`). */
export async function readSweepState(provider: Reader, run: number): Promise<SweepState | undefined> {
  const [info] = await provider.runs({ run });
  if (!info || info.tags?.sweep !== true) return undefined;
  const trials = new Map<number, TrialRecord>();
  let model: ModelSweepRecord | undefined;
  for (const row of await provider.data({ run, event: 'sweep' })) {
    if (row.key === 'trial') {
      const record = row.value as TrialRecord;
      // the latest record of a trial wins: its end after its start
      if (typeof record?.trial === 'number') trials.set(record.trial, record);
    } else if (row.key === 'model') model = row.value as ModelSweepRecord;
  }
  return { params: info.params ?? {}, trials, model, status: info.status };
}

/** The metric values each run reported, as [step, value] (a step-less value counts as its index). */
export async function readHistories(
  provider: Reader,
  runs: number[],
  metric: string,
): Promise<Map<number, TrialHistory>> {
  const out = new Map<number, Array<[number, number]>>();
  if (runs.length === 0) return out;
  for (const row of await provider.data({ run: runs, event: 'metric', key: metric })) {
    if (typeof row.value !== 'number') continue;
    let h = out.get(row.run);
    if (!h) out.set(row.run, (h = []));
    h.push([row.step ?? h.length, row.value]);
  }
  return out;
}
