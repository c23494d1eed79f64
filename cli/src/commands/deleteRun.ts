/** `omega-track delete-run`: deletes one run of an experiment. */
import { TrackingInputError } from '@omega-track/core';
import type { Command } from './command';
import { REQUIRE_HELP } from './command';
import { safeLine } from './output';
import { requireRun, runArg, writerFor } from './tag';

/** Deletes a run's events and the artifacts it stored (with `--force`); its number is not given out again. */
export const deleteRunCommand: Command = {
  usage: 'omega-track delete-run <experiment> <run> --force',
  // a second run is refused by the command itself, with the usage
  args: '[experiment] [run] [more...]',
  summary: 'delete a run: its events and artifacts (its number is not reused)',
  options: { force: { type: 'boolean' } },
  help: ['  --force      required: deleting a run cannot be undone', ...REQUIRE_HELP],
  // it writes, but only to a run that exists: a mistyped --store is an error, not a new store
  store: 'read',
  async run({ args, values, out, omega }) {
    const [experiment, runText] = args;
    const usage = 'omega-track delete-run <experiment> <run> --force';
    if (experiment === undefined) throw new TrackingInputError(`name the experiment: ${usage}`);
    const run = runArg(runText, usage);
    if (args.length > 2) throw new TrackingInputError(`delete-run deletes one run: ${usage}`);
    const provider = await writerFor(await omega(), experiment);
    await requireRun(provider, run);
    if (values.force !== true)
      throw new TrackingInputError(
        `deleting run ${run} of '${experiment}' removes its events and artifacts: add --force`,
      );
    await provider.deleteRun(run, { force: true });
    out.write(
      safeLine(
        `deleted run ${run} of '${experiment}': its events and the artifacts it stored; ` +
          `run number ${run} will not be given out again`,
      ) + '\n',
    );
    return 0;
  },
};
