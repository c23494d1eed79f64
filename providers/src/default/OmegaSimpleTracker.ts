import type {
  EventOptions,
  EventQuery,
  FlushOptions,
  FlushResult,
  IterateOptions,
  MetricSummary,
  PendingEvent,
  ProviderContext,
  RunInfo,
  RunQuery,
  RunStatus,
  StartOptions,
  StopOptions,
  EventLog,
  TrackingEvent,
} from '@omega-track/core';
import type {
  EncodedArtifact,
  ExitFlushable,
  ResolvedQuery,
  ArtifactStores,
  ArtifactSource,
} from '@omega-track/core';
import { StoreError, TrackingInputError, TrackingProvider, TrackingError } from '@omega-track/core';
import {
  CHUNK_SIZE,
  NODE_NAME,
  crashAfterMs,
  heartbeatIntervalMs,
  isCrashed,
  markCrashed,
  decodeArtifact,
  describeValue,
  deleteExperimentData,
  encodeArtifact,
  flushOnExit,
  forgetOnExit,
  resolveQuery,
  resolveExperimentQuery,
  artifactSourceValues,
  startEvent,
  systemInfo,
  parseRunSearch,
  validateRunMetadata,
  checkDeleteRun,
  artifactReferences,
  readRunTable,
  runSelector,
  searchRunTable,
  stopStatus,
  summarizeLog,
  randomUUID,
  processId,
  unrefTimer,
  runSoon,
} from '@omega-track/core/internal';
import { machineFacts } from '../system/machineFacts';
import { EventColumns } from './EventColumns';
import { WriteTrouble } from './WriteTrouble';

/** A unit of queued work: events, and the writes (artifact content) that must land before them. */
interface QueuedBatch {
  events: EventColumns;
  beforeWrite?: () => Promise<void>;
  /** Failed attempts at writing the content (`beforeWrite`). */
  attempts: number;
  /** Being written (or was): later events go to a new batch. */
  sealed: boolean;
  /** How many of its events are written (a backlog is written in slices). */
  done: number;
  /** Estimated bytes of its non-numeric values (numbers count EVENT_BYTES each). */
  extraBytes: number;
  /**
   * Events per write while a write of this batch is being narrowed down to the event(s) the store
   * refuses for good (halved on each refusal); undefined otherwise.
   */
  narrowTo?: number;
}

/** Tries at writing an artifact's content before it is given up (events wait meanwhile). */
const MAX_CONTENT_ATTEMPTS = 5;

const DEFAULT_FLUSH_INTERVAL_MS = 1000;
const DEFAULT_MAX_BUFFER = 1000;
/** The queue's limits while the store cannot take events: whichever is reached first. */
export const DEFAULT_MAX_QUEUE_EVENTS = 500_000;
export const DEFAULT_MAX_QUEUE_BYTES = 32 * 1024 * 1024;
/** What one queued event costs in the columnar queue, values aside (typed-array slots, refs). */
const EVENT_BYTES = 56;
/** A write under way this long means the store is not taking events (for the queue's limit). */
const STUCK_AFTER_MS = 1000;
/**
 * Events per write: a backlog is written in slices, so no single write stalls the event loop
 * (packing 16,384 metrics takes ~5–10 ms). Four chunks' worth: a loop that logs 20 keys per step
 * then writes each key in chunks of ~800 events of its own (encodeChunks), not ~200, and a chart
 * of one key of 200 runs reads 4 times fewer chunks.
 */
const MAX_BATCH_EVENTS = 4 * CHUNK_SIZE;
/**
 * Estimated bytes per write (texts at two bytes a character, as estimateBytes counts): 1,000
 * values of 1 MB each are written 8 at a time, so packing a write and handing it to the writer
 * thread holds a few MB, never gigabytes, and the event loop never waits long for it.
 */
const MAX_WRITE_BYTES = 16 * 1024 * 1024;

/** Whether the store refused a write for good (retrying cannot help): its events are dropped. */
function refusedForGood(error: unknown): boolean {
  return error instanceof StoreError && error.code === 'too-big';
}

