import { createHash } from 'node:crypto';
import v8 from 'node:v8';
import type { ErrorHandler, PendingEvent } from '@omega-track/core';
import { decodeValue, encodeValue } from '@omega-track/core/internal';
import type { MlflowClient } from './MlflowClient';
import { MlflowApiError, MlflowArtifactsUnreachableError, MlflowUnavailableError } from './MlflowErrors';
import type { MlflowKeyValue, MlflowMetric } from './MlflowTypes';
import { MLFLOW_LIMITS } from './MlflowTypes';
import type { RunMapping, SpoolOp } from './MlflowSpool';
import type { MlflowSpool } from './MlflowSpool';
import {
  chunkBatch,
  encodeMetricValue,
  jsonArtifactFile,
  jsonArtifactText,
  metadataTagKey,
  paramText,
  profileToSystemMetric,
  tagText,
} from './mlflowMapping';

/** A line of an events file: what MLflow has no place for, kept as JSON lines in the run's artifacts. */
export type EventLine =
  /** An event MLflow has no place for, or a param (MLflow keeps params as text; this keeps the value). */
  | { t: 'event'; o: number; e: PendingEvent }
  /** What a metric point needs beyond what MLflow keeps (see eventRequests); `value` marks a repeated point. */
  | {
      t: 'note';
      o: number;
      key: string;
      dt: number;
      step: number | null;
      extra?: Record<string, unknown>;
      userid?: string;
      node?: string;
      value?: unknown;
    };

/** Where the events files of a run are (`omega/events/<seq>-<digest>.jsonl`). */
export const EVENTS_DIR = 'omega/events';

/** The `<name>.json` file of an inline JSON artifact (format `type` or `metadata`), if it has one. */
function jsonFile(value: unknown): { path: string; text: string } | undefined {
  const v = value as { name?: unknown; format?: unknown; data?: unknown } | null;
  if (!v || typeof v.name !== 'string' || (v.format !== 'type' && v.format !== 'metadata')) return undefined;
  const path = jsonArtifactFile(v.name);
  return path === undefined ? undefined : { path, text: jsonArtifactText(v.data) };
}

/** Files of one artifact, as spooled. */
export interface SpooledFiles {
  files: Array<{ path: string; data: Uint8Array }>;
}

