import { createHash } from 'node:crypto';
import v8 from 'node:v8';
import type { ErrorHandler, PendingEvent } from '@omega-track/core';
import { decodeValue, encodeValue } from '@omega-track/core';
import type { MlflowClient } from './MlflowClient';
import { isRetryable } from './MlflowErrors';
import type { MlflowKeyValue, MlflowMetric } from './MlflowTypes';
import type { RunMapping, SpoolOp } from './MlflowSpool';
import type { MlflowSpool } from './MlflowSpool';
import { chunkBatch, encodeMetricValue, paramText, profileToSystemMetric } from './mlflowMapping';

/** A line of an events file: what MLflow has no place for, kept as JSON lines in the run's artifacts. */
export type EventLine =
  | { t: 'event'; o: number; e: PendingEvent }
  | {
      t: 'param';
      o: number;
      key: string;
      value: unknown;
      dt: number;
      step: number | null;
      extra?: Record<string, unknown>;
    }
  /**
   * A metric point that needs more than MLflow keeps: its step was none, it carried extra fields,
   * or it shares its millisecond with a line above (then `o` keeps their logging order).
   */
  | { t: 'note'; o: number; key: string; dt: number; step: number | null; extra?: Record<string, unknown> };

/** Where the events files of a run are (`omega/events/<seq>-<digest>.jsonl`). */
export const EVENTS_DIR = 'omega/events';

/** Files of one artifact, as spooled. */
export interface SpooledFiles {
  files: Array<{ path: string; data: Uint8Array }>;
}

function isMetricLike(e: PendingEvent): boolean {
  return (e.event === 'metric' || e.event === 'profile') && typeof e.value === 'number';
}

const RETRY_MIN_MS = 500;
const RETRY_MAX_MS = 30_000;

/**
 * Sends the spool to one MLflow server: op by op, in order, each request at most once (progress
 * is saved after every accepted request, so a crash or an outage resumes where it stopped).
 * While the server is unreachable it retries with growing pauses and says so once.
 */
export class MlflowSender {
  private static readonly senders = new Map<string, MlflowSender>();
  private running: Promise<void> | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelay = RETRY_MIN_MS;
  private downSince: number | undefined;
  private readonly experimentIds = new Map<string, string>();

  /** The sender for this spool and server, shared within the process. */
  static for(spool: MlflowSpool, client: MlflowClient, onError: ErrorHandler): MlflowSender {
    const key = `${spool.file}\u0000${client.baseUrl}`;
    let sender = MlflowSender.senders.get(key);
    if (!sender) MlflowSender.senders.set(key, (sender = new MlflowSender(spool, client, onError)));
    return sender;
  }

  private constructor(
    readonly spool: MlflowSpool,
    readonly client: MlflowClient,
    private readonly onError: ErrorHandler,
  ) {}

  /** Whether the last attempt found the server unreachable. */
  get down(): boolean {
    return this.downSince !== undefined;
  }

  /** Starts sending, unless already sending or waiting out an outage. */
  kick(): void {
    if (this.running || this.retryTimer) return;
    this.running = this.drain().finally(() => (this.running = undefined));
  }

