/** `omega-track compare`: runs side by side, what differs between them marked. */
import type { RunInfo } from '@omega-track/core';
import { TrackingInputError } from '@omega-track/core';
import type { Command } from './command';
import { FORMAT_HELP, REQUIRE_HELP } from './command';
import { readerFor, requireExperiment } from './experiment';
import { cellText, humanDuration, roundForDisplay } from './format';
import { formatOf } from './options';
import { writeRows } from './output';
import { keysOf, withErrors } from './runs';

/** The mark of a row whose values are not the same in every run. */
export const DIFF_MARK = '*';

/** One row of the comparison: a field and how a run's value of it is read. */
interface CompareField {
  field: string;
  value: (run: RunInfo) => unknown;
  /** Shown for people as a duration. */
  duration?: boolean;
  /** A number shown rounded in a table. */
  rounded?: boolean;
}

/** The run numbers the arguments name: `3`, `1,4`, `2..5`; each at least 1, in order, once each. */
export function parseRunArgs(args: readonly string[]): number[] {
  const runs = new Set<number>();
  for (const arg of args)
    for (const part of arg.split(',').map((p) => p.trim())) {
      const range = /^(\d+)\.\.(\d+)$/.exec(part);
      if (range) {
        const [from, to] = [Number(range[1]), Number(range[2])];
        if (from < 1 || to < from || to - from >= 10_000)
          throw new TrackingInputError(`'${part}' is no range of runs (from ≤ to, at least 1)`);
        for (let r = from; r <= to; r++) runs.add(r);
      } else if (/^\d+$/.test(part) && Number(part) >= 1 && Number.isSafeInteger(Number(part)))
        runs.add(Number(part));
      else throw new TrackingInputError(`runs are numbers (3, a list 1,4 or a range 2..5), got '${part}'`);
    }
  return [...runs];
}

/** The fields compared: the run's own, then each param, metric (last, min, max) and tag, and the note. */
function fieldsOf(runs: readonly RunInfo[]): CompareField[] {
  const some = (has: (r: RunInfo) => unknown): boolean => runs.some((r) => has(r) !== undefined);
  const fields: CompareField[] = [];
  if (some((r) => r.name)) fields.push({ field: 'name', value: (r) => r.name });
  fields.push(
    { field: 'status', value: (r) => r.status },
    { field: 'started', value: (r) => r.started },
    { field: 'duration', value: (r) => r.duration, duration: true },
  );
  if (some((r) => r.parent)) fields.push({ field: 'parent', value: (r) => r.parent });
  if (some((r) => r.error)) fields.push({ field: 'error', value: (r) => r.error });
  for (const key of keysOf(runs, 'params'))
    fields.push({ field: `params.${key}`, value: (r) => r.params?.[key] });
  for (const key of keysOf(runs, 'metrics'))
    for (const part of ['last', 'min', 'max'] as const)
      fields.push({ field: `metrics.${key}.${part}`, value: (r) => r.metrics?.[key]?.[part], rounded: true });
  for (const key of keysOf(runs, 'tags')) fields.push({ field: `tags.${key}`, value: (r) => r.tags?.[key] });
  if (some((r) => r.note)) fields.push({ field: 'note', value: (r) => r.note });
  return fields;
}

/** Whether the runs hold different values (a value missing in some run differs from one that is there). */
function differs(values: readonly unknown[]): boolean {
  // values compare as they are shown: 0.01 and '0.01' are the same text, NaN equals NaN
  const texts = values.map((v) => (v === undefined ? undefined : cellText(v)));
  return texts.some((t) => t !== texts[0]);
}

/** A value as a table shows it: durations for people, metrics rounded; CSV and JSON keep the numbers. */
function shown(field: CompareField, value: unknown): unknown {
  if (field.duration) return humanDuration(value);
  return field.rounded ? roundForDisplay(value) : value;
}

/**
 * Shows runs side by side: a row per field (name, status, duration, each param, each metric's
 * last/min/max, each tag, the note), a column per run, and `*` in the `diff` column where the
 * runs differ (true/false in JSON).
 */
export const compareCommand: Command = {
  usage: 'omega-track compare <experiment> <run> <run> … [--format F]',
  args: '[experiment] [runs...]',
  summary: 'show runs side by side: params (differences marked), metrics last/min/max, tags, notes',
  options: { format: { type: 'string' } },
  help: [
    '  <run>        run numbers: 3 5 8, a list 3,5 or a range 2..5',
    '               a * in the diff column marks a field whose value is not the same in every run',
    FORMAT_HELP,
    ...REQUIRE_HELP,
  ],
  store: 'read',
  async run({ args, values, io, out, omega }) {
    const format = formatOf(values);
    const [experiment, ...runArgs] = args;
    const om = await omega();
    const { name, config } = await requireExperiment(om, experiment);
    const wanted = parseRunArgs(runArgs);
    if (wanted.length < 2)
      throw new TrackingInputError('name two or more runs: omega-track compare <experiment> 1 2');
    const reader = await readerFor(om, name, config, io);
    const found = new Map((await reader.runs({ run: wanted })).map((r) => [r.run, r]));
    const missing = wanted.filter((r) => !found.has(r));
    if (missing.length)
      throw new TrackingInputError(
        `experiment '${name}' has no run${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`,
      );
    const runs = await withErrors(
      reader,
      wanted.map((r) => found.get(r) as RunInfo),
    );
    const runColumns = runs.map((r) => `run ${r.run}`);
    const fields = fieldsOf(runs);
    const rows = fields.map((f) => {
      const cells = runs.map((r) => f.value(r));
      const diff = differs(cells);
      const row: Record<string, unknown> = { field: f.field };
      // the display cell depends on the row's field, so a table's cells are made here
      runColumns.forEach((c, i) => (row[c] = format === 'table' ? shown(f, cells[i]) : cells[i]));
      row.diff = format === 'json' ? diff : diff ? DIFF_MARK : '';
      return row;
    });
    await writeRows(out, rows, format, ['field', ...runColumns, 'diff'], { extraColumns: false });
    return 0;
  },
};
