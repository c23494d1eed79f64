import { randomUUID } from 'node:crypto';
import type { RunLiveness, EventLog, PendingEvent, RunInfo, Store, TrackingEvent } from '@omega-track/core';
import type { ParsedRunSearch, ResolvedQuery } from '@omega-track/core';
import { TrackingError } from '@omega-track/core';
import {
  decodeValue,
  encodeValue,
  groupByRun,
  rowFilter,
  runTableFromEvents,
  searchRunTable,
  windowRows,
} from '@omega-track/core/internal';
import type { MlflowClient } from './MlflowClient';
import type { MlflowSender, EventLine } from './MlflowSender';
import { EVENTS_DIR } from './MlflowSender';
import type { MlflowSpool } from './MlflowSpool';
import type { MlflowRun } from './MlflowTypes';
import type { MlflowArtifactsUnreachableError } from './MlflowErrors';
import {
  OMEGA_TAGS,
  PARENT_RUN_TAG,
  RUN_NAME_TAG,
  RUN_NOTE_TAG,
  decodeMetricValue,
  systemMetricToProfile,
  valueFromText,
} from './mlflowMapping';
import type { MappedRun } from './mlflowSearch';
import { searchMlflowRuns } from './mlflowSearch';

/** The experiment tag holding the highest run number deleted with deleteRun (so it is not given out again). */
export const DELETED_RUNS_TAG = 'omega.deleted_runs_upto';

/** `promise`, or a rejection after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error('timeout')), ms).unref())),
  ]);
}

/** A row with what orders it among rows of the same millisecond. */
interface OrderedRow {
  row: TrackingEvent;
  /** 0 start, 1 anything, 2 stop. */
  rank: number;
  /** Logging order where known (events files); plain metrics sort after known ones. */
  o: number;
}

/** A metric row from its MLflow point and the note that completes it. */
function noteRow(
  base: { experiment: string; run: number; node: string; userid: string },
  note: Extract<EventLine, { t: 'note' }>,
  value: number,
): TrackingEvent {
  return {
    ...base,
    ...note.extra,
    event: 'metric',
    key: note.key,
    value,
    step: note.step,
    dt: new Date(note.dt),
    node: note.node ?? base.node,
    userid: note.userid ?? base.userid,
  };
}

/**
 * A run's params, tags, name and note as rows, from what MLflow holds of them (text, turned back
 * into values as far as the text tells: see valueFromText), at the run's start. For a run whose
 * events files cannot be read, which keep these with their own times and exact values.
 */
function metadataRows(
  base: { experiment: string; run: number; node: string; userid: string },
  run: MlflowRun,
): OrderedRow[] {
  const at = new Date(Number(run.info.start_time ?? 0));
  const rows: OrderedRow[] = [];
  const add = (event: string, key: string, value: unknown): void => {
    rows.push({ rank: 1, o: rows.length, row: { ...base, event, key, value, step: null, dt: at } });
  };
  for (const p of run.data.params ?? []) add('param', p.key, valueFromText(p.value));
  for (const t of run.data.tags ?? []) {
    // the name the run was created with is omega-track's, not one the user gave
    if (t.key === RUN_NAME_TAG && t.value !== `run-${base.run}`) add('name', 'name', t.value);
    else if (t.key === RUN_NOTE_TAG) add('note', 'note', t.value);
    else if (!t.key.startsWith('mlflow.') && !OMEGA_TAGS.has(t.key))
      add('tag', t.key, valueFromText(t.value));
  }
  return rows;
}

/**
 * The MLflow provider's event log: writes go to the durable spool (synchronously, so they also
 * work at process exit) and on to MLflow through the sender; reads come back from MLflow — runs,
 * metric histories, and the run's events files — as the same rows the embedded store gives.
 * A run whose artifacts are out of reach (see ArtifactLocation) has no events files to read: its
 * metrics come back all the same, its params and tags as MLflow holds them.
 * Run numbers are allocated in the local store, atomically, also while MLflow is away.
 */
export class MlflowEventLog implements EventLog {
  constructor(
    private readonly local: Store,
    private readonly spool: MlflowSpool,
    private readonly client: MlflowClient,
    private readonly sender: MlflowSender,
    /** How long a read waits for spooled batches to reach MLflow. */
    private readonly readTimeoutMs: number,
  ) {}

