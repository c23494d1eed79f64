import { describeValue } from '../diag/diag';
import { SweepStopped } from '../errors/SweepStopped';
import { TrackingInputError } from '../errors/TrackingInputError';
import type { TrackingProvider } from '../providers/TrackingProvider';
import { withRunScope } from '../providers/runScope';
import type { OmegaTrackingProxy } from '../proxy/OmegaTrackingProxy';
import { withActiveExperiment } from '../proxy/activeExperiment';
import type { TrialHistory } from './earlyStop';
import { GridSampler } from './samplers/gridSampler';
import { RandomSampler } from './samplers/randomSampler';
import type { Observation, Sampler } from './samplers/Sampler';
import { TpeSampler } from './samplers/tpeSampler';
import type { CheckedSpec } from './sweepSpec';
import { SPEC_FIELDS, checkSweepSpec, specParams } from './sweepSpec';
import { readHistories, readSweepState } from './sweepState';
import type { ModelSweepRecord, SweepState, TrialRecord } from './sweepState';
import { withSweepTrial } from './sweepTrial';
import { trialHandle } from './trialHandle';
import { LocalTrialReporter } from './TrialReporter';
import type { SweepOptions, SweepParams, SweepResult, SweepTrialResult } from './types';

/** What a trial function is told of its sweep besides its params (model sweeps pass it to their tasks). */
export interface TrialContext {
  /** The sweep's run. */
  sweepRun: number;
  /** The trial's index. */
  trial: number;
  /** The trial's run. */
  run: number;
  spec: CheckedSpec;
}

/** A sweep's trial: runs with the trial's params, in the trial's run; may return the value. */
export type TrialFunction<E> = (params: SweepParams, exp: E, context: TrialContext) => unknown;

/** Options of the controller beyond the public ones. */
export interface ControllerOptions extends SweepOptions {
  /** A model sweep's target, recorded on the sweep run for `omega-track sweep resume`. */
  model?: ModelSweepRecord;
}

/** The sampler a spec asks for. */
function samplerOf(spec: CheckedSpec): Sampler {
  switch (spec.method) {
    case 'grid':
      return new GridSampler(spec.dimensions);
    case 'random':
      return new RandomSampler(spec.dimensions, spec.seed);
    case 'tpe':
      return new TpeSampler(spec.dimensions, spec.seed);
  }
}

/** A value as a loss (lower is better): what samplers and ranking compare. */
function lossOf(value: number | undefined, goal: CheckedSpec['goal']): number | undefined {
  if (value === undefined || Number.isNaN(value)) return undefined;
  return goal === 'maximize' ? -value : value;
}

/** Trials best first: those with a value by it, then those without, FAILED last; ties by index. */
export function rankTrials(trials: SweepTrialResult[], goal: CheckedSpec['goal']): SweepTrialResult[] {
  const key = (t: SweepTrialResult): [number, number] => {
    const loss = lossOf(t.value, goal);
    return t.status === 'FAILED' ? [2, 0] : loss === undefined ? [1, 0] : [0, loss];
  };
  return [...trials].sort((a, b) => {
    const [ga, la] = key(a);
    const [gb, lb] = key(b);
    return ga - gb || la - lb || a.trial - b.trial;
  });
}

/** The result of a sweep from its trials. */
export function sweepResult(run: number, trials: SweepTrialResult[], goal: CheckedSpec['goal']): SweepResult {
  const ranked = rankTrials(trials, goal);
  const top = ranked[0];
  const best =
    top && top.status !== 'FAILED' && lossOf(top.value, goal) !== undefined
      ? { params: top.params, value: top.value!, run: top.run }
      : undefined;
  return { run, trials: ranked, best };
}

function toResult(r: TrialRecord): SweepTrialResult {
  const out: SweepTrialResult = {
    trial: r.trial,
    run: r.run,
    params: r.params,
    value: typeof r.value === 'number' && !Number.isNaN(r.value) ? r.value : undefined,
    status: r.status === 'FAILED' ? 'FAILED' : 'STOPPED',
  };
  if (r.stopped !== undefined) out.stopped = r.stopped;
  if (r.error !== undefined) out.error = r.error;
  return out;
}