/** A rough size of a non-numeric value (ms-cheap, bounded depth): for the queue's byte limit. */
function estimateBytes(value: unknown, depth = 0): number {
  if (value === null || value === undefined || typeof value === 'boolean' || typeof value === 'number')
    return 8;
  if (typeof value === 'string') return 16 + 2 * value.length;
  // values are at most MAX_VALUE_DEPTH (100) deep: counting every level keeps deep ones honest
  if (depth > 100 || typeof value !== 'object') return 64;
  let n = 32;
  if (Array.isArray(value)) for (const v of value) n += estimateBytes(v, depth + 1);
  else for (const [k, v] of Object.entries(value)) n += 16 + 2 * k.length + estimateBytes(v, depth + 1);
  return n;
}

function positiveInt(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1)
    throw new TrackingInputError(`${name} must be a positive integer, got ${describeValue(value)}`);
  return value;
}

/**
 * The `default` provider (alias `simple`): events are queued in memory and written to the store
 * in batches — at the latest every `flushIntervalMs` (default 1000) or once `maxBuffer` (default
 * 1000) events wait. `start` and `stop` write at once. Whatever is queued when the process exits
 * is written too.
 */
export class OmegaSimpleTracker extends TrackingProvider implements ExitFlushable {
  /** Where events go: the store, unless a subclass keeps them elsewhere. */
  protected readonly log: EventLog;
  protected readonly stores: ArtifactStores;
  private flushIntervalMs_: number;
  private maxBuffer_: number;
  private readonly maxQueueEvents: number;
  private readonly maxQueueBytes: number;
  private queue: QueuedBatch[] = [];
  /** Events not yet written (including the batch being written). */
  private queuedEvents = 0;
  private queuedExtraBytes = 0;
  /** The batch whose write is under way (at exit the store finishes or replays it, not us). */
  private inFlight: QueuedBatch | undefined;
  /** How many events of `inFlight` (from its `done`) the write under way holds. */
  private inFlightCount = 0;
  private written = 0;
  private writeStartedAt = 0;
  private dropped = 0;
  private droppedSinceLine = 0;
  private readonly trouble: WriteTrouble;
  /** Runs this process holds (started or joined): they get heartbeats and never read CRASHED here. */
  private readonly heldRuns = new Map<number, number>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly heartbeatMs: number;
  private readonly crashAfter: number;
  /** Who beats: this provider object of this process. */
  private readonly owner = `${NODE_NAME}:${processId()}:${randomUUID().slice(0, 8)}`;
  private timer: NodeJS.Timeout | undefined;
  /** Cancels the write arranged for the next turn of the event loop (a full buffer). */
  private cancelSoon: (() => void) | undefined;
  private writing: Promise<void> | undefined;
  private drainQueued: Promise<void> | undefined;
  private isShutdown = false;
  private lastDropLine = 0;
  private warnedShutdown = false;
  private readonly persistSettings: ((settings: Record<string, unknown>) => Promise<void>) | undefined;

  constructor(experiment: string, context: ProviderContext, log: EventLog = context.store) {
    super(experiment, context);
    this.log = log;
    this.stores = { store: context.store, models: context.models, datasets: context.datasets };
    this.flushIntervalMs_ = positiveInt(
      context.options.flushIntervalMs,
      'flushIntervalMs',
      log.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS,
    );
    this.maxBuffer_ = positiveInt(
      context.options[this.bufferOption()],
      this.bufferOption(),
      DEFAULT_MAX_BUFFER,
    );
    this.maxQueueEvents = positiveInt(
      context.options.maxQueueEvents,
      'maxQueueEvents',
      DEFAULT_MAX_QUEUE_EVENTS,
    );
    this.maxQueueBytes = positiveInt(context.options.maxQueueBytes, 'maxQueueBytes', DEFAULT_MAX_QUEUE_BYTES);
    this.heartbeatMs = heartbeatIntervalMs(context.options.heartbeatIntervalMs);
    this.crashAfter = crashAfterMs(context.options.crashAfterMs);
    this.trouble = new WriteTrouble(this.experiment, this.onError);
    this.persistSettings = context.persistSettings;
    flushOnExit(this);
  }

