import path from 'node:path';
import v8 from 'node:v8';
import type {
  BlobStore,
  EventOptions,
  EventQuery,
  FlushOptions,
  FlushResult,
  ObjectStore,
  PendingEvent,
  ProviderContext,
  RunInfo,
  RunQuery,
  RunStatus,
  StartOptions,
} from '@omega-track/core';
import type { ArtifactSource, EncodedArtifact } from '@omega-track/core';
import { TrackingError, TrackingInputError, defaultErrorHandler } from '@omega-track/core';
import {
  checkDeleteRun,
  crashAfterMs,
  markCrashed,
  parseRunSearch,
  artifactSourceValues,
  classifyArtifact,
  decodeArtifact,
  decodeValue,
  eagerWrite,
  resolveExperimentQuery,
  encodeValue,
  validateKey,
  validateValue,
} from '@omega-track/core/internal';
import { OmegaSimpleTracker } from '../default/OmegaSimpleTracker';
import { OmegaProfilingTracker } from '../profiling/OmegaProfilingTracker';
import { MlflowClient } from './MlflowClient';
import { MlflowEventLog, withTimeout } from './MlflowEventLog';
import type { SpooledFiles } from './MlflowSender';
import { MlflowSender } from './MlflowSender';
import { MlflowSpool } from './MlflowSpool';
import { OMEGA_TAGS, validateMlflowKey } from './mlflowMapping';
import type { MappedRun } from './mlflowSearch';

/** Options of the `mlflow` provider (given with the experiment, stored with it). */
export interface MlflowTrackerOptions {
  /** Default MLFLOW_TRACKING_URI. */
  trackingUri?: string;
  /** The spool file. Default OMEGA_MLFLOW_SPOOL, else `mlflow-spool.db` beside the embedded store, else `.omega/`. */
  spool?: string;
  /** Also run the system profiler and send its samples as MLflow system metrics. */
  profile?: boolean;
  /** How long a read waits for spooled batches to reach the server (default 30 s). */
  readTimeoutMs?: number;
  /** How long flush() (and so stop(), exp.run, close) waits for delivery when not told (default 10 s). */
  flushTimeoutMs?: number;
  /** Per request to the server (default 10 s; uploads get more time by size). */
  requestTimeoutMs?: number;
  /**
   * runs() answers of at most this many runs get each metric's min, max and count, read from
   * the metric histories (one request per metric key); larger answers have MLflow's latest value
   * only (min, max, count NaN). Default 16; 0 never reads histories.
   */
  metricStatsRuns?: number;
}

/** Where the spool goes when no option names it: OMEGA_MLFLOW_SPOOL, beside the embedded store, or `.omega/`. */
export function defaultSpoolPath(storeUrl: string): string {
  if (process.env.OMEGA_MLFLOW_SPOOL) return process.env.OMEGA_MLFLOW_SPOOL;
  const file = storeUrl.startsWith('sqlite:') ? storeUrl.slice('sqlite:'.length) : undefined;
  return path.join(file ? path.dirname(file) : '.omega', 'mlflow-spool.db');
}

/** Collects the blobs an object backend writes, as artifact files. */
class FileCollector implements BlobStore {
  readonly files: SpooledFiles['files'] = [];
  async putBlob(key: string, data: Uint8Array): Promise<void> {
    this.files.push({ path: key, data: Buffer.from(data) });
  }
  async getBlob(): Promise<Buffer | undefined> {
    return undefined;
  }
}

/**
 * The `mlflow` provider: the same calls, recorded in an MLflow tracking server. The experiment
 * maps to the MLflow experiment of that name; each omega run to an MLflow run `run-<n>` tagged
 * `omega.run`; metrics, params and tags go out in log-batch requests within MLflow's limits;
 * artifacts and the events MLflow has no place for are files of the run. Everything passes through
 * a durable spool first, so an outage or a crash loses nothing: it is sent, in order and once,
 * when the server answers again (also by a later process, or `omega-track sync`).
 * A run's name, tags and note become MLflow's run name (`mlflow.runName`), run tags and
 * description (`mlflow.note.content`), a child run nests under its parent (`mlflow.parentRunId`);
 * runs({ filter, orderBy, limit }) asks MLflow's runs/search (see mlflowSearch.ts) and
 * deleteRun deletes the MLflow run.
 * With `{ profile: true }` the profiler runs too and its samples become MLflow system metrics.
 */