/**
 * Drives a sweep (see `OmegaTrackingProxy.sweep`): the sweep run (params = the spec, tag
 * `sweep: true`), each trial a child run of it started through `exp.run`, `parallel` at a time;
 * the sampler asked for each trial's params with what finished before; every trial's start and
 * end recorded on the sweep run (event `sweep`, key `trial`) and written at once, which is what
 * `resume` reads back; early stopping decided at each reported value of the metric.
 */
export class SweepController<E extends OmegaTrackingProxy> {
  private spec: CheckedSpec;
  private sampler: Sampler;
  private readonly results = new Map<number, SweepTrialResult>();
  /** Each trial's reported values of the metric (by trial index), for early stopping. */
  private readonly histories = new Map<number, TrialHistory>();
  private readonly observations: Observation[] = [];
  private provider!: TrackingProvider;
  private sweepRun = 0;

  constructor(
    private readonly exp: E,
    spec: unknown,
    private readonly trial: TrialFunction<E>,
    private readonly opts: ControllerOptions = {},
  ) {
    if (typeof trial !== 'function')
      throw new TrackingInputError(
        `sweep: the trial must be a function (params, exp) => …, got ${describeValue(trial)}`,
      );
    if (opts.resume !== undefined && !(Number.isSafeInteger(opts.resume) && opts.resume >= 1))
      throw new TrackingInputError(
        `sweep: resume takes the sweep's run number, got ${describeValue(opts.resume)}`,
      );
    this.spec = checkSweepSpec(spec);
    this.sampler = samplerOf(this.spec);
  }

  /** Runs the sweep (or the rest of it) and resolves with its ranked trials. */
  async run(): Promise<SweepResult> {
    this.provider = await this.exp.provider();
    if (this.opts.resume !== undefined) return this.resume(this.opts.resume);
    const meta = { tags: { sweep: true }, ...(this.opts.name ? { name: this.opts.name } : {}) };
    return this.exp.run(async () => {
      this.sweepRun = this.provider.currentRun!;
      if (!this.opts.name) this.provider.setName(`sweep-${this.sweepRun}`);
      this.provider.logParams(specParams(this.spec));
      if (this.opts.model) this.provider.logEvent('sweep', 'model', this.opts.model);
      await this.provider.flush();
      return this.drive(new Map());
    }, meta);
  }

  /** Goes on with sweep `run`: the recorded spec, finished trials kept, abandoned ones run again. */
  private async resume(run: number): Promise<SweepResult> {
    const state = await readSweepState(this.provider, run);
    if (!state) throw new TrackingInputError(`run ${run} of '${this.exp.experiment}' is not a sweep`);
    // the recorded spec (with its seed) makes the sampler draw what the first process would have
    // the recorded spec's fields (the sweep run's params hold nothing else, unless logged by hand)
    const recorded = Object.fromEntries(
      Object.entries(state.params).filter(([k]) => SPEC_FIELDS.includes(k)),
    );
    this.spec = checkSweepSpec({ ...recorded, parallel: this.spec.parallel });
    this.sampler = samplerOf(this.spec);
    this.sweepRun = run;
    await this.provider.activeRun(run);
    return this.provider.inRunScope(run, async () => {
      let result: SweepResult;
      try {
        result = await this.drive(state.trials);
      } catch (error) {
        await this.provider.stop({ status: 'FAILED', error });
        throw error;
      }
      await this.provider.stop();
      return result;
    });
  }

