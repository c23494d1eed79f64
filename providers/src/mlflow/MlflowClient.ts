import { createHash } from 'node:crypto';
import { TrackingError, TrackingInputError } from '@omega-track/core';
import { MlflowApiError, MlflowUnavailableError, isRetryable } from './MlflowErrors';
import type { ArtifactLocation } from './mlflowArtifactLocation';
import {
  artifactSegments,
  listLocalArtifacts,
  readLocalArtifact,
  resolveArtifactLocation,
  writeLocalArtifact,
} from './mlflowArtifactLocation';
import type {
  MlflowExperiment,
  MlflowFileInfo,
  MlflowKeyValue,
  MlflowMetric,
  MlflowRun,
  MlflowRunInfo,
  MlflowRunStatus,
  MlflowViewType,
} from './MlflowTypes';
import { MLFLOW_LIMITS } from './MlflowTypes';

/** Options of the REST client. */
export interface MlflowClientOptions {
  /** The tracking URI; a `user:password@` part becomes Basic auth. Default: MLFLOW_TRACKING_URI. */
  trackingUri?: string;
  /** Bearer token (MLFLOW_TRACKING_TOKEN); Basic auth wins when both are given. */
  token?: string;
  username?: string;
  password?: string;
  /** Retries of a retryable failure (429, 5xx but INTERNAL_ERROR, network). Default 3. */
  maxRetries?: number;
  /** First backoff; doubles each retry, plus jitter. Default 500 ms. */
  backoffMs?: number;
  /** Longest wait between retries, also for Retry-After. Default 10 s. */
  maxBackoffMs?: number;
  /** Per request. Default 30 s. */
  timeoutMs?: number;
}

type Query = Record<string, string | number | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  raw?: Uint8Array;
  binary?: boolean;
  /** Overrides maxRetries for this request. */
  retries?: number;
}

/** Uploads get this much time per byte on top of the timeout (a floor of 64 KB/s). */
const MS_PER_UPLOAD_BYTE = 1000 / 65_536;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The proxy URL of an artifact file. */
function artifactEndpoint(where: { base: string; root: string }, relativePath: string): string {
  const path = [...where.root.split('/').filter(Boolean), ...artifactSegments(relativePath)];
  return `${where.base}/${path.map(encodeURIComponent).join('/')}`;
}

/**
 * A typed client for MLflow's tracking REST API 2.0 over Node's fetch: experiments, runs,
 * log-batch, params, tags, metric history with pagination, and artifacts through the
 * `mlflow-artifacts` proxy (or in a local artifact root that is on this machine too: see
 * ArtifactLocation). Retries with exponential backoff where a retry can help and honours
 * Retry-After; every other error is an MlflowApiError carrying MLflow's error code.
 */
export class MlflowClient {
  /** The tracking URI without credentials. */
  readonly baseUrl: string;
  /** The server and the credentials used, as one opaque string (credentials hashed). */
  readonly identity: string;
  private readonly authorization: string | undefined;
  private readonly maxRetries: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly timeoutMs: number;

