/** `omega-track copy`: runs, artifacts and models from one store to another. */
import path from 'node:path';
import type { Store } from '@omega-track/core';
import { TrackingInputError, openStore } from '@omega-track/core';
import { redactUrls } from '@omega-track/core/internal';
import { copyObjects } from '../transfer/copyObjects';
import { selectExperiments, storeSource } from '../transfer/storeSource';
import { transferRuns } from '../transfer/transferRuns';
import type { Command } from './command';
import { parseRunOption, stringOption } from './options';
import { describeRuns, finishTransfer, transferSession } from './transferOutput';

/** Whether two store URLs name the same store (embedded stores by their resolved file). */
function sameStore(a: string, b: string): boolean {
  const file = (url: string): string | undefined =>
    url.startsWith('sqlite:') && !url.startsWith('sqlite::memory:')
      ? path.resolve(url.slice('sqlite:'.length))
      : undefined;
  const [fa, fb] = [file(a), file(b)];
  return fa !== undefined && fb !== undefined ? fa === fb : a === b;
}

const USAGE = 'omega-track copy --from URL --to URL [experiments...] [--run RUNS]';

/**
 * Copies experiments (all, or those named; globs allowed) from one store to another: every run
 * under its own number with its events as stored, their artifacts and models, and the
 * experiments' settings. Run again after an interruption, it goes on where it stopped and
 * stores nothing twice.
 */
export const copyCommand: Command = {
  usage: USAGE,
  args: '[experiments...]',
  summary: 'copy experiments from store to store (runs, events, artifacts; resumable)',
  options: {
    from: { type: 'string' },
    to: { type: 'string' },
    run: { type: 'string' },
  },
  help: [
    '  --from URL       the store to copy from (sqlite:…, postgres://…, mongodb://…, http(s)://… a team server)',
    '  --to URL         the store to copy into (created when it is an embedded store that does not exist)',
    '  --run RUNS       only these runs of each experiment (3, 2..5, 2,4, -1)',
    '  experiments      names or globs (default: every experiment, and om.models and om.datasets too)',
    '  Run numbers, times and artifacts are kept. A run whose number the target holds for another',
    '  run is left out and said (exit 1). Run it again after an interruption: nothing is stored twice.',
  ],
  store: 'none',
  async run(ctx) {
    const from = stringOption(ctx.values, 'from');
    const to = stringOption(ctx.values, 'to');
    if (!from || !to) throw new TrackingInputError(`name both stores: ${USAGE}`);
    for (const [option, url] of [
      ['--from', from],
      ['--to', to],
    ] as const)
      if (url === 'memory:' || url.startsWith('sqlite::memory:'))
        throw new TrackingInputError(
          `${option} ${url} is a store in this process's memory: it ends with the command`,
        );
    if (sameStore(from, to))
      throw new TrackingInputError(`--from and --to name the same store (${redactUrls(from)})`);
    const runText = stringOption(ctx.values, 'run');
    const runs = runText === undefined ? undefined : parseRunOption(runText);
    const token = ctx.io.env.OMEGA_TOKEN;
    let source: Store | undefined;
    let target: Store | undefined;
    try {
      source = openStore(from, { create: false, token });
      // checked before the target is opened: a mistyped name creates no store
      await selectExperiments(source, ctx.args);
      target = openStore(to, { create: true, token });
      const session = transferSession(ctx, 'copy', 'copying');
      const summary = await transferRuns(storeSource(source, { experiments: ctx.args, runs }), {
        target,
        log: session.log,
        progress: session.progress,
      });
      // a whole store is copied with its om.models and om.datasets; named experiments without them
      const objects = ctx.args.length === 0 ? await copyObjects(source, target, session.log) : undefined;
      if ((await target.settle?.()) === false)
        session.log.skipped(
          `events for ${redactUrls(to)}`,
          'some still wait in the local spool (the server did not take them in time): `omega-track sync` sends them',
        );
      return finishTransfer(
        ctx,
        session,
        describeRuns(summary, `copied`) +
          (objects
            ? `; ${objects.entries} models and datasets (${objects.blobs} file${objects.blobs === 1 ? '' : 's'})`
            : '') +
          ` from ${redactUrls(source.url)} to ${redactUrls(target.url)}`,
        'copy',
      );
    } finally {
      await source?.close();
      await target?.close();
    }
  },
};
