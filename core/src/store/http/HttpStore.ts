import { defaultErrorHandler, diag } from '../../diag/diag';
import type { ErrorHandler } from '../../diag/diag';
import { StoreError } from '../../errors/StoreError';
import { TrackingError } from '../../errors/TrackingError';
import { TrackingInputError } from '../../errors/TrackingInputError';
import type { EventColumnBatch, PendingEvent, ResolvedQuery, TrackingEvent } from '../../events/types';
import { decodeValue, encodeValue } from '../../events/valueCodec';
import { flushOnExit, forgetOnExit } from '../../process/exitFlush';
import { bytesOf } from '../../process/bytes';
import { env as environment, yieldToLoop } from '../../process/env';
import { randomUUID } from '../../process/randomId';
import type { ExitFlushable } from '../../process/exitFlush';
import type { RunStatsRow } from '../chunks/runStats';
import type { Bucket, MetadataEntry, RunLiveness, Store, WriteId } from '../Store';
import { HttpShipper } from './HttpShipper';
import type { SpoolBody, SpoolItem } from './HttpShipper';
import { HttpFailure, UNREACHABLE, failureOf, networkFailure, toHttpStoreError } from './httpErrors';
import {
  API_PREFIX,
  MAX_BATCH_EVENTS,
  decodeBatchRows,
  decodeEntry,
  decodeStreamLine,
  encodeBatchColumns,
  encodeEntry,
  encodeStartRun,
} from './httpProtocol';
import { makeDefaultSpool } from './defaultSpool';
import type { Spool } from './Spool';
import { parseHttpUrl } from './httpUrl';
import type { HttpUrl } from './httpUrl';

/** Options of the HTTP store (each also has an environment variable). */
export interface HttpStoreOptions {
  /** The server's token (`omt_…`); default OMEGA_TOKEN. Without one, only a server on loopback answers. */
  token?: string;
  /**
   * How long a direct request (start(), entries, reads, deletes) waits for the server, retrying
   * while it cannot be reached, before it fails with StoreError `unreachable`; default
   * OMEGA_SERVER_TIMEOUT_MS, else 30 s.
   */
  timeoutMs?: number;
  /** Where the spool file goes (Node); default OMEGA_SPOOL_DIR, else `$XDG_CACHE_HOME/omega-track/spool`, else `~/.cache/omega-track/spool`. A page spools to IndexedDB. */
  spoolDir?: string;
  /** The most the spool holds (MB) before appends fail (the provider then keeps, and drops, events); default OMEGA_SPOOL_MAX_MB, else 1024. */
  spoolMaxMb?: number;
  /** How long close() waits for the spool to ship; default OMEGA_SHIP_TIMEOUT_MS, else 30 s. */
  shipTimeoutMs?: number;
  /** Where shipping trouble is said (default: one diagnostic line). */
  onError?: ErrorHandler;
  /** Ship this existing spool (`omega-track sync`, a page's leftovers) instead of making one for this process. */
  spool?: Spool;
}

/** The direct-request timeout when neither option nor environment says one. */
export const DEFAULT_SERVER_TIMEOUT_MS = 30_000;
/** How long close() waits for the spool to ship by default. */
export const DEFAULT_SHIP_TIMEOUT_MS = 30_000;
/** The spool's bound by default (MB). */
export const DEFAULT_SPOOL_MAX_MB = 1024;
/** How long one send of a spooled item may take before it is tried again. */
const SHIP_ATTEMPT_MS = 120_000;
/**
 * How long the status reads of runs() (run stats, liveness) wait for the spool: not the whole
 * timeout, since what they cannot see yet, runs() tells as `pending`.
 */
const STATUS_WAIT_MS = 1000;

function positive(
  value: number | undefined,
  env: string | undefined,
  name: string,
  fallback: number,
): number {
  const v = value ?? (env !== undefined && env !== '' ? Number(env) : undefined);
  if (v === undefined) return fallback;
  if (!Number.isFinite(v) || v <= 0)
    throw new TrackingInputError(`${name} must be a positive number, got ${String(v)}`);
  return v;
}