  /**
   * Allocates the run number in the local store (atomic, also offline) — above every omega run
   * MLflow already has, when it answers within a second — and spools the start with a unique id
   * that ties it to its own MLflow run.
   */
  async startRun(experiment: string, start: Omit<PendingEvent, 'run'>): Promise<number> {
    const remoteMax = await withTimeout(this.remoteLatestRun(experiment), 1000).catch(() => undefined);
    const run = await this.local.startRun(
      experiment,
      start,
      remoteMax === undefined ? undefined : remoteMax + 1,
    );
    this.appendEventsSync(experiment, [{ ...start, run, extra: { ...start.extra, runUid: randomUUID() } }]);
    return run;
  }

  /**
   * The highest run number MLflow has of the experiment: of its runs, and of the runs deleted
   * with deleteRun (the experiment's tag DELETED_RUNS_TAG), whose numbers stay taken.
   */
  private async remoteLatestRun(experiment: string): Promise<number | undefined> {
    const exp = await this.client.getExperimentByName(experiment);
    const runs = await this.omegaRuns(experiment);
    const deleted = Number(exp?.tags?.find((t) => t.key === DELETED_RUNS_TAG)?.value ?? 0) || 0;
    const latest = Math.max(runs.length ? runs[runs.length - 1].number : 0, deleted);
    return latest > 0 ? latest : undefined;
  }

  async appendEvents(experiment: string, events: readonly PendingEvent[]): Promise<void> {
    this.appendEventsSync(experiment, events);
  }

  appendEventsSync(experiment: string, events: readonly PendingEvent[]): void {
    for (const [run, list] of groupByRun(events)) {
      const stops = list
        .filter((e) => e.event === 'stop')
        .map((e) => ({ dt: e.dt, value: encodeValue(e.value), userid: e.userid, node: e.node }));
      this.spool.append(
        this.client.baseUrl,
        experiment,
        run,
        'events',
        Buffer.from(encodeValue(list)),
        stops,
      );
    }
    this.sender.kick();
  }

  /** Spools artifact files for a run (they go out before the events logged after them). */
  appendFiles(experiment: string, run: number, body: Buffer): void {
    this.spool.append(this.client.baseUrl, experiment, run, 'files', body);
    this.sender.kick();
  }

  latestRun(experiment: string): Promise<number | undefined> {
    return this.local.latestRun(experiment);
  }

  /** Heartbeats live in the local store, beside the run numbers: they must work offline too. */
  async beat(experiment: string, runs: readonly number[], owner: string, intervalMs: number): Promise<void> {
    await this.local.beat?.(experiment, runs, owner, intervalMs);
  }

  async liveness(experiment: string): Promise<Map<number, RunLiveness>> {
    return (await this.local.liveness?.(experiment)) ?? new Map();
  }

  /**
   * Deletes omega run `run` in MLflow (`runs/delete`: MLflow keeps it as deleted, out of every
   * search, until its garbage collection) and the local bookkeeping of it: its mapping, spooled
   * stop, start and heartbeats. Its number stays taken (remoteLatestRun sees deleted runs, the
   * local store keeps its counter). What the run still had waiting is sent first, so nothing of
   * it lands after the delete; while MLflow is away nothing is deleted.
   */
  async deleteRun(experiment: string, run: number): Promise<number> {
    if (!(await this.sender.deliver(experiment, this.readTimeoutMs, true)))
      throw new TrackingError(
        `MLflow at ${this.client.baseUrl} is not reachable: run ${run} of '${experiment}' was not deleted (try again when it answers)`,
      );
    await this.sender.idle();
    const exp = await this.client.getExperimentByName(experiment);
    const found = (await this.omegaRuns(experiment)).filter((r) => r.number === run);
    if (exp && found.length) {
      // first the number is kept taken, then the run goes: a failure between loses no number
      const before = Number(exp.tags?.find((t) => t.key === DELETED_RUNS_TAG)?.value ?? 0) || 0;
      if (run > before) await this.client.setExperimentTag(exp.experiment_id, DELETED_RUNS_TAG, String(run));
    }
    for (const r of found) await this.client.deleteRun(r.run.info.run_id);
    this.spool.forgetRun(this.client.baseUrl, experiment, run);
    await this.local.deleteRun?.(experiment, run);
    return found.length;
  }

