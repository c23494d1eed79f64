import type {
  EncodedArtifact,
  EventOptions,
  EventQuery,
  ExitFlushable,
  FlushOptions,
  IterateOptions,
  MetricSummary,
  PendingEvent,
  ProviderContext,
  ResolvedQuery,
  RunInfo,
  RunStatus,
  StartOptions,
  StopOptions,
  EventLog,
  TrackingEvent,
  ArtifactStores,
} from '@omega-track/core';
import {
  TrackingInputError,
  TrackingProvider,
  decodeArtifact,
  describeValue,
  deleteExperimentData,
  encodeArtifact,
  flushOnExit,
  forgetOnExit,
  resolveQuery,
  startEvent,
  systemInfo,
  runsFromEvents,
  stopStatus,
  summarize,
} from '@omega-track/core';
import { machineFacts } from '../system/machineFacts';
import { EventColumns } from './EventColumns';

/** A unit of queued work: events, and the writes (artifact content) that must land before them. */
interface QueuedBatch {
  events: EventColumns;
  beforeWrite?: () => Promise<void>;
  /** Failed attempts at writing the content (`beforeWrite`). */
  attempts: number;
}

/** Tries at writing an artifact's content before it is given up (events wait meanwhile). */
const MAX_CONTENT_ATTEMPTS = 5;

