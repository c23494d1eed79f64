import type { PendingEvent } from '@omega-track/core';
import { MlflowArtifactsUnreachableError } from '@omega-track/providers';
import {
  OMEGA_TAGS,
  PARENT_RUN_TAG,
  RUN_NAME_TAG,
  RUN_NOTE_TAG,
  decodeMetricValue,
} from '@omega-track/providers/internal';
import type { MlflowClient, MlflowMetric, MlflowRun } from '@omega-track/providers/internal';
import type { TransferLog } from '../TransferSource';
import type { MlflowArtifactContent } from './MlflowArtifactContent';

/**
 * How an MLflow run becomes omega events (the inverse of the mlflow provider's mapping, as far as
 * a run written by any MLflow client allows):
 * - `start_time` → the start event's dt; `user_id` (else the tag `mlflow.user`) → userid; the
 *   node is the tag `omega.node` when omega-track wrote the run, else '' (MLflow keeps no host).
 * - MLflow's own tags that are turned into events, not tags: `mlflow.runName` → a `name` event,
 *   `mlflow.note.content` → a `note` event, `mlflow.parentRunId` → the run's parent (kept as a
 *   tag only when the parent is not imported with it). omega-track's bookkeeping tags
 *   (`omega.run`, `omega.run_uid`, `omega.node`, `omega.error`, `omega.pushed`) are the
 *   numbering of another store or go into node and the stop's error. Every other tag — the
 *   user's, and MLflow's `mlflow.user`, `mlflow.source.name`, `mlflow.source.type`,
 *   `mlflow.source.git.commit`, `mlflow.log-model.history`, … — is a `tag` event, its value the
 *   text MLflow holds.
 * - params → `param` events with MLflow's text as the value (MLflow keeps no other type).
 * - every point of every metric history (get-history, page by page) → a `metric` event with its
 *   step and timestamp: duplicates at one step stay, NaN stays NaN, and ±1.797e308 — what
 *   MLflow's SQL store keeps of ±Infinity — becomes ±Infinity again, as the mlflow provider reads it.
 * - artifact files → `artifact` events `{ name: <path>, format: 'binary', data: { blob, bytes } }`.
 * - status FINISHED → stop STOPPED; FAILED → stop FAILED (with the tag `omega.error` as error when
 *   omega-track wrote it); KILLED → stop FAILED with error 'KILLED' (MLflow's word for a run whose
 *   process died; omega's run status has no third ending); RUNNING/SCHEDULED → no stop.
 * Params, tags, name and note carry the start time (MLflow keeps no time of them); metrics come
 * merged across keys in timestamp order, as they were logged; artifacts and stop at the end time.
 */

/** Events per batch handed to the writer. */
const BATCH = 5000;

/** About this many history points are held at once while the keys of a run are merged. */
const MERGE_POINTS = 100_000;

/** MLflow's page of a history: 25,000, less when many keys are merged at once. */
const MAX_PAGE = 25_000;
const MIN_PAGE = 1000;

/** The MLflow run id of a run's parent, if it is a nested run. */
export function parentRunId(run: MlflowRun): string | undefined {
  return run.data.tags?.find((t) => t.key === PARENT_RUN_TAG)?.value || undefined;
}

function tagMap(run: MlflowRun): Map<string, string> {
  return new Map((run.data.tags ?? []).map((t) => [t.key, t.value]));
}

function who(run: MlflowRun): { node: string; userid: string } {
  const tags = tagMap(run);
  return { node: tags.get('omega.node') ?? '', userid: run.info.user_id || tags.get('mlflow.user') || '' };
}

/** The start event of an MLflow run (its parent is set by the writer, from parentOrigin). */
export function mlflowRunStart(run: MlflowRun): Omit<PendingEvent, 'run'> {
  return {
    event: 'start',
    key: 'start',
    value: null,
    step: null,
    dt: Number(run.info.start_time ?? 0),
    ...who(run),
    extra: undefined,
  };
}

/** One metric's history, read a page at a time. */
class HistoryCursor {
  private page: MlflowMetric[] = [];
  private at = 0;
  private token: string | undefined;
  private started = false;

  constructor(
    private readonly client: MlflowClient,
    private readonly runId: string,
    readonly key: string,
    readonly order: number,
    private readonly pageSize: number,
  ) {}

  /** The next point, without taking it; undefined at the end of the history (or of the page: see fill). */
  get next(): MlflowMetric | undefined {
    return this.page[this.at];
  }

  /** Reads pages until one has a point to give, or the history ends; false at its end. */
  async fill(): Promise<boolean> {
    while (this.at >= this.page.length) {
      if (this.started && !this.token) return false;
      const next = await this.client.getMetricHistoryPage(this.runId, this.key, this.token, this.pageSize);
      this.started = true;
      this.page = next.metrics;
      this.at = 0;
      this.token = next.nextPageToken;
    }
    return true;
  }

  take(): void {
    this.at++;
  }
}

/** Whether point a (of cursor ca) was logged before b (of cb): by time, then step, then key. */
function before(a: MlflowMetric, ca: HistoryCursor, b: MlflowMetric, cb: HistoryCursor): boolean {
  const ta = Number(a.timestamp);
  const tb = Number(b.timestamp);
  if (ta !== tb) return ta < tb;
  const sa = Number(a.step ?? 0);
  const sb = Number(b.step ?? 0);
  return sa !== sb ? sa < sb : ca.order < cb.order;
}

