/** `omega-track runs`: the runs of an experiment. */
import type { RunInfo, TrackingProvider } from '@omega-track/core';
import type { Command } from './command';
import { FORMAT_HELP, REQUIRE_HELP } from './command';
import { readerFor, requireExperiment } from './experiment';
import { columnsOf, humanDuration } from './format';
import { formatOf } from './options';
import { writeRows } from './output';

// the error of a FAILED run and any further fields a provider lists (parent, name, …) follow these
const RUN_COLUMNS = ['run', 'status', 'started', 'stopped', 'duration', 'node', 'userid'];

/** A run as listed: its fields and, for a FAILED run, the error message it stopped with. */
type RunRow = RunInfo;

/**
 * The error message of each FAILED run. Providers that list it with the run are taken at their
 * word; otherwise it is read from the runs' stop events (`{ status: 'FAILED', error }`).
 */
async function withErrors(reader: TrackingProvider, runs: RunRow[]): Promise<RunRow[]> {
  const failed = runs.filter((r) => r.status === 'FAILED' && r.error === undefined).map((r) => r.run);
  if (failed.length === 0) return runs;
  const errors = new Map<number, string>();
  try {
    for (const stop of await reader.data({ run: failed, event: 'stop' })) {
      const error = (stop.value as { error?: unknown } | null)?.error;
      if (error !== undefined) errors.set(stop.run, String(error));
    }
  } catch {
    // the list itself is the answer; a reason that cannot be read (a server away) stays blank
    return runs;
  }
  return runs.map((r) => (errors.has(r.run) ? { ...r, error: errors.get(r.run) } : r));
}

/** Lists an experiment's runs: status (with the error of a FAILED run), times, duration, node, user. */
export const runsCommand: Command = {
  usage: 'omega-track runs <experiment> [--format F]',
  summary: 'list the runs of an experiment: status (and error), start, stop, duration, node, user',
  options: { format: { type: 'string' } },
  help: [FORMAT_HELP, ...REQUIRE_HELP],
  store: 'read',
  async run({ args, values, io, out, omega }) {
    const format = formatOf(values);
    const om = await omega();
    const { name, config } = await requireExperiment(om, args[0]);
    const reader = await readerFor(om, name, config, io);
    const runs = await withErrors(reader, await reader.runs());
    const rows = runs as unknown as Record<string, unknown>[];
    await writeRows(out, rows, format, columnsOf(rows, RUN_COLUMNS), {
      // people read durations (1m 12s); CSV and JSON keep the milliseconds
      display: (column, value) => (column === 'duration' ? humanDuration(value) : value),
    });
    return 0;
  },
};
