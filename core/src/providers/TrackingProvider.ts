import type { ErrorHandler } from '../diag/diag';
import { defaultErrorHandler } from '../diag/diag';
import { NoActiveRunError } from '../errors/NoActiveRunError';
import { TrackingError } from '../errors/TrackingError';
import type { ObjectStore } from '../objects/ObjectStore';
import { TrackingInputError } from '../errors/TrackingInputError';
import type { EncodedArtifact } from '../artifacts/ArtifactCodec';
import type { ArtifactSource } from '../artifacts/artifactSources';
import { artifactSourceOf } from '../artifacts/artifactSources';
import { resolveEventTime } from '../events/time';
import type {
  EventOptions,
  EventQuery,
  MetricSummary,
  PendingEvent,
  RunInfo,
  RunQuery,
  RunStatus,
  TrackingEvent,
} from '../events/types';
import { BASE_FIELDS } from '../events/types';
import { decodeValue, encodeValue } from '../events/valueCodec';
import {
  MAX_NAME_LENGTH,
  MAX_TAGS_PER_RUN,
  validateEventName,
  validateExperimentName,
  validateKey,
  validateStep,
  validateEventSize,
  validateValue,
  validateValueLength,
} from '../events/validation';
import type { ProviderContext } from './ProviderContext';
import { NODE_NAME, currentUserId } from './identity';
import { systemInfo } from './systemInfo';
import { runScopeOf, scopedRun, withRunScope } from './runScope';
import type { ScopeStamp } from './runScope';

/** Options of `start()`. */
export interface StartOptions extends RunMetadata {
  /** The run this one is a child of (`run(fn)` inside another run of the experiment sets it). */
  parent?: number;
}

/** A run's name, tags and note, as `start()` and `run(fn, …)` take them. */
export interface RunMetadata {
  /** A name for the run (`runs()` shows it; MLflow's run name). */
  name?: string;
  /** Tags: key → value, validated like params (the latest value per key wins). */
  tags?: Record<string, unknown>;
  /** A free-text note (MLflow's description). */
  note?: string;
}

/** The longest note a run takes (64 KiB of text). */
export const MAX_NOTE_LENGTH = 65_536;

/** Checks a run's name, tags and note before anything is recorded; TrackingInputError when bad. */
export function validateRunMetadata(meta: RunMetadata): void {
  if (meta.name !== undefined && (typeof meta.name !== 'string' || meta.name.length === 0))
    throw new TrackingInputError('a run name is a non-empty text');
  if (meta.name !== undefined) validateKey(meta.name, 'run name');
  if (meta.note !== undefined) {
    if (typeof meta.note !== 'string') throw new TrackingInputError('a run note is a text');
    if (meta.note.length > MAX_NOTE_LENGTH)
      throw new TrackingInputError(
        `a run note is at most ${MAX_NOTE_LENGTH} characters, got ${meta.note.length}`,
      );
  }
  if (meta.tags !== undefined) {
    if (typeof meta.tags !== 'object' || meta.tags === null || Array.isArray(meta.tags))
      throw new TrackingInputError('tags are an object of key: value');
    const keys = Object.keys(meta.tags);
    if (keys.length > MAX_TAGS_PER_RUN)
      throw new TrackingInputError(
        `${keys.length} tags given at once; a run takes at most ${MAX_TAGS_PER_RUN} tag keys (MAX_TAGS_PER_RUN)`,
      );
    for (const key of keys) {
      const value = meta.tags[key];
      validateKey(key, 'tag key');
      validateValue(value, `tag '${key}'`);
      validateValueLength('tag', key, value);
    }
  }
}

/** A deep copy as the value will be read back (JSON, non-finite numbers kept, Dates as text). */
function snapshot(value: object): unknown {
  return decodeValue(encodeValue(value));
}

/**
 * An event value as it is recorded: checked (TrackingInputError if it cannot be stored, or is
 * over MAX_EVENT_VALUE_LENGTH) and, if it is an object, copied — the caller may change the object
 * after logging it. `event` and `key` name it in the error.
 */
