/** `omega-track summary`: statistics per run and key. */
import type { EventQuery } from '@omega-track/core';
import type { Command } from './command';
import { FORMAT_HELP, REQUIRE_HELP } from './command';
import { readerFor, requireExperiment } from './experiment';
import { columnsOf, humanDuration, roundForDisplay } from './format';
import { formatOf, listOption, parseRunOption, stringOption } from './options';
import { writeRows } from './output';

const SUMMARY_COLUMNS = [
  'run',
  'event',
  'key',
  'count',
  'mean',
  'std',
  'min',
  'p25',
  'p50',
  'p75',
  'max',
  'last',
  'duration',
];

/** Statistics per run and key: count, mean, std, min, quartiles, max, last. */
export const summaryCommand: Command = {
  usage: 'omega-track summary <experiment> [--run R] [--event E] [--format F]',
  args: '[experiment]',
  summary: 'statistics per run and key: count, mean, std, min, quartiles, max, last',
  options: { run: { type: 'string' }, event: { type: 'string' }, format: { type: 'string' } },
  help: [
    '  --run R      which runs (default: all; -1 the latest, 2..4, -2..-1)',
    '  --event E    which events (default: metric,profile)',
    FORMAT_HELP,
    ...REQUIRE_HELP,
  ],
  store: 'read',
  async run({ args, values, io, out, omega }) {
    const format = formatOf(values);
    const run = stringOption(values, 'run');
    const query: EventQuery = { run: run !== undefined ? parseRunOption(run) : 'all' };
    // profiler samples are summarized beside the metrics unless --event says otherwise
    query.event = listOption(values, 'event') ?? ['metric', 'profile'];
    const om = await omega();
    const { name, config } = await requireExperiment(om, args[0]);
    const reader = await readerFor(om, name, config, io);
    const rows = (await reader.summary(query)) as unknown as Record<string, unknown>[];
    await writeRows(out, rows, format, columnsOf(rows, SUMMARY_COLUMNS), {
      display: (column, value) => (column === 'duration' ? humanDuration(value) : roundForDisplay(value)),
    });
    return 0;
  },
};
