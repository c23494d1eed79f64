/**
 * Writes the runs of a source into a store, every write under a write id made from what it
 * holds, so that a transfer run again after an interruption (or twice) stores nothing twice. A
 * run the source fails on is not kept when it was made now; a run the target failed on keeps
 * what was written, and the same transfer again writes the rest.
 */
import { createHash } from 'node:crypto';
import type { Bucket, MetadataEntry, PendingEvent, Store, TrackingEvent } from '@omega-track/core';
import { TrackingError } from '@omega-track/core';
import {
  EXPERIMENT_KIND,
  EXPERIMENT_PREFIX,
  artifactReferences,
  encodeValue,
  pendingEventOf,
  readRunTable,
  validateExperimentName,
} from '@omega-track/core/internal';
import type {
  ContentSource,
  SourceExperiment,
  SourceRun,
  TransferLog,
  TransferProgress,
  TransferSource,
} from './TransferSource';
import { runEventsAfterStart } from './storeSource';

/** The tag an imported run keeps its origin in (`mlflow:<uri>#<id>`, `tensorboard:<dir>`). */
export const ORIGIN_TAG = 'import.source';

/**
 * Events per write: large enough that a write costs little per event, small enough that a batch
 * stays a few MB. Batches are cut at fixed counts of the run's events, so a transfer run again
 * makes the same batches, with the same write ids.
 */
export const TRANSFER_BATCH_EVENTS = 16_384;

/** Events whose values are artifacts that may refer to content (SPEC §4). */
const ARTIFACT_EVENTS: ReadonlySet<string> = new Set(['artifact', 'data']);

/** What `transferRuns` writes into, and where it reports. */
export interface TransferOptions {
  target: Store;
  log: TransferLog;
  progress?: TransferProgress;
}

/** What a transfer did. */
export interface TransferSummary {
  experiments: number;
  /** Runs written now. */
  runs: number;
  /** Runs found complete in the target: nothing of them was stored. */
  alreadyThere: number;
  /** Runs not written (each is in `skipped` with the reason). */
  failed: number;
  /** Events written now. */
  events: number;
  /** Artifact content written: blobs and their bytes. */
  blobs: number;
  bytes: number;
  /** What was left out and why (runs, artifact content, parts of the source). */
  skipped: Array<{ what: string; why: string }>;
}

/** A run the writer did not write (whole): why, and what of it was kept. */
class RunNotWritten extends TrackingError {
  static override readonly errorName: string = 'RunNotWritten';
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** The digest of a batch: every field of every event, as the store keeps it (hashed at once: per-event updates cost more than the text). */
function digestOf(events: readonly Omit<PendingEvent, 'run'>[]): string {
  const parts: string[] = [];
  for (const e of events) {
    // numbers (the bulk of a run) need no codec; -0 and NaN must stay apart from 0 and "NaN"
    const v = e.value;
    const value = typeof v === 'number' ? `n${Object.is(v, -0) ? '-0' : v}` : encodeValue(v);
    parts.push(
      e.event,
      e.key,
      String(e.dt),
      String(e.step),
      e.node,
      e.userid,
      value,
      e.extra ? encodeValue(e.extra) : '',
    );
  }
  return createHash('sha256').update(parts.join('\u0001')).digest('hex');
}

/**
 * The entry a target gets for an experiment that comes without one: the default provider's,
 * which records into the store the runs are written into.
 */
function defaultExperimentEntry(name: string): MetadataEntry {
  const now = new Date();
  return {
    name: EXPERIMENT_PREFIX + name,
    kind: EXPERIMENT_KIND,
    // the shape ExperimentBackend gives a new experiment's configuration (kept apart there: the
    // page's bundle has no bytes to spare for a shared function)
    attributes: {
      tracking: {
        provider: 'default',
        options: {},
        created: now.toISOString(),
        dataset: `.experiments/${name}`,
      },
    },
    created: now,
    modified: now,
  };
}

/** The artifact content a transfer writes, once per key however many runs refer to it. */
class ContentCopier {
  private readonly done = new Set<string>();

  constructor(
    private readonly target: Store,
    private readonly summary: TransferSummary,
  ) {}