function recordedValue(value: unknown, event: string, key: string): unknown {
  if (typeof value === 'number') return value;
  validateValue(value);
  if (typeof value === 'string') validateEventSize(value.length, `the value of ${event} '${key}'`, false);
  if (typeof value !== 'object' || value === null) return value;
  // the copy is made from its JSON text: measured on the way, at no extra cost
  const text = encodeValue(value);
  validateEventSize(text.length, `the value of ${event} '${key}'`, true);
  return decodeValue(text);
}

/** `value` after checking it against the cap of its event (`validateValueLength`). */
function checkedLength(event: string, key: string, value: unknown): unknown {
  validateValueLength(event, key, value);
  return value;
}

/** How many runs a handle remembers its tag keys of (see `tagKeys`). */
const TAGGED_RUNS_KEPT = 256;

/** Options of `stop()`. */
export interface StopOptions {
  status?: 'STOPPED' | 'FAILED';
  /** The error that ended a FAILED run; its message is recorded. */
  error?: unknown;
}

/** Options of `flush()`. */
export interface FlushOptions {
  /** Give up waiting after this long; what is not written stays queued. Default: wait. */
  timeoutMs?: number;
}

/**
 * What `flush()` and `stop()` report: counts of this provider object (since it was created)
 * of events written and dropped, and how many wait still. Events are dropped only when the
 * in-memory queue is at its limit while the store cannot take them; each drop is counted here
 * and said in a diagnostic line, never silent.
 */
export interface FlushResult {
  written: number;
  pending: number;
  dropped: number;
}

/** Options of `iterate()`. */
export interface IterateOptions {
  batchSize?: number;
}

/**
 * The tracking contract. A provider records events (metrics, params, artifacts, …) of one
 * experiment, run by run, and reads them back.
 *
 * Recording calls (`log*`) are synchronous: they validate the input, throw
 * `TrackingInputError` for bad input, and enqueue. They never throw for storage or network
 * failures; those go to the provider's error handler and the events stay queued for retry.
 *
 * A subclass implements the lifecycle, the reading side, and `record()` — where validated
 * events go.
 */
export abstract class TrackingProvider {
  /** The experiment this provider records. */
  readonly experiment: string;
  /** Options from the experiment's configuration. */
  protected readonly options: Record<string, unknown>;
  /** The models store, where `track()` links models to this experiment. */
  private readonly trackedModels: ObjectStore | undefined;
  /** Where recording-time failures go. */
  protected readonly onError: ErrorHandler;
  /** The run recording calls go to; undefined until start(), use() or run(). */
  protected run_: number | undefined;
  /** How many `run(fn)` scopes of this provider are in flight (0: no scope lookup needed). */
  private scopesInFlight = 0;
  private extras: Record<string, unknown> | undefined;
  /** The length of `extras` as JSON text (0 for none), for MAX_EVENT_VALUE_LENGTH. */
  private extrasLength = 0;
  /** Who events are stamped with; `logExtra({ userid })` overrides it (runtime workers do). */
  private userid = currentUserId();
  /**
   * The tag keys this handle set, per run, for MAX_TAGS_PER_RUN: counted here, at the call, since
   * a recording call cannot read the store. Keys other processes set in the same run (a runtime
   * worker, `omega-track tag`) are theirs to count; the run table's readers stay robust to runs
   * wider than the cap (runs written before it, or imported). Only the most recently tagged
   * `TAGGED_RUNS_KEPT` runs are remembered, so a long-lived handle keeps a bounded memory.
   */
  private readonly tagKeys = new Map<number, Set<string>>();

  constructor(experiment: string, context: ProviderContext) {
    this.experiment = validateExperimentName(experiment);
    this.options = context.options;
    this.trackedModels = context.models;
    const handler = context.onError ?? defaultErrorHandler;
    // the handler is called from timers and exit hooks: if it throws, that must go nowhere
    this.onError = (error, ctx) => {
      try {
        handler(error, ctx);
      } catch {
        // a failing error handler is not the training's problem
      }
    };
  }

