import { createHash } from 'node:crypto';
import type { PendingEvent } from '@omega-track/core';
import { MlflowApiError, MlflowUnavailableError } from '@omega-track/providers';
import { TrackingError } from '@omega-track/core';
import { encodeValue } from '@omega-track/core/internal';
import {
  MlflowClient,
  PARENT_RUN_TAG,
  PUSHED_TAG,
  createMlflowRun,
  eventRequests,
} from '@omega-track/providers/internal';
import type { MlflowRun, RunMapping } from '@omega-track/providers/internal';
import type {
  ContentSource,
  SourceRun,
  TransferLog,
  TransferProgress,
  TransferSource,
} from '../TransferSource';
import { probeMlflow } from './probeMlflow';

/** Options of `omega-track export <experiment> --to mlflow --uri URL`. */
export interface PushOptions {
  /** The tracking URI (`http://host:5000`; a `user:password@` part becomes Basic auth). */
  uri: string;
  log: TransferLog;
  progress?: TransferProgress;
  /** Bearer token (else MLFLOW_TRACKING_TOKEN). */
  token?: string;
}

/** What a push did. */
export interface PushSummary {
  experiments: number;
  /** Runs sent now. */
  runs: number;
  /** Runs found complete in MLflow (sent by an earlier push): nothing sent. */
  alreadyThere: number;
  /** Runs not sent (each is in skipped). */
  failed: number;
  /** Events sent now. */
  events: number;
  skipped: Array<{ what: string; why: string }>;
}

/** Events per group of requests: an events file of the run holds at most this many lines. */
const GROUP = 10_000;

/**
 * The unique id (MLflow tag `omega.run_uid`) of a pushed run: derived from what identifies the
 * local run — experiment, number, start time, node and user — not from where the store lies, so
 * the same run pushed again, also from another directory or a copy of the store, is found again.
 */
function pushUid(experiment: string, run: number, start: Omit<PendingEvent, 'run'>): string {
  const id = createHash('sha256')
    .update([experiment, run, start.dt, start.node, start.userid].join('\u0000'))
    .digest('hex');
  return `push-${id.slice(0, 32)}`;
}

