/** A store as a source of runs: what `copy` and `export` read. */
import type { MetadataEntry, PendingEvent, RunSelector, Store } from '@omega-track/core';
import { TrackingInputError } from '@omega-track/core';
import {
  EXPERIMENT_KIND,
  EXPERIMENT_PREFIX,
  parseNamePattern,
  pendingEventOf,
  readRunTable,
  resolveQuery,
} from '@omega-track/core/internal';
import type { SourceExperiment, SourceRun, TransferLog, TransferSource } from './TransferSource';

/** Events read from the store at a time: a batch is a few MB, whatever the run's length. */
const READ_BATCH = 20_000;

/** Which experiments and runs of a store a transfer takes. */
export interface StoreSourceOptions {
  /** Experiment names or name patterns (`*`, `?`, `[…]`); all experiments when none. */
  experiments?: readonly string[];
  /** The runs of each experiment (as `data({ run })` takes them); all when undefined. */
  runs?: RunSelector;
}

/** The experiments of `store` that `patterns` name, sorted; a pattern that names none is an error. */
export async function selectExperiments(
  store: Store,
  patterns: readonly string[] | undefined,
): Promise<MetadataEntry[]> {
  const entries = (await store.listEntries('models', EXPERIMENT_PREFIX)).filter(
    (e) => e.kind === EXPERIMENT_KIND,
  );
  if (!patterns?.length) return entries;
  const matchers = patterns.map((p) => ({ text: p, pattern: parseNamePattern(p) }));
  const nameOf = (e: MetadataEntry): string => e.name.slice(EXPERIMENT_PREFIX.length);
  for (const m of matchers)
    if (!entries.some((e) => m.pattern.matches(nameOf(e))))
      throw new TrackingInputError(`no experiment of the store matches '${m.text}'`);
  return entries.filter((e) => matchers.some((m) => m.pattern.matches(nameOf(e))));
}

/**
 * Reads the experiments of `store` with their runs, each run under its own number with its
 * start event, its events in the order `data()` gives them, its row of `runs()`, and the store
 * itself as the source of its artifact content.
 */
export function storeSource(store: Store, opts: StoreSourceOptions = {}): TransferSource {
  return {
    describe: store.url,
    async *experiments(log: TransferLog): AsyncIterable<SourceExperiment> {
      for (const entry of await selectExperiments(store, opts.experiments)) {
        const name = entry.name.slice(EXPERIMENT_PREFIX.length);
        const provider = (entry.attributes.tracking as { provider?: unknown } | undefined)?.provider;
        if (provider === 'mlflow') {
          // its runs live in MLflow, not in this store
          log.skipped(
            `experiment '${name}'`,
            'it records into an MLflow server (provider mlflow): import from there with --from mlflow',
          );
          continue;
        }
        const query = await resolveQuery(opts.runs === undefined ? {} : { run: opts.runs }, {
          currentRun: undefined,
          latestRun: () => store.latestRun(name),
        });
        const table = await readRunTable(store, name, query.runs);
        yield {
          name,
          entry,
          runCount: table.length,
          runs: async function* () {
            for (const info of table) {
              const run = await sourceRun(store, name, info.run, log);
              if (run) yield { ...run, info };
            }
          },
        };
      }
    },
  };
}

/** One run of the store, or undefined (said in `log`) when it has no start event. */
async function sourceRun(
  store: Store,
  experiment: string,
  run: number,
  log: TransferLog,
): Promise<SourceRun | undefined> {
  const [start] = await store.queryEvents(experiment, { runs: [run], events: ['start'], limit: 1 });
  if (!start) {
    log.skipped(`run ${run} of '${experiment}'`, 'it has no start event, so it cannot be written as a run');
    return undefined;
  }
  const { run: _run, ...startEvent } = pendingEventOf(start);
  return {
    experiment,
    run,
    start: startEvent,
    content: store,
    events: () => runEventsAfterStart(store, experiment, run, startEvent.dt, READ_BATCH),
  };
}

/**
 * The events of a stored run after its start event (the one at `startDt`, the first such), in
 * batches of at most `batchSize`, in the shape they were written in: what a copy writes after
 * the run's start, and what it compares with when the target holds the run already.
 */
export async function* runEventsAfterStart(
  store: Store,
  experiment: string,
  run: number,
  startDt: number,
  batchSize: number,
): AsyncIterable<PendingEvent[]> {
  let startSeen = false;
  for await (const batch of store.iterateEvents(experiment, { runs: [run] }, batchSize)) {
    const out: PendingEvent[] = [];
    for (const e of batch) {
      const p = pendingEventOf(e);
      // the start event the run is made with is not written twice
      if (!startSeen && p.event === 'start' && p.dt === startDt) {
        startSeen = true;
        continue;
      }
      out.push(p);
    }
    if (out.length) yield out;
  }
}