export class MlflowTracker extends OmegaProfilingTracker {
  private readonly mlflow: MlflowEventLog;
  private readonly sender: MlflowSender;
  private readonly models: ObjectStore;
  private readonly datasets: ObjectStore;
  private readonly profile: boolean;
  private readonly flushTimeoutMs: number;
  /** Param values per run, as MLflow will hold them: a param never changes its value. */
  private readonly params = new Map<number, Map<string, string>>();
  /** Crashed runs already set KILLED in MLflow by this provider. */
  private readonly killed = new Set<number>();
  /** How long a run may go without a heartbeat before it counts as crashed (as the default provider). */
  private readonly staleAfterMs: number;
  private readonly metricStatsRuns: number | undefined;

  constructor(experiment: string, context: ProviderContext) {
    const opts = context.options as MlflowTrackerOptions;
    const client = new MlflowClient({
      trackingUri: opts.trackingUri,
      maxRetries: 2,
      backoffMs: 250,
      timeoutMs: 15_000,
    });
    const spool = MlflowSpool.at(opts.spool ?? defaultSpoolPath(context.store.url));
    const sender = MlflowSender.for(spool, client, context.onError ?? defaultErrorHandler);
    const log = new MlflowEventLog(context.store, spool, client, sender, opts.readTimeoutMs ?? 30_000);
    super(experiment, context, log);
    this.mlflow = log;
    this.sender = sender;
    this.models = context.models;
    this.datasets = context.datasets;
    this.profile = opts.profile === true;
    this.flushTimeoutMs = opts.flushTimeoutMs ?? 10_000;
    this.staleAfterMs = crashAfterMs(context.options.crashAfterMs);
    if (
      opts.metricStatsRuns !== undefined &&
      !(Number.isInteger(opts.metricStatsRuns) && opts.metricStatsRuns >= 0)
    )
      throw new TrackingInputError(
        `metricStatsRuns must be a whole number of at least 0, got ${String(opts.metricStatsRuns)}`,
      );
    this.metricStatsRuns = opts.metricStatsRuns;
    sender.handle(experiment, this.onError);
  }

  /** The MLflow REST client in use. */
  get client(): MlflowClient {
    return this.sender.client;
  }

  override async startRuntime(): Promise<void> {
    if (this.profile) await super.startRuntime();
    else await OmegaSimpleTracker.prototype.startRuntime.call(this);
  }

  /** Spools what is queued, then waits (at most `timeoutMs`) while the server takes it; never hangs on an outage. */
  override async flush(opts: FlushOptions = {}): Promise<FlushResult> {
    const started = Date.now();
    const result = await super.flush(opts);
    const budget = opts.timeoutMs ?? this.flushTimeoutMs;
    await this.sender.deliver(this.experiment, Math.max(0, budget - (Date.now() - started)));
    // written = in the durable spool; what the server has yet to take is the spool's to send
    return result;
  }

  /**
   * The run table, searched in MLflow: `filter` goes to MLflow's runs/search as far as MLflow can
   * evaluate it, the answer is mapped back and checked against the whole filter (see
   * mlflowSearch.ts). Crashed runs (no heartbeat for too long) are also set KILLED in MLflow.
   */
  override async runs(query: RunQuery = {}): Promise<RunInfo[]> {
    const { filter, orderBy, limit, offset, ...selection } = query;
    // a bad filter fails before anything is read
    const search = parseRunSearch({ filter, orderBy, limit, offset });
    await this.flush();
    const resolved = await this.resolve({ run: 'all', ...selection });
    const { runs, mapped } = await this.mlflow.runTable(
      this.experiment,
      search,
      resolved.runs,
      (table) => this.markLive(table),
      this.metricStatsRuns,
    );
    await this.reportKilled(runs, mapped);
    return runs;
  }

