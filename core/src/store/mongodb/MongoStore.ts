import { compareCodePoints } from '../keyRange';
import crypto from 'node:crypto';
import { finished } from 'node:stream/promises';
import type {
  AnyBulkWriteOperation,
  Collection,
  Db,
  Document,
  FindOptions,
  GridFSBucket,
  MongoClient,
  ObjectId,
} from 'mongodb';
import { diag, redactUrls } from '../../diag/diag';
import { StoreError } from '../../errors/StoreError';
import type { TrackingError } from '../../errors/TrackingError';
import { TrackingInputError } from '../../errors/TrackingInputError';
import type { EventColumnBatch, PendingEvent, ResolvedQuery, TrackingEvent } from '../../events/types';
import type { RunFilter } from '../../filter/runFilter';
import { encodeChunks } from '../chunks/EventChunk';
import type { RunStatsRow } from '../chunks/runStats';
import { flushOnExit, forgetOnExit } from '../../process/exitFlush';
import { FailedBatches } from '../failedBatches';
import type { ExitFlushable } from '../../process/exitFlush';
import type { Bucket, MetadataEntry, RunLiveness, Store, WriteId } from '../Store';
import { checkWriteId, isSameWrite, writeIdConflict } from '../writeIds';
import type { RecordedWrite, WriteKind } from '../writeIds';
import type { MongodbModule } from './loadMongodb';
import { loadMongodb } from './loadMongodb';
import type { EntryDoc, EventDoc, StatsDoc } from './mongoDocuments';
import {
  COLUMN_PROJECTION,
  EventIds,
  columnBatch,
  combineDeltas,
  entryFromDoc,
  entryUpdate,
  eventDoc,
  eventFromDoc,
  statsRow,
  statsUpdate,
} from './mongoDocuments';
import { isDuplicateKey, isTransient, toMongoStoreError } from './mongoErrors';
import { runExitWrite } from './mongoExitWrite';
import { eventFilter, eventFindOptions, prefixRange, runFilterConditions } from './mongoQuery';
import type { MongoFilter } from './mongoQuery';
import { BLOB_BUCKET, COLLECTIONS, EVENT_INDEXES, SHARED_INDEXES, eventsCollectionName } from './mongoSchema';
import type { IndexSpec } from './mongoSchema';
import type { MongoUrl } from './mongoUrl';
import { mongoClientOptions, parseMongoUrl, scrubSecrets, serverSelectionTimeoutMs } from './mongoUrl';

/** Options of the MongoDB store. */
export interface MongoStoreOptions {
  /**
   * Whether a missing store may be created (default true). Reading code passes false (the
   * CLI's read-only commands): a database that holds no store is then a StoreError
   * `not-found` at the first operation, not an empty store.
   */
  create?: boolean;
}

/** A write that failed: its documents keep their ids for the provider's retry of the same events. */
interface FailedBatch {
  docs: EventDoc[];
  batchId: string;
}

/** A write under way: what the exit hook writes again if the process exits before it ends. */
interface InFlight {
  experiment: string;
  events: readonly PendingEvent[];
  docs: EventDoc[];
  batchId: string;
  settled: Promise<void>;
}

/** How long an exit write may take beyond the server selection timeout: the child's start and the writes. */
const EXIT_WRITE_EXTRA_MS = 10_000;

/** How often startRun tries to write the start event of a run number it has taken. */
const START_ATTEMPTS = 3;

/** Index specs that differ from what the server holds: said once, then used as they are. */
const INDEX_CONFLICT_CODES = new Set([85, 86]);

/** Events per batch of queryColumns (as many as a chunk of the embedded store holds). */
const COLUMN_BATCH = 4096;

/**
 * A claimed write id. MongoDB without a replica set has no transaction that spans the claim and
 * the write, so the claim is a document of its own: inserted `pending` before the write (its
 * `_id`, the id, is unique, so a second claim of it fails), made `done` after it, and removed when
 * the write fails (see #claimed).
 */
interface WriteIdDoc extends RecordedWrite {
  _id: string;
  state: 'pending' | 'done';
  at: number;
}

/**
 * A `pending` claim older than this is taken as left by a process that died while writing: a
 * repeat of the write takes it over and writes again (the events of the dead attempt that were
 * stored, if any, are then stored twice — the price of no transaction; see WriteIdDoc).
 */
const STALE_CLAIM_MS = 120_000;

interface CounterDoc {
  _id: string;
  run: number;
}

interface BeatDoc {
  experiment: string;
  run: number;
  owner: string;
  beat: number;
  intervalMs: number;
}

interface BlobFileDoc {
  _id: ObjectId;
  filename: string;
  uploadDate: Date;
  length: number;
}

function checkText(value: unknown, what: string): string {
  if (typeof value !== 'string' || value === '')
    throw new TrackingInputError(`${what} must be a non-empty string, got ${typeof value}`);
  return value;
}

function checkBucket(bucket: unknown): Bucket {
  if (bucket !== 'models' && bucket !== 'datasets' && bucket !== 'system' && bucket !== 'views')
    throw new TrackingInputError(
      `bucket must be 'models', 'datasets', 'system' or 'views', got ${String(bucket)}`,
    );
  return bucket;
}

