/** `omega-track sweep show|resume`: a sweep's ranked trials, and going on with a model sweep. */
import type { Omega, SweepResult, SweepSpec, SweepTrialResult } from '@omega-track/core';
import { TrackingError, TrackingInputError } from '@omega-track/core';
import { readSweepState, sweepResult } from '@omega-track/core/internal';
import type { SweepState } from '@omega-track/core/internal';
import type { Command, CommandContext } from './command';
import { FORMAT_HELP, REQUIRE_HELP } from './command';
import { readerFor, requireExperiment } from './experiment';
import { roundForDisplay } from './format';
import { formatOf } from './options';
import { safeLine, writeRows } from './output';
import { runArg } from './tag';
import { UsageError } from './UsageError';

const USAGE = ['omega-track sweep show <experiment> <run>', 'omega-track sweep resume <experiment> <run>'];

/** The sweep recorded in run `run` of `experiment`; a TrackingInputError when it is not one. */
async function sweepOf(ctx: CommandContext, om: Omega, experiment: string, run: number): Promise<SweepState> {
  const { name, config } = await requireExperiment(om, experiment);
  const reader = await readerFor(om, name, config, ctx.io);
  const state = await readSweepState(reader, run);
  if (!state)
    throw new TrackingInputError(`run ${run} of '${experiment}' is not a sweep (it has no tag sweep: true)`);
  return state;
}

/** The trials of a state ranked, with those still STARTED (running, or left by a dead process) last. */
function ranked(state: SweepState, run: number): { result: SweepResult; started: SweepTrialResult[] } {
  const goal = state.params.goal === 'maximize' ? 'maximize' : 'minimize';
  const done: SweepTrialResult[] = [];
  const started: SweepTrialResult[] = [];
  for (const r of state.trials.values()) {
    const trial: SweepTrialResult = {
      trial: r.trial,
      run: r.run,
      params: r.params,
      value: typeof r.value === 'number' ? r.value : undefined,
      status: r.status === 'FAILED' ? 'FAILED' : 'STOPPED',
    };
    if (r.stopped !== undefined) trial.stopped = r.stopped;
    if (r.error !== undefined) trial.error = r.error;
    if (r.status === 'STARTED') started.push(trial);
    else done.push(trial);
  }
  return { result: sweepResult(run, done, goal), started };
}

/** Writes the trials, best first: rank, trial, run, status, value, each param, why stopped. */
async function writeTrials(
  ctx: CommandContext,
  result: SweepResult,
  started: SweepTrialResult[],
  state: SweepState,
  experiment: string,
): Promise<void> {
  const format = formatOf(ctx.values);
  const names = [...new Set([...result.trials, ...started].flatMap((t) => Object.keys(t.params)))];
  const rows = [
    ...result.trials.map((t, i) => ({ rank: i + 1, ...t })),
    ...started.map((t) => ({ rank: undefined, ...t, status: 'STARTED' as const })),
  ].map((t) => {
    const row: Record<string, unknown> = {
      rank: t.rank,
      trial: t.trial,
      run: t.run,
      status: t.status,
      value: t.value,
    };
    for (const n of names) row[`params.${n}`] = t.params[n];
    row.stopped = t.stopped ?? t.error;
    return row;
  });
  if (format === 'table') {
    const p = state.params;
    const best = result.best
      ? `; best ${String(roundForDisplay(result.best.value))} (run ${result.best.run})`
      : '';
    ctx.out.write(
      safeLine(
        `sweep run ${result.run} of '${experiment}': ${String(p.method)}, ${String(p.metric)} (${String(p.goal)}), ` +
          `${result.trials.length} of ${String(p.maxTrials)} trials done${best}`,
      ) + '\n',
    );
  }
  await writeRows(
    ctx.out,
    rows,
    format,
    ['rank', 'trial', 'run', 'status', 'value', ...names.map((n) => `params.${n}`), 'stopped'],
    {
      display: (_column, value) => roundForDisplay(value),
    },
  );
}

/** `sweep resume`: a model sweep goes on here (its spec, model and data are recorded by name). */
async function resume(ctx: CommandContext, om: Omega, experiment: string, run: number): Promise<SweepResult> {
  const state = await sweepOf(ctx, om, experiment, run);
  const model = state.model;
  if (!model)
    throw new TrackingError(
      `run ${run} of '${experiment}' is a sweep of a trial function in its caller's process: resuming it needs the caller's code — call exp.sweep(spec, trial, { resume: ${run} }) there`,
    );
  if (model.X === undefined)
    throw new TrackingError(
      `the sweep in run ${run} of '${experiment}' was given X as data, not by om.datasets name: only the caller can resume it, with om.runtime.model('${model.model}').sweep(X, Y, spec, { experiment: '${experiment}', resume: ${run} })`,
    );
  return om.runtime.model(model.model).sweep(model.X, model.Y, state.params as unknown as SweepSpec, {
    experiment,
    resume: run,
    fit: model.fit ?? {},
    score: model.score ?? {},
  });
}

/** `omega-track sweep show|resume <experiment> <run>`. */
export const sweepCommand: Command = {
  usage: USAGE.join('\n       '),
  args: '[action] [experiment] [run]',
  summary: "a sweep's trials ranked (show), or go on with a model sweep whose caller died (resume)",
  options: { format: { type: 'string' } },
  help: [
    '  show <experiment> <run>     the trials of the sweep run, best first, with their params',
    '  resume <experiment> <run>   go on with a model sweep (om.runtime.model(m).sweep): finished',
    '                              trials are kept; its tasks go to OMEGA_RUNTIME (local, or the',
    "                              workers' redis://…). A sweep of a trial function resumes in its",
    '                              own code: exp.sweep(spec, trial, { resume: run })',
    FORMAT_HELP,
    ...REQUIRE_HELP,
  ],
  store: 'read',
  async run(ctx) {
    const [action, experiment, runText] = ctx.args;
    if (action !== 'show' && action !== 'resume')
      throw new UsageError(
        action === undefined
          ? `name the action: ${USAGE.join(' | ')}`
          : `unknown action '${action}': show or resume`,
        true,
      );
    const usage = USAGE[action === 'show' ? 0 : 1];
    if (experiment === undefined) throw new TrackingInputError(`name the experiment: ${usage}`);
    const run = runArg(runText, usage);
    formatOf(ctx.values);
    const om = await ctx.omega();
    if (action === 'resume') await resume(ctx, om, experiment, run);
    const state = await sweepOf(ctx, om, experiment, run);
    const { result, started } = ranked(state, run);
    await writeTrials(ctx, result, started, state, experiment);
    return 0;
  },
};
