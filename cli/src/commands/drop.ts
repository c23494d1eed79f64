/** `omega-track drop`: deletes an experiment. */
import { TrackingInputError } from '@omega-track/core';
import type { Command } from './command';
import { REQUIRE_HELP } from './command';
import { requireExperiment } from './experiment';
import { safeLine } from './output';

/** Deletes an experiment's events, artifacts and configuration (with `--force`). */
export const dropCommand: Command = {
  usage: 'omega-track drop <experiment> --force',
  args: '[experiment]',
  summary: 'delete an experiment: its events, artifacts and configuration',
  options: { force: { type: 'boolean' } },
  help: ['  --force      required: dropping cannot be undone', ...REQUIRE_HELP],
  store: 'write',
  async run({ args, values, out, omega }) {
    const { name } = await requireExperiment(await omega(), args[0]);
    if (values.force !== true)
      throw new TrackingInputError(`dropping '${name}' deletes all its data: add --force`);
    await (await omega()).experiments.drop(name, { force: true });
    out.write(safeLine(`dropped experiment '${name}'`) + '\n');
    return 0;
  },
};