function checkRun(run: unknown): number {
  if (typeof run !== 'number' || !Number.isSafeInteger(run))
    throw new TrackingInputError(`run must be an integer, got ${String(run)}`);
  return run;
}

function writeErrorsOf(error: unknown): Array<{ code?: unknown; index?: number }> {
  const list = (error as { writeErrors?: unknown }).writeErrors;
  return (Array.isArray(list) ? list : list ? [list] : []) as Array<{ code?: unknown; index?: number }>;
}

/** Whether a bulk write failed only on duplicate keys (what an earlier attempt already wrote). */
function onlyDuplicates(error: unknown): boolean {
  const e = error as {
    name?: unknown;
    writeConcernError?: unknown;
    err?: unknown;
    result?: { getWriteConcernError?: () => unknown };
  };
  // a write-concern error beside the duplicates (e.g. wtimeout) lives only in the result
  if (e?.name !== 'MongoBulkWriteError' || e.writeConcernError || e.err || e.result?.getWriteConcernError?.())
    return false;
  const errors = writeErrorsOf(error);
  return errors.length > 0 && errors.every(isDuplicateKey);
}

// not unref'd: a caller awaiting startRun must not see its process end between two attempts
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The store for many machines, on MongoDB through the official driver (loaded when a
 * `mongodb://` or `mongodb+srv://` store is opened). What lives where (see mongoSchema):
 * metadata entries in `omega.entries`; events one document per event in a collection per
 * experiment, `omega..experiments/<name>`; run numbers in `omega.counters` (`$inc`-like upsert,
 * atomic across machines); run aggregates in `omega.runstats`, folded in as events are written;
 * heartbeats in `omega.heartbeats`; blobs in the GridFS bucket `omega.blobs`.
 *
 * One document per event, rather than packed chunks as the embedded store keeps them: MongoDB
 * then filters, sorts and pages on the server with indexes (a query reads what it returns, not
 * whole chunks), the documents read well in any MongoDB tool, as omega-ml's did, and an event
 * written twice by a retry is refused by its `_id` instead of being stored again.
 *
 * Construction does no I/O: the driver connects on the first operation, and a server that does
 * not answer fails that operation with a StoreError within serverSelectionTimeoutMS (5 s unless
 * the URL sets it). The password never appears in `url`, in messages or in errors.
 */
export class MongoStore implements Store, ExitFlushable {
  /** The URL, password hidden. */
  readonly url: string;
  /** The database the store lives in (the URL's, else `omega`). */
  readonly database: string;
  readonly #url: MongoUrl;
  readonly #mongo: MongodbModule;
  readonly #client: MongoClient;
  readonly #db: Db;
  readonly #timeoutMs: number;
  readonly #create: boolean;
  readonly #ids: EventIds;
  /** Index creation per collection, once per process (again for events at each new run). */
  readonly #indexed = new Map<string, Promise<void>>();
  /** Writes under way (see flushSync). */
  readonly #inFlight = new Set<InFlight>();
  /** The last failed writes of each experiment (see FailedBatch). */
  readonly #failed = new FailedBatches<FailedBatch>();
  /** Experiments whose run counter this process has seen (no seeding from start events needed). */
  readonly #counted = new Set<string>();
  #bucket: GridFSBucket | undefined;
  #closed = false;
  /** Reading code's check that the database holds a store (see MongoStoreOptions.create). */
  #found: Promise<void> | undefined;

  /** @param url a `mongodb://` or `mongodb+srv://` URL; TLS, auth and replica-set options pass through */
  constructor(url: string, opts: MongoStoreOptions = {}) {
    this.#url = parseMongoUrl(url);
    this.url = this.#url.display;
    this.database = this.#url.database;
    this.#timeoutMs = serverSelectionTimeoutMs(this.#url);
    this.#create = opts.create ?? true;
    this.#mongo = loadMongodb();
    try {
      this.#client = new this.#mongo.MongoClient(url, mongoClientOptions(this.#url));
      this.#db = this.#client.db(this.database);
    } catch (error) {
      // the driver reads the URL here: whatever it refuses is a URL that cannot be used
      const reason = redactUrls(
        scrubSecrets(error instanceof Error ? error.message : String(error), this.#url),
      );
      throw new StoreError(
        'invalid-url',
        this.url,
        `store URL '${this.url}' cannot be used (${reason}): see https://www.mongodb.com/docs/manual/reference/connection-string/`,
      );
    }
    this.#ids = new EventIds(this.#mongo.ObjectId, (n) => crypto.randomBytes(n));
    // writes under way when the process exits are written again from the exit hook
    flushOnExit(this);
  }

  #error(error: unknown, doing: string, write: boolean): TrackingError {
    return toMongoStoreError(error, this.#url, doing, { write, timeoutMs: this.#timeoutMs });
  }

  /** Runs one operation, its driver errors as StoreErrors naming the store and what was done. */
  async #op<T>(doing: string, write: boolean, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) throw new StoreError('io', this.url, `store ${this.url} is closed`);
    try {
      await this.#connect();
      if (!this.#create) await this.#exists();
      return await fn();
    } catch (error) {
      throw this.#error(error, doing, write);
    }
  }

  /**
   * Connects (at once when connected). The driver would connect by itself on the first
   * operation, but a first connection that fails leaves its client closed for good; connecting
   * here each time makes an operation after an outage connect anew, so a store that was down
   * when the process started is used once it is up.
   */
  #connect(): Promise<unknown> {
    return this.#client.connect();
  }

