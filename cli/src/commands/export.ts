/** `omega-track export`: runs out of the store, as Parquet or JSON lines, or into an MLflow server. */
import { TrackingInputError } from '@omega-track/core';
import { redactUrls } from '@omega-track/core/internal';
import { exportFiles } from '../transfer/files/exportFiles';
import type { ExportSummary } from '../transfer/files/exportFiles';
import { pushToMlflow } from '../transfer/mlflow/pushToMlflow';
import { selectExperiments, storeSource } from '../transfer/storeSource';
import type { Command } from './command';
import { REQUIRE_HELP } from './command';
import { parseRunOption, stringOption } from './options';
import { finishTransfer, transferSession } from './transferOutput';

const USAGE = [
  'omega-track export <experiment|glob>... [--run RUNS] --format parquet|jsonl --out PATH',
  'omega-track export <experiment|glob>... [--run RUNS] --to mlflow --uri URL',
];

const count = new Intl.NumberFormat('en-US');

/** The counts of an export, as one sentence. */
function describeExport(s: ExportSummary): string {
  return (
    `exported ${count.format(s.runs)} run${s.runs === 1 ? '' : 's'} (${count.format(s.events)} events` +
    (s.blobs ? `, ${count.format(s.blobs)} artifact files of ${count.format(s.bytes)} bytes` : '') +
    `) of ${s.experiments} experiment${s.experiments === 1 ? '' : 's'} as ${s.format} to ${s.out}`
  );
}

/**
 * Exports experiments: every event of the selected runs in a long table (Parquet or JSON lines),
 * the runs' metadata and their artifact content as files beside it; or sends the runs to an
 * MLflow tracking server with the mlflow provider's mapping (again: nothing sent twice).
 */
export const exportCommand: Command = {
  usage: USAGE[0],
  args: '[experiments...]',
  summary: 'export runs as Parquet or JSON lines (with artifacts), or push them to an MLflow server',
  options: {
    format: { type: 'string' },
    out: { type: 'string' },
    run: { type: 'string' },
    to: { type: 'string' },
    uri: { type: 'string' },
  },
  help: [
    `  ${USAGE[1]}`,
    "  experiments       names or globs (at least one; '*' for all)",
    '  --format F        parquet (needs: npm install hyparquet hyparquet-writer) or jsonl',
    '  --out PATH        the folder to write (must not exist, or be empty): manifest.json, events, runs, artifacts/',
    '  --run RUNS        only these runs of each experiment (3, 2..5, 2,4, -1)',
    '  --to mlflow       send the runs to an MLflow server (--uri, else MLFLOW_TRACKING_URI)',
    ...REQUIRE_HELP,
  ],
  store: 'read',
  async run(ctx) {
    if (!ctx.args.length)
      throw new TrackingInputError(`name the experiments to export ('*' for all): ${USAGE[0]}`);
    const runText = stringOption(ctx.values, 'run');
    const runs = runText === undefined ? undefined : parseRunOption(runText);
    const to = stringOption(ctx.values, 'to');
    const store = (await ctx.omega()).store;
    // checked before anything is written: a mistyped name makes no folder and sends nothing
    await selectExperiments(store, ctx.args);
    const source = storeSource(store, { experiments: ctx.args, runs });
    if (to !== undefined) {
      if (to !== 'mlflow') throw new TrackingInputError(`--to takes mlflow, got '${to}'`);
      for (const option of ['format', 'out'])
        if (ctx.values[option] !== undefined)
          throw new TrackingInputError(`--${option} is for files; --to mlflow sends the runs`);
      const uri = stringOption(ctx.values, 'uri') ?? ctx.io.env.MLFLOW_TRACKING_URI;
      if (!uri)
        throw new TrackingInputError(
          'name the MLflow server: --uri http://host:5000 (or MLFLOW_TRACKING_URI)',
        );
      const session = transferSession(ctx, 'export', 'pushing');
      const summary = await pushToMlflow(source, {
        uri,
        log: session.log,
        progress: session.progress,
        token: ctx.io.env.MLFLOW_TRACKING_TOKEN,
      });
      const parts = [
        `pushed ${count.format(summary.runs)} run${summary.runs === 1 ? '' : 's'} (${count.format(summary.events)} events) of ${summary.experiments} experiment${summary.experiments === 1 ? '' : 's'} to ${redactUrls(uri)}`,
      ];
      if (summary.alreadyThere)
        parts.push(`${count.format(summary.alreadyThere)} already there (nothing sent twice)`);
      if (summary.failed) parts.push(`${count.format(summary.failed)} not sent`);
      return finishTransfer(ctx, session, parts.join('; '), 'export');
    }
    const format = stringOption(ctx.values, 'format');
    const out = stringOption(ctx.values, 'out');
    if (format !== 'parquet' && format !== 'jsonl')
      throw new TrackingInputError(
        `--format takes parquet or jsonl${format === undefined ? '' : `, got '${format}'`}: ${USAGE[0]}`,
      );
    if (!out) throw new TrackingInputError(`name the folder to write: --out PATH`);
    const session = transferSession(ctx, 'export', 'exporting');
    const summary = await exportFiles(source, { out, format, log: session.log, progress: session.progress });
    return finishTransfer(ctx, session, describeExport(summary), 'export');
  },
};