function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '')
    throw new TrackingInputError(`${what} must be a non-empty string, got ${typeof value}`);
  return value;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? String(ms / 1000) : (ms / 1000).toFixed(1);
}

/** Events per run of a batch, for runs()'s `pending`. */
function runCounts(events: readonly PendingEvent[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const e of events) counts.set(e.run, (counts.get(e.run) ?? 0) + 1);
  return counts;
}

/**
 * The store of a team server (`omega-track server`), local first: appended events and blobs go
 * to a spool file on this machine at once (appends never wait for the network) and a background
 * shipper sends them in order, each batch under an id the server keeps, so that a batch sent
 * again after a lost answer is stored once. Everything else (starting runs, entries, reads,
 * deletes) is a request to the server, made after what was spooled before it has shipped
 * (read-your-writes; a model's weights reach the server before its entry), retried while the
 * server cannot be reached for `timeoutMs`, then a StoreError `unreachable`. close() waits for
 * the spool to ship for `shipTimeoutMs`; what is left stays in the spool file for
 * `omega-track sync`.
 */
export class HttpStore implements Store, ExitFlushable {
  /** Providers write their queues into the spool every 200 ms (not 1 s): see EventLog.flushIntervalMs. */
  readonly flushIntervalMs = 200;
  /** The server's URL, no credentials. */
  readonly url: string;
  readonly #u: HttpUrl;
  readonly #token: string | undefined;
  readonly #timeoutMs: number;
  readonly #shipTimeoutMs: number;
  readonly #spoolMaxBytes: number;
  readonly #spoolDir: string | undefined;
  readonly #onError: ErrorHandler;
  #spool: Spool | undefined;
  /** Whether the spool was given (`omega-track sync`), which then says itself what stays. */
  readonly #given: boolean;
  #shipper: HttpShipper | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(url: string, opts: HttpStoreOptions = {}) {
    const env = environment();
    this.#u = parseHttpUrl(url);
    this.url = this.#u.display;
    this.#token = opts.token ?? (env.OMEGA_TOKEN || undefined);
    this.#timeoutMs = positive(
      opts.timeoutMs,
      env.OMEGA_SERVER_TIMEOUT_MS,
      'timeoutMs (OMEGA_SERVER_TIMEOUT_MS)',
      DEFAULT_SERVER_TIMEOUT_MS,
    );
    this.#shipTimeoutMs = positive(
      opts.shipTimeoutMs,
      env.OMEGA_SHIP_TIMEOUT_MS,
      'shipTimeoutMs (OMEGA_SHIP_TIMEOUT_MS)',
      DEFAULT_SHIP_TIMEOUT_MS,
    );
    this.#spoolMaxBytes =
      positive(
        opts.spoolMaxMb,
        env.OMEGA_SPOOL_MAX_MB,
        'spoolMaxMb (OMEGA_SPOOL_MAX_MB)',
        DEFAULT_SPOOL_MAX_MB,
      ) *
      1024 *
      1024;
    this.#spoolDir = opts.spoolDir;
    this.#onError = opts.onError ?? defaultErrorHandler;
    this.#given = opts.spool !== undefined;
    if (opts.spool) this.#useSpool(opts.spool);
  }

  /** The spool file of this store, once something was spooled. */
  get spoolFile(): string | undefined {
    return this.#spool?.file;
  }

  /** What the shipper shipped since the store opened, and how many items the server refused for good. */
  get shipped(): { items: number; events: number; refused: number } {
    return {
      ...(this.#shipper?.shipped ?? { items: 0, events: 0 }),
      refused: this.#shipper?.deadLetters ?? 0,
    };
  }

  /** Items and events waiting in the spool, and dead letters kept. */
  spoolPending(): { items: number; events: number; bytes: number; dead: number } {
    return this.#spool?.pending() ?? { items: 0, events: 0, bytes: 0, dead: 0 };
  }

  #useSpool(spool: Spool): void {
    this.#spool = spool;
    this.#shipper = new HttpShipper(spool, {
      send: (item, body) => this.#send(item, body),
      onError: (error, context) => this.#onError(error, `${this.url}: ${context ?? ''}`),
    });
    // the exit hooks give a spool file a last chance to ship and say what stays
    if (spool.exitHook) flushOnExit(this);
  }

  /** The spool, made on the first write (a process that only reads leaves no file). */
  #ensureSpool(): Spool {
    if (this.#closed) throw new StoreError('io', this.url, `store ${this.url} is closed`);
    if (!this.#spool)
      this.#useSpool(
        makeDefaultSpool({ url: this.url, slug: this.#u.slug, token: this.#token, dir: this.#spoolDir }),
      );
    return this.#spool!;
  }

  // ---------------------------------------------------------------- requests

  async #request(
    method: string,
    path: string,
    doing: string,
    init: { body?: SpoolBody; type?: string; signal?: AbortSignal } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.#token) headers.authorization = `Bearer ${this.#token}`;
    if (init.body !== undefined) headers['content-type'] = init.type ?? 'application/json; charset=utf-8';
    let response: Response;
    try {
      response = await fetch(`${this.#u.base}${API_PREFIX}${path}`, {
        method,
        headers,
        // (Node's and the DOM's typings of a body differ on byte arrays; both take one)
        body: init.body as RequestInit['body'],
        signal: init.signal,
        // a stream body (a blob) is sent as it is read
        ...(init.body instanceof ReadableStream ? { duplex: 'half' } : {}),
      });
    } catch (error) {
      throw networkFailure(error, doing);
    }
    if (!response.ok) throw await failureOf(response, doing);
    return response;
  }

  /** The JSON of an answer (non-finite numbers restored); a cut answer is a network failure. */
  async #json<T>(response: Response, doing: string): Promise<T> {
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw networkFailure(error, doing);
    }
    try {
      return decodeValue(text) as T;
    } catch {
      throw new TrackingError(`store ${this.url}: ${doing}: the server's answer is no JSON`);
    }
  }

  /** Sends one spooled item (the shipper's send). */
  async #send(item: SpoolItem, body: SpoolBody): Promise<void> {
    const signal = AbortSignal.timeout(SHIP_ATTEMPT_MS);
    if (item.kind === 'events') {
      const doing = `shipping ${item.count} event(s) of '${item.experiment}'`;
      const response = await this.#request(
        'POST',
        `/experiments/${encodeURIComponent(item.experiment)}/events`,
        doing,
        {
          body,
          signal,
        },
      );
      // the whole answer: a batch whose answer was cut is sent again (and stored once)
      await this.#json(response, doing);
    } else {
      const doing = `shipping blob '${item.key}'`;
      const response = await this.#request('PUT', `/blobs?key=${encodeURIComponent(item.key ?? '')}`, doing, {
        body,
        type: 'application/octet-stream',
        signal,
      });
      await response.arrayBuffer().catch((error: unknown) => {
        throw networkFailure(error, doing);
      });
    }
  }

  /** A StoreError `unreachable` for a request that found no server within the timeout. */
  #unreachable(doing: string, failure: HttpFailure | undefined, waitedMs: number): TrackingError {
    if (failure && failure.status !== undefined) return toHttpStoreError(failure, this.url);
    return new StoreError(
      UNREACHABLE,
      this.url,
      `store ${this.url}: ${doing}: the server did not answer within ${seconds(waitedMs)} s (timeoutMs / OMEGA_SERVER_TIMEOUT_MS)${failure ? `; last: ${failure.message}` : ''}`,
      failure,
    );
  }

  /** Waits until everything spooled so far has shipped, until `deadline`. */
  async #caughtUp(doing: string, deadline: number, started: number): Promise<void> {
    const spool = this.#spool;
    if (!spool || !this.#shipper || spool.waiting === 0) return;
    try {
      await this.#shipper.whenShipped(spool.lastSeq(), Math.max(1, deadline - Date.now()));
    } catch (error) {
      const failure = error instanceof HttpFailure ? error : undefined;
      if (failure?.auth) throw toHttpStoreError(failure, this.url);
      throw this.#unreachable(`${doing} (after what waits in the spool)`, failure, Date.now() - started);
    }
  }

  /**
   * A direct request: after the spool caught up, tried until the server answers or the timeout
   * passes (network errors and 5xx retried with backoff); 4xx are final, as typed errors.
   */
  async #direct<T>(
    doing: string,
    attempt: (signal: AbortSignal) => Promise<T>,
    opts: { spoolWaitMs?: number } = {},
  ): Promise<T> {
    if (this.#closed) throw new StoreError('io', this.url, `store ${this.url} is closed`);
    const started = Date.now();
    const deadline = started + this.#timeoutMs;
    if (opts.spoolWaitMs === undefined) await this.#caughtUp(doing, deadline, started);
    else await this.#caughtUp(doing, started + opts.spoolWaitMs, started).catch(() => undefined);
    let tries = 0;
    let last: HttpFailure | undefined;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw this.#unreachable(doing, last, Date.now() - started);
      // the timeout bounds the attempt until it resolves, not a stream read after it
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(new Error(`no answer within ${seconds(left)} s`)), left);
      try {
        return await attempt(abort.signal);
      } catch (error) {
        if (error instanceof TrackingError) throw error;
        last = error instanceof HttpFailure ? error : networkFailure(error, doing);
        if (!last.retryable) throw toHttpStoreError(last, this.url);
      } finally {
        clearTimeout(timer);
      }
      const wait = Math.round(Math.min(10_000, 100 * 2 ** Math.min(tries++, 20)) * (0.5 + Math.random() / 2));
      if (Date.now() + wait >= deadline) {
        await sleep(Math.max(0, deadline - Date.now()));
        throw this.#unreachable(doing, last, Date.now() - started);
      }
      await sleep(wait);
    }
  }

  #exp(experiment: string): string {
    return `/experiments/${encodeURIComponent(checkText(experiment, 'experiment'))}`;
  }

  #getJson<T>(path: string, doing: string, opts?: { spoolWaitMs?: number }): Promise<T> {
    return this.#sendJson('GET', path, undefined, doing, opts);
  }

  async #sendJson<T>(
    method: string,
    path: string,
    body: string | undefined,
    doing: string,
    opts?: { spoolWaitMs?: number },
  ): Promise<T> {
    return this.#direct(
      doing,
      async (signal) => this.#json<T>(await this.#request(method, path, doing, { body, signal }), doing),
      opts,
    );
  }

  // ---------------------------------------------------------------- entries

  async putEntry(bucket: Bucket, entry: MetadataEntry): Promise<void> {
    const doing = `saving '${entry.name}'`;
    await this.#direct(doing, async (signal) => {
      await this.#request('PUT', `/entries/${bucket}/entry?name=${encodeURIComponent(entry.name)}`, doing, {
        body: encodeEntry(entry),
        signal,
      });
    });
  }

  async getEntry(bucket: Bucket, name: string): Promise<MetadataEntry | undefined> {
    const doing = `reading '${name}'`;
    return this.#getOrNone(
      `/entries/${bucket}/entry?name=${encodeURIComponent(name)}`,
      doing,
      async (response) => decodeEntry(await this.#json(response, doing)),
    );
  }

  /** GETs `path` and reads the answer; undefined when the server has nothing there (404). */
  #getOrNone<T>(
    path: string,
    doing: string,
    read: (response: Response) => Promise<T>,
  ): Promise<T | undefined> {
    return this.#direct(doing, async (signal) => {
      let response: Response;
      try {
        response = await this.#request('GET', path, doing, { signal });
      } catch (error) {
        if (error instanceof HttpFailure && error.status === 404) return undefined;
        throw error;
      }
      return read(response);
    });
  }

  async listEntries(bucket: Bucket, prefix = ''): Promise<MetadataEntry[]> {
    const { entries } = await this.#getJson<{ entries: unknown[] }>(
      `/entries/${bucket}?prefix=${encodeURIComponent(prefix)}`,
      'listing entries',
    );
    return entries.map(decodeEntry);
  }

  async deleteEntry(bucket: Bucket, name: string): Promise<boolean> {
    const doing = `deleting '${name}'`;
    return this.#deleted<boolean>(`/entries/${bucket}/entry?name=${encodeURIComponent(name)}`, doing);
  }

  // ---------------------------------------------------------------- blobs

  /**
   * Spools the blob (in Node as a file beside the spool: its content is not kept in memory) and
   * resolves; the shipper sends it to the server in its turn.
   */
  async putBlob(key: string, data: Uint8Array): Promise<void> {
    checkText(key, 'blob key');
    const spool = this.#ensureSpool();
    this.#checkRoom(spool, data.byteLength, `blob '${key}'`);
    await spool.putBlob(key, data);
    this.#shipper!.kick();
  }

  async getBlob(key: string): Promise<Buffer | undefined> {
    const doing = `reading blob '${key}'`;
    return this.#getOrNone(`/blobs?key=${encodeURIComponent(key)}`, doing, async (response) => {
      try {
        return bytesOf(await response.arrayBuffer());
      } catch (error) {
        throw networkFailure(error, doing);
      }
    });
  }

  async listBlobs(prefix: string): Promise<string[]> {
    const { keys } = await this.#getJson<{ keys: string[] }>(
      `/blobs/keys?prefix=${encodeURIComponent(prefix)}`,
      'listing blobs',
    );
    return keys;
  }

  async deleteBlobs(prefix: string): Promise<number> {
    return this.#deleted<number>(
      `/blobs?prefix=${encodeURIComponent(prefix)}`,
      `deleting blobs '${prefix}…'`,
    );
  }

  /** A DELETE answered with what it deleted. */
  async #deleted<T>(path: string, doing: string): Promise<T> {
    return (await this.#sendJson<{ deleted: T }>('DELETE', path, undefined, doing)).deleted;
  }

  // ---------------------------------------------------------------- runs and events

  /**
   * Asks the server for the next run number; the request id (the caller's WriteId's id, else a
   * new one) is the same for every attempt, so a start whose answer was lost is not a second run.
   */
  async startRun(
    experiment: string,
    start: Omit<PendingEvent, 'run'>,
    atLeast?: number,
    writeId?: WriteId,
  ): Promise<number> {
    if (atLeast !== undefined && (!Number.isSafeInteger(atLeast) || atLeast < 1))
      throw new TrackingInputError(`atLeast must be a positive integer, got ${String(atLeast)}`);
    // one id for every attempt: a start whose answer was lost is not a second run
    const body = encodeStartRun(start, atLeast, writeId?.id ?? randomUUID());
    // a started run logs next: the spool (a file, its module, its schema: ~20 ms of one tick) is
    // made now, while the caller awaits the start, not at the first flush inside its training loop
    this.#ensureSpool();
    const { run } = await this.#sendJson<{ run: number }>(
      'POST',
      `${this.#exp(experiment)}/runs`,
      body,
      `starting a run of '${experiment}'`,
    );
    return run;
  }

  /** Throws when `bytes` more would pass the spool's bound (the provider keeps, then drops and counts, its events). */
  #checkRoom(spool: Spool, bytes: number, what: string): void {
    if (spool.bytes + bytes <= this.#spoolMaxBytes) return;
    throw new StoreError(
      'disk-full',
      spool.file,
      `the spool ${spool.file} is full (${Math.round(spool.bytes / 1048576)} MB wait for ${this.url}; bound OMEGA_SPOOL_MAX_MB = ${Math.round(this.#spoolMaxBytes / 1048576)}): ${what} cannot be spooled until the server takes what waits`,
    );
  }

  /** Events as spool batches of at most MAX_BATCH_EVENTS each. */
  static #slices(
    events: readonly PendingEvent[],
    at: number,
    writeId: WriteId | undefined,
  ): { columns: string; count: number; runs: Map<number, number>; batch?: string } {
    const slice = events.slice(at, at + MAX_BATCH_EVENTS);
    const batch = !writeId
      ? undefined
      : events.length <= MAX_BATCH_EVENTS
        ? writeId.id
        : `${writeId.id.slice(0, 120)}.${at / MAX_BATCH_EVENTS}`;
    return { columns: encodeBatchColumns(slice), count: slice.length, runs: runCounts(slice), batch };
  }

  /**
   * Spools the events and resolves (all or none); the shipper sends them. A big append is
   * encoded in batches of MAX_BATCH_EVENTS with a yield between, so the event loop never waits
   * long for it. Fails with a StoreError `disk-full` when the spool is at its bound. With a
   * `writeId`, its id is the batch id the server keeps (`<id>.<n>` for each slice of a big
   * append), so the same write spooled again is stored once; whether it was a duplicate, the
   * server says only when the batch ships (a conflict then is a dead letter, said).
   */
  async appendEvents(experiment: string, events: readonly PendingEvent[], writeId?: WriteId): Promise<void> {
    checkText(experiment, 'experiment');
    if (!events.length) return;
    const spool = this.#ensureSpool();
    if (events.length <= MAX_BATCH_EVENTS) {
      const batch = HttpStore.#slices(events, 0, writeId);
      this.#checkRoom(spool, batch.columns.length, `${events.length} event(s) of '${experiment}'`);
      await spool.appendEvents(experiment, [batch]);
      this.#shipper!.kick();
      return;
    }
    // a big append is encoded and spooled slice by slice, yielding between: its slices wait,
    // unshipped, until the last is in (all or none), and no step holds the event loop for long
    const group = randomUUID();
    try {
      for (let at = 0; at < events.length; at += MAX_BATCH_EVENTS) {
        if (at > 0) await yieldToLoop();
        const batch = HttpStore.#slices(events, at, writeId);
        this.#checkRoom(spool, batch.columns.length, `${events.length} event(s) of '${experiment}'`);
        await spool.appendEvents(experiment, [batch], group);
      }
      await spool.commit(group);
    } catch (error) {
      await spool.abort(group);
      throw error;
    }
    this.#shipper!.kick();
  }

  /**
   * Spools the events at once (the last moment of a process; `omega-track sync` ships what
   * stays). A page's spool only starts its write here: the browser finishes it as the page goes.
   */
  appendEventsSync(experiment: string, events: readonly PendingEvent[]): void {
    checkText(experiment, 'experiment');
    if (!events.length) return;
    const spool = this.#ensureSpool();
    const batches = [];
    for (let at = 0; at < events.length; at += MAX_BATCH_EVENTS)
      batches.push(HttpStore.#slices(events, at, undefined));
    this.#checkRoom(
      spool,
      batches.reduce((n, b) => n + b.columns.length, 0),
      `${events.length} event(s) of '${experiment}'`,
    );
    const appended = spool.appendEventsNow
      ? spool.appendEventsNow(experiment, batches)
      : spool.appendEvents(experiment, batches);
    if (typeof appended === 'number') this.#shipper!.kick();
    else
      appended.then(
        () => this.#shipper?.kick(),
        (error: unknown) =>
          this.#onError(error, `${this.url}: spooling ${events.length} event(s) of '${experiment}'`),
      );
  }

  async *iterateEvents(
    experiment: string,
    query: ResolvedQuery,
    batchSize: number,
  ): AsyncIterable<TrackingEvent[]> {
    if (!Number.isSafeInteger(batchSize) || batchSize < 1)
      throw new TrackingInputError(`batchSize must be a positive integer, got ${String(batchSize)}`);
    const doing = `reading events of '${experiment}'`;
    const response = await this.#direct(doing, (signal) =>
      this.#request('POST', `${this.#exp(experiment)}/events/query`, doing, {
        body: encodeValue({ query, batchSize }),
        // the stream may take long: only its start is bounded by the timeout (see #direct)
        signal,
      }),
    );
    if (!response.body)
      throw new StoreError('io', this.url, `store ${this.url}: ${doing}: the server sent no body`);
    const decoder = new TextDecoder();
    let text = '';
    let rows: TrackingEvent[] = [];
    let count = 0;
    let ended: number | undefined;
    const reader = response.body.getReader();
    const line = function* (this: HttpStore, l: string): Generator<TrackingEvent[]> {
      if (!l.trim()) return;
      if (ended !== undefined)
        throw new StoreError('io', this.url, `store ${this.url}: ${doing}: data after the end line`);
      const parsed = decodeStreamLine(l);
      if ('end' in parsed) {
        ended = parsed.end;
        return;
      }
      const before = rows.length;
      decodeBatchRows(experiment, parsed.batch, rows);
      count += rows.length - before;
      while (rows.length >= batchSize) {
        yield rows.slice(0, batchSize);
        rows = rows.slice(batchSize);
      }
    }.bind(this);
    try {
      for (;;) {
        const chunk = await reader.read().catch((error: unknown) => {
          throw new StoreError(
            'io',
            this.url,
            `store ${this.url}: ${doing}: the answer was cut (${String(error)})`,
            error,
          );
        });
        if (chunk.done) break;
        text += decoder.decode(chunk.value, { stream: true });
        let nl: number;
        while ((nl = text.indexOf('\n')) >= 0) {
          const l = text.slice(0, nl);
          text = text.slice(nl + 1);
          yield* line(l);
        }
      }
      yield* line(text + decoder.decode());
    } finally {
      reader.releaseLock();
      void response.body.cancel().catch(() => undefined);
    }
    // a stream without its end line was cut (a server that died mid-answer): the read fails
    if (ended === undefined)
      throw new StoreError(
        'io',
        this.url,
        `store ${this.url}: ${doing}: the answer was cut before its end line`,
      );
    if (ended >= 0 && ended !== count)
      throw new StoreError(
        'io',
        this.url,
        `store ${this.url}: ${doing}: ${count} row(s) came, the server counted ${ended}`,
      );
    if (rows.length) yield rows;
  }

  async queryEvents(experiment: string, query: ResolvedQuery): Promise<TrackingEvent[]> {
    const out: TrackingEvent[] = [];
    for await (const batch of this.iterateEvents(experiment, query, 10_000))
      for (const r of batch) out.push(r);
    return out;
  }

  /** The columns of the rows read through the events stream, a batch per run and stream line. */
  async *queryColumns(experiment: string, query: ResolvedQuery): AsyncIterable<EventColumnBatch> {
    if (query.limit !== undefined || query.offset !== undefined)
      throw new TrackingInputError(
        'queryColumns reads in logging order, not by time: limit and offset are for queryEvents',
      );
    for await (const rows of this.iterateEvents(experiment, query, 4096)) {
      const byRun = new Map<number, TrackingEvent[]>();
      for (const r of rows) {
        let list = byRun.get(r.run);
        if (!list) byRun.set(r.run, (list = []));
        list.push(r);
      }
      for (const [run, list] of byRun) {
        const names: string[] = [];
        const index = new Map<string, number>();
        const name = (s: string): number => {
          let i = index.get(s);
          if (i === undefined) index.set(s, (i = names.push(s) - 1));
          return i;
        };
        const n = list.length;
        const batch: EventColumnBatch = {
          run,
          length: n,
          names,
          event: new Uint32Array(n),
          key: new Uint32Array(n),
          values: new Float64Array(n),
          numeric: undefined,
          step: new Float64Array(n),
          dt: new Float64Array(n),
        };
        list.forEach((r, i) => {
          batch.event[i] = name(r.event);
          batch.key[i] = name(r.key);
          if (typeof r.value === 'number') batch.values[i] = r.value;
          else {
            batch.numeric ??= new Uint8Array(n).fill(1);
            batch.numeric[i] = 0;
            batch.values[i] = NaN;
          }
          batch.step[i] = r.step ?? NaN;
          batch.dt[i] = r.dt.getTime();
        });
        yield batch;
      }
    }
  }

  async latestRun(experiment: string): Promise<number | undefined> {
    const { run } = await this.#getJson<{ run: number | null }>(
      `${this.#exp(experiment)}/latest-run`,
      `reading the latest run of '${experiment}'`,
    );
    return run ?? undefined;
  }

  async deleteEvents(experiment: string): Promise<number> {
    const doing = `deleting the events of '${experiment}'`;
    return this.#deleted<number>(`${this.#exp(experiment)}/events`, doing);
  }

  async deleteRun(experiment: string, run: number): Promise<number> {
    // the handle checked the number (deleteRun takes a run number of at least 1), and the
    // server refuses a path that is none; the page's bundle has no room for a third check
    const doing = `deleting run ${run} of '${experiment}'`;
    return this.#deleted<number>(`${this.#exp(experiment)}/runs/${run}`, doing);
  }

  /**
   * The server's run aggregates. It waits for the spool at most a second, not the whole timeout:
   * what has not shipped yet, runs() shows as `pending` (see pendingEvents).
   */
  async runStats(
    experiment: string,
    runs?: readonly number[],
  ): Promise<{ rows: RunStatsRow[]; unaggregated: number[] }> {
    return this.#sendJson(
      'POST',
      `${this.#exp(experiment)}/run-stats`,
      encodeValue(runs === undefined ? {} : { runs }),
      `reading the runs of '${experiment}'`,
      { spoolWaitMs: STATUS_WAIT_MS },
    );
  }

  async changeMark(
    experiment: string,
    run?: number,
  ): Promise<{ mark: string; runs: number; lastDt: number | undefined }> {
    const r = await this.#getJson<{ mark: string; runs: number; lastDt: number | null }>(
      `${this.#exp(experiment)}/mark${run === undefined ? '' : `?run=${run}`}`,
      `reading the mark of '${experiment}'`,
      { spoolWaitMs: 0 },
    );
    return { mark: r.mark, runs: r.runs, lastDt: r.lastDt ?? undefined };
  }

  /** One attempt, errors ignored: the next beat replaces a lost one. */
  async beat(experiment: string, runs: readonly number[], owner: string, intervalMs: number): Promise<void> {
    if (this.#closed) return;
    try {
      const response = await this.#request('POST', `${this.#exp(experiment)}/beats`, 'beating', {
        body: JSON.stringify({ runs, owner, intervalMs }),
        signal: AbortSignal.timeout(Math.max(1000, intervalMs)),
      });
      await response.arrayBuffer();
    } catch {
      // a beat that does not arrive is replaced by the next one
    }
  }

  async liveness(experiment: string): Promise<Map<number, RunLiveness>> {
    const { runs } = await this.#getJson<{ runs: Array<[number, number, number]> }>(
      `${this.#exp(experiment)}/liveness`,
      `reading the liveness of '${experiment}'`,
      { spoolWaitMs: STATUS_WAIT_MS },
    );
    return new Map(runs.map(([run, lastBeat, intervalMs]) => [run, { lastBeat, intervalMs }]));
  }

  /** Events of `experiment` in this process's spool that the server does not have yet, per run. */
  pendingEvents(experiment: string): Map<number, number> {
    return this.#spool?.pendingByRun(experiment) ?? new Map();
  }

  // ---------------------------------------------------------------- closing

  /** Whether the spool is open (ExitFlushable: the exit hooks ship it, then close it). */
  hasPending(): boolean {
    return this.#spool !== undefined && !this.#closed;
  }

  /** Waits for the spool to ship, at most `shipTimeoutMs` (Store.settle). */
  settle(): Promise<boolean> {
    return this.flush();
  }

  /** Waits for the spool to ship, at most `shipTimeoutMs`. */
  async flush(): Promise<boolean> {
    const spool = this.#spool;
    if (!spool || !this.#shipper || this.#closed || spool.waiting === 0) return true;
    try {
      await this.#shipper.whenShipped(spool.lastSeq(), this.#shipTimeoutMs);
      return true;
    } catch {
      return false;
    }
  }

  /** The process ends: the spool is durable already; what stays in it is said, an empty one removed. */
  flushSync(): void {
    this.#closeSpool();
  }

  #closeSpool(): void {
    this.#closed = true;
    const spool = this.#spool;
    this.#shipper?.close();
    forgetOnExit(this);
    if (!spool) return;
    const { items, events, dead } = spool.pending();
    spool.close();
    if (this.#given) return;
    if (items)
      diag(
        `${items} batch(es) (${events} event(s)) for ${this.url} could not be shipped and wait in ${spool.file}: ${spool.resumeHint}`,
      );
    else if (dead)
      diag(`${dead} batch(es) the server ${this.url} refused are kept as dead letters in ${spool.file}`);
  }

  /** Waits for the spool to ship (at most `shipTimeoutMs`), then leaves the rest in it. Idempotent. */
  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      await this.flush();
      this.#closeSpool();
    })());
  }
}