  /** The option that holds the event batch size (a subclass may give `maxBuffer` another meaning). */
  protected bufferOption(): string {
    return 'maxBuffer';
  }

  /** Events held before a write is triggered. */
  get maxBuffer(): number {
    return this.maxBuffer_;
  }

  set maxBuffer(value: number) {
    this.maxBuffer_ = positiveInt(value, 'maxBuffer', this.maxBuffer_);
  }

  /** The longest time an event waits in memory, in milliseconds. */
  get flushIntervalMs(): number {
    return this.flushIntervalMs_;
  }

  set flushIntervalMs(value: number) {
    this.flushIntervalMs_ = positiveInt(value, 'flushIntervalMs', this.flushIntervalMs_);
  }

  override settings(): Record<string, unknown> {
    return { [this.bufferOption()]: this.maxBuffer_, flushIntervalMs: this.flushIntervalMs_ };
  }

  /**
   * Records a `system` event: platform, Node and V8 versions and packages at once, and the
   * machine's facts (OS, CPU, memory, GPUs, from systeminformation) added before it is written.
   */
  override logSystem(key = 'system', value?: unknown, opts?: EventOptions): void {
    if (value !== undefined) return super.logSystem(key, value, opts);
    const event = this.makeEvent('system', key, systemInfo(), opts);
    this.record([event], async () => {
      Object.assign(event.value as object, { machine: await machineFacts() });
    });
  }

  async start(opts: StartOptions = {}): Promise<number> {
    validateRunMetadata(opts);
    // settings changed on the handle (exp.maxBuffer = …) are stored with the experiment
    await this.persistSettings?.(this.settings()).catch((error: unknown) =>
      this.onError(error, 'saving settings'),
    );
    const start = startEvent();
    if (opts.parent !== undefined) {
      positiveInt(opts.parent, 'parent', 1);
      start.value = { parent: opts.parent };
    }
    const run = await this.log.startRun(this.experiment, start);
    this.run_ = run;
    this.hold(run);
    this.logRunMetadata(run, opts);
    return run;
  }

  override async deleteRun(run: number, opts: { force?: boolean } = {}): Promise<boolean> {
    checkDeleteRun(this.experiment, run, opts);
    if (this.heldRuns.has(run) && (await this.status(run)) === 'STARTED')
      throw new TrackingInputError(
        `run ${run} of '${this.experiment}' is running here: stop it before deleting it`,
      );
    await this.flush();
    if (!this.log.deleteRun)
      throw new TrackingError(`the event log of '${this.experiment}' cannot delete single runs`);
    // what the run's artifacts stored goes with it (as an experiment's does when it is dropped),
    // after its events: a delete the store refuses (a token that may not delete) loses nothing
    const objects = await this.log.queryEvents(this.experiment, {
      runs: [run],
      events: ['artifact', 'data'],
    });
    const deleted = await this.log.deleteRun(this.experiment, run);
    for (const e of objects) {
      const refs = artifactReferences(e.value);
      if (refs.model) await this.stores.models.drop(refs.model);
      if (refs.dataset) await this.stores.datasets.drop(refs.dataset);
      if (refs.blob) await this.stores.store.deleteBlobs(refs.blob);
    }
    return deleted > 0;
  }

  async stop(opts: StopOptions = {}): Promise<FlushResult> {
    const status = opts.status ?? (opts.error !== undefined ? 'FAILED' : 'STOPPED');
    const value: Record<string, unknown> = { status };
    if (opts.error !== undefined) value.error = describeValue(opts.error);
    const run = this.currentRun;
    // 'stop' is reserved: recording calls cannot forge it, so the provider takes its own path
    this.logRunEvent('stop', 'stop', value);
    const result = await this.flush();
    // a stop that is still waiting to be written keeps the run alive (heartbeats) until it is
    if (run !== undefined && result.pending === 0) this.release(run, true);
    return result;
  }