  /**
   * The run table for `runs()`: searched in MLflow (see searchMlflowRuns), or — while MLflow
   * cannot be read — from the local bookkeeping: numbers, starts, parents and the spooled stops,
   * so status and use() go on during an outage. A search that needs more than that (names,
   * tags, params, metrics) fails then, as data() does, rather than answering from half the runs.
   */
  async runTable(
    experiment: string,
    search: ParsedRunSearch,
    runs: ResolvedQuery['runs'],
    live: (runs: RunInfo[]) => Promise<void>,
    statsRuns?: number,
  ): Promise<{ runs: RunInfo[]; mapped: Map<number, MappedRun> }> {
    if (!(await this.sender.deliver(experiment, this.readTimeoutMs, true))) {
      const fields = [...search.filter.all.map((c) => c.field), ...search.order.map((o) => o.field)];
      if (fields.some((f) => f.entity !== 'attribute' || f.key === 'run_name'))
        throw new TrackingError(
          `MLflow at ${this.client.baseUrl} has not received all events of '${experiment}' yet (they wait in ${this.spool.file}); ` +
            'a search by names, tags, params or metrics would miss them — try again when the server answers, or run `omega-track sync`',
        );
      const table = runTableFromEvents(
        await this.runEventsOffline(experiment, { runs, events: ['start', 'stop'] }),
      );
      await live(table);
      return { runs: searchRunTable(table, search), mapped: new Map() };
    }
    const exp = await this.client.getExperimentByName(experiment);
    if (!exp || exp.lifecycle_stage === 'deleted') return { runs: [], mapped: new Map() };
    return searchMlflowRuns(
      { client: this.client, experimentId: exp.experiment_id, live, statsRuns },
      search,
      runs,
    );
  }

  /** Sets MLflow run `runId` KILLED (MLflow's word for a crashed run), ending at `endTime`. */
  async killRun(runId: string, endTime: number): Promise<void> {
    await this.client.updateRun(runId, 'KILLED', endTime);
  }

  async deleteEvents(experiment: string): Promise<number> {
    this.spool.discard(this.client.baseUrl, experiment);
    // an op of this experiment may be on the wire: let it land, so its run is deleted below too
    await this.sender.idle();
    const runs = await this.omegaRuns(experiment);
    for (const r of runs) await this.client.deleteRun(r.run.info.run_id);
    // a cleared experiment numbers its runs from 1 again, as the embedded store's does
    const exp = await this.client.getExperimentByName(experiment);
    if (exp?.tags?.some((t) => t.key === DELETED_RUNS_TAG && t.value !== '0'))
      await this.client.setExperimentTag(exp.experiment_id, DELETED_RUNS_TAG, '0');
    await this.local.deleteEvents(experiment);
    return runs.length;
  }

  async *iterateEvents(
    experiment: string,
    query: ResolvedQuery,
    batchSize: number,
  ): AsyncIterable<TrackingEvent[]> {
    // MLflow has no cursor over a run's events: the rows are read, then handed out in batches
    const rows = await this.queryEvents(experiment, query);
    for (let i = 0; i < rows.length; i += batchSize) yield rows.slice(i, i + batchSize);
  }

  /** The artifact URI of an omega run in MLflow. */
  async artifactUri(experiment: string, run: number): Promise<string> {
    const known = this.spool.mapping(this.client.baseUrl, experiment, run);
    if (known) return known.artifactUri;
    const found = (await this.omegaRuns(experiment)).find((r) => r.number === run);
    if (!found) throw new TrackingError(`MLflow has no run ${run} of experiment '${experiment}'`);
    return found.run.info.artifact_uri;
  }