  /** The run recording calls go to, undefined before start(), use() or run(). */
  get currentRun(): number | undefined {
    return this.scopesInFlight === 0 ? this.run_ : (scopedRun(this) ?? this.run_);
  }

  /**
   * Runs `fn` with `run` as the run of every recording call made inside it (across awaits),
   * whatever other runs this provider starts meanwhile: what `run(fn)` of the proxy uses. With
   * `stamp`, those events also carry its user and extra fields (a runtime task's `taskid`).
   */
  async inRunScope<T>(run: number, fn: () => Promise<T>, stamp?: ScopeStamp): Promise<T> {
    const outer = scopedRun(this);
    this.scopesInFlight++;
    try {
      return await withRunScope(this, run, fn, stamp);
    } finally {
      this.scopesInFlight--;
      // a child run ended: the handle's current run is its parent again, which goes on
      if (outer !== undefined && this.run_ === run) this.run_ = outer;
    }
  }

  /** Starts a new run and records its `start` event; returns the run number. */
  abstract start(opts?: StartOptions): Promise<number>;
  /** Records the `stop` event of the current run and flushes (built-ins resolve with a FlushResult). */
  abstract stop(opts?: StopOptions): Promise<FlushResult | void>;
  /** Joins the latest run if it is STARTED, else starts one; with `run`, uses that run. */
  abstract activeRun(run?: number): Promise<number>;
  /** The status of `run` (default: the current run, else the latest). Changes nothing. */
  abstract status(run?: number): Promise<RunStatus>;
  /** Events matching `query` (SPEC §3), after flushing what is queued. */
  abstract data(query?: EventQuery): Promise<TrackingEvent[]>;
  /** The rows of `data(query)` in batches, never all in memory. */
  abstract iterate(query?: EventQuery, opts?: IterateOptions): AsyncIterable<TrackingEvent[]>;
  /** The experiment's runs with status, times, node and user. */
  abstract runs(query?: RunQuery): Promise<RunInfo[]>;
  /** Statistics per run and key of numeric events (default: `metric`). */
  abstract summary(query?: EventQuery): Promise<MetricSummary[]>;
  /**
   * The artifacts matching `query` (default event `artifact`), restored, in logging order; given
   * rows of `data()` (or `{ value }`, one or a list) instead, those, by format, without a query.
   */
  abstract restoreArtifacts(
    query?: EventQuery | ArtifactSource | readonly ArtifactSource[],
  ): Promise<unknown[]>;
  /** Deletes all events and artifacts of the experiment; requires `{ force: true }`. */
  abstract clear(opts?: { force?: boolean }): Promise<void>;
  /**
   * Writes what is queued. Idempotent; never throws for storage failures: when the store fails,
   * it resolves with what is still pending (retried in the background). Built-ins resolve with
   * a FlushResult.
   */
  abstract flush(opts?: FlushOptions): Promise<FlushResult | void>;
  /** Flushes and releases resources. Idempotent; later recording calls are dropped. */
  abstract shutdown(opts?: FlushOptions): Promise<void>;

  /** Takes validated events (and any writes that must land before them). */
  protected abstract record(events: PendingEvent[], beforeWrite?: () => Promise<void>): void;

  /**
   * Takes one validated event given field by field. The hot path of `logMetric`/`logParam`:
   * providers that queue events may override it to skip building an event object.
   */
  protected recordEvent(
    run: number,
    event: string,
    key: string,
    value: unknown,
    step: number | null,
    dt: number,
    userid: string,
    extra: Record<string, unknown> | undefined,
  ): void {
    this.record([{ run, event, key, value, step, dt, node: NODE_NAME, userid, extra }]);
  }
  /** Serializes an artifact for this provider's storage. */
  protected abstract encodeArtifact(obj: unknown, name: string): EncodedArtifact;

  /** `this` after joining or starting a run (see `activeRun`). */
  async use(run?: number): Promise<this> {
    await this.activeRun(run);
    return this;
  }

  /**
   * A scope that joined `run` without starting it (`impliedRun: false`, a runtime task) is done
   * with it: this process no longer keeps it alive on that scope's behalf. Default: nothing.
   */
  releaseRun(_run: number): void {}

