import { TrackingInputError } from '@omega-track/core';
import type { PendingEvent } from '@omega-track/core';
import { MlflowClient } from '@omega-track/providers/internal';
import type { MlflowExperiment, MlflowRun } from '@omega-track/providers/internal';
import type { SourceExperiment, SourceRun, TransferLog, TransferSource } from '../TransferSource';
import { MlflowArtifactContent } from './MlflowArtifactContent';
import { mlflowRunEvents, mlflowRunStart, parentRunId } from './mlflowRunEvents';
import { probeMlflow } from './probeMlflow';

/** Options of `omega-track import --from mlflow`. */
export interface MlflowSourceOptions {
  /** The tracking URI (`http://host:5000`; a `user:password@` part becomes Basic auth). */
  uri: string;
  /** The experiments to import, by name; default every experiment that is not deleted. */
  experiments?: string[];
  /** Bearer token (else MLFLOW_TRACKING_TOKEN). */
  token?: string;
}

/** A run's origin: the server without credentials and MLflow's run id. */
export function mlflowOrigin(baseUrl: string, runId: string): string {
  return `mlflow:${baseUrl}#${runId}`;
}

/**
 * An MLflow tracking server as a source of runs (`omega-track import --from mlflow`): its
 * experiments (the named ones, or every active one), their active runs with names, tags, params,
 * full metric histories, status, parents and artifact files (see mlflowRunEvents for the
 * mapping). Before anything is read, the server is checked to be MLflow (NotMlflowServerError).
 * Run listings are read per experiment; a run's metric histories and artifacts are read page by
 * page while its events are iterated, so one run's history is never held whole.
 */
export function mlflowSource(opts: MlflowSourceOptions): TransferSource {
  const client = new MlflowClient({ trackingUri: opts.uri, token: opts.token });
  const content = new MlflowArtifactContent(client);
  let probed: Promise<void> | undefined;
  return {
    describe: `mlflow ${client.baseUrl}`,
    async *experiments(log: TransferLog): AsyncIterable<SourceExperiment> {
      await (probed ??= probeMlflow(opts.uri, opts.token));
      // every name is checked before the first experiment is handed out: a misspelt one imports nothing
      const named = Boolean(opts.experiments?.length);
      for (const exp of await selectExperiments(client, opts.experiments)) {
        const runs = parentsFirst(await listRuns(client, exp.experiment_id));
        if (!runs.length && !named) {
          // every MLflow server has a 'Default' experiment, mostly empty: not worth an experiment here
          log.note(`MLflow experiment '${exp.name}' has no runs: not imported`);
          continue;
        }
        const ids = new Set(runs.map((r) => r.info.run_id));
        yield {
          name: exp.name,
          runCount: runs.length,
          runs: async function* () {
            for (const run of runs) yield sourceRun(client, content, exp.name, run, ids, log);
          },
        };
      }
    },
    async close() {
      content.clear();
    },
  };
}

function sourceRun(
  client: MlflowClient,
  content: MlflowArtifactContent,
  experiment: string,
  run: MlflowRun,
  ids: ReadonlySet<string>,
  log: TransferLog,
): SourceRun {
  const parent = parentRunId(run);
  return {
    experiment,
    origin: mlflowOrigin(client.baseUrl, run.info.run_id),
    // a parent outside the experiment (or deleted) is not imported: its id stays a tag of the run
    parentOrigin: parent && ids.has(parent) ? mlflowOrigin(client.baseUrl, parent) : undefined,
    start: mlflowRunStart(run),
    events: (): AsyncIterable<PendingEvent[]> =>
      mlflowRunEvents(client, content, experiment, run, {
        parentImported: parent !== undefined && ids.has(parent),
        log,
      }),
    content,
  };
}

/** The experiments asked for (each must exist and not be deleted), or every active one. */
async function selectExperiments(client: MlflowClient, names?: string[]): Promise<MlflowExperiment[]> {
  if (names?.length) {
    const found: MlflowExperiment[] = [];
    const missing: string[] = [];
    for (const name of new Set(names)) {
      const exp = await client.getExperimentByName(name);
      if (exp && exp.lifecycle_stage !== 'deleted') found.push(exp);
      else missing.push(name);
    }
    if (missing.length)
      throw new TrackingInputError(
        `MLflow at ${client.baseUrl} has no experiment ${missing.map((n) => `'${n}'`).join(', ')}` +
          ` (it has ${(await allExperiments(client)).map((e) => `'${e.name}'`).join(', ') || 'none'})`,
      );
    return found;
  }
  return allExperiments(client);
}

async function allExperiments(client: MlflowClient): Promise<MlflowExperiment[]> {
  const out: MlflowExperiment[] = [];
  let pageToken: string | undefined;
  do {
    const page = await client.searchExperimentsPage({ pageToken });
    for (const e of page.experiments) out.push(e);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out;
}

/** The experiment's active runs, oldest first (their metadata only; histories come later). */
async function listRuns(client: MlflowClient, experimentId: string): Promise<MlflowRun[]> {
  const runs: MlflowRun[] = [];
  let pageToken: string | undefined;
  do {
    const page = await client.searchRunsPage({
      experimentIds: [experimentId],
      orderBy: ['start_time ASC'],
      pageToken,
    });
    for (const run of page.runs) runs.push(run);
    pageToken = page.nextPageToken;
  } while (pageToken);
  return runs;
}

/** The runs with each parent before its children (the writer gives a child its parent's number). */
function parentsFirst(runs: readonly MlflowRun[]): MlflowRun[] {
  const byId = new Map(runs.map((r) => [r.info.run_id, r]));
  const done = new Set<string>();
  const out: MlflowRun[] = [];
  const visit = (run: MlflowRun, path: Set<string>): void => {
    const id = run.info.run_id;
    if (done.has(id) || path.has(id)) return;
    path.add(id);
    const parent = byId.get(parentRunId(run) ?? '');
    if (parent) visit(parent, path);
    done.add(id);
    out.push(run);
  };
  for (const run of runs) visit(run, new Set());
  return out;
}
