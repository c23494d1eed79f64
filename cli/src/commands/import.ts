/** `omega-track import`: runs from export files, an MLflow server or TensorBoard event files. */
import { TrackingInputError } from '@omega-track/core';
import { redactUrls } from '@omega-track/core/internal';
import { openExportFiles } from '../transfer/files/openExportFiles';
import { mlflowSource } from '../transfer/mlflow/mlflowSource';
import { tensorboardSource } from '../transfer/tensorboard';
import { transferRuns } from '../transfer/transferRuns';
import type { TransferSource } from '../transfer/TransferSource';
import type { Command } from './command';
import { REQUIRE_HELP } from './command';
import { listOption, stringOption } from './options';
import type { OptionValues } from './options';
import { describeRuns, finishTransfer, transferSession } from './transferOutput';

const USAGE = [
  'omega-track import PATH                                   (the files of omega-track export)',
  'omega-track import --from mlflow --uri URL [--experiment NAME]...',
  'omega-track import --from tensorboard DIR [--experiment NAME]',
];

/** The source the command line names. */
async function sourceOf(
  args: string[],
  from: string | undefined,
  values: OptionValues,
  env: NodeJS.ProcessEnv,
): Promise<TransferSource> {
  const experiments = listOption(values, 'experiment');
  const usage = `usage:\n  ${USAGE.join('\n  ')}`;
  if (from === undefined) {
    if (args.length !== 1) throw new TrackingInputError(`name the export to import: ${usage}`);
    if (experiments)
      throw new TrackingInputError(
        '--experiment is for --from mlflow and --from tensorboard: an export brings its own experiments',
      );
    return openExportFiles(args[0]);
  }
  if (from === 'mlflow') {
    if (args.length)
      throw new TrackingInputError(`--from mlflow takes no path, its server is --uri: ${usage}`);
    const uri = stringOption(values, 'uri') ?? env.MLFLOW_TRACKING_URI;
    if (!uri)
      throw new TrackingInputError('name the MLflow server: --uri http://host:5000 (or MLFLOW_TRACKING_URI)');
    return mlflowSource({ uri, experiments, token: env.MLFLOW_TRACKING_TOKEN });
  }
  if (from === 'tensorboard') {
    if (args.length !== 1) throw new TrackingInputError(`name the TensorBoard log directory: ${usage}`);
    if (experiments && experiments.length > 1)
      throw new TrackingInputError('--from tensorboard imports into one experiment: give --experiment once');
    return tensorboardSource(args[0], { experiment: experiments?.[0] });
  }
  throw new TrackingInputError(
    `--from takes mlflow or tensorboard (an export is imported by its path), got '${from}'`,
  );
}

/**
 * Imports runs into the store: each run all or none, each once however often it is imported
 * (a run imported before is recognised by its number and start, or by its `import.source` tag).
 */
export const importCommand: Command = {
  usage: USAGE[0],
  args: '[path] [more...]',
  summary: 'import runs: export files, an MLflow server, TensorBoard event files',
  options: {
    from: { type: 'string' },
    uri: { type: 'string' },
    experiment: { type: 'string', multiple: true },
  },
  help: [
    `  ${USAGE[1]}`,
    `  ${USAGE[2]}`,
    '  PATH              a folder written by omega-track export (runs keep their numbers)',
    '  --from mlflow     an MLflow tracking server (--uri, else MLFLOW_TRACKING_URI): experiments by name',
    '                    (--experiment, repeatable; default all), runs with tags, params, histories, artifacts',
    '  --from tensorboard DIR   every folder under DIR with event files is a run; scalars become metrics',
    '                    (--experiment NAME, default the folder name)',
    '  Imported runs get new numbers and the tag import.source; importing the same source again',
    '  stores nothing twice. Anything left out is listed and the exit code is 1.',
    ...REQUIRE_HELP,
  ],
  store: 'write',
  async run(ctx) {
    const from = stringOption(ctx.values, 'from');
    const source = await sourceOf(ctx.args, from, ctx.values, ctx.io.env);
    try {
      const target = (await ctx.omega()).store;
      const session = transferSession(ctx, 'import', 'importing');
      const summary = await transferRuns(source, { target, log: session.log, progress: session.progress });
      if ((await target.settle?.()) === false)
        session.log.skipped(
          'events for the server',
          'some still wait in the local spool: `omega-track sync` sends them',
        );
      return finishTransfer(
        ctx,
        session,
        `${describeRuns(summary, 'imported')} from ${redactUrls(source.describe)}`,
        'import',
      );
    } finally {
      await source.close?.();
    }
  },
};