  /**
   * Links the `om.models` entry `model` to this experiment (omega-ml's `exp.track`): runtime tasks
   * on it outside any `exp.run(...)` are then tracked here, each in a run of its own. The link is
   * kept in the model's metadata (`attributes.tracking`: `{ [label]: experiment, experiments }`).
   * Returns the updated attributes' `tracking`.
   */
  async track(model: string, opts: { label?: string } = {}): Promise<Record<string, unknown>> {
    const label = validateKey(opts.label ?? 'default', 'label');
    if (label === 'experiments' || label === 'monitors')
      throw new TrackingInputError(`'${label}' is not a runtime label`);
    if (!this.trackedModels)
      throw new TrackingError(`experiment '${this.experiment}' has no models store to track '${model}' in`);
    const meta = await this.trackedModels.metadata(validateKey(model, 'model'));
    if (!meta) throw new TrackingError(`om.models has no entry '${model}' to track`);
    const previous = (meta.attributes.tracking ?? {}) as Record<string, unknown>;
    const experiments = Array.isArray(previous.experiments) ? (previous.experiments as unknown[]) : [];
    const tracking = {
      ...previous,
      [label]: this.experiment,
      experiments: experiments.includes(this.experiment) ? experiments : [...experiments, this.experiment],
    };
    await this.trackedModels.putMetadata({ ...meta, attributes: { ...meta.attributes, tracking } });
    return tracking;
  }

  /** Called when a run begins in a process (by `run()`, `enter()`, runtime tasks). */
  async startRuntime(): Promise<void> {}

  /** Called when a run ends in a process; flushes. */
  async stopRuntime(): Promise<void> {
    await this.flush();
  }

  /** Settings to persist with the experiment's configuration. */
  settings(): Record<string, unknown> {
    return {};
  }

  /**
   * The last artifact named `name` (matching `query`), undefined when there is none. Given a row
   * of `data()` or `{ value: row.value }` — `restoreArtifact(row)`, `restoreArtifact('X', { value })`
   * — it restores that value by its format, without a query (omega-ml's `value=`). `T` is what
   * the caller knows the artifact to be (`restoreArtifact<Float32Array>('weights')`): not checked.
   */
  async restoreArtifact<T = unknown>(
    name: string | ArtifactSource,
    query: EventQuery | ArtifactSource = {},
  ): Promise<T | undefined> {
    const source = artifactSourceOf(name, query);
    if (source) return (await this.restoreArtifacts([source]))[0] as T | undefined;
    const all = await this.restoreArtifacts({ ...query, key: name as string });
    return all[all.length - 1] as T | undefined;
  }

  /**
   * The values logged with `logData(key, …)`, concatenated: arrays are flattened one level. `T` is
   * the element type the caller knows was logged (`restoreData<number>('losses')`): not checked.
   */
  async restoreData<T = unknown>(key: string, query: EventQuery = {}): Promise<T[]> {
    const values = await this.restoreArtifacts({ event: 'data', ...query, key });
    return values.flatMap((v) =>
      Array.isArray(v) ? v : ArrayBuffer.isView(v) ? Array.from(v as Uint8Array) : [v],
    ) as T[];
  }

  /** Records one event; `start` and `stop` are reserved for the provider (TrackingInputError). */
  logEvent(event: string, key: string, value: unknown, opts?: EventOptions): void {
    const name = validateEventName(event);
    // a tag by another way than setTag counts against the run's tags all the same
    if (name === 'tag') this.recordTags([this.makeEvent(name, key, value, opts)]);
    else this.logOne(name, key, value, opts);
  }

  /**
   * Records a `start` or `stop` event of the current run: the provider's own way past the
   * reserved names that `logEvent` refuses.
   */
  protected logRunEvent(event: 'start' | 'stop', key: string, value: unknown, opts?: EventOptions): void {
    this.logOne(event, key, value, opts);
  }