  async queryEvents(experiment: string, q: ResolvedQuery): Promise<TrackingEvent[]> {
    const onlyRunEvents = q.events !== undefined && q.events.every((e) => e === 'start' || e === 'stop');
    if (!(await this.sender.deliver(experiment, this.readTimeoutMs, true))) {
      // run status (use(), status(), runs()) is answered locally, so runs go on during an outage
      if (onlyRunEvents) return this.runEventsOffline(experiment, q);
      throw new TrackingError(
        `MLflow at ${this.client.baseUrl} has not received all events of '${experiment}' yet (they wait in ${this.spool.file}); ` +
          'reading now would miss them — try again when the server answers, or run `omega-track sync`',
      );
    }
    const wanted = (name: string): boolean => !q.events || q.events.includes(name);
    const rows: OrderedRow[] = [];
    const listed = await this.omegaRuns(experiment);
    const numbers = new Map(listed.map((r) => [r.run.info.run_id, r.number]));
    for (const { number, run } of listed) {
      if (
        q.runs !== undefined &&
        !(Array.isArray(q.runs) ? q.runs.includes(number) : number >= q.runs.from && number <= q.runs.to)
      )
        continue;
      const tags = Object.fromEntries((run.data.tags ?? []).map((t) => [t.key, t.value]));
      const base = {
        experiment,
        run: number,
        node: tags['omega.node'] ?? '',
        userid: tags['mlflow.user'] ?? '',
      };
      const info = run.info;
      if (wanted('start'))
        rows.push({
          rank: 0,
          o: 0,
          row: {
            ...base,
            event: 'start',
            key: 'start',
            // a child run's start names its parent, as the embedded store's does
            value: numbers.has(tags[PARENT_RUN_TAG]) ? { parent: numbers.get(tags[PARENT_RUN_TAG]) } : null,
            step: null,
            dt: new Date(info.start_time ?? 0),
          },
        });
      if (wanted('stop') && info.status !== 'RUNNING' && info.end_time !== undefined) {
        const value: Record<string, unknown> = { status: info.status === 'FAILED' ? 'FAILED' : 'STOPPED' };
        if (tags['omega.error']) value.error = tags['omega.error'];
        rows.push({
          rank: 2,
          o: 0,
          row: { ...base, event: 'stop', key: 'stop', value, step: null, dt: new Date(info.end_time) },
        });
      }
      if (onlyRunEvents) continue;
      const lines = await this.eventLines(info.artifact_uri);
      // the events files are out of reach (see ArtifactLocation): params and tags as MLflow has them
      if (!lines) rows.push(...metadataRows(base, run));
      const notes = new Map<string, Array<Extract<EventLine, { t: 'note' }>>>();
      for (const line of lines ?? []) {
        if (line.t === 'note') {
          if (line.value !== undefined) {
            // a point identical to an earlier one: MLflow kept it once, the note brings it back
            rows.push({ rank: 1, o: line.o, row: noteRow(base, line, line.value as number) });
            continue;
          }
          const id = `${line.key}\u0000${line.dt}\u0000${line.step ?? 0}`;
          (notes.get(id) ?? notes.set(id, []).get(id)!).push(line);
        } else {
          const e = line.e;
          rows.push({
            rank: 1,
            o: line.o,
            row: {
              ...(e.extra ?? {}),
              experiment,
              run: number,
              event: e.event,
              key: e.key,
              value: e.value,
              step: e.step,
              dt: new Date(e.dt),
              node: e.node,
              userid: e.userid,
            },
          });
        }
      }
      if (wanted('metric') || wanted('profile')) {
        for (const key of new Set((run.data.metrics ?? []).map((m) => m.key))) {
          const isSystem = key.startsWith('system/');
          if (!wanted(isSystem ? 'profile' : 'metric') || (!isSystem && q.keys && !q.keys.includes(key)))
            continue;
          for (const p of await this.client.getMetricHistory(info.run_id, key)) {
            const value = decodeMetricValue(p.value);
            const step = p.step ?? 0;
            if (isSystem) {
              const m = systemMetricToProfile(key, value)!;
              const row: TrackingEvent = {
                ...base,
                event: 'profile',
                key: m.key,
                value: m.value,
                step,
                dt: new Date(p.timestamp),
              };
              if (m.gpu !== undefined) row.gpu = m.gpu;
              rows.push({ rank: 1, o: Number.MAX_SAFE_INTEGER, row });
              continue;
            }
            const note = notes.get(`${key}\u0000${p.timestamp}\u0000${step}`)?.shift();
            rows.push(
              note
                ? { rank: 1, o: note.o, row: noteRow(base, note, value) }
                : {
                    rank: 1,
                    o: Number.MAX_SAFE_INTEGER,
                    row: { ...base, event: 'metric', key, value, step, dt: new Date(p.timestamp) },
                  },
            );
          }
        }
      }
    }
    const filter = rowFilter(q);
    const sorted = rows
      .filter((r) => !filter || filter(r.row))
      .sort((a, b) => a.row.dt.getTime() - b.row.dt.getTime() || a.rank - b.rank || a.o - b.o)
      .map((r) => r.row);
    return windowRows(sorted, q);
  }