  override async status(run?: number): Promise<RunStatus> {
    const status = await super.status(run);
    if (status === 'CRASHED') await this.runs({ run: run ?? 'all' }).catch(() => undefined);
    return status;
  }

  /**
   * Deletes run `run` in MLflow (`runs/delete`; MLflow keeps it as deleted until its garbage
   * collection) and forgets it locally; its number is not given out again. Requires
   * `{ force: true }`; a run this process is still running is not deleted.
   */
  override async deleteRun(run: number, opts: { force?: boolean } = {}): Promise<boolean> {
    checkDeleteRun(this.experiment, run, opts);
    if (this.ownRuns().has(run) && (await this.status(run)) === 'STARTED')
      throw new TrackingInputError(
        `run ${run} of '${this.experiment}' is running here: stop it before deleting it`,
      );
    await this.flush();
    const deleted = await this.mlflow.deleteRun(this.experiment, run);
    this.params.delete(run);
    this.killed.delete(run);
    return deleted > 0;
  }

  /**
   * The runs this process holds (started, joined or in a scope): they are alive whatever their
   * heartbeats say. The default provider keeps them privately; read through an index so that
   * MLflow's run table judges crashes exactly as the embedded one does.
   */
  private ownRuns(): { has(run: number): boolean } {
    return this['heldRuns'];
  }

  /** Marks the STARTED runs among `table` that no process keeps alive CRASHED (as the default provider's runs()). */
  private async markLive(table: RunInfo[]): Promise<void> {
    if (!table.some((r) => r.status === 'STARTED')) return;
    markCrashed(table, await this.mlflow.liveness(this.experiment), this.ownRuns(), this.staleAfterMs);
  }

  /**
   * MLflow leaves a run whose process died RUNNING forever; once omega knows it CRASHED, the
   * MLflow run is set KILLED, ending at its last sign of life. Best effort: a server that is away
   * hears of it at the next read.
   */
  private async reportKilled(
    runs: readonly RunInfo[],
    mapped: ReadonlyMap<number, MappedRun>,
  ): Promise<void> {
    for (const info of runs) {
      const remote = mapped.get(info.run);
      if (info.status !== 'CRASHED' || this.killed.has(info.run) || !info.started || !remote) continue;
      if (remote.status !== 'RUNNING') continue;
      const end = info.started.getTime() + (info.duration ?? 0);
      try {
        await withTimeout(this.mlflow.killRun(remote.runId, end), 5000);
        this.killed.add(info.run);
      } catch {
        // the server is away or slow: the next read tries again
      }
    }
  }

  override async clear(opts: { force?: boolean } = {}): Promise<void> {
    if (opts.force !== true)
      throw new TrackingInputError(
        `clear() deletes every run of '${this.experiment}' in MLflow: pass { force: true }`,
      );
    await super.flush();
    await this.mlflow.deleteEvents(this.experiment);
    this.params.clear();
  }

  override async restoreArtifacts(
    query: EventQuery | ArtifactSource | readonly ArtifactSource[] = {},
  ): Promise<unknown[]> {
    // rows of data() (or { value }) are restored as given, without a query; their files live in
    // the row's run (a bare { value } is taken from the current run)
    const given = artifactSourceValues(query);
    const sources: Array<{ value: unknown; run: unknown }> = given
      ? (Array.isArray(query) ? (query as readonly ArtifactSource[]) : [query as ArtifactSource]).map(
          (src, i) => ({
            value: given[i],
            run: src.run,
          }),
        )
      : await this.data({ event: 'artifact', ...(query as EventQuery) });
    if (!given && sources.length === 0) {
      // none found: where the run's artifacts are out of reach, say so rather than "none"
      const target = await resolveExperimentQuery(
        { event: 'artifact', ...(query as EventQuery) },
        this.experiment,
        (q) => this.resolve(q),
        this.mlflow,
      );
      const unreachable = await this.mlflow.unreachableArtifacts(target.experiment, target.query.runs);
      if (unreachable) throw unreachable;
    }
    const out: unknown[] = [];
    for (const { value, run } of sources)
      out.push(await this.decodeArtifact(value, typeof run === 'number' ? run : (this.currentRun ?? 1)));
    return out;
  }