function isMetricLike(e: PendingEvent): boolean {
  return (e.event === 'metric' || e.event === 'profile') && typeof e.value === 'number';
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

/** After this many 500 answers in a row to the same request, it is set aside as refused. */
const MAX_SERVER_ERRORS = 5;

/**
 * Sends the spool to one MLflow server: op by op, in order, each request at most once (progress
 * is saved after every accepted request, so a crash or an outage resumes where it stopped).
 * While the server is unreachable, overloaded or refuses our credentials, it waits with growing
 * pauses and says so once. A request the server refuses for good (400: a bad key, a changed
 * param) is set aside as a dead letter, and the rest goes on.
 */
export class MlflowSender {
  private static readonly senders = new Map<string, MlflowSender>();
  private running: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = RETRY_MIN_MS;
  private downSince: number | undefined;
  /** Another process on this machine is the sender for this server. */
  private blocked = false;
  private serverErrors = 0;
  private readonly experimentIds = new Map<string, string>();
  private readonly handlers = new Map<string, ErrorHandler>();
  /** Artifact locations this sender could not reach and has said so (once each, not once per batch). */
  private readonly unreachableSaid = new Set<string>();

  /** The sender for this spool and server, shared within the process. */
  static for(spool: MlflowSpool, client: MlflowClient, onError: ErrorHandler): MlflowSender {
    const key = `${spool.file}\u0000${client.identity}`;
    let sender = MlflowSender.senders.get(key);
    if (!sender) MlflowSender.senders.set(key, (sender = new MlflowSender(spool, client, onError)));
    return sender;
  }

  private constructor(
    readonly spool: MlflowSpool,
    readonly client: MlflowClient,
    private readonly onError: ErrorHandler,
  ) {}

  /** Sends problems with `experiment`'s batches to `onError` (its provider's handler). */
  handle(experiment: string, onError: ErrorHandler): void {
    this.handlers.set(experiment, onError);
  }

  private report(error: unknown, context: string, experiment?: string): void {
    const handler = (experiment !== undefined && this.handlers.get(experiment)) || this.onError;
    try {
      handler(error, context);
    } catch {
      // an error handler that throws must not stop the sender
    }
  }

  /** Whether the last attempt found the server unreachable (or unwilling). */
  get down(): boolean {
    return this.downSince !== undefined;
  }

  /** Starts sending, unless already sending or waiting out an outage. Never throws. */
  kick(): void {
    if (this.running || this.retryTimer) return;
    this.running = this.drain()
      .catch((error: unknown) => this.report(error, `sending to MLflow at ${this.client.baseUrl}`))
      .finally(() => (this.running = undefined));
  }

  /** Resolves once the op being sent (if any) is done. */
  async idle(): Promise<void> {
    await this.running;
  }

  /**
   * Sends and waits until nothing of `experiment` is waiting, the server proves unreachable,
   * or `timeoutMs` passes. Returns whether everything was delivered. With `probe`, a server
   * known to be away is tried again at once.
   */
  async deliver(experiment: string | undefined, timeoutMs = Infinity, probe = false): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    // a caller that needs the data now (a read, `sync`) does not wait out the pause after an outage
    if (probe && this.retryTimer) {
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
    }
    for (;;) {
      if (this.spool.pending(this.client.baseUrl, experiment) === 0) return true;
      if (this.down && this.retryTimer) return false;
      this.kick();
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      // while another process sends, poll the spool on a real timer until its work shows
      const poll = this.blocked || !this.running;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>(
        (r) => (timer = setTimeout(r, poll ? Math.min(100, remaining) : Math.min(remaining, 2 ** 31 - 1))),
      );
      await (poll ? timeout : Promise.race([this.running, timeout]));
      // a pending timer would keep a finished program alive until the deadline
      clearTimeout(timer);
      if (this.down) return this.spool.pending(this.client.baseUrl, experiment) === 0;
    }
  }

  private async drain(): Promise<void> {
    const uri = this.client.baseUrl;
    this.blocked = !this.spool.claimSender(uri);
    if (this.blocked) return;
    try {
      for (let op = this.spool.next(uri); op; op = this.spool.next(uri)) {
        if (!(await this.send(op))) return;
        this.spool.remove(op.seq);
      }
    } finally {
      this.spool.releaseSender(uri);
    }
  }

  private up(): void {
    if (this.downSince !== undefined)
      this.report(new Error(`MLflow at ${this.client.baseUrl} answers again; sending what waited`), 'mlflow');
    this.downSince = undefined;
    this.retryDelay = RETRY_MIN_MS;
  }

  private wentDown(error: unknown, experiment: string): void {
    // one line per outage, not one per retry
    if (this.downSince === undefined)
      this.report(
        error,
        `MLflow at ${this.client.baseUrl} is unavailable; batches wait in ${this.spool.file}`,
        experiment,
      );
    this.downSince ??= Date.now();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, this.retryDelay);
    this.retryTimer.unref();
    this.retryDelay = Math.min(RETRY_MAX_MS, this.retryDelay * 2);
  }

  /** Whether waiting can help: the server is away, overloaded, failing, or refusing our credentials. */
  private waitable(error: unknown): boolean {
    if (error instanceof MlflowUnavailableError) return true;
    if (!(error instanceof MlflowApiError)) return false;
    if (error.status === 500) return ++this.serverErrors < MAX_SERVER_ERRORS;
    return [401, 403, 408, 429, 502, 503, 504].includes(error.status);
  }

  private async experimentId(name: string): Promise<string> {
    let id = this.experimentIds.get(name);
    if (!id) this.experimentIds.set(name, (id = (await this.client.ensureExperiment(name)).experiment_id));
    return id;
  }

  /**
   * The MLflow run of an omega run. A run starts with a unique id (tag `omega.run_uid`), so the
   * start is matched to its own MLflow run even when run numbers repeat (a dropped experiment,
   * a `memory:` store), and a creation that timed out is found again instead of made twice.
   * Later batches use the remembered mapping, or the newest MLflow run with that number.
   */
  async runOf(experiment: string, run: number, start?: PendingEvent): Promise<RunMapping> {
    const uri = this.client.baseUrl;
    const uid = typeof start?.extra?.runUid === 'string' ? start.extra.runUid : undefined;
    if (!uid) {
      const known = this.spool.mapping(uri, experiment, run);
      if (known) return known;
    }
    const experimentId = await this.experimentId(experiment);
    const filter = uid ? `tags.\`omega.run_uid\` = '${uid}'` : `tags.\`omega.run\` = '${run}'`;
    const [found] = await this.client.searchRuns([experimentId], filter, ['start_time DESC']);
    let mapping: RunMapping;
    if (found) {
      const tags = Object.fromEntries((found.data.tags ?? []).map((t) => [t.key, t.value]));
      mapping = {
        runId: found.info.run_id,
        artifactUri: found.info.artifact_uri,
        userid: tags['mlflow.user'] ?? '',
        node: tags['omega.node'] ?? '',
      };
    } else {
      // a child run (run(fn) inside a run) nests under its parent in MLflow's UI
      const parent = (start?.value as { parent?: unknown } | null | undefined)?.parent;
      const parentId =
        typeof parent === 'number' ? await this.existingRunId(experiment, experimentId, parent) : undefined;
      mapping = await createMlflowRun(this.client, experimentId, run, start, uid, parentId);
    }
    this.spool.saveMapping(uri, experiment, run, mapping);
    return mapping;
  }

  /**
   * The MLflow run id of omega run `run`, if MLflow has it: remembered, or the newest active run
   * with that number. Unlike runOf it never creates one (a parent deleted meanwhile stays gone).
   */
  private async existingRunId(
    experiment: string,
    experimentId: string,
    run: number,
  ): Promise<string | undefined> {
    const known = this.spool.mapping(this.client.baseUrl, experiment, run);
    if (known) return known.runId;
    const [found] = await this.client.searchRuns([experimentId], `tags.\`omega.run\` = '${run}'`, [
      'start_time DESC',
    ]);
    return found?.info.run_id;
  }

  /** Sends an op's remaining requests; false when the server is away (the op stays, with its progress). */
  private async send(op: SpoolOp): Promise<boolean> {
    let requests: Array<() => Promise<void>>;
    try {
      requests = op.kind === 'files' ? await this.fileRequests(op) : await this.eventRequests(op);
    } catch (error) {
      if (this.waitable(error)) return (this.wentDown(error, op.experiment), false);
      // the op cannot even be turned into requests (its run cannot be created): set it aside whole
      this.spool.bury(op, op.done, describe(error));
      this.report(
        error,
        `MLflow refused a batch of '${op.experiment}' run ${op.run}; it is kept as a dead letter`,
        op.experiment,
      );
      return true;
    }
    const end = op.only ?? requests.length;
    for (let i = op.done; i < end; i++) {
      try {
        await requests[i]();
        this.serverErrors = 0;
        this.up();
      } catch (error) {
        if (this.waitable(error)) return (this.wentDown(error, op.experiment), false);
        this.serverErrors = 0;
        this.spool.bury(op, i, describe(error));
        if (error instanceof MlflowArtifactsUnreachableError) this.unreachable(error, op);
        else
          this.report(
            error,
            `MLflow refused part of a batch of '${op.experiment}' run ${op.run}; it is kept as a dead letter`,
            op.experiment,
          );
      }
      this.spool.markProgress(op.seq, i + 1);
      // the heartbeat: another process takes over only from a sender that stopped beating
      if (!this.spool.claimSender(this.client.baseUrl)) return false;
    }
    return true;
  }

  /**
   * An artifact file (or events file) that cannot be written where MLflow keeps the run's
   * artifacts: said once per location, since every later batch of the run would say the same.
   * The metric points, params and tags of the batch went out before it, as log-batch requests.
   */
  private unreachable(error: MlflowArtifactsUnreachableError, op: SpoolOp): void {
    if (this.unreachableSaid.has(error.artifactUri)) return;
    this.unreachableSaid.add(error.artifactUri);
    this.report(
      error,
      `the artifacts of '${op.experiment}' run ${op.run} cannot be written (its metrics, params and tags are sent as usual); ` +
        `they are kept as dead letters in ${this.spool.file}: once this machine reaches the artifact location, ` +
        '`omega-track sync --requeue` sends them',
      op.experiment,
    );
  }

  private async fileRequests(op: SpoolOp): Promise<Array<() => Promise<void>>> {
    const { files } = v8.deserialize(op.body) as SpooledFiles;
    const run = await this.runOf(op.experiment, op.run);
    return files.map((f) => () => this.client.uploadArtifact(run.artifactUri, f.path, f.data));
  }

  /** The requests that record an events op, in order: log-batch chunks, run updates, events file. */
  private async eventRequests(op: SpoolOp): Promise<Array<() => Promise<void>>> {
    const events = decodeValue(op.body.toString()) as PendingEvent[];
    const start = events.find((e) => e.event === 'start');
    const run = await this.runOf(op.experiment, op.run, start);
    return eventRequests(this.client, run, events, op.seq, op.body);
  }
}