  async activeRun(run?: number): Promise<number> {
    if (run !== undefined) {
      positiveInt(run, 'run', 1);
      const latest = (await this.log.latestRun(this.experiment)) ?? 0;
      // a run that was never started would later collide with the run start() hands out
      if (run > latest)
        throw new TrackingInputError(
          `experiment '${this.experiment}' has no run ${run} (its latest is ${latest || 'none'}); use start() for a new one`,
        );
      this.run_ = run;
      this.hold(run);
      return run;
    }
    const latest = await this.log.latestRun(this.experiment);
    if (latest !== undefined && (await this.status(latest)) === 'STARTED') {
      this.run_ = latest;
      this.hold(latest);
      return latest;
    }
    return this.start();
  }

  /** This process holds `run`: it beats for it now and every heartbeat interval. */
  /** When each run was last beaten for by this handle. */
  private readonly beatenAt = new Map<number, number>();

  private hold(run: number): void {
    this.heldRuns.set(run, (this.heldRuns.get(run) ?? 0) + 1);
    // a run held again soon after its last beat (a worker's tasks, one after the other, in one
    // caller's run) needs no beat of its own: the last one still says this process is alive
    const beaten = this.beatenAt.get(run);
    if (beaten === undefined || Date.now() - beaten > this.heartbeatMs / 2) this.beat();
    if (this.heartbeat || !this.log.beat) return;
    this.heartbeat = setInterval(() => this.beat(), this.heartbeatMs);
    // heartbeats must not keep a finished program alive
    unrefTimer(this.heartbeat);
  }

  /** A scope that joined `run` (runtime task, impliedRun: false) is done with it. */
  override releaseRun(run: number): void {
    this.release(run, false);
  }

  /** This process holds `run` once less (`all`: not at all, the run has stopped). */
  private release(run: number, all: boolean): void {
    const left = all ? 0 : (this.heldRuns.get(run) ?? 1) - 1;
    if (left > 0) this.heldRuns.set(run, left);
    else this.heldRuns.delete(run);
    if (this.heldRuns.size === 0 && this.heartbeat) {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
    }
  }

  private beat(): void {
    if (!this.log.beat || this.heldRuns.size === 0) return;
    const now = Date.now();
    for (const run of this.heldRuns.keys()) this.beatenAt.set(run, now);
    if (this.beatenAt.size > 4 * this.heldRuns.size + 64)
      for (const run of this.beatenAt.keys()) if (!this.heldRuns.has(run)) this.beatenAt.delete(run);
    // a heartbeat that cannot be written is replaced by the next; the events' writes report trouble
    this.log
      .beat(this.experiment, [...this.heldRuns.keys()], this.owner, this.heartbeatMs)
      .catch(() => undefined);
  }

  /** STARTED, or CRASHED when no process has kept `run` alive (heartbeats) for too long. */
  private async liveStatus(run: number, started: Date | undefined): Promise<RunStatus> {
    if (this.heldRuns.has(run) || !this.log.liveness) return 'STARTED';
    const beats = await this.log.liveness(this.experiment);
    return isCrashed(started, beats.get(run), this.crashAfter) ? 'CRASHED' : 'STARTED';
  }

  async status(run?: number): Promise<RunStatus> {
    await this.flush();
    const target = run ?? this.currentRun ?? (await this.log.latestRun(this.experiment));
    if (target === undefined) return 'PENDING';
    const events = await this.log.queryEvents(this.experiment, {
      runs: [target],
      events: ['start', 'stop'],
    });
    if (events.length === 0) {
      const any = await this.log.queryEvents(this.experiment, { runs: [target], limit: 1 });
      return any.length ? this.liveStatus(target, any[0].dt) : 'PENDING';
    }
    const stops = events.filter((e) => e.event === 'stop');
    if (stops.length) return stopStatus(stops[stops.length - 1].value);
    return this.liveStatus(target, events.find((e) => e.event === 'start')?.dt);
  }