/** The server stopped answering (after the client's retries): the rest of the push must wait. */
function serverAway(error: unknown): boolean {
  return error instanceof MlflowUnavailableError || (error instanceof MlflowApiError && error.retryable);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const tagOf = (run: MlflowRun, key: string): string | undefined =>
  run.data.tags?.find((t) => t.key === key)?.value;

/**
 * Sends local runs to an MLflow tracking server with the mlflow provider's mapping: the
 * experiment by name (created if missing), one MLflow run `run-<n>` per omega run tagged with
 * its number, name (`mlflow.runName`), tags, note, params, metric histories in log-batch
 * requests within MLflow's limits, the events MLflow has no place for in the run's events files,
 * artifacts as files through the artifact proxy, and a child under its parent
 * (`mlflow.parentRunId`) — so the mlflow provider reads the run back as it was.
 *
 * Idempotent: a pushed run carries a unique id (`omega.run_uid`, see pushUid) and, set last once
 * everything of it was accepted, the tag `omega.pushed`. A run found complete is not sent again;
 * one found incomplete (an interrupted push) is deleted and sent anew, so no point is stored
 * twice. A run still running is sent as it is and left incomplete: each push replaces it until
 * it has stopped. A run whose number MLflow's experiment already has from elsewhere is not sent (the
 * mlflow provider would read two runs of that number). When the server stops answering, the
 * push stops there; pushing again completes it.
 */
export async function pushToMlflow(source: TransferSource, opts: PushOptions): Promise<PushSummary> {
  await probeMlflow(opts.uri, opts.token);
  const client = new MlflowClient({ trackingUri: opts.uri, token: opts.token });
  const summary: PushSummary = {
    experiments: 0,
    runs: 0,
    alreadyThere: 0,
    failed: 0,
    events: 0,
    skipped: [],
  };
  const log: TransferLog = {
    skipped(what, why) {
      summary.skipped.push({ what, why });
      opts.log.skipped(what, why);
    },
    note: (m) => opts.log.note(m),
  };
  for await (const exp of source.experiments(log)) {
    summary.experiments++;
    let experimentId: string | undefined;
    /** MLflow run ids of the experiment's runs pushed (or found) now, by number: the parents. */
    const pushed = new Map<number, string>();
    for await (const run of exp.runs()) {
      const what = `run ${run.run ?? '(no number)'} of '${exp.name}'`;
      try {
        experimentId ??= (await client.ensureExperiment(exp.name)).experiment_id;
        const outcome = await pushRun(
          client,
          experimentId,
          run,
          pushed,
          (n) => {
            summary.events += n;
            opts.progress?.events(n);
          },
          (m) => log.note(m),
        );
        if (outcome === 'pushed') summary.runs++;
        else if (outcome === 'there') summary.alreadyThere++;
        else {
          summary.failed++;
          log.skipped(what, outcome.why);
        }
      } catch (error) {
        summary.failed++;
        if (serverAway(error)) {
          log.skipped(what, `${message(error)}; push again to complete it`);
          log.skipped(
            `the runs after ${what}`,
            `not pushed: MLflow at ${client.baseUrl} stopped answering; push again to send them`,
          );
          opts.progress?.run();
          return summary;
        }
        log.skipped(what, message(error));
      }
      opts.progress?.run();
    }
  }
  return summary;
}

/** Sends one run; 'there' when MLflow has it complete already, a reason when it is not sent. */
async function pushRun(
  client: MlflowClient,
  experimentId: string,
  run: SourceRun,
  pushed: Map<number, string>,
  sent: (events: number) => void,
  note: (message: string) => void,
): Promise<'pushed' | 'there' | { why: string }> {
  const number = run.run;
  if (number === undefined) return { why: 'it has no run number (only runs of a store are pushed)' };
  const uid = pushUid(run.experiment, number, run.start);
  const found = await client.searchRuns([experimentId], `tags.\`omega.run\` = '${number}'`);
  const ours = found.filter((r) => tagOf(r, 'omega.run_uid') === uid);
  const others = found.filter((r) => tagOf(r, 'omega.run_uid') !== uid);
  const parent = (run.start.value as { parent?: unknown } | null)?.parent;
  const parentId =
    typeof parent === 'number'
      ? (pushed.get(parent) ??
        (await client.searchRuns([experimentId], `tags.\`omega.run\` = '${parent}'`, ['start_time DESC']))[0]
          ?.info.run_id)
      : undefined;
  const complete = ours.find((r) => tagOf(r, PUSHED_TAG) === 'complete');
  if (complete) {
    // its parent, still running at the last push, has been sent anew (under a new MLflow id)
    if (parentId && tagOf(complete, PARENT_RUN_TAG) !== parentId)
      await client.setTag(complete.info.run_id, PARENT_RUN_TAG, parentId);
    pushed.set(number, complete.info.run_id);
    return 'there';
  }
  if (others.length)
    return {
      why:
        `MLflow's experiment '${run.experiment}' already has a run ${number} that was not pushed from this run ` +
        `(MLflow run ${others[0].info.run_id}): the mlflow provider would read two runs ${number}; ` +
        'push into another experiment, or delete that MLflow run first',
    };
  // what an interrupted push left of this run goes: sent anew, no point is stored twice
  for (const r of ours) await client.deleteRun(r.info.run_id);

  const mapping = await createMlflowRun(client, experimentId, number, run.start, uid, parentId);
  try {
    let seq = 0;
    let stopped = false;
    for await (const batch of run.events()) {
      for (let i = 0; i < batch.length; i += GROUP) {
        const group: PendingEvent[] = [];
        for (const e of batch.slice(i, i + GROUP)) {
          if (e.event === 'stop') stopped = true;
          const value = await pushArtifact(client, mapping, uid, run.content, e);
          group.push({ ...e, run: number, value });
        }
        seq++;
        for (const request of eventRequests(client, mapping, group, seq, `${uid}:${seq}`)) await request();
        sent(group.length);
      }
    }
    if (!stopped && run.info?.status === 'CRASHED' && run.info.started) {
      // as the mlflow provider does for a run whose process died: KILLED, ending at its last sign of life
      await client.updateRun(mapping.runId, 'KILLED', run.info.started.getTime() + (run.info.duration ?? 0));
    }
    // a run still running goes as it is now, not marked complete: the next push replaces it
    if (run.info?.status === 'STARTED')
      note(
        `run ${number} of '${run.experiment}' is still running: sent as it is now (the next push replaces it)`,
      );
    else await client.setTag(mapping.runId, PUSHED_TAG, 'complete');
  } catch (error) {
    // a run refused part-way is not left half in MLflow (best effort: the server may be away, and
    // then the next push replaces it)
    if (!serverAway(error)) await client.deleteRun(mapping.runId).catch(() => undefined);
    throw error;
  }
  pushed.set(number, mapping.runId);
  return 'pushed';
}

/**
 * An artifact event's value as the mlflow provider logs it, its content uploaded first as files
 * of the run: bytes (`binary`, `serialized`) as `omega/artifacts/<id>/data.bin|data.v8`, a model
 * or dataset as `omega/artifacts/<id>/entry.json` plus its blobs beside it. Inline artifacts
 * stay as they are. `<id>` is derived from the run and the content's key: the same on every push.
 */
async function pushArtifact(
  client: MlflowClient,
  run: RunMapping,
  uid: string,
  content: ContentSource | undefined,
  e: PendingEvent,
): Promise<PendingEvent['value']> {
  if (e.event !== 'artifact' && e.event !== 'data') return e.value;
  const v = e.value as { name?: unknown; format?: unknown; data?: unknown } | null;
  if (!v || typeof v !== 'object' || typeof v.name !== 'string') return e.value;
  const dirOf = (key: string): string =>
    `omega/artifacts/${createHash('sha256').update(`${uid}\u0000${key}`).digest('hex').slice(0, 16)}`;
  const missing = (what: string): TrackingError =>
    new TrackingError(`artifact '${v.name as string}': its content (${what}) is not in the source`);
  if ((v.format === 'binary' || v.format === 'serialized') && v.data && typeof v.data === 'object') {
    const { blob, ...rest } = v.data as { blob?: unknown };
    if (typeof blob !== 'string') return e.value;
    const bytes = await content?.getBlob(blob);
    if (!bytes) throw missing(blob);
    const path = `${dirOf(blob)}/${v.format === 'binary' ? 'data.bin' : 'data.v8'}`;
    await client.uploadArtifact(run.artifactUri, path, bytes);
    return { ...v, data: { ...rest, path } };
  }
  if ((v.format === 'model' || v.format === 'dataset') && typeof v.data === 'string') {
    const entry = await content?.getEntry(v.format === 'model' ? 'models' : 'datasets', v.data);
    if (!entry) throw missing(v.data);
    const dir = dirOf(v.data);
    const files: Array<{ path: string; data: Uint8Array }> = [];
    if (entry.blob)
      for (const key of await content!.listBlobs(entry.blob)) {
        const data = await content!.getBlob(key);
        if (!data) throw missing(key);
        files.push({ path: `${dir}/${key.slice(entry.blob.length)}`, data });
      }
    // entry.json last, as the provider writes it after the backend's files
    files.push({
      path: `${dir}/entry.json`,
      data: Buffer.from(encodeValue({ kind: entry.kind, attributes: entry.attributes, data: entry.data })),
    });
    for (const f of files) await client.uploadArtifact(run.artifactUri, f.path, f.data);
    return { ...v, data: { path: dir, kind: entry.kind } };
  }
  return e.value;
}