/**
 * Creates the MLflow run of omega run `run` (`run-<n>`, tagged with its number, user, node and
 * unique id, nested under `parentRunId`): what the sender does for a run's start, and what
 * `export --to mlflow` does for a run it pushes.
 */
export async function createMlflowRun(
  client: MlflowClient,
  experimentId: string,
  run: number,
  start: Pick<PendingEvent, 'dt' | 'node' | 'userid'> | undefined,
  uid: string | undefined,
  parentRunId: string | undefined,
): Promise<RunMapping> {
  const userid = start?.userid ?? 'unknown';
  const node = start?.node ?? 'unknown';
  const tags = [
    { key: 'omega.run', value: String(run) },
    { key: 'mlflow.user', value: userid },
    { key: 'mlflow.source.name', value: process.argv[1] ?? 'node' },
    { key: 'mlflow.source.type', value: 'LOCAL' },
    { key: 'omega.node', value: node },
  ];
  if (uid) tags.push({ key: 'omega.run_uid', value: uid });
  if (parentRunId) tags.push({ key: 'mlflow.parentRunId', value: parentRunId });
  const created = await client.createRun(experimentId, `run-${run}`, start?.dt ?? Date.now(), tags, userid);
  return { runId: created.info.run_id, artifactUri: created.info.artifact_uri, userid, node };
}