  /** Checks the tags for MLflow before the run starts: a start that then failed would leave a run behind. */
  override async start(opts: StartOptions = {}): Promise<number> {
    if (typeof opts === 'object' && opts !== null && typeof opts.tags === 'object' && opts.tags !== null)
      for (const key of Object.keys(opts.tags)) checkTagKey(key);
    return super.start(opts);
  }

  override setTag(key: string, value: unknown): void {
    if (typeof key === 'string') checkTagKey(key);
    super.setTag(key, value);
  }

  override setTags(tags: Record<string, unknown>): void {
    if (typeof tags === 'object' && tags !== null) for (const key of Object.keys(tags)) checkTagKey(key);
    super.setTags(tags);
  }

  override logParam(key: string, value: unknown, opts?: EventOptions): void {
    this.checkParam(key, value);
    super.logParam(key, value, opts);
  }

  override logParams(record: Record<string, unknown>, opts?: EventOptions): void {
    if (typeof record === 'object' && record !== null)
      for (const [k, v] of Object.entries(record)) this.checkParam(k, v);
    super.logParams(record, opts);
  }

  override logMetric(key: string, value: unknown, opts?: EventOptions): void {
    checkMetric(key, value);
    super.logMetric(key, value, opts);
  }

  override logEvent(event: string, key: string, value: unknown, opts?: EventOptions): void {
    if (event === 'metric') checkMetric(key, value);
    if (event === 'param') this.checkParam(key, value);
    if (event === 'tag' && typeof key === 'string') checkTagKey(key);
    super.logEvent(event, key, value, opts);
  }

  override logMetrics(record: Record<string, unknown>, opts?: EventOptions): void {
    if (typeof record === 'object' && record !== null)
      for (const [k, v] of Object.entries(record)) checkMetric(k, v);
    super.logMetrics(record, opts);
  }

  protected override record(events: PendingEvent[], beforeWrite?: () => Promise<void>): void {
    for (const e of events) if (e.event === 'param') this.rememberParam(e.run, e.key, e.value);
    super.record(events, beforeWrite);
  }

  protected override recordEvent(
    run: number,
    event: string,
    key: string,
    value: unknown,
    step: number | null,
    dt: number,
    userid: string,
    extra: Record<string, unknown> | undefined,
  ): void {
    if (event === 'param') this.rememberParam(run, key, value);
    super.recordEvent(run, event, key, value, step, dt, userid, extra);
  }