  constructor(opts: MlflowClientOptions = {}) {
    const uri = opts.trackingUri ?? process.env.MLFLOW_TRACKING_URI;
    if (!uri)
      throw new TrackingInputError(
        'MLflow needs a tracking URI: set MLFLOW_TRACKING_URI or pass trackingUri',
      );
    let url: URL;
    try {
      url = new URL(uri);
    } catch {
      throw new TrackingInputError(
        `MLflow tracking URI '${uri}' is not a URL (expected http(s)://host:port)`,
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw new TrackingInputError(`MLflow tracking URI must be http(s)://…, got ${url.protocol}`);
    const username =
      opts.username ?? (decodeURIComponent(url.username) || process.env.MLFLOW_TRACKING_USERNAME);
    const password =
      opts.password ?? (decodeURIComponent(url.password) || process.env.MLFLOW_TRACKING_PASSWORD);
    const token = opts.token ?? process.env.MLFLOW_TRACKING_TOKEN;
    url.username = '';
    url.password = '';
    this.baseUrl = url.toString().replace(/\/+$/, '');
    if (username && password)
      this.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    else if (token) this.authorization = `Bearer ${token}`;
    this.identity = `${this.baseUrl} ${createHash('sha256')
      .update(this.authorization ?? '')
      .digest('hex')
      .slice(0, 16)}`;
    this.maxRetries = opts.maxRetries ?? 3;
    this.backoffMs = opts.backoffMs ?? 500;
    this.maxBackoffMs = opts.maxBackoffMs ?? 10_000;
    this.timeoutMs = opts.timeoutMs ?? 30_000;
  }

  // ---- experiments -------------------------------------------------------------------------

  async getExperimentByName(name: string): Promise<MlflowExperiment | undefined> {
    try {
      const r = await this.call<{ experiment: MlflowExperiment }>('GET', 'experiments/get-by-name', {
        query: { experiment_name: name },
      });
      return r.experiment;
    } catch (error) {
      if (error instanceof MlflowApiError && error.errorCode === 'RESOURCE_DOES_NOT_EXIST') return undefined;
      throw error;
    }
  }

  async createExperiment(name: string, tags: MlflowKeyValue[] = []): Promise<string> {
    const r = await this.call<{ experiment_id: string }>('POST', 'experiments/create', {
      body: { name, tags },
    });
    return r.experiment_id;
  }

  async restoreExperiment(experimentId: string): Promise<void> {
    await this.call('POST', 'experiments/restore', { body: { experiment_id: experimentId } });
  }

  /**
   * The experiment named `name`, created if missing and restored if deleted (a deleted
   * experiment's name stays taken). A concurrent create by someone else is not an error.
   */
  async ensureExperiment(name: string): Promise<MlflowExperiment> {
    let experiment = await this.getExperimentByName(name);
    if (!experiment) {
      try {
        await this.createExperiment(name);
      } catch (error) {
        if (!(error instanceof MlflowApiError && error.errorCode === 'RESOURCE_ALREADY_EXISTS')) throw error;
      }
      experiment = await this.getExperimentByName(name);
      if (!experiment) throw new TrackingError(`MLflow experiment '${name}' could not be created`);
    }
    if (experiment.lifecycle_stage === 'deleted') {
      await this.restoreExperiment(experiment.experiment_id);
      experiment = { ...experiment, lifecycle_stage: 'active' };
    }
    return experiment;
  }

  /** One page of experiments/search (`nextPageToken` while more follow). */
  async searchExperimentsPage(
    opts: { viewType?: MlflowViewType; maxResults?: number; pageToken?: string } = {},
  ): Promise<{ experiments: MlflowExperiment[]; nextPageToken?: string }> {
    const r = await this.call<{ experiments?: MlflowExperiment[]; next_page_token?: string }>(
      'POST',
      'experiments/search',
      {
        body: {
          max_results: opts.maxResults ?? 1000,
          page_token: opts.pageToken,
          view_type: opts.viewType && opts.viewType !== 'ACTIVE_ONLY' ? opts.viewType : undefined,
        },
      },
    );
    return { experiments: r.experiments ?? [], nextPageToken: r.next_page_token || undefined };
  }

  async setExperimentTag(experimentId: string, key: string, value: string): Promise<void> {
    await this.call('POST', 'experiments/set-experiment-tag', {
      body: { experiment_id: experimentId, key, value },
    });
  }

  // ---- runs --------------------------------------------------------------------------------

  /**
   * Creates a run. `userId` fills the run's `user_id` (deprecated in MLflow's API but still
   * stored, and shown by tools that read it); the `mlflow.user` tag is for the caller to set.
   */
  async createRun(
    experimentId: string,
    runName: string,
    startTime: number,
    tags: MlflowKeyValue[],
    userId?: string,
  ): Promise<MlflowRun> {
    const r = await this.call<{ run: MlflowRun }>('POST', 'runs/create', {
      body: { experiment_id: experimentId, run_name: runName, start_time: startTime, tags, user_id: userId },
    });
    return r.run;
  }

  async updateRun(runId: string, status: MlflowRunStatus, endTime?: number): Promise<MlflowRunInfo> {
    const r = await this.call<{ run_info: MlflowRunInfo }>('POST', 'runs/update', {
      body: { run_id: runId, status, end_time: endTime },
    });
    return r.run_info;
  }

  async getRun(runId: string): Promise<MlflowRun> {
    const r = await this.call<{ run: MlflowRun }>('GET', 'runs/get', { query: { run_id: runId } });
    return r.run;
  }

  async deleteRun(runId: string): Promise<void> {
    await this.call('POST', 'runs/delete', { body: { run_id: runId } });
  }

  /**
   * All runs matching `filter` in the experiments, following pagination; `viewType` ALL also
   * finds deleted runs (which still hold their run numbers).
   */
  async searchRuns(
    experimentIds: string[],
    filter?: string,
    orderBy?: string[],
    viewType: MlflowViewType = 'ACTIVE_ONLY',
  ): Promise<MlflowRun[]> {
    const runs: MlflowRun[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.searchRunsPage({ experimentIds, filter, orderBy, viewType, pageToken });
      // loops, not push(...page): spread into arguments, a long page overflows the stack
      for (const run of page.runs) runs.push(run);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return runs;
  }

  /** One page of runs/search; `nextPageToken` is set while more may follow (a last page may be empty). */
  async searchRunsPage(opts: {
    experimentIds: string[];
    filter?: string;
    orderBy?: string[];
    viewType?: MlflowViewType;
    maxResults?: number;
    pageToken?: string;
  }): Promise<{ runs: MlflowRun[]; nextPageToken?: string }> {
    const r = await this.call<{ runs?: MlflowRun[]; next_page_token?: string }>('POST', 'runs/search', {
      body: {
        experiment_ids: opts.experimentIds,
        filter: opts.filter || undefined,
        order_by: opts.orderBy?.length ? opts.orderBy : undefined,
        run_view_type: opts.viewType && opts.viewType !== 'ACTIVE_ONLY' ? opts.viewType : undefined,
        max_results: opts.maxResults ?? 1000,
        page_token: opts.pageToken,
      },
    });
    return { runs: r.runs ?? [], nextPageToken: r.next_page_token || undefined };
  }

  /** One log-batch request; callers keep within MLFLOW_LIMITS (see chunkBatch). */
  async logBatch(
    runId: string,
    batch: { metrics?: MlflowMetric[]; params?: MlflowKeyValue[]; tags?: MlflowKeyValue[] },
  ): Promise<void> {
    await this.call('POST', 'runs/log-batch', { body: { run_id: runId, ...batch } });
  }

  async logMetric(runId: string, metric: MlflowMetric): Promise<void> {
    await this.call('POST', 'runs/log-metric', { body: { run_id: runId, ...metric } });
  }

  async logParam(runId: string, key: string, value: string): Promise<void> {
    await this.call('POST', 'runs/log-parameter', { body: { run_id: runId, key, value } });
  }

  async setTag(runId: string, key: string, value: string): Promise<void> {
    await this.call('POST', 'runs/set-tag', { body: { run_id: runId, key, value } });
  }

  /** The whole history of a metric; `max_results` is always sent (MLflow 3.x needs it). */
  async getMetricHistory(runId: string, key: string): Promise<MlflowMetric[]> {
    const points: MlflowMetric[] = [];
    let pageToken: string | undefined;
    do {
      const page = await this.getMetricHistoryPage(runId, key, pageToken);
      for (const point of page.metrics) points.push(point);
      pageToken = page.nextPageToken;
    } while (pageToken);
    return points;
  }

  /**
   * One page of a metric's history (MLflow 3.x pages it; 2.x answers the whole history at once
   * and no token); `nextPageToken` is set while more follows.
   */
  async getMetricHistoryPage(
    runId: string,
    key: string,
    pageToken?: string,
    maxResults: number = MLFLOW_LIMITS.historyPage,
  ): Promise<{ metrics: MlflowMetric[]; nextPageToken?: string }> {
    const r = await this.call<{ metrics?: MlflowMetric[]; next_page_token?: string }>(
      'GET',
      'metrics/get-history',
      { query: { run_id: runId, metric_key: key, max_results: maxResults, page_token: pageToken } },
    );
    const metrics = r.metrics ?? [];
    // an empty page with a token is MLflow 3.x's answer to a request it misread: not a loop to follow
    return { metrics, nextPageToken: metrics.length ? r.next_page_token || undefined : undefined };
  }

  /**
   * The histories of one metric in up to 100 runs, in one request (the `ajax-api` endpoint
   * MLflow's UI uses). MLflow answers at most `maxResults` points in all (25,000 at most): when
   * `complete` is false some were left out, and the caller reads run by run instead.
   */
  async getMetricHistoryBulk(
    runIds: readonly string[],
    key: string,
    maxResults = 25_000,
  ): Promise<{ points: Array<MlflowMetric & { run_id: string }>; complete: boolean }> {
    const url = new URL(`${this.baseUrl}/ajax-api/2.0/mlflow/metrics/get-history-bulk`);
    for (const id of runIds) url.searchParams.append('run_id', id);
    url.searchParams.set('metric_key', key);
    url.searchParams.set('max_results', String(maxResults));
    const r = await this.call<{ metrics?: Array<MlflowMetric & { run_id: string }> }>('GET', url.toString());
    const points = r.metrics ?? [];
    return { points, complete: points.length < maxResults };
  }

  // ---- artifacts ---------------------------------------------------------------------------

  /** Where the artifacts of a run with this `artifact_uri` are, and how they are reached. */
  artifactLocation(artifactUri: string): ArtifactLocation {
    return resolveArtifactLocation(artifactUri, this.baseUrl);
  }

  /**
   * Writes an artifact file of a run: through the server's `mlflow-artifacts` proxy, or into the
   * run's folder where the server keeps artifacts in a local folder that is on this machine too.
   * Elsewhere (see ArtifactLocation) it throws MlflowArtifactsUnreachableError.
   */
  async uploadArtifact(artifactUri: string, relativePath: string, data: Uint8Array): Promise<void> {
    const where = this.artifactLocation(artifactUri);
    if (where.kind === 'unreachable') throw where.error();
    if (where.kind === 'local') return writeLocalArtifact(where.dir, relativePath, data);
    await this.call('PUT', artifactEndpoint(where, relativePath), { raw: data });
  }

  /** Reads an artifact file of a run (where uploadArtifact writes it). */
  async downloadArtifact(artifactUri: string, relativePath: string): Promise<Buffer> {
    const where = this.artifactLocation(artifactUri);
    if (where.kind === 'unreachable') throw where.error();
    if (where.kind === 'local') return readLocalArtifact(where.dir, relativePath);
    return this.call<Buffer>('GET', artifactEndpoint(where, relativePath), { binary: true });
  }

  /** Entries directly under `relativePath`, with paths from the run's artifact root. */
  async listArtifacts(artifactUri: string, relativePath = ''): Promise<MlflowFileInfo[]> {
    const where = this.artifactLocation(artifactUri);
    if (where.kind === 'unreachable') throw where.error();
    if (where.kind === 'local') return listLocalArtifacts(where.dir, relativePath);
    const path = [...where.root.split('/').filter(Boolean), ...artifactSegments(relativePath)].join('/');
    const r = await this.call<{ files?: MlflowFileInfo[] }>('GET', where.base, { query: { path } });
    return r.files ?? [];
  }

  /** The server's health check. */
  async health(): Promise<boolean> {
    try {
      const res = await fetch(`${this.baseUrl}/health`, { signal: AbortSignal.timeout(this.timeoutMs) });
      return res.ok;
    } catch {
      return false;
    }
  }

  // ---- transport ---------------------------------------------------------------------------

  private async call<T = unknown>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    endpoint: string,
    opts: RequestOptions = {},
  ): Promise<T> {
    const url = new URL(
      endpoint.startsWith('http') ? endpoint : `${this.baseUrl}/api/2.0/mlflow/${endpoint}`,
    );
    for (const [k, v] of Object.entries(opts.query ?? {}))
      if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = {};
    // credentials go to the tracking server only, not to an artifact host it names
    if (this.authorization && url.host === new URL(this.baseUrl).host)
      headers.Authorization = this.authorization;
    let body: string | Uint8Array | undefined;
    if (opts.raw) body = opts.raw;
    else if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const name = !endpoint.startsWith('http')
      ? endpoint
      : url.pathname.includes('/ajax-api/')
        ? url.pathname.slice(url.pathname.indexOf('/mlflow/') + '/mlflow/'.length)
        : 'artifacts';
    const timeoutMs = Math.ceil(this.timeoutMs + (opts.raw ? opts.raw.byteLength * MS_PER_UPLOAD_BYTE : 0));
    const maxRetries = opts.retries ?? this.maxRetries;
    for (let attempt = 0; ; attempt++) {
      let wait: number | undefined;
      try {
        let res: Response;
        try {
          res = await fetch(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
        } catch (cause) {
          throw new MlflowUnavailableError(this.baseUrl, cause);
        }
        if (res.ok) {
          if (opts.binary) return Buffer.from(await res.arrayBuffer()) as T;
          const text = await res.text();
          return (text ? JSON.parse(text) : {}) as T;
        }
        const text = await res.text();
        let errorCode = `HTTP_${res.status}`;
        let message = text.slice(0, 500);
        try {
          const parsed = JSON.parse(text) as { error_code?: string; message?: string };
          errorCode = parsed.error_code ?? errorCode;
          message = parsed.message ?? message;
        } catch {
          // not JSON (an HTML 404, a proxy's page, a text/plain 401): keep the text
        }
        const retryAfter = Number(res.headers.get('retry-after'));
        if (Number.isFinite(retryAfter) && retryAfter > 0) wait = retryAfter * 1000;
        throw new MlflowApiError(res.status, errorCode, message, `${method} ${name}`);
      } catch (error) {
        if (!isRetryable(error) || attempt >= maxRetries) throw error;
        const backoff = this.backoffMs * 2 ** attempt * (1 + Math.random() * 0.25);
        await sleep(Math.min(this.maxBackoffMs, wait ?? backoff));
      }
    }
  }
}