  /** Content taken back (its run was given up on): a later run that refers to it copies it again. */
  forget(written: { blobs: string[]; entries: Array<[Bucket, string]> }): void {
    for (const key of written.blobs) this.done.delete(key);
    for (const [bucket, name] of written.entries) this.done.delete(`${bucket}\u0000${name}`);
  }

  /**
   * Copies what the artifact events of `batch` refer to, before the events are written (an
   * artifact event never lands before its content). Returns the blob keys and entries written,
   * so that a run given up on can take them back; content missing in the source is said.
   */
  async copy(
    batch: readonly PendingEvent[],
    run: SourceRun,
    written: { blobs: string[]; entries: Array<[Bucket, string]> },
    log: TransferLog,
  ): Promise<void> {
    for (const e of batch) {
      if (!ARTIFACT_EVENTS.has(e.event)) continue;
      const refs = artifactReferences(e.value);
      const label = `artifact '${String((e.value as { name?: unknown } | null)?.name)}' of run ${e.run} of '${run.experiment}'`;
      if (refs.blob !== undefined) await this.copyBlob(refs.blob, run.content, written, log, label);
      for (const [bucket, name] of [
        ['models', refs.model],
        ['datasets', refs.dataset],
      ] as const)
        if (name !== undefined) await this.copyEntry(bucket, name, run.content, written, log, label);
    }
  }

  private async copyEntry(
    bucket: Bucket,
    name: string,
    content: ContentSource | undefined,
    written: { blobs: string[]; entries: Array<[Bucket, string]> },
    log: TransferLog,
    label: string,
  ): Promise<void> {
    const id = `${bucket}\u0000${name}`;
    if (this.done.has(id)) return;
    const entry = await content?.getEntry(bucket, name);
    if (!entry) {
      log.skipped(
        label,
        `its content (${bucket} entry '${name}') is missing in the source: the event was written without it`,
      );
      this.done.add(id);
      return;
    }
    if (entry.blob)
      for (const key of await content!.listBlobs(entry.blob))
        await this.copyBlob(key, content, written, log, label);
    await this.target.putEntry(bucket, entry);
    written.entries.push([bucket, name]);
    this.done.add(id);
  }

  private async copyBlob(
    key: string,
    content: ContentSource | undefined,
    written: { blobs: string[]; entries: Array<[Bucket, string]> },
    log: TransferLog,
    label: string,
  ): Promise<void> {
    if (this.done.has(key)) return;
    this.done.add(key);
    const data = await content?.getBlob(key);
    if (!data) {
      log.skipped(
        label,
        `its content (blob '${key}') is missing in the source: the event was written without it`,
      );
      return;
    }
    await this.target.putBlob(key, data);
    written.blobs.push(key);
    this.summary.blobs++;
    this.summary.bytes += data.byteLength;
  }
}

/** What the writer knows of one experiment of the target. */
class TargetExperiment {
  private origins: Map<string, number> | undefined;
  /** Kept numbers this transfer did not copy: their children are not copied either. */
  readonly refused = new Set<number>();

  constructor(
    readonly target: Store,
    readonly name: string,
  ) {}

  /** The runs imported before, by origin (their `import.source` tag). */
  async originRuns(): Promise<Map<string, number>> {
    if (this.origins) return this.origins;
    const origins = new Map<string, number>();
    for (const info of await readRunTable(this.target, this.name, undefined)) {
      const origin = info.tags?.[ORIGIN_TAG];
      if (typeof origin === 'string' && !origins.has(origin)) origins.set(origin, info.run);
    }
    return (this.origins = origins);
  }