  /** Events matching `query`; `{ experiment: 'other' }` reads another experiment of the same log. */
  async data(query?: EventQuery): Promise<TrackingEvent[]> {
    await this.flush();
    const target = await resolveExperimentQuery(query, this.experiment, (q) => this.resolve(q), this.log);
    return this.log.queryEvents(target.experiment, target.query);
  }

  async *iterate(query?: EventQuery, opts: IterateOptions = {}): AsyncIterable<TrackingEvent[]> {
    await this.flush();
    const target = await resolveExperimentQuery(query, this.experiment, (q) => this.resolve(q), this.log);
    yield* this.log.iterateEvents(target.experiment, target.query, opts.batchSize ?? 10_000);
  }

  async runs(query: RunQuery = {}): Promise<RunInfo[]> {
    const { filter, orderBy, limit, offset, ...selection } = query;
    const search = parseRunSearch({ filter, orderBy, limit, offset });
    await this.flush();
    const resolved = await this.resolve({ run: 'all', ...selection });
    let selected = resolved.runs;
    // a log that can tell on its side which runs may match (MongoDB's aggregates) narrows the read
    if (search.filter.all.length && this.log.runsMatching) {
      const candidates = await this.log.runsMatching(this.experiment, search.filter);
      if (candidates) selected = candidates.filter(runSelector(resolved.runs));
    }
    let runs = await readRunTable(this.log, this.experiment, selected);
    if (this.log.liveness && runs.some((r) => r.status === 'STARTED'))
      runs = markCrashed(runs, await this.log.liveness(this.experiment), this.heldRuns, this.crashAfter);
    return searchRunTable(runs, search);
  }

  async summary(query: EventQuery = {}): Promise<MetricSummary[]> {
    // runs() flushes first; the figures come column by column where the log reads that way
    const runs = await this.runs({ run: query.run ?? 'all' });
    return summarizeLog(this.log, this.experiment, await this.resolve({ event: 'metric', ...query }), runs);
  }

  async restoreArtifacts(
    query: EventQuery | ArtifactSource | readonly ArtifactSource[] = {},
  ): Promise<unknown[]> {
    // rows of data() (or { value }) are restored as given, without a query
    const values =
      artifactSourceValues(query) ??
      (await this.data({ event: 'artifact', ...(query as EventQuery) })).map((e) => e.value);
    const out: unknown[] = [];
    for (const value of values) out.push(await decodeArtifact(value, this.stores));
    return out;
  }

  async clear(opts: { force?: boolean } = {}): Promise<void> {
    if (opts.force !== true)
      throw new TrackingInputError(
        `clear() deletes every event and artifact of '${this.experiment}': pass { force: true }`,
      );
    // queued events belong to the data being cleared
    this.queue = [];
    this.queuedEvents = 0;
    this.queuedExtraBytes = 0;
    await this.writing;
    await deleteExperimentData(this.experiment, this.stores);
  }

  hasPending(): boolean {
    return this.queuedEvents > 0 || this.queue.length > 0;
  }

  /**
   * Writes what is queued. Resolves once it is written, or as soon as a write fails (the events
   * stay queued and are retried with backoff), or after `timeoutMs`: with how many events were
   * written and dropped so far and how many still wait.
   */
  async flush(opts: FlushOptions = {}): Promise<FlushResult> {
    // another process holds the lock and the last write already waited lockTimeoutMs for it:
    // waiting that long again on every flush (stop, data, close) would multiply the wait; the
    // background retry writes the queue once the lock is gone
    if (this.trouble.failing && this.trouble.lastLocked) return this.result();
    const work = this.drain();
    if (opts.timeoutMs === undefined) await work;
    else {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>(
        (resolve) => (timer = unrefTimer(setTimeout(resolve, opts.timeoutMs))),
      );
      await Promise.race([work, timeout]);
      clearTimeout(timer);
    }
    return this.result();
  }

  private result(): FlushResult {
    return { written: this.written, pending: this.queuedEvents, dropped: this.dropped };
  }