const DEFAULT_FLUSH_INTERVAL_MS = 1000;
const DEFAULT_MAX_BUFFER = 1000;

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
  private queue: QueuedBatch[] = [];
  private queuedEvents = 0;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private writing: Promise<void> | undefined;
  private isShutdown = false;
  private warnedShutdown = false;
  private readonly persistSettings: ((settings: Record<string, unknown>) => Promise<void>) | undefined;

  constructor(experiment: string, context: ProviderContext, log: EventLog = context.store) {
    super(experiment, context);
    this.log = log;
    this.stores = { store: context.store, models: context.models, datasets: context.datasets };
    this.flushIntervalMs_ = positiveInt(
      context.options.flushIntervalMs,
      'flushIntervalMs',
      DEFAULT_FLUSH_INTERVAL_MS,
    );
    this.maxBuffer_ = positiveInt(
      context.options[this.bufferOption()],
      this.bufferOption(),
      DEFAULT_MAX_BUFFER,
    );
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

  async start(_opts?: StartOptions): Promise<number> {
    // settings changed on the handle (exp.maxBuffer = …) are stored with the experiment
    await this.persistSettings?.(this.settings()).catch((error: unknown) =>
      this.onError(error, 'saving settings'),
    );
    this.run_ = await this.log.startRun(this.experiment, startEvent());
    return this.run_;
  }

  async stop(opts: StopOptions = {}): Promise<void> {
    const status = opts.status ?? (opts.error !== undefined ? 'FAILED' : 'STOPPED');
    const value: Record<string, unknown> = { status };
    if (opts.error !== undefined) value.error = describeValue(opts.error);
    this.logEvent('stop', 'stop', value);
    await this.flush();
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
      return run;
    }
    const latest = await this.log.latestRun(this.experiment);
    if (latest !== undefined && (await this.status(latest)) === 'STARTED') {
      this.run_ = latest;
      return latest;
    }
    return this.start();
  }

  async status(run?: number): Promise<RunStatus> {
    await this.flush();
    const target = run ?? this.run_ ?? (await this.log.latestRun(this.experiment));
    if (target === undefined) return 'PENDING';
    const events = await this.log.queryEvents(this.experiment, {
      runs: [target],
      events: ['start', 'stop'],
    });
    if (events.length === 0) {
      const any = await this.log.queryEvents(this.experiment, { runs: [target], limit: 1 });
      return any.length ? 'STARTED' : 'PENDING';
    }
    const stops = events.filter((e) => e.event === 'stop');
    return stops.length ? stopStatus(stops[stops.length - 1].value) : 'STARTED';
  }

  async data(query?: EventQuery): Promise<TrackingEvent[]> {
    await this.flush();
    return this.log.queryEvents(this.experiment, await this.resolve(query));
  }

  async *iterate(query?: EventQuery, opts: IterateOptions = {}): AsyncIterable<TrackingEvent[]> {
    await this.flush();
    yield* this.log.iterateEvents(this.experiment, await this.resolve(query), opts.batchSize ?? 10_000);
  }

  async runs(query: EventQuery = {}): Promise<RunInfo[]> {
    await this.flush();
    const resolved = await this.resolve({ run: 'all', ...query, event: ['start', 'stop'] });
    return runsFromEvents(await this.log.queryEvents(this.experiment, resolved));
  }

  async summary(query: EventQuery = {}): Promise<MetricSummary[]> {
    const events = await this.data({ event: 'metric', ...query });
    return summarize(events, await this.runs({ run: query.run ?? 'all' }));
  }

  async restoreArtifacts(query: EventQuery = {}): Promise<unknown[]> {
    const events = await this.data({ event: 'artifact', ...query });
    const out: unknown[] = [];
    for (const e of events) out.push(await decodeArtifact(e.value, this.stores));
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
    await this.writing;
    await deleteExperimentData(this.experiment, this.stores);
  }

  hasPending(): boolean {
    return this.queuedEvents > 0 || this.queue.length > 0;
  }

  async flush(opts: FlushOptions = {}): Promise<void> {
    const work = this.drain();
    if (opts.timeoutMs === undefined) return work;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, opts.timeoutMs).unref()));
    await Promise.race([work, timeout]);
    clearTimeout(timer);
  }

  flushSync(): void {
    if (!this.log.appendEventsSync) return;
    const batches = this.takeQueue();
    // Artifact content is written asynchronously, which the last moment of a process does not
    // allow: such artifacts are dropped (and said so) rather than stored without their content.
    const events = batches.filter((b) => !b.beforeWrite).flatMap((b) => b.events.toEvents());
    const lost = batches.filter((b) => b.beforeWrite).reduce((n, b) => n + b.events.length, 0);
    this.log.appendEventsSync(this.experiment, events);
    if (lost)
      this.onError(
        new Error(
          `${lost} artifact(s) logged just before process.exit() were not stored: await flush() before exiting`,
        ),
        this.experiment,
      );
  }

  async shutdown(opts: FlushOptions = {}): Promise<void> {
    if (this.isShutdown) return;
    await this.stopRuntime();
    await this.flush(opts);
    this.isShutdown = true;
    this.clearTimers();
    forgetOnExit(this);
  }

  protected record(events: PendingEvent[], beforeWrite?: () => Promise<void>): void {
    if (this.isShutdown) return this.dropAfterShutdown();
    const target = this.batchFor(beforeWrite);
    for (const e of events)
      target.events.push(e.run, e.event, e.key, e.value, e.step, e.dt, e.userid, e.extra);
    this.queued(events.length);
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
    this.batchFor(undefined).events.push(run, event, key, value, step, dt, userid, extra);
    this.queued(1);
  }

  /**
   * The batch new events join: the last one, unless content must be written first (an
   * artifact's), which starts a batch of its own so that it lands before its event.
   */
  private batchFor(beforeWrite: (() => Promise<void>) | undefined): QueuedBatch {
    const last = this.queue[this.queue.length - 1];
    if (last && !beforeWrite && !last.beforeWrite) return last;
    const batch: QueuedBatch = { events: new EventColumns(), beforeWrite, attempts: 0 };
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
    if (this.queuedEvents >= this.maxBuffer_) {
      this.immediate ??= setImmediate(() => {
        this.immediate = undefined;
        void this.drain();
      });
    } else if (this.timer === undefined) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        void this.drain();
      }, this.flushIntervalMs_);
      // the timer must not keep a finished program alive: exit hooks write what is left
      this.timer.unref();
    }
  }

  protected encodeArtifact(obj: unknown, name: string): EncodedArtifact {
    return encodeArtifact(obj, name, this.experiment, this.stores);
  }

  /** Resolves a query against this experiment's runs. */
  protected resolve(query?: EventQuery): Promise<ResolvedQuery> {
    return resolveQuery(query, {
      currentRun: this.run_,
      latestRun: () => this.log.latestRun(this.experiment),
    });
  }

  private takeQueue(): QueuedBatch[] {
    const batches = this.queue;
    this.queue = [];
    this.queuedEvents = 0;
    return batches;
  }

  /** Writes everything queued, one writer at a time; on failure the batches go back in front. */
  private drain(): Promise<void> {
    const run = async (): Promise<void> => {
      while (this.queue.length) {
        const batches = this.takeQueue();
        let done = 0;
        try {
          for (const batch of batches) {
            if (batch.beforeWrite) {
              try {
                await batch.beforeWrite();
              } catch (error) {
                // artifact content that cannot be written (a disposed model, an outage that
                // lasts) must not hold up every later event: after a few tries it is given up
                if (++batch.attempts < MAX_CONTENT_ATTEMPTS) throw error;
                this.onError(
                  error,
                  `giving up an artifact of '${this.experiment}' after ${batch.attempts} attempts`,
                );
                done++;
                continue;
              }
              batch.beforeWrite = undefined;
            }
            await this.log.appendEvents(this.experiment, batch.events.toEvents());
            done++;
          }
        } catch (error) {
          const failed = batches.slice(done);
          this.queue = failed.concat(this.queue);
          this.queuedEvents += failed.reduce((n, b) => n + b.events.length, 0);
          this.onError(error, `writing events of '${this.experiment}'`);
          this.scheduleRetry();
          return;
        }
      }
    };
    const previous = this.writing ?? Promise.resolve();
    const next = previous.then(run);
    this.writing = next;
    void next.finally(() => {
      if (this.writing === next) this.writing = undefined;
    });
    return next;
  }

  private scheduleRetry(): void {
    if (this.timer !== undefined || this.isShutdown) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, this.flushIntervalMs_);
    this.timer.unref();
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}