  /** Records one event per value, all with the same time, step and extras (names as `logEvent`). */
  logEvents(event: string, key: string, values: readonly unknown[], opts?: EventOptions): void {
    validateEventName(event);
    if (!Array.isArray(values)) throw new TrackingInputError('logEvents takes an array of values');
    const template = this.makeEvent(event, key, null, opts);
    const events = values.map((value) => {
      const recorded = recordedValue(value, event, template.key);
      validateValueLength(event, template.key, recorded);
      return { ...template, value: recorded };
    });
    if (event === 'tag') this.recordTags(events);
    else if (events.length) this.record(events);
  }

  /** Records a `metric` event. */
  logMetric(key: string, value: unknown, opts?: EventOptions): void {
    this.logOne('metric', key, value, opts);
  }

  /** Records one `metric` event per entry of `record`. */
  logMetrics(record: Record<string, unknown>, opts?: EventOptions): void {
    this.record(this.makeEvents('metric', record, opts));
  }

  /** Names the current run (event `name`; the latest name wins). */
  setName(name: string): void {
    if (typeof name !== 'string') throw new TrackingInputError('a run name is a non-empty text');
    validateRunMetadata({ name });
    this.logOne('name', 'name', name, undefined);
  }

  /** Sets one tag of the current run (event `tag`, key = the tag; the latest value wins). */
  setTag(key: string, value: unknown): void {
    validateRunMetadata({ tags: { [key]: value } });
    this.recordTags([this.makeEvent('tag', key, value)]);
  }

  /** Sets tags of the current run, all or none. */
  setTags(tags: Record<string, unknown>): void {
    validateRunMetadata({ tags });
    this.recordTags(Object.keys(tags).map((k) => this.makeEvent('tag', k, tags[k])));
  }

  /** Sets the note of the current run (event `note`; the latest note wins). */
  setNote(note: string): void {
    if (typeof note !== 'string') throw new TrackingInputError('a run note is a text');
    validateRunMetadata({ note });
    this.logOne('note', 'note', note, undefined);
  }

  /**
   * Records the name, tags and note given to `start()` in `run` (not the current run of a scope:
   * a child run's metadata must not land in its parent).
   */
  protected logRunMetadata(run: number, meta: RunMetadata): void {
    const events: PendingEvent[] = [];
    const add = (event: string, key: string, value: unknown): void => {
      const e = this.makeEventIn(run, event, key, value);
      events.push(e);
    };
    if (meta.name !== undefined) add('name', 'name', meta.name);
    for (const [key, value] of Object.entries(meta.tags ?? {})) add('tag', key, value);
    if (meta.note !== undefined) add('note', 'note', meta.note);
    this.recordTags(events);
  }

  /**
   * Records events among which are `tag` events, once each run they go to has room for their
   * keys (MAX_TAGS_PER_RUN): all of them, or none and a TrackingInputError.
   */
  private recordTags(events: PendingEvent[]): void {
    let added: Map<number, Set<string>> | undefined;
    for (const e of events) {
      if (e.event !== 'tag' || this.tagKeys.get(e.run)?.has(e.key)) continue;
      added ??= new Map();
      let keys = added.get(e.run);
      if (!keys) added.set(e.run, (keys = new Set()));
      keys.add(e.key);
    }
    for (const [run, keys] of added ?? []) {
      const known = this.tagKeys.get(run)?.size ?? 0;
      if (known + keys.size > MAX_TAGS_PER_RUN)
        throw new TrackingInputError(
          `run ${run} of '${this.experiment}' would have ${known + keys.size} tag keys; a run takes at most ` +
            `${MAX_TAGS_PER_RUN} (MAX_TAGS_PER_RUN): tags label a run, bulk data goes to logData or an artifact`,
        );
    }
    for (const [run, keys] of added ?? []) {
      const known = this.tagKeys.get(run) ?? new Set<string>();
      for (const k of keys) known.add(k);
      // the most recently tagged runs are kept, the longest untagged forgotten
      this.tagKeys.delete(run);
      this.tagKeys.set(run, known);
      if (this.tagKeys.size > TAGGED_RUNS_KEPT) this.tagKeys.delete(this.tagKeys.keys().next().value!);
    }
    if (events.length) this.record(events);
  }