/** The events of an MLflow run but its start, in batches, read from the server as they are iterated. */
export async function* mlflowRunEvents(
  client: MlflowClient,
  content: MlflowArtifactContent,
  experiment: string,
  run: MlflowRun,
  opts: { parentImported: boolean; log: TransferLog },
): AsyncIterable<PendingEvent[]> {
  const { info } = run;
  const base = { run: 0, step: null, ...who(run), extra: undefined };
  const startDt = Number(info.start_time ?? 0);
  const tags = tagMap(run);
  const first: PendingEvent[] = [];
  const name = tags.get(RUN_NAME_TAG) ?? info.run_name;
  if (name) first.push({ ...base, event: 'name', key: 'name', value: name, dt: startDt });
  for (const [key, value] of tags) {
    if (key === RUN_NAME_TAG || OMEGA_TAGS.has(key) || (key === PARENT_RUN_TAG && opts.parentImported))
      continue;
    if (key === RUN_NOTE_TAG) first.push({ ...base, event: 'note', key: 'note', value, dt: startDt });
    else first.push({ ...base, event: 'tag', key, value, dt: startDt });
  }
  for (const p of run.data.params ?? [])
    first.push({ ...base, event: 'param', key: p.key, value: p.value, dt: startDt });
  let batch = first;
  let last = startDt;

  const keys = [...new Set((run.data.metrics ?? []).map((m) => m.key))].sort();
  const pageSize = Math.max(
    MIN_PAGE,
    Math.min(MAX_PAGE, Math.floor(MERGE_POINTS / Math.max(1, keys.length))),
  );
  const cursors = keys.map((key, i) => new HistoryCursor(client, info.run_id, key, i, pageSize));
  let live = cursors;
  for (;;) {
    // a page is read only when a key has run out of points (the await is paid once per page)
    if (live.some((c) => c.next === undefined)) {
      const ok = await Promise.all(
        live.map((c) => (c.next === undefined ? c.fill() : Promise.resolve(true))),
      );
      live = live.filter((_, i) => ok[i]);
    }
    if (!live.length) break;
    // the earliest next point among the keys (a handful of keys: a scan beats a heap)
    let cursor = live[0];
    let point = cursor.next!;
    for (let i = 1; i < live.length; i++) {
      const p = live[i].next!;
      if (before(p, live[i], point, cursor)) {
        cursor = live[i];
        point = p;
      }
    }
    cursor.take();
    const dt = Number(point.timestamp);
    if (dt > last) last = dt;
    batch.push({
      run: 0,
      event: 'metric',
      key: cursor.key,
      value: decodeMetricValue(point.value),
      step: Number(point.step ?? 0),
      dt,
      node: base.node,
      userid: base.userid,
      extra: undefined,
    });
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }

  const end = info.end_time !== undefined && info.end_time !== null ? Number(info.end_time) : undefined;
  const endDt = end ?? last;
  for await (const file of artifactFiles(
    client,
    info.artifact_uri,
    opts.log,
    `${experiment} run ${info.run_id}`,
  )) {
    batch.push({
      ...base,
      event: 'artifact',
      key: file.path,
      value: {
        name: file.path,
        format: 'binary',
        data: { blob: content.add(experiment, info.run_id, info.artifact_uri, file.path), bytes: file.bytes },
      },
      dt: endDt,
    });
    if (batch.length >= BATCH) {
      yield batch;
      batch = [];
    }
  }

  if (info.status === 'FINISHED' || info.status === 'FAILED' || info.status === 'KILLED') {
    const value: { status: 'STOPPED' | 'FAILED'; error?: string } = {
      status: info.status === 'FINISHED' ? 'STOPPED' : 'FAILED',
    };
    const error =
      info.status === 'KILLED' ? 'KILLED' : info.status === 'FAILED' ? tags.get('omega.error') : undefined;
    if (error) value.error = error;
    batch.push({ ...base, event: 'stop', key: 'stop', value, dt: endDt });
  }
  if (batch.length) yield batch;
}

/**
 * The files under a run's artifact root, depth first in MLflow's (sorted) order. A run whose
 * artifacts this machine cannot reach (see the provider's ArtifactLocation) is imported without
 * them, and that is said.
 */
async function* artifactFiles(
  client: MlflowClient,
  artifactUri: string,
  log: TransferLog,
  what: string,
): AsyncIterable<{ path: string; bytes: number }> {
  const dirs = [''];
  while (dirs.length) {
    const dir = dirs.shift()!;
    let entries;
    try {
      entries = await client.listArtifacts(artifactUri, dir);
    } catch (error) {
      if (!(error instanceof MlflowArtifactsUnreachableError)) throw error;
      log.skipped(`the artifacts of ${what}`, error.message);
      return;
    }
    const subdirs: string[] = [];
    for (const entry of entries) {
      // artifacts/list gives paths from the run's root, the proxy's listing base names
      const base = entry.path.split('/').pop()!;
      const path = dir ? `${dir}/${base}` : base;
      if (entry.is_dir) subdirs.push(path);
      else yield { path, bytes: Number(entry.file_size ?? 0) };
    }
    dirs.unshift(...subdirs);
  }
}