  flushSync(): void {
    // the batch being written is the store's to finish (or replay) at exit, not ours
    const batches = this.takeQueue();
    const reasons: string[] = [];
    let lost = 0;
    // Artifact content is written asynchronously, which the last moment of a process does not
    // allow: such artifacts are dropped (and said so) rather than stored without their content.
    const artifacts = batches.filter((b) => b.beforeWrite).reduce((n, b) => n + b.events.length, 0);
    if (artifacts) {
      lost += artifacts;
      reasons.push(
        `${artifacts} artifact(s) logged just before process.exit() were not stored: await flush() before exiting`,
      );
    }
    const events = batches
      .filter((b) => !b.beforeWrite)
      .flatMap((b) => b.events.toEvents(b.done + (b === this.inFlight ? this.inFlightCount : 0)));
    if (events.length) {
      try {
        if (!this.log.appendEventsSync)
          throw new Error('this event log cannot write while the process exits');
        this.log.appendEventsSync(this.experiment, events);
        this.written += events.length;
      } catch (error) {
        lost += events.length;
        reasons.push(error instanceof Error ? error.message : String(error));
      }
    }
    if (this.dropped) reasons.push(`${this.dropped} dropped earlier while the queue was full`);
    if (lost || this.dropped)
      this.onError(
        new Error(reasons.join('; ')),
        `${lost + this.dropped} event(s) of experiment '${this.experiment}' were not stored at exit`,
      );
  }

  async shutdown(opts: FlushOptions = {}): Promise<void> {
    if (this.isShutdown) return;
    await this.stopRuntime();
    const { pending } = await this.flush(opts);
    if (pending) {
      // shut down with events the store did not take: they are lost, and that is said and counted
      this.dropped += pending;
      this.onError(
        new Error(this.trouble.lastError ?? 'the store did not take them in time'),
        `${pending} event(s) of experiment '${this.experiment}' could not be written before shutdown() / close() and are lost`,
      );
      this.takeQueue();
    }
    this.isShutdown = true;
    this.clearTimers();
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    forgetOnExit(this);
  }

  protected record(events: PendingEvent[], beforeWrite?: () => Promise<void>): void {
    if (this.isShutdown) return this.dropAfterShutdown();
    let bytes = 0;
    for (const e of events) if (typeof e.value !== 'number') bytes += estimateBytes(e.value);
    if (this.full(events.length, bytes) && !events.every((e) => e.event === 'stop') && this.storeStuck())
      return this.drop(events.length);
    const target = this.batchFor(beforeWrite);
    for (const e of events) {
      const size =
        (typeof e.value === 'number' ? 0 : estimateBytes(e.value)) +
        (e.extra === undefined ? 0 : this.extraBytes(e.extra));
      target.events.push(e.run, e.event, e.key, e.value, e.step, e.dt, e.userid, e.extra, size);
    }
    target.extraBytes += bytes;
    this.queuedExtraBytes += bytes;
    this.queued(events.length);
  }

  /** Whether `count` more events (`bytes` beyond their slots) would pass the queue's limits. */
  private full(count: number, bytes: number): boolean {
    return (
      this.queuedEvents + count > this.maxQueueEvents ||
      (this.queuedEvents + count) * EVENT_BYTES + this.queuedExtraBytes + bytes > this.maxQueueBytes
    );
  }

  /**
   * Whether the store is not taking events: writes fail, or one has waited over a second (a
   * lock, a stalled disk). Only then does the queue's limit drop events: a burst that a
   * synchronous loop logs on a healthy store is kept whole, since it is written as soon as
   * the loop yields.
   */
  private storeStuck(): boolean {
    return (
      this.trouble.failing ||
      (this.inFlight !== undefined && Date.now() - this.writeStartedAt > STUCK_AFTER_MS)
    );
  }