  /**
   * Deletes run `run`: its events, and the content its artifacts stored. Requires
   * `{ force: true }`; the run number is never given out again. Providers that keep runs
   * somewhere they cannot delete from say so with a TrackingError.
   */
  async deleteRun(run: number, opts: { force?: boolean } = {}): Promise<boolean> {
    checkDeleteRun(this.experiment, run, opts);
    throw new TrackingError(
      `the '${this.constructor.name}' provider of '${this.experiment}' cannot delete runs`,
    );
  }

  /** Records a `param` event. */
  logParam(key: string, value: unknown, opts?: EventOptions): void {
    this.logOne('param', key, value, opts);
  }

  /** Records one `param` event per entry of `record`. */
  logParams(record: Record<string, unknown>, opts?: EventOptions): void {
    this.record(this.makeEvents('param', record, opts));
  }

  /** Records an `artifact` event; the object is stored in the format SPEC §4 chooses. */
  logArtifact(obj: unknown, name: string, opts?: EventOptions): void {
    this.logObject('artifact', obj, name, opts);
  }

  /** Records a `data` event (an artifact read back with `restoreData`). */
  logData(key: string, value: unknown, opts?: EventOptions): void {
    this.logObject('data', value, key, opts);
  }

  /** Records a `system` event: platform, Node and V8 versions, packages (or the given value). */
  logSystem(key = 'system', value?: unknown, opts?: EventOptions): void {
    this.logEvent('system', key, value === undefined ? systemInfo() : value, opts);
  }

  /** Fields stamped on every later event (`userid` replaces the user); `null` clears them. */
  logExtra(fields: Record<string, unknown> | null): void {
    if (fields === null) {
      this.extras = undefined;
      this.extrasLength = 0;
      this.userid = currentUserId();
      return;
    }
    const { userid, ...rest } = fields;
    // everything is checked before anything changes: refused fields leave the last ones in place
    const user = userid === undefined ? undefined : validateKey(userid, 'userid');
    this.checkExtras(rest);
    if (Object.keys(rest).length || this.extras) {
      const extras = { ...this.extras, ...(snapshot(rest) as object) };
      // they are stamped on every later event: measured here, once, not per event
      const length = encodeValue(extras).length;
      validateEventSize(length, 'the extra fields of logExtra', true);
      this.extras = extras;
      this.extrasLength = length;
    }
    if (user !== undefined) this.userid = user;
  }

  /**
   * One event: a number under a plain key with at most a step is checked inline (the common
   * case in a training loop); anything else goes through the full validation of makeEvent.
   */
  private logOne(event: string, key: string, value: unknown, opts: EventOptions | undefined): void {
    if (
      typeof value === 'number' &&
      typeof key === 'string' &&
      key.length !== 0 &&
      key.length <= MAX_NAME_LENGTH &&
      key.indexOf('\0') === -1 &&
      (opts === undefined || (typeof opts === 'number' && Number.isSafeInteger(opts))) &&
      event.length !== 0 &&
      event.length <= MAX_NAME_LENGTH
    ) {
      if (this.scopesInFlight === 0) {
        if (this.run_ !== undefined) {
          this.recordEvent(this.run_, event, key, value, opts ?? null, Date.now(), this.userid, this.extras);
          return;
        }
      } else {
        const scope = runScopeOf(this);
        const run = scope?.run ?? this.run_;
        if (run !== undefined) {
          const stamp = scope?.stamp;
          const userid = stamp?.userid ?? this.userid;
          const extra = stamp?.extra ? { ...this.extras, ...stamp.extra } : this.extras;
          this.recordEvent(run, event, key, value, opts ?? null, Date.now(), userid, extra);
          return;
        }
      }
    }
    const e = this.makeEvent(event, key, value, opts);
    this.recordEvent(e.run, e.event, e.key, e.value, e.step, e.dt, e.userid, e.extra);
  }

  private logObject(event: string, obj: unknown, name: string, opts?: EventOptions): void {
    const template = this.makeEvent(event, name, null, opts);
    const encoded = this.encodeArtifact(obj, name);
    template.value = encoded.value;
    this.record([template], encoded.write);
  }