  /** Runs the trials not finished yet, `parallel` at a time; resolves with all of them ranked. */
  private async drive(recorded: SweepState['trials']): Promise<SweepResult> {
    const rerun = new Map<number, SweepParams>();
    for (const record of recorded.values()) {
      if (record.status === 'STARTED') {
        rerun.set(record.trial, record.params);
        await this.abandon(record);
      } else this.finish(toResult(record));
    }
    if (this.spec.earlyStop && this.results.size) {
      const byRun = await readHistories(
        this.provider,
        [...this.results.values()].map((r) => r.run),
        this.spec.metric,
      );
      for (const r of this.results.values()) this.histories.set(r.trial, byRun.get(r.run) ?? []);
    }
    let next = 0;
    const take = (): number | undefined => {
      while (next < this.spec.maxTrials && this.results.has(next)) next++;
      return next < this.spec.maxTrials ? next++ : undefined;
    };
    const lane = async (): Promise<void> => {
      for (let i = take(); i !== undefined; i = take())
        await this.runTrial(i, rerun.get(i) ?? this.sampler.sample(i, this.observations));
    };
    // never more lanes than trials: `parallel: 1e9` is as many lanes as there are trials
    await Promise.all(Array.from({ length: Math.min(this.spec.parallel, this.spec.maxTrials) }, lane));
    return sweepResult(this.sweepRun, [...this.results.values()], this.spec.goal);
  }

  /** A trial started by a process that died: its run ends FAILED, tagged, and it runs again. */
  private async abandon(record: TrialRecord): Promise<void> {
    const provider = this.provider;
    await provider.inRunScope(record.run, async () => {
      provider.setTag(
        'sweep.abandoned',
        'the process running the sweep ended before this trial; it runs again',
      );
      await provider.stop({ status: 'FAILED', error: 'abandoned: the sweep was resumed' });
    });
  }

  private finish(result: SweepTrialResult): void {
    this.results.set(result.trial, result);
    this.observations.push({ params: result.params, loss: lossOf(result.value, this.spec.goal) });
  }

  /** Records on the sweep run (whatever scope the caller is in) and writes it now. */
  private async record(record: TrialRecord): Promise<void> {
    withRunScope(this.provider, this.sweepRun, () => this.provider.logEvent('sweep', 'trial', record));
    await this.provider.flush();
  }

  private async runTrial(index: number, params: SweepParams): Promise<void> {
    const { metric, goal, earlyStop } = this.spec;
    const others = (): TrialHistory[] => [...this.histories].filter(([i]) => i !== index).map(([, h]) => h);
    const reporter = new LocalTrialReporter({ metric, goal, earlyStop }, others);
    this.histories.set(index, reporter.history);
    let run = 0;
    let returned: unknown;
    let failure: unknown;
    try {
      await this.exp.run(
        async (e) => {
          run = this.provider.currentRun!;
          await this.record({ trial: index, run, params, status: 'STARTED' });
          e.logParams(params);
          const handle = trialHandle(e, reporter);
          try {
            returned = await withActiveExperiment(handle, () =>
              withSweepTrial(reporter, () =>
                // a copy: a trial that changes its params must not change what the sweep records
                this.trial({ ...params }, handle, {
                  sweepRun: this.sweepRun,
                  trial: index,
                  run,
                  spec: this.spec,
                }),
              ),
            );
          } catch (error) {
            if (!(error instanceof SweepStopped)) throw error;
          }
          if (reporter.stopped !== undefined) e.setTag('sweep.stopped', reporter.stopped);
        },
        { name: `trial-${index}`, tags: { 'sweep.trial': index } },
      );
    } catch (error) {
      failure = error;
    }
    if (run === 0) throw failure;
    const [info] = await this.provider.runs({ run });
    const aggregate = info?.metrics?.[metric];
    let value: number | undefined;
    if (typeof returned === 'number') value = returned;
    else if (aggregate) value = goal === 'minimize' ? aggregate.min : aggregate.max;
    else if (reporter.history.length) {
      const values = reporter.history.map(([, v]) => v);
      value = goal === 'minimize' ? Math.min(...values) : Math.max(...values);
    }
    const stopped = reporter.stopped ?? (info?.tags?.['sweep.stopped'] as string | undefined);
    const record: TrialRecord = {
      trial: index,
      run,
      params,
      status: failure === undefined ? 'STOPPED' : 'FAILED',
    };
    if (value !== undefined && !Number.isNaN(value)) record.value = value;
    if (stopped !== undefined) record.stopped = stopped;
    if (failure !== undefined)
      record.error = failure instanceof Error ? failure.message : describeValue(failure);
    await this.record(record);
    this.finish(toResult(record));
  }
}