  /**
   * Reading code must not read an empty database as an empty store: a mistyped database name
   * in the URL is a StoreError `not-found`, as a mistyped file of the embedded store is.
   */
  #exists(): Promise<void> {
    this.#found ??= this.#db
      .listCollections({ name: COLLECTIONS.entries }, { nameOnly: true })
      .toArray()
      .then((found) => {
        if (found.length === 0)
          throw new StoreError(
            'not-found',
            this.url,
            `no omega-track store in database '${this.database}' at ${this.url}; check the database name in the URL (OMEGA_STORE or --store)`,
          );
      })
      .catch((error: unknown) => {
        this.#found = undefined;
        throw error;
      });
    return this.#found;
  }

  #collection<T extends Document = Document>(name: string): Collection<T> {
    return this.#db.collection<T>(name);
  }

  #events(experiment: string): Collection<EventDoc> {
    return this.#collection<EventDoc>(
      eventsCollectionName(this.database, checkText(experiment, 'experiment')),
    );
  }

  /**
   * Creates a collection's indexes (once per process), one call per index: an index that
   * differs on the server (made by hand, or by another version) is said once and left as it
   * is, and does not keep the others from being made.
   */
  #index(name: string, specs: readonly IndexSpec[]): Promise<void> {
    let done = this.#indexed.get(name);
    if (!done) {
      const collection = this.#collection(name);
      const conflicts: string[] = [];
      done = Promise.all(
        specs.map(({ key, ...options }) =>
          collection.createIndex(key, options).then(
            () => undefined,
            (error: unknown) => {
              const code = (error as { code?: unknown }).code;
              if (typeof code === 'number' && INDEX_CONFLICT_CODES.has(code)) conflicts.push(options.name);
              else throw error;
            },
          ),
        ),
      ).then(
        () => {
          if (conflicts.length)
            diag(
              `store ${this.url}: ${name} has indexes that differ from omega-track's (${conflicts.sort().join(', ')}); they are used as they are`,
            );
        },
        (error: unknown) => {
          this.#indexed.delete(name);
          throw error;
        },
      );
      this.#indexed.set(name, done);
    }
    return done;
  }

  #shared(name: keyof typeof COLLECTIONS): Promise<void> {
    const collection = COLLECTIONS[name];
    return this.#index(collection, SHARED_INDEXES[collection] ?? []);
  }

  // ---------------------------------------------------------------- metadata entries

  async putEntry(bucket: Bucket, entry: MetadataEntry): Promise<void> {
    checkBucket(bucket);
    const name = checkText(entry?.name, 'entry name');
    await this.#op(`saving '${name}'`, true, async () => {
      await this.#shared('entries');
      const entries = this.#collection<EntryDoc>(COLLECTIONS.entries);
      const write = (): Promise<unknown> =>
        entries.updateOne({ bucket, name }, entryUpdate(entry), { upsert: true });
      // two first writes of one name at once: the one that lost the insert updates instead
      await write().catch((error: unknown) => {
        if (isDuplicateKey(error)) return write();
        throw error;
      });
    });
  }

  async getEntry(bucket: Bucket, name: string): Promise<MetadataEntry | undefined> {
    checkBucket(bucket);
    checkText(name, 'entry name');
    return this.#op(`reading '${name}'`, false, async () => {
      const doc = await this.#collection<EntryDoc>(COLLECTIONS.entries).findOne({ bucket, name });
      return doc ? entryFromDoc(doc) : undefined;
    });
  }

  async listEntries(bucket: Bucket, prefix = ''): Promise<MetadataEntry[]> {
    checkBucket(bucket);
    const range = prefixRange('name', prefix);
    return this.#op('listing entries', false, async () => {
      // names compare by their UTF-8 bytes, as the embedded store sorts them
      const docs = await this.#collection<EntryDoc>(COLLECTIONS.entries)
        .find({ bucket, ...range }, { sort: { name: 1 } })
        .toArray();
      return docs.map(entryFromDoc);
    });
  }

  async deleteEntry(bucket: Bucket, name: string): Promise<boolean> {
    checkBucket(bucket);
    checkText(name, 'entry name');
    return this.#op(`deleting '${name}'`, true, async () => {
      const result = await this.#collection<EntryDoc>(COLLECTIONS.entries).deleteOne({ bucket, name });
      return result.deletedCount > 0;
    });
  }

  // ---------------------------------------------------------------- runs and events

  async startRun(
    experiment: string,
    start: Omit<PendingEvent, 'run'>,
    atLeast = 1,
    writeId?: WriteId,
  ): Promise<number> {
    this.#events(experiment);
    if (!Number.isSafeInteger(atLeast) || atLeast < 1)
      throw new TrackingInputError(`atLeast must be a positive integer, got ${String(atLeast)}`);
    const id = checkWriteId(writeId);
    if (!id) return this.#startRun(experiment, start, atLeast);
    const recorded = await this.#claim(experiment, 'start', id);
    if (recorded) return recorded.run!;
    return this.#claimed(
      id,
      () => this.#startRun(experiment, start, atLeast),
      (run) => run,
    );
  }

  async #startRun(experiment: string, start: Omit<PendingEvent, 'run'>, atLeast: number): Promise<number> {
    const events = this.#events(experiment);
    const run = await this.#op(`starting a run of '${experiment}'`, true, async () => {
      // a new run checks the indexes again: an experiment dropped meanwhile by another process
      // is created anew by the next write, without them
      this.#indexed.delete(events.collectionName);
      await this.#index(events.collectionName, EVENT_INDEXES);
      await this.#shared('stats');
      const counters = this.#collection<CounterDoc>(COLLECTIONS.counters);
      let floor = atLeast;
      if (!this.#counted.has(experiment) && !(await counters.findOne({ _id: experiment }))) {
        // no counter but events (written without one, or the counter was lost): number after them
        const latest = await events
          .find({ event: 'start' }, { sort: { run: -1 }, limit: 1, projection: { run: 1 } })
          .next();
        if (latest) floor = Math.max(floor, latest.run + 1);
      }
      // one atomic step on the server: the next number, at least `floor`, whoever else asks
      const next = (): Promise<CounterDoc | null> =>
        counters.findOneAndUpdate(
          { _id: experiment },
          [{ $set: { run: { $max: [{ $add: [{ $ifNull: ['$run', 0] }, 1] }, { $literal: floor }] } } }],
          { upsert: true, returnDocument: 'after' },
        );
      const doc = await next().catch((error: unknown) => {
        // the first run of an experiment, asked for twice at once: the loser of the insert updates
        if (isDuplicateKey(error)) return next();
        throw error;
      });
      if (!doc || typeof doc.run !== 'number') throw new Error('the run counter gave no number');
      this.#counted.add(experiment);
      return doc.run;
    });
    const doing = `writing the start of run ${run} of '${experiment}'`;
    // the number is taken: its start event is written, retried on a passing failure with the
    // same ids (never twice), so the run does not stay without one
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#write(experiment, [{ ...start, run }], doing);
        return run;
      } catch (error) {
        const cause = (error as { cause?: unknown }).cause;
        if (attempt >= START_ATTEMPTS || !isTransient(cause)) throw error;
        await sleep(100 * 2 ** attempt);
      }
    }
  }

  async appendEvents(
    experiment: string,
    events: readonly PendingEvent[],
    writeId?: WriteId,
  ): Promise<void | { duplicate: true }> {
    const collection = this.#events(experiment);
    const id = checkWriteId(writeId);
    // an empty write with an id is still recorded: its id is taken from then on
    if (!events.length && !id) return;
    const write = async (): Promise<void> => {
      if (!events.length) return;
      await this.#write(experiment, events, `writing events of '${experiment}'`, async () => {
        await this.#index(collection.collectionName, EVENT_INDEXES);
        await this.#shared('stats');
      });
    };
    if (!id) return write();
    if (await this.#claim(experiment, 'append', id)) return { duplicate: true };
    await this.#claimed(id, write, () => null);
  }

  /**
   * Claims a write id before its write (see WriteIdDoc): undefined when it is new (now claimed
   * `pending`), else the finished write it names again. A claim of another write is a StoreError
   * `conflict`; a pending one is a StoreError `locked` (the same write is under way elsewhere:
   * retried later, it finds it done), unless it is stale, when it is taken over.
   */
  async #claim(experiment: string, kind: WriteKind, id: WriteId): Promise<RecordedWrite | undefined> {
    return this.#op(`recording write id '${id.id}'`, true, async () => {
      const ids = this.#collection<WriteIdDoc>(COLLECTIONS.writeIds);
      const doc: WriteIdDoc = {
        _id: id.id,
        experiment,
        kind,
        digest: id.digest,
        run: null,
        state: 'pending',
        at: Date.now(),
      };
      for (;;) {
        try {
          await ids.insertOne(doc);
          return undefined;
        } catch (error) {
          if (!isDuplicateKey(error)) throw error;
        }
        const found = await ids.findOne({ _id: id.id });
        if (!found) continue; // released meanwhile: claim it again
        if (!isSameWrite(found, experiment, kind, id.digest)) throw writeIdConflict(this.url, id.id);
        if (found.state === 'done') return found;
        if (Date.now() - found.at < STALE_CLAIM_MS)
          throw new StoreError(
            'locked',
            this.url,
            `store ${this.url}: the write of id '${id.id}' is under way in another process; try again later`,
          );
        // taken over only if nobody took it over in between (the same `at` as read)
        const taken = await ids.updateOne(
          { _id: id.id, state: 'pending', at: found.at },
          { $set: { at: doc.at } },
        );
        if (taken.modifiedCount === 1) return undefined;
      }
    });
  }

  /**
   * Runs the write of a claimed id: the claim is made `done` (with the run, for a start) when it
   * is stored, and removed when it fails, so that the write can be sent again.
   */
  async #claimed<T>(id: WriteId, write: () => Promise<T>, runOf: (result: T) => number | null): Promise<T> {
    const ids = this.#collection<WriteIdDoc>(COLLECTIONS.writeIds);
    let result: T;
    try {
      result = await write();
    } catch (error) {
      await ids.deleteOne({ _id: id.id, state: 'pending' }).catch(() => undefined);
      throw error;
    }
    await this.#op(`recording write id '${id.id}'`, true, () =>
      ids.updateOne({ _id: id.id }, { $set: { state: 'done', run: runOf(result) } }),
    );
    return result;
  }

  /**
   * Writes events and folds them into the run aggregates. Unordered inserts with ids made
   * here: when a write fails part way (not primary, network, timeout), the provider writes the
   * same events again; they get the same ids (FailedBatch), so what the first attempt wrote is
   * refused as a duplicate and nothing is stored twice, and the aggregates skip a batch they
   * already folded in (its id is in `applied`).
   */
  async #write(
    experiment: string,
    events: readonly PendingEvent[],
    doing: string,
    before?: () => Promise<void>,
  ): Promise<void> {
    const collection = this.#events(experiment);
    const batch = this.#failed.find(experiment, events);
    const docs = batch?.docs ?? events.map((e) => eventDoc(this.#ids.next(), e));
    const batchId = batch?.batchId ?? docs[0]._id.toHexString();
    // under way from now on (connecting included): the exit hook writes it again if need be
    let settle = (): void => undefined;
    const flight: InFlight = {
      experiment,
      events,
      docs,
      batchId,
      settled: new Promise<void>((resolve) => (settle = resolve)),
    };
    this.#inFlight.add(flight);
    try {
      await this.#op(doing, true, async () => {
        await before?.();
        try {
          await collection.insertMany(docs, { ordered: false });
        } catch (error) {
          if (!onlyDuplicates(error)) throw error;
        }
        await this.#foldStats(experiment, events, batchId);
      });
      if (batch) this.#failed.forget(experiment, batch);
    } catch (error) {
      if (!batch) {
        // other writes of the experiment (a start, another handle's batch) keep their own
        this.#failed.remember(experiment, events, { docs, batchId });
      }
      throw error;
    } finally {
      this.#inFlight.delete(flight);
      settle();
    }
  }

  /** The upserts that fold a batch into its runs' aggregates: one per run, event name and key. */
  #statsOps(
    experiment: string,
    events: readonly PendingEvent[],
    batchId: string,
  ): AnyBulkWriteOperation<StatsDoc>[] {
    // the embedded store's own packing computes what a batch adds: the two stores agree on it
    const deltas = combineDeltas(
      encodeChunks(events).flatMap((c) => c.stats.map((d) => ({ ...d, run: c.run }))),
    );
    return deltas.map((d) => ({
      updateOne: {
        filter: { experiment, run: d.run, event: d.event, key: d.key, applied: { $ne: batchId } },
        update: statsUpdate(d, batchId),
        upsert: true,
      },
    }));
  }

  /** Folds a batch into its runs' aggregates. */
  async #foldStats(experiment: string, events: readonly PendingEvent[], batchId: string): Promise<void> {
    const ops = this.#statsOps(experiment, events, batchId);
    if (!ops.length) return;
    const stats = this.#collection<StatsDoc>(COLLECTIONS.stats);
    try {
      await stats.bulkWrite(ops, { ordered: false });
    } catch (error) {
      if (!onlyDuplicates(error)) throw error;
      // a duplicate is an aggregate that holds this batch already (the filter left it out, the
      // upsert then collided), or another writer's insert of a new one won: updating those
      // without upsert folds the batch in where it is missing, and nowhere twice
      const again = writeErrorsOf(error)
        .map((w) => (typeof w.index === 'number' ? ops[w.index] : undefined))
        .filter((op): op is AnyBulkWriteOperation<StatsDoc> => op !== undefined && 'updateOne' in op)
        .map((op) => {
          const { updateOne } = op as { updateOne: { filter: unknown; update: unknown } };
          return { updateOne: { ...updateOne, upsert: false } } as AnyBulkWriteOperation<StatsDoc>;
        });
      if (again.length) await stats.bulkWrite(again, { ordered: false });
    }
  }

  /**
   * The last writes of an exiting process, where no promise settles: written by a short-lived
   * child process this one waits for (see mongoExitWrite), within the selection timeout and
   * some seconds more. The events get ids of this process, so a write the provider made of
   * them before (a failed batch) is not stored twice.
   */
  appendEventsSync(experiment: string, events: readonly PendingEvent[]): void {
    this.#events(experiment);
    if (!events.length) return;
    if (this.#closed) throw new StoreError('io', this.url, `store ${this.url} is closed`);
    const failed = this.#failed.find(experiment, events);
    const docs = failed?.docs ?? events.map((e) => eventDoc(this.#ids.next(), e));
    this.#exitWrite(experiment, events, docs, failed?.batchId ?? docs[0]._id.toHexString());
    if (failed) this.#failed.forget(experiment, failed);
  }

  /** Writes a batch from a child process, waited for (see mongoExitWrite); throws its StoreError. */
  #exitWrite(experiment: string, events: readonly PendingEvent[], docs: EventDoc[], batchId: string): void {
    const payload = this.#mongo.BSON.EJSON.stringify(
      {
        database: this.database,
        events: this.#events(experiment).collectionName,
        stats: COLLECTIONS.stats,
        docs,
        ops: this.#statsOps(experiment, events, batchId),
      },
      { relaxed: false },
    );
    const failure = runExitWrite(
      {
        driver: require.resolve('mongodb'),
        url: this.#url.raw,
        options: mongoClientOptions(this.#url),
        payload,
      },
      this.#timeoutMs + EXIT_WRITE_EXTRA_MS,
    );
    if (failure) throw this.#error(failure, `writing events of '${experiment}' at exit`, true);
  }

  /** Whether writes are under way (ExitFlushable). */
  hasPending(): boolean {
    return this.#inFlight.size > 0;
  }

  /** Waits for the writes under way (the event loop still runs: `beforeExit`). */
  async flush(): Promise<void> {
    await Promise.all([...this.#inFlight].map((f) => f.settled));
  }

  /**
   * The process is exiting with writes under way, which will never finish: each is written
   * again from a child process, with the same ids, so what the abandoned write stored is not
   * stored twice; what cannot be written is said, as the embedded store says it. (The
   * providers' queued events follow through appendEventsSync.)
   */
  flushSync(): void {
    const flights = [...this.#inFlight];
    this.#inFlight.clear();
    for (const f of flights) {
      try {
        this.#exitWrite(f.experiment, f.events, f.docs, f.batchId);
      } catch (error) {
        diag(
          `${f.events.length} event(s) of experiment '${f.experiment}' could not be written before exit and are lost: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
    }
  }

  async queryEvents(experiment: string, query: ResolvedQuery): Promise<TrackingEvent[]> {
    const collection = this.#events(experiment);
    const filter = eventFilter(query);
    const { empty, ...options } = eventFindOptions(query);
    if (empty) return [];
    return this.#op(`reading events of '${experiment}'`, false, async () => {
      const docs = await collection.find(filter, { ...options, allowDiskUse: true }).toArray();
      return docs.map((d) => eventFromDoc(experiment, d));
    });
  }

  async *iterateEvents(
    experiment: string,
    query: ResolvedQuery,
    batchSize: number,
  ): AsyncIterable<TrackingEvent[]> {
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new TrackingInputError(`batchSize must be a positive integer, got ${batchSize}`);
    const filter = eventFilter(query);
    const { empty, ...options } = eventFindOptions(query);
    if (empty) return;
    let batch: TrackingEvent[] = [];
    // one cursor, fetched from the server batchSize documents at a time
    for await (const doc of this.#documents(experiment, filter, { ...options, batchSize })) {
      batch.push(eventFromDoc(experiment, doc));
      if (batch.length === batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length) yield batch;
  }

  /**
   * The events column by column, a batch per run of up to COLUMN_BATCH events, in time order
   * within the run (the run_dt index's order: no sort on the server). Only the fields a column
   * holds are fetched: no node, user or extra fields cross the network.
   */
  async *queryColumns(experiment: string, query: ResolvedQuery): AsyncIterable<EventColumnBatch> {
    if (query.limit !== undefined || query.offset !== undefined)
      throw new TrackingInputError(
        'queryColumns reads in logging order, not by time: limit and offset are for queryEvents',
      );
    const filter = eventFilter(query);
    let docs: Array<Partial<EventDoc>> = [];
    const documents = this.#documents(experiment, filter, {
      sort: { run: 1, dt: 1, _id: 1 },
      projection: COLUMN_PROJECTION,
      batchSize: COLUMN_BATCH,
    });
    for await (const doc of documents) {
      if (docs.length === COLUMN_BATCH || (docs.length && docs[0].run !== doc.run)) {
        yield columnBatch(docs[0].run ?? 0, docs);
        docs = [];
      }
      docs.push(doc);
    }
    if (docs.length) yield columnBatch(docs[0].run ?? 0, docs);
  }

  /** The documents of one find on an experiment's events, read from one cursor, closed however the reading ends. */
  async *#documents(experiment: string, filter: MongoFilter, options: FindOptions): AsyncIterable<EventDoc> {
    const collection = this.#events(experiment);
    if (this.#closed) throw new StoreError('io', this.url, `store ${this.url} is closed`);
    await this.#op(`reading events of '${experiment}'`, false, async () => undefined);
    const cursor = collection.find(filter, { ...options, allowDiskUse: true });
    try {
      for (;;) {
        let doc: EventDoc | null;
        try {
          doc = await cursor.next();
        } catch (error) {
          throw this.#error(error, `reading events of '${experiment}'`, false);
        }
        if (!doc) return;
        yield doc;
      }
    } finally {
      await cursor.close().catch(() => undefined);
    }
  }

  async latestRun(experiment: string): Promise<number | undefined> {
    const events = this.#events(experiment);
    return this.#op(`reading the latest run of '${experiment}'`, false, async () => {
      const counter = await this.#collection<CounterDoc>(COLLECTIONS.counters).findOne({ _id: experiment });
      if (counter && typeof counter.run === 'number') return counter.run;
      // events without a counter: the partial index on start events answers
      const start = await events
        .find({ event: 'start' }, { sort: { run: -1 }, limit: 1, projection: { run: 1 } })
        .next();
      return typeof start?.run === 'number' ? start.run : undefined;
    });
  }

  async deleteEvents(experiment: string): Promise<number> {
    const events = this.#events(experiment);
    return this.#op(`deleting the events of '${experiment}'`, true, async () => {
      const count = await events.countDocuments({});
      // dropping is one step however many events there are (deleting them one by one is not)
      await events.drop().catch((error: unknown) => {
        if ((error as { code?: unknown }).code !== 26) throw error; // NamespaceNotFound: none
      });
      await this.#collection<CounterDoc>(COLLECTIONS.counters).deleteOne({ _id: experiment });
      await this.#collection<StatsDoc>(COLLECTIONS.stats).deleteMany({ experiment });
      await this.#collection<BeatDoc>(COLLECTIONS.heartbeats).deleteMany({ experiment });
      this.#indexed.delete(events.collectionName);
      this.#counted.delete(experiment);
      this.#failed.clear(experiment);
      return count;
    });
  }

  async deleteRun(experiment: string, run: number): Promise<number> {
    const events = this.#events(experiment);
    checkRun(run);
    // the counter stays: the run's number is never given out again
    return this.#op(`deleting run ${run} of '${experiment}'`, true, async () => {
      const { deletedCount } = await events.deleteMany({ run });
      await this.#collection<StatsDoc>(COLLECTIONS.stats).deleteMany({ experiment, run });
      await this.#collection<BeatDoc>(COLLECTIONS.heartbeats).deleteMany({ experiment, run });
      return deletedCount;
    });
  }

  async runStats(
    experiment: string,
    runs?: readonly number[],
  ): Promise<{ rows: RunStatsRow[]; unaggregated: number[] }> {
    checkText(experiment, 'experiment');
    const filter: MongoFilter = { experiment };
    if (runs !== undefined) filter.run = { $in: [...new Set(runs.map(checkRun))] };
    return this.#op(`reading the runs of '${experiment}'`, false, async () => {
      // in the order the aggregates were first written, as the embedded store lists them
      const docs = await this.#collection<StatsDoc>(COLLECTIONS.stats)
        .find(filter, { sort: { run: 1, _id: 1 }, projection: { applied: 0 } })
        .toArray();
      // every write folds its events in, but a metric's aggregate made before running sums
      // were kept has none (no mean): such a run is read from its events
      const rows = docs.map(statsRow);
      const stale = new Set(
        rows.filter((r) => r.event === 'metric' && r.finite === undefined).map((r) => r.run),
      );
      if (stale.size === 0) return { rows, unaggregated: [] };
      return { rows: rows.filter((r) => !stale.has(r.run)), unaggregated: [...stale] };
    });
  }

  /**
   * The runs that may match a run filter, found from the aggregates on the server (see
   * runFilterConditions): a superset of the matching runs, for narrowing what runs() reads;
   * undefined when the filter does not narrow them. Exact matching stays with matchesRunFilter.
   */
  async runsMatching(experiment: string, filter: RunFilter): Promise<number[] | undefined> {
    checkText(experiment, 'experiment');
    const conditions = runFilterConditions(filter);
    if (conditions.length === 0) return undefined;
    return this.#op(`searching the runs of '${experiment}'`, false, async () => {
      const stats = this.#collection<StatsDoc>(COLLECTIONS.stats);
      let runs: Set<number> | undefined;
      for (const condition of conditions) {
        const found: number[] = await stats.distinct('run', { experiment, ...condition });
        runs = new Set(runs ? found.filter((r) => runs!.has(r)) : found);
        if (runs.size === 0) break;
      }
      return [...(runs ?? [])].sort((a, b) => a - b);
    });
  }

  async runsWithEvent(experiment: string, event: string): Promise<number[]> {
    checkText(event, 'event');
    const events = this.#events(experiment);
    return this.#op(`reading the runs of '${experiment}'`, false, async () => {
      const runs: number[] = await events.distinct('run', { event });
      return runs.sort((a, b) => a - b);
    });
  }

  async changeMark(
    experiment: string,
    run?: number,
  ): Promise<{ mark: string; runs: number; lastDt: number | undefined }> {
    const events = this.#events(experiment);
    if (run !== undefined) checkRun(run);
    return this.#op(`reading the changes of '${experiment}'`, false, async () => {
      if (run !== undefined) {
        // the run's part of the run_dt index only
        const [count, last] = await Promise.all([
          events.countDocuments({ run }),
          events.find({ run }, { sort: { dt: -1, _id: -1 }, limit: 1, projection: { dt: 1 } }).next(),
        ]);
        const lastDt = last?.dt instanceof Date ? last.dt.getTime() : undefined;
        return {
          mark: `${count}:${last?._id.toHexString() ?? ''}:${lastDt ?? ''}`,
          runs: count ? 1 : 0,
          lastDt,
        };
      }
      const [count, newest, latest, runs] = await Promise.all([
        events.estimatedDocumentCount(),
        events.find({}, { sort: { _id: -1 }, limit: 1, projection: { _id: 1 } }).next(),
        events.find({}, { sort: { dt: -1, _id: -1 }, limit: 1, projection: { dt: 1 } }).next(),
        events.distinct('run'),
      ]);
      const lastDt = latest?.dt instanceof Date ? latest.dt.getTime() : undefined;
      return {
        mark: `${count}:${newest?._id.toHexString() ?? ''}:${lastDt ?? ''}`,
        runs: runs.length,
        lastDt,
      };
    });
  }

  async beat(experiment: string, runs: readonly number[], owner: string, intervalMs: number): Promise<void> {
    checkText(experiment, 'experiment');
    checkText(owner, 'owner');
    if (!runs.length) return;
    // one attempt: a heartbeat that cannot be written is replaced by the next one
    await this.#op('recording a heartbeat', true, async () => {
      await this.#shared('heartbeats');
      const at = Date.now();
      await this.#collection<BeatDoc>(COLLECTIONS.heartbeats).bulkWrite(
        [...new Set(runs.map(checkRun))].map((run) => ({
          updateOne: {
            filter: { experiment, run, owner },
            update: { $set: { beat: at, intervalMs: Number(intervalMs) } },
            upsert: true,
          },
        })),
        { ordered: false },
      );
    });
  }

  async liveness(experiment: string): Promise<Map<number, RunLiveness>> {
    checkText(experiment, 'experiment');
    return this.#op(`reading the heartbeats of '${experiment}'`, false, async () => {
      const rows = await this.#collection<BeatDoc>(COLLECTIONS.heartbeats)
        .aggregate<{ _id: number; beat: number; intervalMs: number }>([
          { $match: { experiment } },
          { $group: { _id: '$run', beat: { $max: '$beat' }, intervalMs: { $max: '$intervalMs' } } },
        ])
        .toArray();
      return new Map(rows.map((r) => [r._id, { lastBeat: r.beat, intervalMs: r.intervalMs }]));
    });
  }

  // ---------------------------------------------------------------- blobs (GridFS)

  #blobs(): GridFSBucket {
    this.#bucket ??= new this.#mongo.GridFSBucket(this.#db, { bucketName: BLOB_BUCKET });
    return this.#bucket;
  }

  /** Deletes GridFS files by id: the file documents first (readers stop finding them), then their chunks. */
  async #deleteFiles(ids: ObjectId[]): Promise<void> {
    if (!ids.length) return;
    await this.#collection(`${BLOB_BUCKET}.files`).deleteMany({ _id: { $in: ids } });
    await this.#collection(`${BLOB_BUCKET}.chunks`).deleteMany({ files_id: { $in: ids } });
  }

  /** The files of a blob key, newest first (two writers of one key at once agree on which is newest). */
  #versions(key: string): Promise<BlobFileDoc[]> {
    return this.#collection<BlobFileDoc>(`${BLOB_BUCKET}.files`)
      .find(
        { filename: key },
        { sort: { uploadDate: -1, _id: -1 }, projection: { _id: 1, filename: 1, uploadDate: 1, length: 1 } },
      )
      .toArray();
  }

  async putBlob(key: string, data: Uint8Array): Promise<void> {
    checkText(key, 'blob key');
    if (!(data instanceof Uint8Array))
      throw new TrackingInputError('blob data must be a Uint8Array or Buffer');
    await this.#op('saving a blob', true, async () => {
      const upload = this.#blobs().openUploadStream(key);
      try {
        upload.end(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
        await finished(upload);
      } catch (error) {
        // what was written of a failed upload goes; the next attempt starts a new file
        await upload.abort().catch(() => undefined);
        throw error;
      }
      // the new file is in place before older versions of the key go: a reader always finds one
      await this.#deleteFiles((await this.#versions(key)).slice(1).map((f) => f._id));
    });
  }

  async getBlob(key: string): Promise<Buffer | undefined> {
    checkText(key, 'blob key');
    return this.#op('reading a blob', false, async () => {
      for (let attempt = 1; ; attempt++) {
        const [file] = await this.#versions(key);
        if (!file) return undefined;
        try {
          const parts: Buffer[] = [];
          for await (const chunk of this.#blobs().openDownloadStream(file._id)) parts.push(chunk as Buffer);
          const bytes = Buffer.concat(parts);
          // the driver ends a download quietly when the chunks run out (a version deleted while
          // read): a short read is a replaced blob, read again
          if (bytes.length !== file.length)
            throw Object.assign(new Error('blob cut short'), { code: 'ENOENT' });
          return bytes;
        } catch (error) {
          // replaced or deleted while being read: read the key again, once
          const gone =
            (error as { code?: unknown }).code === 'ENOENT' ||
            (error as Error).name === 'MongoGridFSChunkError';
          if (!gone || attempt >= 2) throw error;
        }
      }
    });
  }

  async deleteBlobs(prefix: string): Promise<number> {
    const range = prefixRange('filename', prefix);
    return this.#op('deleting blobs', true, async () => {
      const files = await this.#collection<BlobFileDoc>(`${BLOB_BUCKET}.files`)
        .find(range, { projection: { _id: 1, filename: 1 } })
        .toArray();
      await this.#deleteFiles(files.map((f) => f._id));
      // keys, not file versions, are what was deleted
      return new Set(files.map((f) => f.filename)).size;
    });
  }

  async listBlobs(prefix: string): Promise<string[]> {
    const range = prefixRange('filename', prefix);
    return this.#op('listing blobs', false, async () => {
      const files = await this.#collection<BlobFileDoc>(`${BLOB_BUCKET}.files`)
        .find(range, { projection: { _id: 0, filename: 1 } })
        .toArray();
      // a key may have several versions while it is replaced: each key once, in code-point order
      return [...new Set(files.map((f) => f.filename))].sort(compareCodePoints);
    });
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    forgetOnExit(this);
    await this.#client.close().catch(() => undefined);
  }
}