  private makeEvents(event: string, record: Record<string, unknown>, opts?: EventOptions): PendingEvent[] {
    if (typeof record !== 'object' || record === null || Array.isArray(record))
      throw new TrackingInputError(
        `log${event === 'metric' ? 'Metrics' : 'Params'} takes an object of key: value`,
      );
    const keys = Object.keys(record);
    // validate everything before recording anything: all or none
    return keys.map((k) => this.makeEvent(event, k, record[k], opts));
  }

  /** makeEvent for a given run, whatever run the current scope records to. */
  private makeEventIn(run: number, event: string, key: string, value: unknown): PendingEvent {
    const scope = this.scopesInFlight === 0 ? undefined : runScopeOf(this);
    const stamp = scope?.stamp;
    const extra = stamp?.extra ? { ...this.extras, ...stamp.extra } : this.extras;
    return {
      run,
      event,
      key: validateKey(key),
      value: checkedLength(event, key, recordedValue(value, event, key)),
      step: null,
      dt: Date.now(),
      node: NODE_NAME,
      userid: stamp?.userid ?? this.userid,
      extra,
    };
  }

  /** Validates one event and builds it; throws TrackingInputError, NoActiveRunError. */
  protected makeEvent(event: string, key: string, value: unknown, opts?: EventOptions): PendingEvent {
    validateKey(event, 'event');
    // no key at all means the event name (start, stop); an empty string is a mistake
    key = validateKey(key === undefined || key === null ? event : key);
    value = recordedValue(value, event, key);
    validateValueLength(event, key, value);
    let step: number | null = null;
    let dt: number;
    let extra: Record<string, unknown> | undefined;
    if (opts === undefined || opts === null) dt = Date.now();
    else if (typeof opts === 'number') {
      step = validateStep(opts);
      dt = Date.now();
    } else if (typeof opts === 'object') {
      const { step: s, dt: d, ...rest } = opts;
      step = validateStep(s);
      dt = resolveEventTime(d);
      if (Object.keys(rest).length) {
        this.checkExtras(rest);
        const text = encodeValue(rest);
        // with logExtra's fields (measured once, when they were set) they are one event's extras
        validateEventSize(text.length + this.extrasLength, `the extra fields of ${event} '${key}'`, true);
        extra = decodeValue(text) as Record<string, unknown>;
      }
    } else throw new TrackingInputError(`options must be a step number or an object, got ${typeof opts}`);
    const scope = this.scopesInFlight === 0 ? undefined : runScopeOf(this);
    const run = scope?.run ?? this.run_;
    if (run === undefined) throw new NoActiveRunError(this.experiment);
    const stamp = scope?.stamp;
    const defaults = stamp?.extra ? { ...this.extras, ...stamp.extra } : this.extras;
    if (defaults) extra = extra ? { ...defaults, ...extra } : defaults;
    return { run, event, key, value, step, dt, node: NODE_NAME, userid: stamp?.userid ?? this.userid, extra };
  }

  private checkExtras(fields: Record<string, unknown>): void {
    if (typeof fields !== 'object' || Array.isArray(fields))
      throw new TrackingInputError('extra fields must be an object of name: value');
    for (const [name, value] of Object.entries(fields)) {
      validateKey(name, 'extra field name');
      if (BASE_FIELDS.has(name))
        throw new TrackingInputError(`extra field '${name}' collides with the base event field of that name`);
      validateValue(value, `extra field '${name}'`);
    }
  }
}

/** The checks every `deleteRun` makes first: `{ force: true }` and a run number. */
export function checkDeleteRun(experiment: string, run: unknown, opts: { force?: boolean }): void {
  if (typeof run !== 'number' || !Number.isSafeInteger(run) || run < 1)
    throw new TrackingInputError(`deleteRun takes a run number of at least 1, got ${String(run)}`);
  if (opts?.force !== true)
    throw new TrackingInputError(
      `deleting run ${run} of '${experiment}' removes its events and artifacts: pass { force: true }`,
    );
}
