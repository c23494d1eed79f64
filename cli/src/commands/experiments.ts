/** `omega-track experiments`: the experiments of a store. */
import type { Command } from './command';
import { FORMAT_HELP, REQUIRE_HELP } from './command';
import { formatOf } from './options';
import { writeRows } from './output';

/** Lists experiments with their provider, number of runs and creation time. */
export const experimentsCommand: Command = {
  usage: 'omega-track experiments [--format F]',
  args: '',
  summary: 'list experiments with their provider and number of runs',
  options: { format: { type: 'string' } },
  help: [FORMAT_HELP, ...REQUIRE_HELP],
  store: 'read',
  async run({ values, out, omega }) {
    const format = formatOf(values);
    const om = await omega();
    const rows = [];
    for (const name of await om.experiments.list()) {
      const config = await om.experiments.get(name);
      rows.push({
        experiment: name,
        provider: config?.provider,
        runs: (await om.store.latestRun(name)) ?? 0,
        created: config?.created,
      });
    }
    await writeRows(out, rows, format, ['experiment', 'provider', 'runs', 'created']);
    return 0;
  },
};