  /** Artifacts become files of the run: `omega/artifacts/<id>/…`; small JSON stays in the event. */
  protected override encodeArtifact(obj: unknown, name: string): EncodedArtifact {
    validateKey(name, 'artifact name');
    const run = this.currentRun;
    if (run === undefined)
      throw new TrackingError(
        `experiment '${this.experiment}' has no active run: call start(), use() or run() first`,
      );
    const content = classifyArtifact(obj, this.models);
    const dir = `omega/artifacts/${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
    const spoolFiles = (files: SpooledFiles['files']): void =>
      this.mlflow.appendFiles(this.experiment, run, v8.serialize({ files }));
    switch (content.format) {
      case 'metadata':
      case 'type':
      case 'repr':
        return { value: { name, format: content.format, data: content.data }, write: undefined };
      case 'binary':
      case 'serialized': {
        const file = `${dir}/${content.format === 'binary' ? 'data.bin' : 'data.v8'}`;
        const bytes = content.bytes;
        return {
          value: { name, format: content.format, data: { path: file, bytes: bytes.length } },
          write: async () => spoolFiles([{ path: file, data: bytes }]),
        };
      }
      case 'blob': {
        const file = `${dir}/data.bin`;
        const blob = content.blob;
        return {
          value: { name, format: 'binary', data: { path: file, bytes: blob.size } },
          write: async () => spoolFiles([{ path: file, data: Buffer.from(await blob.arrayBuffer()) }]),
        };
      }
      case 'model':
      case 'dataset': {
        const backend =
          content.format === 'model' ? content.backend : this.datasets.backendFor(content.snapshot);
        if (!backend) throw new TrackingInputError(`no backend stores a ${content.format} like '${name}'`);
        const obj = content.format === 'model' ? content.model : content.snapshot;
        // the model is saved as it is now; the files are spooled when the queue gets to them
        let collected: SpooledFiles['files'] = [];
        const save = eagerWrite(async () => {
          const out = new FileCollector();
          const result = await backend.put(obj, { store: out, blobPrefix: `${dir}/` });
          const entry = { kind: result.kind, attributes: result.attributes ?? {}, data: result.data };
          out.files.push({ path: `${dir}/entry.json`, data: Buffer.from(encodeValue(entry)) });
          collected = out.files;
        });
        const files = async (): Promise<SpooledFiles['files']> => (await save(), collected);
        return {
          value: { name, format: content.format, data: { path: dir, kind: backend.kind } },
          write: async () => spoolFiles(await files()),
        };
      }
    }
  }

  private async decodeArtifact(value: unknown, run: number): Promise<unknown> {
    const v = value as { name: string; format: string; data: any };
    const download = async (file: string): Promise<Buffer> =>
      this.client.downloadArtifact(await this.mlflow.artifactUri(this.experiment, run), file);
    switch (v.format) {
      case 'type':
      case 'repr':
      case 'metadata':
        // inline formats decode the same way for every provider
        return decodeArtifact(v, this.stores);
      case 'binary':
        return download(v.data.path as string);
      case 'serialized':
        return v8.deserialize(await download(v.data.path as string));
      case 'model':
      case 'dataset': {
        const dir = v.data.path as string;
        const entry = decodeValue((await download(`${dir}/entry.json`)).toString()) as {
          kind: string;
          attributes: Record<string, unknown>;
          data?: unknown;
        };
        const backend = (v.format === 'model' ? this.models : this.datasets).backendOf(entry.kind);
        if (!backend)
          throw new TrackingError(
            `artifact '${v.name}' is of kind '${entry.kind}', which no registered backend reads`,
          );
        const files: BlobStore = {
          putBlob: async () => {
            throw new TrackingError('restoring an artifact writes nothing');
          },
          getBlob: async (key) => download(key),
        };
        const now = new Date();
        return backend.get(
          { name: v.name, ...entry, created: now, modified: now },
          { store: files, blobPrefix: `${dir}/` },
        );
      }
      default:
        return v.data;
    }
  }

  private checkParam(key: string, value: unknown): void {
    if (typeof key === 'string' && key) validateMlflowKey(key, 'param key');
    const run = this.currentRun;
    if (run === undefined) return;
    const before = this.params.get(run)?.get(key);
    const text = typeof value === 'string' ? value : encodeValue(value);
    if (before !== undefined && before !== text)
      throw new TrackingInputError(
        `param '${key}' of run ${run} was logged as ${before}; MLflow does not allow changing it to ${text} (log a new key or start a new run)`,
      );
  }

  private rememberParam(run: number, key: string, value: unknown): void {
    let params = this.params.get(run);
    if (!params) this.params.set(run, (params = new Map()));
    params.set(key, typeof value === 'string' ? value : encodeValue(value));
  }
}

function checkMetric(key: string, value: unknown): void {
  if (typeof key === 'string' && key) validateMlflowKey(key, 'metric key');
  validateValue(value);
  if (typeof value !== 'number')
    throw new TrackingInputError(
      `metric '${String(key)}' must be a number for MLflow, got ${value === null ? 'null' : typeof value}`,
    );
}

/** A tag key MLflow takes, and none of those omega-track keeps its bookkeeping in (the run number…). */
function checkTagKey(key: string): void {
  if (key) validateMlflowKey(key, 'tag key');
  if (OMEGA_TAGS.has(key))
    throw new TrackingInputError(
      `tag '${key}' is where omega-track keeps its own bookkeeping of the run in MLflow: choose another key`,
    );
}