  /**
   * Sends and waits until nothing of `experiment` is waiting, the server proves unreachable,
   * or `timeoutMs` passes. Returns whether everything was delivered.
   */
  async deliver(experiment: string | undefined, timeoutMs = Infinity): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.spool.pending(this.client.baseUrl, experiment) === 0) return true;
      if (this.down && this.retryTimer) return false;
      this.kick();
      const remaining = deadline - Date.now();
      if (remaining <= 0) return false;
      let timer: NodeJS.Timeout | undefined;
      // another process may be the sender: then poll the spool until its work shows
      const waitFor = this.running ?? new Promise<void>((r) => setTimeout(r, 100));
      if (remaining === Infinity) await waitFor;
      else await Promise.race([waitFor, new Promise<void>((r) => (timer = setTimeout(r, remaining)))]);
      clearTimeout(timer);
      if (this.down) return this.spool.pending(this.client.baseUrl, experiment) === 0;
    }
  }

  private async drain(): Promise<void> {
    const uri = this.client.baseUrl;
    if (!this.spool.claimSender(uri)) return;
    try {
      for (let op = this.spool.next(uri); op; op = this.spool.next(uri)) {
        try {
          await this.send(op);
          this.spool.remove(op.seq);
          this.up();
        } catch (error) {
          if (isRetryable(error)) return this.wentDown(error);
          // the server refused this op for good: set it aside so the rest still goes out
          this.spool.bury(op, error instanceof Error ? error.message : String(error));
          this.onError(
            error,
            `MLflow refused a batch of '${op.experiment}' run ${op.run}; it is kept in the spool's dead letters`,
          );
        }
        this.spool.claimSender(uri);
      }
    } finally {
      this.spool.releaseSender(uri);
    }
  }

  private up(): void {
    if (this.downSince !== undefined)
      this.onError(
        new Error(`MLflow at ${this.client.baseUrl} answers again; sending what waited`),
        'mlflow',
      );
    this.downSince = undefined;
    this.retryDelay = RETRY_MIN_MS;
  }

  private wentDown(error: unknown): void {
    // one line per outage, not one per retry
    if (this.downSince === undefined)
      this.onError(
        error,
        `MLflow at ${this.client.baseUrl} is unavailable; batches wait in ${this.spool.file}`,
      );
    this.downSince ??= Date.now();
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, this.retryDelay);
    this.retryTimer.unref();
    this.retryDelay = Math.min(RETRY_MAX_MS, this.retryDelay * 2);
  }

  private async experimentId(name: string): Promise<string> {
    let id = this.experimentIds.get(name);
    if (!id) this.experimentIds.set(name, (id = (await this.client.ensureExperiment(name)).experiment_id));
    return id;
  }

  /** The MLflow run of an omega run: remembered, found by its tag, or created. */
  async runOf(experiment: string, run: number, start?: PendingEvent): Promise<RunMapping> {
    const uri = this.client.baseUrl;
    const known = this.spool.mapping(uri, experiment, run);
    if (known) return known;
    const experimentId = await this.experimentId(experiment);
    // creating a run is not idempotent: a run created before a crash is found again by its tag
    const [found] = await this.client.searchRuns([experimentId], `tags.\`omega.run\` = '${run}'`);
    const mlflowRun =
      found ??
      (await this.client.createRun(experimentId, `run-${run}`, start?.dt ?? Date.now(), [
        { key: 'omega.run', value: String(run) },
        { key: 'mlflow.user', value: start?.userid ?? 'unknown' },
        { key: 'mlflow.source.name', value: process.argv[1] ?? 'node' },
        { key: 'mlflow.source.type', value: 'LOCAL' },
        { key: 'omega.node', value: start?.node ?? 'unknown' },
      ]));
    const mapping = { runId: mlflowRun.info.run_id, artifactUri: mlflowRun.info.artifact_uri };
    this.spool.saveMapping(uri, experiment, run, mapping);
    return mapping;
  }

  private async send(op: SpoolOp): Promise<void> {
    const requests = op.kind === 'files' ? await this.fileRequests(op) : await this.eventRequests(op);
    for (let i = op.done; i < requests.length; i++) {
      await requests[i]();
      this.spool.markProgress(op.seq, i + 1);
    }
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
    const requests: Array<() => Promise<void>> = [];
    let metrics: MlflowMetric[] = [];
    let params: MlflowKeyValue[] = [];
    let tags: MlflowKeyValue[] = [];
    const lines: EventLine[] = [];
    const seenParams = new Set<string>();
    const cut = (): void => {
      for (const chunk of chunkBatch(metrics, params, tags))
        requests.push(() => this.client.logBatch(run.runId, chunk));
      metrics = [];
      params = [];
      tags = [];
    };
    // Rows read back from the events file know their logging order; plain metric points do not.
    // Every metric logged in the same millisecond as such a row gets a note, so that order holds.
    const needsNote = (e: PendingEvent): boolean =>
      e.event === 'metric' && (e.step === null || (e.extra !== undefined && Object.keys(e.extra).length > 0));
    const lineTimes = new Set(
      events
        .filter((e) => (!isMetricLike(e) && e.event !== 'start' && e.event !== 'stop') || needsNote(e))
        .map((e) => e.dt),
    );
    events.forEach((e, i) => {
      const o = op.seq * 1_000_000 + i;
      const extra = e.extra && Object.keys(e.extra).length ? e.extra : undefined;
      if (e.event === 'metric' && typeof e.value === 'number') {
        metrics.push({ key: e.key, value: encodeMetricValue(e.value), timestamp: e.dt, step: e.step ?? 0 });
        if (needsNote(e) || lineTimes.has(e.dt))
          lines.push({ t: 'note', o, key: e.key, dt: e.dt, step: e.step, extra });
      } else if (e.event === 'profile' && typeof e.value === 'number') {
        const gpu = typeof extra?.gpu === 'number' ? extra.gpu : undefined;
        const m = profileToSystemMetric(e.key, e.value, gpu);
        metrics.push({ key: m.name, value: encodeMetricValue(m.value), timestamp: e.dt, step: e.step ?? 0 });
      } else if (e.event === 'param') {
        // MLflow refuses a batch that names a param twice; the value is the same (checked at the call)
        if (!seenParams.has(e.key)) params.push({ key: e.key, value: paramText(e.value) });
        seenParams.add(e.key);
        lines.push({ t: 'param', o, key: e.key, value: e.value, dt: e.dt, step: e.step, extra });
      } else if (e.event === 'start') {
        // the run was created (or found) above with this start time
      } else if (e.event === 'stop') {
        const value = (e.value ?? {}) as { status?: string; error?: string };
        if (value.error) tags.push({ key: 'omega.error', value: value.error.slice(0, 8000) });
        cut();
        const failed = value.status === 'FAILED';
        requests.push(
          async () => void (await this.client.updateRun(run.runId, failed ? 'FAILED' : 'FINISHED', e.dt)),
        );
      } else lines.push({ t: 'event', o, e });
    });
    cut();
    if (lines.length) {
      const digest = createHash('sha1').update(op.body).digest('hex').slice(0, 10);
      const file = `${EVENTS_DIR}/${String(op.seq).padStart(12, '0')}-${digest}.jsonl`;
      const text = lines.map((l) => encodeValue(l)).join('\n') + '\n';
      requests.push(() => this.client.uploadArtifact(run.artifactUri, file, Buffer.from(text)));
    }
    return requests;
  }
}