  /** The queue is at its limit: count what is dropped and say so (when it starts, then once a minute). */
  private drop(count: number): void {
    this.dropped += count;
    this.droppedSinceLine += count;
    const now = Date.now();
    if (now - this.lastDropLine < 60_000) return;
    this.lastDropLine = now;
    this.onError(
      new Error(
        `the queue is full (${this.queuedEvents} events waiting; limits ${this.maxQueueEvents} events, ${this.maxQueueBytes} bytes) while the store does not take them: ${this.droppedSinceLine} new event(s) dropped (${this.dropped} in all); flush()/stop() report the count`,
      ),
      `dropping events of '${this.experiment}'`,
    );
    this.droppedSinceLine = 0;
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
    if (this.isShutdown) return this.dropAfterShutdown();
    // extra fields are shared by the events they are stamped on (no memory per event), but each
    // event's stored copy counts in the size of a write
    const extraSize = extra === undefined ? 0 : this.extraBytes(extra);
    if (typeof value !== 'number') {
      // a text or object value counts against the byte limit (numbers cost their slots only)
      const bytes = estimateBytes(value);
      if (this.full(1, bytes) && event !== 'stop' && this.storeStuck()) return this.drop(1);
      const batch = this.batchFor(undefined);
      batch.events.push(run, event, key, value, step, dt, userid, extra, bytes + extraSize);
      batch.extraBytes += bytes;
      this.queuedExtraBytes += bytes;
      return this.queued(1);
    }
    if (this.full(1, 0) && event !== 'stop' && this.storeStuck()) return this.drop(1);
    this.batchFor(undefined).events.push(run, event, key, value, step, dt, userid, extra, extraSize);
    this.queued(1);
  }

  /** The extra fields last measured, and their size: logExtra's fields are one object for many events. */
  private sizedExtra: Record<string, unknown> | undefined;
  private sizedExtraBytes = 0;

  /** Estimated bytes of an event's extra fields, measured once per object. */
  private extraBytes(extra: Record<string, unknown>): number {
    if (extra !== this.sizedExtra) {
      this.sizedExtra = extra;
      this.sizedExtraBytes = estimateBytes(extra);
    }
    return this.sizedExtraBytes;
  }

  /**
   * The batch new events join: the last one, unless content must be written first (an
   * artifact's), which starts a batch of its own so that it lands before its event.
   */
  private batchFor(beforeWrite: (() => Promise<void>) | undefined): QueuedBatch {
    const last = this.queue[this.queue.length - 1];
    if (last && !beforeWrite && !last.beforeWrite && !last.sealed) return last;
    const batch: QueuedBatch = {
      events: new EventColumns(),
      beforeWrite,
      attempts: 0,
      sealed: false,
      done: 0,
      extraBytes: 0,
    };
    this.queue.push(batch);
    return batch;
  }

  private dropAfterShutdown(): void {
    if (!this.warnedShutdown) this.onError(new Error('events after shutdown() are dropped'), this.experiment);
    this.warnedShutdown = true;
  }