  /** Whether run `run` holds any event (a run deleted in the target holds none). */
  async hasRun(run: number): Promise<boolean> {
    return (
      (await this.target.queryEvents(this.name, { runs: [run], events: ['start'], limit: 1 })).length > 0
    );
  }
}

/** Where a run goes: its number, the id its writes are named by, and what the target holds of it. */
interface Placement {
  run: number;
  idBase: string;
  /** Whether the run was made now (else an earlier attempt made it). */
  fresh: boolean;
  /**
   * The run's events (after its start) the target holds already, and their identity: the
   * source's first `held` events must be the same, and only the rest is written.
   */
  held: number;
  heldDigest: string;
}

/**
 * What identifies an event for comparing a run in two stores: what was logged, when, where and
 * by whom. Extra fields are left out: a team server adds its `writer` to what it stores.
 */
function identityOf(e: Omit<PendingEvent, 'run'>): string {
  const v = e.value;
  // -0 as 0: a team server's JSON carries no -0
  const value = typeof v === 'number' ? `n${v}` : encodeValue(v);
  return `${e.event}\u0001${e.key}\u0001${e.dt}\u0001${e.step}\u0001${value}\u0001${e.node}\u0001${e.userid}\u0002`;
}

/** Whether a stored start event is `start` (the run in the target is this one). */
function sameStart(stored: TrackingEvent, start: Omit<PendingEvent, 'run'>): boolean {
  const s = pendingEventOf(stored);
  // a team server stores -0 as 0 (JSON): the start's value is null or { parent } anyway
  return identityOf(s) === identityOf(start);
}

/**
 * Writes every run of `source` into `opts.target`: experiments get their entry when the target
 * has none; a run with a kept number is copied under that number (a number the target holds for
 * another run, or deleted, is said and the run left out); an imported run gets the next number
 * and its origin as the tag `import.source`, and is left out when a run with that tag is there.
 * A run whose reading fails is deleted again (its number is not reused) and said.
 */
export async function transferRuns(source: TransferSource, opts: TransferOptions): Promise<TransferSummary> {
  const summary: TransferSummary = {
    experiments: 0,
    runs: 0,
    alreadyThere: 0,
    failed: 0,
    events: 0,
    blobs: 0,
    bytes: 0,
    skipped: [],
  };
  const log: TransferLog = {
    skipped: (what, why) => {
      summary.skipped.push({ what, why });
      opts.log.skipped(what, why);
    },
    note: (message) => opts.log.note(message),
  };
  const content = new ContentCopier(opts.target, summary);
  for await (const exp of source.experiments(log)) {
    try {
      validateExperimentName(exp.name);
    } catch (error) {
      // a name the store cannot hold (an MLflow experiment called '..'): its runs stay out
      log.skipped(`experiment '${exp.name}'`, `${(error as Error).message}: its runs were not written`);
      continue;
    }
    summary.experiments++;
    await ensureExperiment(opts.target, exp);
    const target = new TargetExperiment(opts.target, exp.name);
    for await (const run of exp.runs()) {
      const label =
        run.run !== undefined ? `run ${run.run} of '${exp.name}'` : `${run.origin} (into '${exp.name}')`;
      try {
        const outcome = await writeRun(run, target, content, summary, log, opts.progress);
        if (outcome === 'written') summary.runs++;
        else summary.alreadyThere++;
      } catch (error) {
        summary.failed++;
        log.skipped(label, error instanceof Error ? error.message : String(error));
      }
      opts.progress?.run();
    }
  }
  return summary;
}

/** Gives the target the experiment's entry when it has none (an existing one is left as it is). */
async function ensureExperiment(target: Store, exp: SourceExperiment): Promise<void> {
  const name = EXPERIMENT_PREFIX + exp.name;
  if (await target.getEntry('models', name)) return;
  await target.putEntry('models', exp.entry ? { ...exp.entry, name } : defaultExperimentEntry(exp.name));
}

/**
 * Places a run that keeps its number: new in the target (or its number free there: never used,
 * or its run deleted), or the same run copied before, in part or whole — then what the target
 * holds of it is counted, so that only the rest is written.
 */
async function placeKept(run: SourceRun & { run: number }, target: TargetExperiment): Promise<Placement> {
  const store = target.target;
  const startId = { id: '', digest: digestOf([run.start]) };
  const idBase = 'copy.' + sha256(`${target.name}\u0000${run.run}\u0000${startId.digest}`).slice(0, 40);
  startId.id = `${idBase}.start`;
  const parent = (run.start.value as { parent?: unknown } | null)?.parent;
  if (typeof parent === 'number' && target.refused.has(parent))
    throw new RunNotWritten(
      `its parent run ${parent} was not copied, and the target's run ${parent} is another run`,
    );
  const latest = await store.latestRun(target.name);
  if (latest === undefined || latest < run.run) {
    const got = await store.startRun(target.name, run.start, run.run, startId);
    if (got !== run.run) {
      // another writer took the number meanwhile: the run just made is not this one
      await store.deleteRun?.(target.name, got);
      throw new RunNotWritten(`run number ${run.run} was given to another run while copying: not copied`);
    }
    return { run: run.run, idBase, fresh: true, held: 0, heldDigest: '' };
  }
  // what an earlier copy wrote into a team server may still wait in this process's spool
  await store.settle?.();
  const [stored] = await store.queryEvents(target.name, { runs: [run.run], events: ['start'], limit: 1 });
  if (!stored) {
    // no run holds the number in the target (a copy of fewer runs gave out a higher one)
    await store.appendEvents(target.name, [{ ...run.start, run: run.run }], startId);
    return { run: run.run, idBase, fresh: true, held: 0, heldDigest: '' };
  }
  if (!sameStart(stored, run.start))
    throw new RunNotWritten(
      `the target holds another run ${run.run}: not copied (copy into an empty experiment or store)`,
    );
  // the run is there, whole or in part: what it holds after its start is compared and skipped
  const hash = createHash('sha256');
  let held = 0;
  for await (const batch of runEventsAfterStart(
    store,
    target.name,
    run.run,
    run.start.dt,
    TRANSFER_BATCH_EVENTS,
  ))
    for (const e of batch) {
      hash.update(identityOf(e));
      held++;
    }
  return { run: run.run, idBase, fresh: false, held, heldDigest: hash.digest('hex') };
}

/** Places an imported run: the run an earlier attempt made (resumed), else the next number. */
async function placeImported(
  run: SourceRun & { origin: string },
  target: TargetExperiment,
  log: TransferLog,
): Promise<Placement> {
  const origins = await target.originRuns();
  let start = run.start;
  if (run.parentOrigin !== undefined) {
    const parent = origins.get(run.parentOrigin);
    if (parent !== undefined) start = { ...start, value: { ...(start.value as object | null), parent } };
    else
      log.note(
        `${run.origin}: its parent ${run.parentOrigin} is not in '${target.name}': imported without it`,
      );
  }
  const base = 'import.' + sha256(`${target.name}\u0000${run.origin}`).slice(0, 40);
  // an attempt whose run was deleted since (by a user, or given up on) left its write id
  // taken: each attempt after such a deletion uses the next generation of ids
  for (let generation = 1; ; generation++) {
    const idBase = `${base}.g${generation}`;
    const latest = await target.target.latestRun(target.name);
    const got = await target.target.startRun(target.name, start, 1, {
      id: `${idBase}.start`,
      digest: digestOf([start]),
    });
    if (await target.hasRun(got))
      return { run: got, idBase, fresh: latest === undefined || got > latest, held: 0, heldDigest: '' };
  }
}

/** Writes one run; 'already' when the target held all of it. Throws when it was not written. */
async function writeRun(
  run: SourceRun,
  target: TargetExperiment,
  content: ContentCopier,
  summary: TransferSummary,
  log: TransferLog,
  progress: TransferProgress | undefined,
): Promise<'written' | 'already'> {
  const store = target.target;
  if (run.run === undefined && run.origin === undefined)
    throw new RunNotWritten('the source gave the run neither a number nor an origin');
  if (run.origin !== undefined && run.run === undefined && (await target.originRuns()).has(run.origin))
    return 'already';
  // the source is read before anything is written: a source refused at once (a damaged file)
  // leaves nothing behind, not even the run's number
  const events = run.events()[Symbol.asyncIterator]();
  let next: IteratorResult<PendingEvent[]>;
  try {
    next = await events.next();
  } catch (error) {
    if (run.run !== undefined) target.refused.add(run.run);
    throw error;
  }
  let placement: Placement;
  try {
    placement =
      run.run !== undefined
        ? await placeKept(run as SourceRun & { run: number }, target)
        : await placeImported(run as SourceRun & { origin: string }, target, log);
  } catch (error) {
    if (run.run !== undefined) target.refused.add(run.run);
    await events.return?.();
    throw error;
  }

  const written = { blobs: [] as string[], entries: [] as Array<[Bucket, string]> };
  let stored = 0;
  let position = 0;
  let lastDt = run.start.dt;
  const heldHash = placement.held ? createHash('sha256') : undefined;
  const flush = async (batch: PendingEvent[], index: number, from: number): Promise<void> => {
    await content.copy(batch, run, written, log);
    // batches are cut at fixed positions of the run's events; one that starts past what the
    // target held has an id of its own (the offset)
    const id =
      from === index * TRANSFER_BATCH_EVENTS
        ? `${placement.idBase}.${index}`
        : `${placement.idBase}.${index}.${from}`;
    const result = await store.appendEvents(target.name, batch, { id, digest: digestOf(batch) });
    if (!result?.duplicate) {
      stored += batch.length;
      summary.events += batch.length;
    }
    progress?.events(batch.length);
  };
  // an error of the source (a damaged record) is told apart from one of the target (a full disk)
  let sourceFailed = false;
  const readSource = async (): Promise<IteratorResult<PendingEvent[]>> => {
    try {
      return await events.next();
    } catch (error) {
      sourceFailed = true;
      throw error;
    }
  };
  try {
    let batch: PendingEvent[] = [];
    let batchFrom = placement.held;
    while (!next.done) {
      for (const e of next.value) {
        if (e.dt > lastDt || Number.isNaN(lastDt)) lastDt = e.dt;
        if (position < placement.held) {
          heldHash!.update(identityOf(e));
          position++;
          if (position === placement.held && heldHash!.digest('hex') !== placement.heldDigest)
            throw new RunNotWritten(
              `the target's run ${placement.run} holds other events than the source's (changed since it was copied): left as it is`,
            );
          continue;
        }
        e.run = placement.run;
        batch.push(e);
        position++;
        if (position % TRANSFER_BATCH_EVENTS === 0) {
          await flush(batch, position / TRANSFER_BATCH_EVENTS - 1, batchFrom);
          batch = [];
          batchFrom = position;
        }
      }
      next = await readSource();
    }
    if (position < placement.held)
      throw new RunNotWritten(
        `the target's run ${placement.run} holds more events than the source's (${placement.held} against ${position}): left as it is`,
      );
    // an imported run's origin goes last: a run that holds it is complete
    if (run.origin !== undefined && run.run === undefined)
      batch.push({
        run: placement.run,
        event: 'tag',
        key: ORIGIN_TAG,
        value: run.origin,
        step: null,
        dt: lastDt,
        node: run.start.node,
        userid: run.start.userid,
        extra: undefined,
      });
    if (batch.length) await flush(batch, Math.floor(batchFrom / TRANSFER_BATCH_EVENTS), batchFrom);
  } catch (error) {
    await events.return?.().catch(() => undefined);
    const why = error instanceof Error ? error.message : String(error);
    if (error instanceof RunNotWritten && !stored) throw error;
    if (run.run !== undefined && !(sourceFailed && placement.fresh)) {
      // a copy keeps what it wrote when the target failed (run again: it compares that part and
      // writes the rest), and a run it found there already
      throw new RunNotWritten(
        `${why}; ${stored} of its events were written now: ` +
          (sourceFailed
            ? 'the run in the target is as it was, with those'
            : 'run the same command again to write the rest'),
      );
    }
    // a run made now from a source that failed is all or none: what was written of it goes again
    await takeBack(store, target.name, placement.run, written);
    content.forget(written);
    summary.events -= stored;
    throw new RunNotWritten(`${why}; nothing of the run was kept`);
  }
  if (run.origin !== undefined && run.run === undefined)
    (await target.originRuns()).set(run.origin, placement.run);
  return stored > 0 || placement.fresh ? 'written' : 'already';
}

/** Deletes what was written of a run given up on: its events and the content copied for it. */
async function takeBack(
  store: Store,
  experiment: string,
  run: number,
  written: { blobs: string[]; entries: Array<[Bucket, string]> },
): Promise<void> {
  await store.deleteRun?.(experiment, run);
  // a blob is deleted by its key as a prefix: artifact keys end in an id of fixed length, so no
  // other key starts with one
  for (const key of written.blobs) await store.deleteBlobs(key);
  for (const [bucket, name] of written.entries) await store.deleteEntry(bucket, name);
}