/**
 * The requests that record a batch of a run's events in MLflow run `run`, in order: log-batch
 * chunks within MLflow's limits, run updates, and the events file `<seq>-<digest>.jsonl` holding
 * what MLflow has no place for (`seq` orders the files of a run; `body` names this batch).
 */
export function eventRequests(
  client: MlflowClient,
  run: RunMapping,
  events: readonly PendingEvent[],
  seq: number,
  body: Uint8Array | string,
): Array<() => Promise<void>> {
  const requests: Array<() => Promise<void>> = [];
  let metrics: MlflowMetric[] = [];
  let params: MlflowKeyValue[] = [];
  /** Run tags by key: the latest value of a key in the op wins, as it does in MLflow. */
  let tags = new Map<string, string>();
  const lines: EventLine[] = [];
  /** JSON artifacts as files `<name>.json`, the last one logged under a name winning. */
  const jsonFiles = new Map<string, string>();
  const seenParams = new Set<string>();
  const cut = (): void => {
    const tagList = [...tags].map(([key, value]) => ({ key, value }));
    for (const chunk of chunkBatch(metrics, params, tagList))
      requests.push(() => client.logBatch(run.runId, chunk));
    metrics = [];
    params = [];
    tags = new Map();
  };
  // What MLflow's metric points cannot hold goes into a note: no step, extra fields, another
  // user or node than the run's, a point identical to an earlier one (MLflow keeps it once),
  // or a millisecond shared with rows of the events file (then `o` keeps the logging order).
  const points = new Set<string>();
  const duplicate = (e: PendingEvent): boolean => {
    const id = `${e.key}\u0000${e.dt}\u0000${e.step ?? 0}\u0000${encodeValue(e.value)}`;
    return points.has(id) || (points.add(id), false);
  };
  const special = (e: PendingEvent): boolean =>
    e.step === null ||
    (e.extra !== undefined && Object.keys(e.extra).length > 0) ||
    e.userid !== run.userid ||
    e.node !== run.node;
  const isLine = (e: PendingEvent): boolean => !isMetricLike(e) && e.event !== 'start' && e.event !== 'stop';
  const lineTimes = new Set(
    events.filter((e) => isLine(e) || (e.event === 'metric' && special(e))).map((e) => e.dt),
  );
  events.forEach((e, i) => {
    const o = seq * 1_000_000 + i;
    const extra = e.extra && Object.keys(e.extra).length ? e.extra : undefined;
    if (e.event === 'metric' && typeof e.value === 'number') {
      const dup = duplicate(e);
      if (!dup)
        metrics.push({ key: e.key, value: encodeMetricValue(e.value), timestamp: e.dt, step: e.step ?? 0 });
      if (dup || special(e) || lineTimes.has(e.dt)) {
        const note: EventLine = { t: 'note', o, key: e.key, dt: e.dt, step: e.step, extra };
        if (e.userid !== run.userid) note.userid = e.userid;
        if (e.node !== run.node) note.node = e.node;
        if (dup) note.value = e.value;
        lines.push(note);
      }
    } else if (e.event === 'profile' && typeof e.value === 'number') {
      const gpu = typeof extra?.gpu === 'number' ? extra.gpu : undefined;
      const m = profileToSystemMetric(e.key, e.value, gpu);
      if (!duplicate({ ...e, key: m.name }))
        metrics.push({
          key: m.name,
          value: encodeMetricValue(m.value),
          timestamp: e.dt,
          step: e.step ?? 0,
        });
    } else if (e.event === 'param') {
      // MLflow refuses a batch that names a param twice; the value is the same (checked at the call)
      if (!seenParams.has(e.key)) params.push({ key: e.key, value: paramText(e.value) });
      seenParams.add(e.key);
      lines.push({ t: 'event', o, e });
    } else if (e.event === 'name' || e.event === 'tag' || e.event === 'note') {
      // run metadata becomes MLflow's own: its run name, a run tag, its description; the
      // events file keeps the values as logged, for data()
      tags.set(metadataTagKey(e.event, e.key), tagText(e.value));
      lines.push({ t: 'event', o, e });
    } else if (e.event === 'start') {
      // the run was created (or found) above with this start time
    } else if (e.event === 'stop') {
      const value = (e.value ?? {}) as { status?: string; error?: string };
      if (value.error) tags.set('omega.error', value.error.slice(0, MLFLOW_LIMITS.tagValueLength));
      cut();
      const failed = value.status === 'FAILED';
      requests.push(
        async () => void (await client.updateRun(run.runId, failed ? 'FAILED' : 'FINISHED', e.dt)),
      );
    } else {
      if (e.event === 'artifact') {
        const file = jsonFile(e.value);
        if (file) jsonFiles.set(file.path, file.text);
      }
      lines.push({ t: 'event', o, e });
    }
  });
  cut();
  if (lines.length) {
    const digest = createHash('sha1').update(body).digest('hex').slice(0, 10);
    const file = `${EVENTS_DIR}/${String(seq).padStart(12, '0')}-${digest}.jsonl`;
    const text = lines.map((l) => encodeValue(l)).join('\n') + '\n';
    requests.push(() => client.uploadArtifact(run.artifactUri, file, Buffer.from(text)));
  }
  // after the events file, which is what reads back: the files are for MLflow's UI and tools
  for (const [file, text] of jsonFiles)
    requests.push(() => client.uploadArtifact(run.artifactUri, file, Buffer.from(text)));
  return requests;
}
