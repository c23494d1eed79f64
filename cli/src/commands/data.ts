/** `omega-track data`: the events of an experiment, streamed in any format. */
import type { EventQuery, TrackingProvider } from '@omega-track/core';
import { TrackingInputError } from '@omega-track/core';
import type { Command } from './command';
import { FORMAT_HELP, REQUIRE_HELP } from './command';
import { readerFor, requireExperiment } from './experiment';
import type { OptionValues } from './options';
import {
  countOption,
  formatOf,
  listOption,
  parseRunOption,
  parseStepOption,
  stringOption,
  timeOption,
} from './options';
import { rowWriter } from './output';

const EVENT_COLUMNS = ['experiment', 'run', 'event', 'key', 'value', 'step', 'dt', 'node', 'userid'];
/** Rows a table shows unless `--limit` says otherwise: a table is for reading, CSV and JSON are for all. */
export const TABLE_ROWS = 100;
/** Rows read from the store at a time. */
const BATCH_SIZE = 10_000;

/** The query that the options describe (without the row window). */
function queryOf(values: OptionValues): EventQuery {
  const run = stringOption(values, 'run');
  const query: EventQuery = { run: run !== undefined ? parseRunOption(run) : 'all' };
  const events = listOption(values, 'event');
  const keys = listOption(values, 'key');
  const step = stringOption(values, 'step');
  const since = timeOption(values, 'since');
  const end = timeOption(values, 'end');
  if (events) query.event = events;
  if (keys) query.key = keys;
  if (step !== undefined) query.step = parseStepOption(step);
  if (since !== undefined) query.since = since;
  if (end !== undefined) query.end = end;
  return query;
}

/** Every column of the rows `query` selects: a first pass, since a CSV header comes before the rows. */
async function csvColumns(reader: TrackingProvider, query: EventQuery): Promise<string[]> {
  const columns = new Set(EVENT_COLUMNS);
  for await (const batch of reader.iterate(query, { batchSize: BATCH_SIZE }))
    for (const row of batch) for (const k in row) columns.add(k);
  return [...columns];
}

/** Prints an experiment's events; every format streams through `iterate`, in constant memory. */
export const dataCommand: Command = {
  usage:
    'omega-track data <experiment> [--run R] [--event E] [--key K] [--step S] [--since S] [--end S] ' +
    '[--limit N] [--offset N] [--format F]',
  args: '[experiment]',
  summary: 'print the events of an experiment',
  options: {
    run: { type: 'string' },
    event: { type: 'string' },
    key: { type: 'string' },
    step: { type: 'string' },
    since: { type: 'string' },
    end: { type: 'string' },
    limit: { type: 'string' },
    offset: { type: 'string' },
    format: { type: 'string' },
  },
  help: [
    '  --run R      a run (3), the latest (-1), a list (1,2), a range (2..4, -2..-1) or all (default)',
    '  --event E    event name(s), comma separated (metric, param, artifact, profile, …)',
    '  --key K      key(s), comma separated',
    '  --step S     step(s): 3, a list 0,5,10 or a range 0..99',
    '  --since S    from this time: an ISO time or a span before now: 30s, 15m, 2h, 1d, 1w, 1M',
    '  --end S      up to this time: an ISO time or a span before now (as --since)',
    `  --limit N    at most N rows; all for every row (default: ${TABLE_ROWS} in a table, all in csv and json)`,
    '  --offset N   skip the first N rows (with --limit: pages, --offset 100 --limit 100)',
    FORMAT_HELP,
    ...REQUIRE_HELP,
  ],
  store: 'read',
  async run({ args, values, io, out, omega }) {
    const format = formatOf(values);
    const query = queryOf(values);
    const limit = countOption(values, 'limit', true);
    const offset = countOption(values, 'offset') ?? 0;
    if (limit === 0) throw new TrackingInputError('--limit takes a positive number of rows, or all');
    const om = await omega();
    const { name, config } = await requireExperiment(om, args[0]);
    const reader = await readerFor(om, name, config, io);

    const shown = limit ?? (format === 'table' ? TABLE_ROWS : Infinity);
    if (offset) query.offset = offset;
    // one row more than is shown tells the table that more rows follow
    if (shown !== Infinity) query.limit = format === 'table' ? shown + 1 : shown;
    const writer = rowWriter(out, format, format === 'csv' ? await csvColumns(reader, query) : EVENT_COLUMNS);
    let count = 0;
    let more = false;
    for await (const batch of reader.iterate(query, { batchSize: BATCH_SIZE })) {
      for (const row of batch) {
        if (count === shown) {
          more = true;
          break;
        }
        writer.row(row);
        count++;
      }
      await out.drain();
      if (more) break;
    }
    writer.end();
    if (more)
      out.write(
        `(rows ${offset + 1}–${offset + count} shown; more follow: --offset ${offset + count} for the next ` +
          `${count}, --limit N or --limit all for more, --format csv or json for every row)\n`,
      );
    await out.flush();
    return 0;
  },
};