  /**
   * Start and stop rows while MLflow cannot be read: the starts from the local store (where run
   * numbers are allocated), the stops from the spool, which keeps every stop it took, also
   * those still waiting to be sent. A stop older than its run's start belongs to an earlier run
   * of that number (a dropped experiment, a `memory:` store) and is left out.
   */
  private async runEventsOffline(experiment: string, q: ResolvedQuery): Promise<TrackingEvent[]> {
    const { limit: _limit, offset: _offset, ...unwindowed } = q;
    const local = await this.local.queryEvents(experiment, unwindowed);
    const started = new Map<number, TrackingEvent>();
    for (const row of await this.local.queryEvents(experiment, { runs: q.runs, events: ['start'] }))
      started.set(row.run, row);
    const rows = local.filter((r) => r.event !== 'stop');
    if (!q.events || q.events.includes('stop')) {
      for (const stop of this.spool.stops(this.client.baseUrl, experiment)) {
        const start = started.get(stop.run);
        if (!start || stop.dt < start.dt.getTime()) continue;
        rows.push({
          experiment,
          run: stop.run,
          event: 'stop',
          key: 'stop',
          value: decodeValue(stop.value),
          step: null,
          dt: new Date(stop.dt),
          node: stop.node,
          userid: stop.userid,
        });
      }
    }
    const filter = rowFilter(unwindowed);
    const rank = (r: TrackingEvent): number => (r.event === 'start' ? 0 : r.event === 'stop' ? 2 : 1);
    const sorted = rows
      .filter((r) => !filter || filter(r))
      .sort((a, b) => a.dt.getTime() - b.dt.getTime() || rank(a) - rank(b) || a.run - b.run);
    return windowRows(sorted, q);
  }

  /** The experiment's MLflow runs that are omega runs, with their numbers. */
  private async omegaRuns(experiment: string): Promise<Array<{ number: number; run: MlflowRun }>> {
    const exp = await this.client.getExperimentByName(experiment);
    if (!exp || exp.lifecycle_stage === 'deleted') return [];
    const runs = await this.client.searchRuns([exp.experiment_id]);
    const out: Array<{ number: number; run: MlflowRun }> = [];
    for (const run of runs) {
      const tag = run.data.tags?.find((t) => t.key === 'omega.run');
      if (tag && /^\d+$/.test(tag.value)) out.push({ number: Number(tag.value), run });
    }
    return out.sort((a, b) => a.number - b.number);
  }

  /**
   * Why the artifacts of the selected runs cannot be read, if one of them keeps its artifacts out
   * of reach (see ArtifactLocation): the first such run's error.
   */
  async unreachableArtifacts(
    experiment: string,
    runs: ResolvedQuery['runs'],
  ): Promise<MlflowArtifactsUnreachableError | undefined> {
    for (const { number, run } of await this.omegaRuns(experiment)) {
      if (
        runs !== undefined &&
        !(Array.isArray(runs) ? runs.includes(number) : number >= runs.from && number <= runs.to)
      )
        continue;
      const where = this.client.artifactLocation(run.info.artifact_uri);
      if (where.kind === 'unreachable') return where.error(`run ${number} of '${experiment}'`);
    }
    return undefined;
  }

  /** The lines of a run's events files; undefined when they are out of reach. */
  private async eventLines(artifactUri: string): Promise<EventLine[] | undefined> {
    if (this.client.artifactLocation(artifactUri).kind === 'unreachable') return undefined;
    const files = (await this.client.listArtifacts(artifactUri, EVENTS_DIR))
      .map((f) => ({ ...f, name: f.path.split('/').pop()! }))
      // only events files: a JSON artifact named `omega/events/x` is a file of its own there
      .filter((f) => !f.is_dir && f.name.endsWith('.jsonl'))
      .map((f) => f.name);
    const lines: EventLine[] = [];
    for (const name of files.sort()) {
      const text = (await this.client.downloadArtifact(artifactUri, `${EVENTS_DIR}/${name}`)).toString();
      for (const line of text.split('\n')) if (line) lines.push(decodeValue(line) as EventLine);
    }
    return lines;
  }
}
