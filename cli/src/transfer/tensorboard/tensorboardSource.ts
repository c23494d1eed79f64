/**
 * A TensorBoard log directory as a source of runs (`omega-track import --from tensorboard DIR`):
 * every directory holding event files is one run of one experiment, its scalars become metrics
 * with their tag, step and wall time.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { PendingEvent } from '@omega-track/core';
import { validateExperimentName } from '@omega-track/core/internal';
import type { SourceExperiment, SourceRun, TransferLog, TransferSource } from '../TransferSource';
import { RunReadStats, eventFileScalars } from './eventFileScalars';
import type { EventRunDir } from './findEventRuns';
import { eventFileHost, findEventRuns } from './findEventRuns';
import { mergeByTime } from './mergeByTime';
import { scanWallTimes } from './scanWallTimes';

export interface TensorboardSourceOptions {
  /** The experiment the runs go to; default: the log directory's name. */
  experiment?: string;
}

/** Events per batch a run's `events()` gives. */
const BATCH = 5000;
/** The read buffers of one run's files together (a run of many files gets smaller buffers). */
const RUN_BUFFER_BYTES = 32 * 1024 * 1024;

/**
 * The runs under a TensorBoard log directory `dir`: each directory under it (itself included)
 * that holds `*tfevents*` files is a run, named by its path relative to `dir` ('.' takes the
 * name of `dir`), remembered as `tensorboard:<absolute run dir>` so a second import skips it.
 * A run starts at its earliest wall time and stops (STOPPED) at its latest; each scalar is a
 * `metric` event (key = tag, step and wall time kept, node = the host in the file name, userid
 * ''). A run's files are read in name order and merged by time. No event file under `dir` is a
 * `TrackingInputError` (from `experiments()`); a corrupt record makes that run's `events()`
 * throw a `TensorboardFormatError`; a file cut off inside its last record is read up to it and
 * said in `log.skipped`; non-scalar summaries are counted and said in `log.note`.
 */
export function tensorboardSource(dir: string, opts: TensorboardSourceOptions = {}): TransferSource {
  return {
    describe: `tensorboard ${dir}`,
    experiments: (log) => experimentsOf(dir, opts, log),
  };
}

async function* experimentsOf(
  dir: string,
  opts: TensorboardSourceOptions,
  log: TransferLog,
): AsyncGenerator<SourceExperiment> {
  const given = path.resolve(dir);
  const experiment = validateExperimentName(opts.experiment ?? path.basename(given));
  const runs = await findEventRuns(given, log);
  // the same directory reached through a link is the same source: origins use the real path
  const real = await fs.promises.realpath(given);
  yield {
    name: experiment,
    runCount: runs.length,
    runs: () => runsOf(experiment, given, real, runs, log),
  };
}

async function* runsOf(
  experiment: string,
  given: string,
  real: string,
  runs: EventRunDir[],
  log: TransferLog,
): AsyncGenerator<SourceRun> {
  for (const run of runs) {
    const name = run.rel === '.' ? path.basename(given) : run.rel;
    const times = await scanWallTimes(run.files);
    if (times === undefined) {
      log.note(`${run.dir}: its event files hold no events yet; not imported`);
      continue;
    }
    const node = eventFileHost(path.basename(run.files[0]));
    const start = Math.round(times.first * 1000);
    const stop = Math.round(times.last * 1000);
    yield {
      experiment,
      origin: `tensorboard:${path.join(real, run.rel)}`,
      start: {
        event: 'start',
        key: 'start',
        value: null,
        step: null,
        dt: start,
        node,
        userid: '',
        extra: undefined,
      },
      events: () => runEvents(run, name, { start, stop, node }, log),
    };
  }
}

async function* runEvents(
  run: EventRunDir,
  name: string,
  at: { start: number; stop: number; node: string },
  log: TransferLog,
): AsyncGenerator<PendingEvent[]> {
  const base = { run: 0, step: null, node: at.node, userid: '', extra: undefined };
  yield [{ ...base, event: 'name', key: 'name', value: name, dt: at.start }];
  const stats = new RunReadStats();
  const bufferBytes = Math.min(4 << 20, Math.max(64 << 10, Math.floor(RUN_BUFFER_BYTES / run.files.length)));
  const streams = run.files.map((file) => eventFileScalars(file, stats, bufferBytes));
  let stop = at.stop;
  for await (const batch of mergeByTime(streams, BATCH)) {
    // the scan gave the latest time; a file that grew since may hold a later one
    for (const e of batch) if (e.dt > stop) stop = e.dt;
    yield batch;
  }
  yield [{ ...base, event: 'stop', key: 'stop', value: { status: 'STOPPED' }, dt: stop }];
  report(run, stats, log);
}

function report(run: EventRunDir, stats: RunReadStats, log: TransferLog): void {
  for (const { file, cut } of stats.cuts)
    log.skipped(
      file,
      `the last record is cut off at byte ${cut.offset}; the ${cut.records} records before it were read (the writer may still be writing)`,
    );
  for (const [tag, why] of stats.badTags) log.skipped(`${run.dir}: tag '${tag}'`, `${why}: not a metric key`);
  if (stats.unsafeSteps > 0)
    log.skipped(
      run.dir,
      `${stats.unsafeSteps} scalars have a step beyond ±${Number.MAX_SAFE_INTEGER}, which no step holds exactly`,
    );
  if (stats.nonScalars.size > 0) {
    const parts = [...stats.nonScalars].map(
      ([kind, { count, tags, more }]) => `${count} ${kind} (${[...tags].join(', ')}${more ? ', …' : ''})`,
    );
    log.note(`${run.dir}: only scalars are imported; left out: ${parts.join('; ')}`);
  }
}