  /** Counts queued events and arranges the next write: soon when the buffer is full, else on the timer. */
  private queued(count: number): void {
    this.queuedEvents += count;
    // a failing store is retried on its backoff schedule, never once per event or per tick
    if (this.trouble.failing) return;
    if (this.queuedEvents >= this.maxBuffer_) {
      this.cancelSoon ??= runSoon(() => {
        this.cancelSoon = undefined;
        void this.drain();
      });
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.drain();
      }, this.flushIntervalMs_);
      // the timer must not keep a finished program alive: exit hooks write what is left
      unrefTimer(this.timer);
    }
  }

  protected encodeArtifact(obj: unknown, name: string): EncodedArtifact {
    return encodeArtifact(obj, name, this.experiment, this.stores);
  }

  /** Resolves a query against this experiment's runs. */
  protected resolve(query?: EventQuery): Promise<ResolvedQuery> {
    return resolveQuery(query, {
      currentRun: this.currentRun,
      latestRun: () => this.log.latestRun(this.experiment),
    });
  }

  private takeQueue(): QueuedBatch[] {
    const batches = this.queue;
    this.queue = [];
    this.queuedEvents = 0;
    this.queuedExtraBytes = 0;
    return batches;
  }

  /**
   * Writes everything queued, batch by batch from the front, one writer at a time. A batch
   * leaves the queue (and its count) only once it is written; on failure it stays in front and
   * a retry is scheduled with backoff. A write the store refuses for good (too big) is narrowed
   * down, halving it, to the events it cannot take: those are dropped, counted and said, and the
   * events after them are written.
   */
  private drain(): Promise<void> {
    const run = async (): Promise<void> => {
      const refused = { count: 0, first: '', error: undefined as unknown };
      try {
        await this.writeQueue(refused);
      } finally {
        if (refused.count)
          this.onError(
            refused.error,
            `${refused.count} event(s) of experiment '${this.experiment}' cannot be stored (the store refuses them for good; first: ${refused.first}) and are dropped; the events after them are written`,
          );
      }
    };
    // one drain waits behind the one under way, however often it is asked for
    if (this.drainQueued) return this.drainQueued;
    const previous = this.writing ?? Promise.resolve();
    const next: Promise<void> = previous.then(() => {
      this.drainQueued = undefined;
      return run();
    });
    this.drainQueued = next;
    this.writing = next;
    void next.finally(() => {
      if (this.writing === next) this.writing = undefined;
    });
    return next;
  }

  /** drain()'s loop; events the store refuses for good are counted in `refused`. */
  private async writeQueue(refused: { count: number; first: string; error: unknown }): Promise<void> {
    let waited = this.trouble.failing ? this.queuedEvents : 0;
    while (this.queue.length) {
      const batch = this.queue[0];
      batch.sealed = true;
      const count =
        batch.events.sliceEnd(batch.done, batch.narrowTo ?? MAX_BATCH_EVENTS, MAX_WRITE_BYTES, EVENT_BYTES) -
        batch.done;
      try {
        if (batch.beforeWrite) {
          try {
            await batch.beforeWrite();
            batch.beforeWrite = undefined;
          } catch (error) {
            // artifact content that cannot be written (a disposed model, an outage that
            // lasts, content the store refuses for good) must not hold up every later event:
            // after a few tries it is given up
            if (++batch.attempts < MAX_CONTENT_ATTEMPTS && !refusedForGood(error)) throw error;
            this.onError(
              error,
              `giving up an artifact of '${this.experiment}' after ${batch.attempts} attempts`,
            );
            this.dropped += batch.events.length;
            this.dequeue(batch, batch.events.length);
            continue;
          }
        }
        this.inFlight = batch;
        this.inFlightCount = count;
        this.writeStartedAt = Date.now();
        try {
          await this.log.appendEvents(this.experiment, batch.events.toEvents(batch.done, batch.done + count));
        } finally {
          this.inFlight = undefined;
        }
      } catch (error) {
        if (refusedForGood(error) && this.queue[0] === batch) {
          // the store works, this write cannot: find what it cannot take, write the rest
          if (count > 1) {
            batch.narrowTo = Math.ceil(count / 2);
            continue;
          }
          const [e] = batch.events.toEvents(batch.done, batch.done + 1);
          if (refused.count++ === 0) {
            refused.first = `run ${e.run}, ${e.event} '${e.key}'`;
            refused.error = error;
          }
          this.dropped++;
          batch.narrowTo = undefined;
          this.dequeue(batch, 1);
          continue;
        }
        waited = 0;
        this.scheduleRetry(this.trouble.failed(error, this.queuedEvents, this.dropped));
        return;
      }
      this.written += count;
      this.dequeue(batch, count);
      if (this.trouble.failing) this.trouble.recovered(waited || this.queuedEvents + count);
    }
  }

  /** Written (or given up) events leave; a batch whose events are all written leaves the front of the queue, unless clear() emptied it meanwhile. */
  private dequeue(batch: QueuedBatch, count: number): void {
    if (this.queue[0] !== batch) return;
    batch.done += count;
    this.queuedEvents -= count;
    if (batch.done < batch.events.length) return;
    this.queue.shift();
    this.queuedExtraBytes -= batch.extraBytes;
  }

  private scheduleRetry(delayMs: number): void {
    if (this.isShutdown) return;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, delayMs);
    unrefTimer(this.timer);
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    this.cancelSoon?.();
    this.timer = undefined;
    this.cancelSoon = undefined;
  }
}
