/**
 * The UI's JSON API: read-only handlers over an open `Omega`. Experiments are read through their
 * provider (as the CLI reads them), long series column-wise from the store where the events are
 * there, and nothing is ever written.
 */
import type { EventQuery, Omega, RunInfo, TrackingEvent } from '@omega-track/core';
import { FilterSyntaxError } from '@omega-track/core';
import { parseNamePattern, parseRunOrder, validateExperimentName } from '@omega-track/core/internal';
import { jsonRow } from '../../commands/format';
import { rowWriter } from '../../commands/output';
import { defaultColumns, splitList, withErrors } from '../../commands/runs';
import { ArtifactDownloads } from './artifactDownloads';
import { downsampleRange, downsampleSeries, MIN_POINTS } from './downsample';
import type { DownsampledSeries } from './downsample';
import type { Reply } from './respond';
import { HttpError } from './respond';
import type { SeriesSource, XMode } from './series';
import type { Series } from './series';
import { SeriesCache, changeMarkOf, isRange, readProfile, sliceRange, upperBound } from './series';
import { bandGrid, computeBand, memberPoints } from './bands';

/** Points per series unless the page asks for another number. */
export const DEFAULT_POINTS = 2000;
/** The most points a series is sent with. */
export const MAX_POINTS = 20_000;
/** The most runs one /series request reads. */
export const MAX_SERIES_RUNS = 100;
/** Rows of the events table per page unless asked otherwise, and the most. */
const DEFAULT_EVENT_ROWS = 100;
const MAX_EVENT_ROWS = 1000;
/** The columns the events table and its CSV begin with (as `omega-track data`). */
const EVENT_COLUMNS = ['experiment', 'run', 'event', 'key', 'value', 'step', 'dt', 'node', 'userid'];
/**
 * The most metric, param and tag keys `/keys` lists of each kind, the runs table's columns: runs
 * imported with 100,000 tags (or logged before MAX_TAGS_PER_RUN) would make as many columns,
 * beyond what a page can show or anyone can read. The keys most runs have are the ones listed.
 */
export const MAX_KEY_COLUMNS = 100;

/** The keys of the runs table's columns, per kind, and how many it leaves out. */
export interface ShownKeys {
  metrics: string[];
  params: string[];
  tags: string[];
  hidden: { metrics: number; params: number; tags: number };
  /** Per kind, how many runs have each listed key (the page's default columns are the most common). */
  counts: { metrics: Record<string, number>; params: Record<string, number>; tags: Record<string, number> };
}

/**
 * The metric, param and tag keys of `runs`, sorted, at most MAX_KEY_COLUMNS of each kind: past
 * that, the keys the most runs have (then by name), so that a few wide runs do not push out the
 * keys every run shares.
 */
export function shownKeys(runs: readonly RunInfo[]): ShownKeys {
  const pick = (
    field: 'metrics' | 'params' | 'tags',
  ): { keys: string[]; hidden: number; counts: Record<string, number> } => {
    const counts = new Map<string, number>();
    for (const r of runs) for (const k in r[field] ?? {}) counts.set(k, (counts.get(k) ?? 0) + 1);
    let keys = [...counts.keys()];
    const hidden = Math.max(0, keys.length - MAX_KEY_COLUMNS);
    if (hidden > 0)
      keys = keys
        .sort((a, b) => counts.get(b)! - counts.get(a)! || (a < b ? -1 : a > b ? 1 : 0))
        .slice(0, MAX_KEY_COLUMNS);
    keys.sort();
    return { keys, hidden, counts: Object.fromEntries(keys.map((k) => [k, counts.get(k)!])) };
  };
  const metrics = pick('metrics');
  const params = pick('params');
  const tags = pick('tags');
  return {
    metrics: metrics.keys,
    params: params.keys,
    tags: tags.keys,
    hidden: { metrics: metrics.hidden, params: params.hidden, tags: tags.hidden },
    counts: { metrics: metrics.counts, params: params.counts, tags: tags.counts },
  };
}

/** `run` with only the metric, param and tag keys in `shown` (the same run when it has no others). */
function withKeys(run: RunInfo, shown: ShownKeys): RunInfo {
  let trimmed: RunInfo | undefined;
  for (const field of ['metrics', 'params', 'tags'] as const) {
    const bag = run[field];
    if (!bag) continue;
    const keep = new Set(shown[field]);
    let extra = false;
    for (const k in bag)
      if (!keep.has(k)) {
        extra = true;
        break;
      }
    if (!extra) continue;
    const kept: Record<string, unknown> = {};
    for (const k of keep) if (Object.prototype.hasOwnProperty.call(bag, k)) kept[k] = bag[k];
    trimmed = { ...(trimmed ?? run), [field]: kept };
  }
  return trimmed ?? run;
}

/** Options of the API. */
export interface ApiOptions {
  /** Bytes of decoded series kept between requests (default 256 MiB). */
  cacheBytes?: number;
  /**
   * The providers an experiment is read through as configured; any other is read from the store
   * with the default reader. Default: every registered one. A server whose writers may store
   * configurations limits this: a provider's options (MLflow's URL, its spool file) would
   * otherwise make the server reach and create what a writer chose.
   */
  readers?: ReadonlySet<string>;
}

/** A whole number from the query: `fallback` when absent, a 400 when it is not one in range. */
export function intParam(
  q: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const text = q.get(name);
  if (text === null || text.trim() === '') return fallback;
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(Number(text)))
    throw new HttpError(400, `${name} takes a whole number, got '${text}'`);
  const n = Number(text);
  if (n < min || n > max) throw new HttpError(400, `${name} takes a number from ${min} to ${max}, got ${n}`);
  return n;
}

/** A number (an x range end) from the query; undefined when absent. */
function numberParam(q: URLSearchParams, name: string): number | undefined {
  const text = q.get(name);
  if (text === null || text.trim() === '') return undefined;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new HttpError(400, `${name} takes a number, got '${text}'`);
  return n;
}

/** A comma-separated list from the query; undefined when absent or empty. */
function listParam(q: URLSearchParams, name: string): string[] | undefined {
  const text = q.get(name);
  if (text === null) return undefined;
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return list.length ? list : undefined;
}

/** A run number from a path. */
export function runParam(text: string): number {
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text)) || Number(text) < 1)
    throw new HttpError(400, `a run is a number from 1, got '${text}'`);
  return Number(text);
}

/** The points a series is sent with: the page's wish within MIN_POINTS … MAX_POINTS. */
function pointsParam(q: URLSearchParams): number {
  return Math.min(MAX_POINTS, Math.max(MIN_POINTS, intParam(q, 'points', DEFAULT_POINTS, 1)));
}

/** Whether the CSV form of a table was asked for (`?format=csv`). */
function wantsCsv(q: URLSearchParams): boolean {
  const format = q.get('format');
  if (format === null || format === 'json') return false;
  if (format === 'csv') return true;
  throw new HttpError(400, `format takes json or csv, got '${format}'`);
}

/** A table of rows as a CSV download. */
function csvReply(
  filename: string,
  columns: readonly string[],
  rows: Iterable<Record<string, unknown>>,
): Reply {
  return {
    kind: 'stream',
    contentType: 'text/csv; charset=utf-8',
    filename,
    async write(out) {
      const writer = rowWriter(out, 'csv', columns);
      for (const row of rows) {
        writer.row(row);
        await out.drain();
      }
      writer.end();
    },
  };
}

/** How an experiment is read. */
interface Reader extends SeriesSource {
  /** The configuration it was made for (provider and options), as JSON. */
  configured: string;
}

/** The handlers, with the readers and caches they share. */
export class UiApi {
  readonly cache: SeriesCache;
  private readonly readers = new Map<string, Reader>();
  /** Run tables by experiment, filter and order, while the experiment's mark stays (see runTable). */
  private readonly tables = new Map<string, { mark: string; runs: RunInfo[]; until: number | undefined }>();
  /** The runs table's columns of a run table (as runTable keeps it: the same array while cached). */
  private readonly shown = new WeakMap<readonly RunInfo[], ShownKeys>();
  /** Event counts of the events table, by query, while the run's mark stays. */
  private readonly counts = new Map<string, { mark: string; count: number }>();

  private readonly readsWith: ReadonlySet<string> | undefined;

  constructor(
    private readonly om: Omega,
    opts: ApiOptions = {},
  ) {
    this.cache = new SeriesCache(opts.cacheBytes);
    this.readsWith = opts.readers;
  }

  /**
   * The reader of experiment `name` (404 when there is none): its provider as configured, without
   * changing the configuration; one whose provider is not registered here (or not among
   * `readers`) is read from the store with the default provider, as the CLI does.
   */
  async reader(name: string): Promise<Reader> {
    validateExperimentName(name);
    const config = await this.om.experiments.get(name);
    if (!config) throw new HttpError(404, `no experiment '${name}'`);
    const configured = JSON.stringify([config.provider, config.options]);
    const known = this.readers.get(name);
    if (known && known.configured === configured) return known;
    // the experiment was configured anew (another provider, other options): the old reader goes
    if (known) void known.reader.shutdown().catch(() => undefined);
    const reader =
      this.om.registry.has(config.provider) && (this.readsWith?.has(config.provider) ?? true)
        ? this.om.experiments.createProvider(name, config)
        : this.om.experiments.createProvider(name, { provider: 'default', options: {} });
    // the built-in providers keep their event log in `log`: when that is this store, the
    // events are read column-wise from it; others (MLflow's log) are read through the provider
    const log = (reader as unknown as { log?: unknown }).log;
    const inStore = log === this.om.store && this.om.store.queryColumns !== undefined;
    const made: Reader = {
      experiment: name,
      configured,
      reader,
      store: inStore ? this.om.store : undefined,
    };
    this.readers.set(name, made);
    return made;
  }

  /** The change mark of an experiment (for live updates); undefined when its log cannot tell. */
  async mark(name: string): Promise<string | undefined> {
    if (!(await this.om.experiments.get(name))) return undefined;
    const r = await this.reader(name);
    return (await changeMarkOf(r.store, name))?.mark;
  }

  /**
   * `GET /api/experiments`: name, provider, runs and last activity of each (of those `visible`
   * takes: a token limited to some experiments sees only those).
   */
  async experiments(q: URLSearchParams, visible: (name: string) => boolean = () => true): Promise<Reply> {
    const csv = wantsCsv(q);
    const rows: Array<{ name: string; provider: string; runs: number; lastActivity: string | null }> = [];
    for (const name of await this.om.experiments.list()) {
      if (!visible(name)) continue;
      const config = await this.om.experiments.get(name);
      if (!config) continue;
      let runs = 0;
      let lastActivity: string | null = null;
      // a provider that cannot be set up here (its options, its package) leaves its row plain
      const r = await this.reader(name).catch(() => undefined);
      const mark = await changeMarkOf(r?.store, name).catch(() => undefined);
      if (mark) {
        runs = mark.runs;
        const at = mark.lastDt === undefined ? NaN : new Date(mark.lastDt).getTime();
        lastActivity = Number.isNaN(at) ? null : new Date(at).toISOString();
      } else runs = (await this.om.store.latestRun(name)) ?? 0;
      rows.push({ name, provider: config.provider, runs, lastActivity });
    }
    if (csv) return csvReply('experiments.csv', ['name', 'provider', 'runs', 'lastActivity'], rows);
    return { kind: 'json', body: { experiments: rows } };
  }

  /** `GET /api/experiments/:exp/runs`: the run table, filtered, ordered and paged. */
  async runs(name: string, q: URLSearchParams): Promise<Reply> {
    const csv = wantsCsv(q);
    const filter = q.get('filter')?.trim() || undefined;
    const orderText = q.get('orderBy')?.trim();
    const orderBy = orderText ? splitList(orderText) : undefined;
    const limit = q.has('limit') ? intParam(q, 'limit', 0, 0) : undefined;
    const offset = intParam(q, 'offset', 0, 0);
    const keys = q.get('keys');
    if (keys !== null && keys !== 'shown' && keys !== 'all')
      throw new HttpError(400, `keys takes shown or all, got '${keys}'`);
    checkOrder(orderBy);
    const source = await this.reader(name);
    const reader = source.reader;
    // a filter that does not parse is a 400 with its position (FilterSyntaxError)
    const all = await this.runTable(source, filter, orderBy);
    let page = await withErrors(
      reader,
      offset || limit !== undefined
        ? all.slice(offset, limit === undefined ? undefined : offset + limit)
        : all,
    );
    // the page of the runs table: each run with the keys of its columns only, whatever it holds
    if (keys === 'shown') {
      const shown = await this.shownKeys(source);
      page = page.map((r) => withKeys(r, shown));
    }
    if (csv) {
      const columns = defaultColumns(page);
      const rows = page.map((r) => {
        const row: Record<string, unknown> = {};
        for (const c of columns) row[c.header] = c.value(r);
        return row;
      });
      return csvReply(
        `${name}-runs.csv`,
        columns.map((c) => c.header),
        rows,
      );
    }
    return { kind: 'json', body: { runs: await this.markProfiles(name, page), total: all.length } };
  }

  /**
   * The runs of an experiment, filtered and ordered. Pages of a large table are asked for one
   * after the other: the table is kept while the experiment's events stay as they are — and, as
   * long as a run is STARTED (its duration grows, it may be found CRASHED), for a second at most.
   */
  private async runTable(source: Reader, filter?: string, orderBy?: string[]): Promise<RunInfo[]> {
    const mark = (await changeMarkOf(source.store, source.experiment))?.mark;
    if (mark === undefined) return source.reader.runs({ filter, orderBy });
    const id = JSON.stringify([source.experiment, filter ?? '', orderBy ?? []]);
    const known = this.tables.get(id);
    if (known && known.mark === mark && (known.until === undefined || Date.now() < known.until))
      return known.runs;
    const runs = await source.reader.runs({ filter, orderBy });
    if (this.tables.size >= 32) this.tables.clear();
    const live = runs.some((r) => r.status === 'STARTED');
    this.tables.set(id, { mark, runs, until: live ? Date.now() + 1000 : undefined });
    return runs;
  }

  /** The columns of an experiment's runs table (`shownKeys` of all its runs), kept with the table. */
  private async shownKeys(source: Reader): Promise<ShownKeys> {
    const runs = await this.runTable(source);
    let shown = this.shown.get(runs);
    if (!shown) this.shown.set(runs, (shown = shownKeys(runs)));
    return shown;
  }

  /**
   * `GET /api/experiments/:exp/keys`: the metric, param and tag keys of its runs, at most
   * MAX_KEY_COLUMNS of each kind, and how many each list leaves out (`hidden`).
   */
  async keys(name: string): Promise<Reply> {
    return { kind: 'json', body: await this.shownKeys(await this.reader(name)) };
  }

  /** `GET /api/experiments/:exp/series`: one key of some runs, downsampled for a chart. */
  async series(name: string, q: URLSearchParams): Promise<Reply> {
    const { key, event, mode } = seriesParams(q);
    const points = pointsParam(q);
    const runs = runsParam(q, MAX_SERIES_RUNS);
    const from = numberParam(q, 'from');
    const to = numberParam(q, 'to');
    const source = await this.reader(name);
    const starts = await startsOf(source, runs, mode);
    const series: Array<DownsampledSeries & { run: number; start?: number }> = [];
    for (const run of runs) {
      const whole = await this.cache.series(source, run, event, key, mode === 'step' ? 'step' : 'time');
      if (isRange(whole)) {
        // steps counting up by one: the range from/to asks for is found by arithmetic
        const lo = from === undefined ? 0 : Math.min(whole.length, Math.max(0, Math.ceil(from - whole.x0)));
        const hi =
          to === undefined
            ? whole.length
            : Math.min(whole.length, Math.max(0, Math.floor(to - whole.x0) + 1));
        series.push({ run, ...downsampleRange(whole, lo, Math.max(lo, hi), points) });
        continue;
      }
      // time since the start: the run's start event, else its first point
      const start = mode === 'relative' ? (starts.get(run) ?? (whole.x.length ? whole.x[0] : 0)) : 0;
      const part = sliceRange(
        whole,
        from === undefined ? undefined : from + start,
        to === undefined ? undefined : to + start,
      );
      const down = downsampleSeries(part.x, part.y, points, { finite: part.finite });
      if (start) {
        for (let i = 0; i < down.x.length; i++) down.x[i] -= start;
        for (const p of down.nonFinite) p.x -= start;
      }
      series.push({ run, ...down, ...(mode === 'relative' ? { start } : {}) });
    }
    return { kind: 'json', body: { key, event, x: mode, points, series } };
  }

  /** `GET /api/experiments/:exp/runs/:run/profile`: the run's profile series over time. */
  async profile(name: string, run: number, q: URLSearchParams): Promise<Reply> {
    const points = pointsParam(q);
    const source = await this.reader(name);
    const series: Record<string, { x: number[]; y: number[]; total: number; shown: number }> = {};
    for (const [key, s] of await readProfile(source, run)) {
      const down = downsampleSeries(s.x, s.y, points, { finite: s.finite });
      series[key] = { x: down.x, y: down.y, total: down.total, shown: down.shown };
    }
    return { kind: 'json', body: { run, series } };
  }

  /** How many events of `run` match `query`: counted column-wise where the store can, kept while the run is unchanged. */
  private async countEvents(source: Reader, run: number, query: EventQuery): Promise<number> {
    const store = source.store;
    if (!store?.queryColumns) return (await source.reader.data(query)).length;
    const id = JSON.stringify([source.experiment, run, query.event ?? null, query.key ?? null]);
    const mark = (await changeMarkOf(store, source.experiment, run))?.mark;
    const known = this.counts.get(id);
    if (known && mark !== undefined && known.mark === mark) return known.count;
    let count = 0;
    const events = query.event as string[] | undefined;
    const keys = query.key as string[] | undefined;
    for await (const b of store.queryColumns(source.experiment, { runs: [run], events, keys }))
      count += b.length;
    if (mark !== undefined) {
      if (this.counts.size >= 1000) this.counts.clear();
      this.counts.set(id, { mark, count });
    }
    return count;
  }

  /** `GET /api/experiments/:exp/runs/:run/events`: the raw events, a page, or all as CSV. */
  async events(name: string, run: number, q: URLSearchParams): Promise<Reply> {
    const csv = wantsCsv(q);
    const query: EventQuery = { run };
    const events = listParam(q, 'event');
    const keys = listParam(q, 'key');
    if (events) query.event = events;
    if (keys) query.key = keys;
    const source = await this.reader(name);
    const reader = source.reader;
    if (csv) {
      // every column of the rows first (extra fields included), since the header comes first
      const columns = new Set(EVENT_COLUMNS);
      for await (const batch of reader.iterate(query, { batchSize: 10_000 }))
        for (const row of batch) for (const k in row) columns.add(k);
      return {
        kind: 'stream',
        contentType: 'text/csv; charset=utf-8',
        filename: `${name}-run${run}-events.csv`,
        async write(out) {
          const writer = rowWriter(out, 'csv', [...columns]);
          for await (const batch of reader.iterate(query, { batchSize: 10_000 })) {
            for (const row of batch) writer.row(row);
            await out.drain();
          }
          writer.end();
        },
      };
    }
    const offset = intParam(q, 'offset', 0, 0);
    const limit = intParam(q, 'limit', DEFAULT_EVENT_ROWS, 1, MAX_EVENT_ROWS);
    const total = await this.countEvents(source, run, query);
    const rows: TrackingEvent[] = [];
    if (offset < total)
      for await (const batch of reader.iterate({ ...query, offset, limit }, { batchSize: limit }))
        for (const row of batch) rows.push(row);
    return {
      kind: 'jsonText',
      text: `{"events":[${rows.map((r) => jsonRow(r)).join(',')}],"total":${total}}`,
    };
  }

  /** `GET /api/experiments/:exp/runs/:run/artifacts`: the run's artifacts (artifactDownloads.ts). */
  async artifacts(name: string, run: number): Promise<Reply> {
    return new ArtifactDownloads(this.om.store).list(await this.reader(name), run);
  }

  /** `GET …/runs/:run/artifacts/:key` and `…/runs/:run/artifact?key=`: one artifact, as what it is. */
  async artifact(name: string, run: number, key: string, q: URLSearchParams): Promise<Reply> {
    return new ArtifactDownloads(this.om.store).one(await this.reader(name), run, key, q);
  }

  /** The runs of an experiment that have profile events, kept with its run table's mark. */
  private readonly profiled = new Map<string, { mark: string; runs: Set<number> }>();

  /** The runs of `source` with profile events (from the store's chunk index; none where it has none). */
  private async profiledRuns(source: Reader): Promise<Set<number>> {
    const store = source.store;
    if (!store?.runsWithEvent) return new Set();
    const mark = (await changeMarkOf(store, source.experiment))?.mark;
    const known = this.profiled.get(source.experiment);
    if (known && mark !== undefined && known.mark === mark) return known.runs;
    const runs = new Set(await store.runsWithEvent(source.experiment, 'profile'));
    if (mark !== undefined) {
      if (this.profiled.size >= 32) this.profiled.clear();
      this.profiled.set(source.experiment, { mark, runs });
    }
    return runs;
  }

  /** Runs rows with `profile: true` on those that have profile events (H-24: the page hides the link otherwise). */
  async markProfiles(name: string, rows: RunInfo[]): Promise<Array<RunInfo & { profile?: true }>> {
    const profiled = await this.profiledRuns(await this.reader(name));
    return rows.map((r) => (profiled.has(r.run) ? { ...r, profile: true as const } : r));
  }

  /**
   * `GET /api/experiments/:exp/values?key=K&step=S&runs=1,2,3[&event=metric]`: each run's value
   * of K at step S (the last logged at that step), null where the run has none there.
   */
  async values(name: string, q: URLSearchParams): Promise<Reply> {
    const key = q.get('key');
    if (!key) throw new HttpError(400, 'name the key: key=<metric key>');
    const event = q.get('event') || 'metric';
    const step = numberParam(q, 'step');
    if (step === undefined) throw new HttpError(400, 'name the step: step=<number>');
    const runs = runsParam(q, MAX_BAND_RUNS);
    const source = await this.reader(name);
    const values: Record<string, number | null> = {};
    for (const run of runs) {
      const whole = await this.cache.series(source, run, event, key, 'step');
      values[String(run)] = valueAt(whole, step);
    }
    return { kind: 'json', body: { key, step, values } };
  }

  /**
   * `GET /api/experiments/:exp/band?key=K&runs=…&x=step|time|relative&points=N&band=std|minmax`:
   * the members' downsampled series on one shared grid, and per grid point their mean, the
   * band (mean ± std, or min–max) and how many members cover it (see bands.ts).
   */
  async band(name: string, q: URLSearchParams): Promise<Reply> {
    const { key, event, mode: modeText } = seriesParams(q);
    const bandText = q.get('band') || 'std';
    if (bandText !== 'std' && bandText !== 'minmax')
      throw new HttpError(400, `band takes std or minmax, got '${bandText}'`);
    const points = pointsParam(q);
    const runs = runsParam(q, MAX_BAND_RUNS);
    const source = await this.reader(name);
    const starts = await startsOf(source, runs, modeText);
    const members = [];
    for (const run of runs) {
      const whole = await this.cache.series(source, run, event, key, modeText === 'step' ? 'step' : 'time');
      const first = isRange(whole) ? whole.x0 : whole.x.length ? whole.x[0] : 0;
      const shift = modeText === 'relative' ? (starts.get(run) ?? first) : 0;
      members.push(memberPoints(whole, points, shift));
    }
    const grid = bandGrid(members, points, modeText === 'step');
    const band = computeBand(members, grid, bandText);
    return { kind: 'json', body: { key, x: modeText, band: bandText, runs, ...band } };
  }

  /**
   * `GET /api/runs?experiments=a,b*&filter=…&orderBy=…&limit=&offset=`: runs across the
   * experiments (`om.runs.search`; names or patterns, all when none), of those `visible` takes.
   */
  async allRuns(q: URLSearchParams, visible: (name: string) => boolean = () => true): Promise<Reply> {
    const filter = q.get('filter')?.trim() || undefined;
    const orderText = q.get('orderBy')?.trim();
    const orderBy = orderText ? splitList(orderText) : undefined;
    const limit = q.has('limit') ? intParam(q, 'limit', 0, 0) : undefined;
    const offset = intParam(q, 'offset', 0, 0);
    const wanted = listParam(q, 'experiments');
    const patterns = (wanted ?? ['*']).map((p) => parseNamePattern(p));
    const names = (await this.om.experiments.list()).filter(
      (n) => visible(n) && patterns.some((p, i) => (p.wildcard ? p.matches(n) : n === (wanted ?? ['*'])[i])),
    );
    // a filter that does not parse is a 400 with its position (FilterSyntaxError)
    const all = names.length ? await this.om.runs.search({ experiments: names, filter, orderBy }) : [];
    const page = all
      .filter((r) => r.experiment !== undefined && visible(r.experiment))
      .slice(offset, limit === undefined ? undefined : offset + limit);
    return { kind: 'json', body: { runs: page, total: all.length } };
  }
}

/** The most runs one /band or /values request reads. */
export const MAX_BAND_RUNS = 500;

/** The distinct runs of `runs=1,2,3`: at least one, at most `max`. */
function runsParam(q: URLSearchParams, max: number): number[] {
  const runs = [...new Set((listParam(q, 'runs') ?? []).map(runParam))];
  if (runs.length === 0) throw new HttpError(400, 'name the runs: runs=1,2,3');
  if (runs.length > max) throw new HttpError(400, `at most ${max} runs per request, got ${runs.length}`);
  return runs;
}

/** The last value a series (in step order, ties in logging order) has at `step`; null when none. */
function valueAt(s: Series, step: number): number | null {
  if (isRange(s)) {
    const at = step - s.x0;
    if (!Number.isInteger(at) || at < 0 || at >= s.length) return null;
    let i = at;
    for (const values of s.segments) {
      if (i < values.length) return values[i];
      i -= values.length;
    }
    return null;
  }
  const i = upperBound(s.x, step) - 1;
  return i >= 0 && s.x[i] === step ? s.y[i] : null;
}

/**
 * An ordering that does not parse is a 400 that names `orderBy` (the page drops a sort typed into
 * its address, and keeps saying a bad filter as the filter's).
 */
function checkOrder(orderBy: string[] | undefined): void {
  if (!orderBy) return;
  try {
    parseRunOrder(orderBy);
  } catch (error) {
    throw new HttpError(400, `orderBy: ${error instanceof Error ? error.message : String(error)}`, {
      param: 'orderBy',
      ...(error instanceof FilterSyntaxError ? { position: error.position } : {}),
    });
  }
}

/** What a series is of (`key`, `event`) and its x (`x=step|time|relative`): /series and /band. */
function seriesParams(q: URLSearchParams): { key: string; event: string; mode: XMode } {
  const key = q.get('key');
  if (!key) throw new HttpError(400, 'name the series: key=<metric key>');
  const mode = q.get('x') || 'step';
  if (mode !== 'step' && mode !== 'time' && mode !== 'relative')
    throw new HttpError(400, `x takes step, time or relative, got '${mode}'`);
  return { key, event: q.get('event') || 'metric', mode };
}

/** The start times of runs, for x by time since the start (`relative`); none for other modes. */
async function startsOf(source: Reader, runs: number[], mode: XMode): Promise<Map<number, number>> {
  const starts = new Map<number, number>();
  if (mode === 'relative')
    for (const r of await source.reader.runs({ run: runs }))
      if (r.started) starts.set(r.run, r.started.getTime());
  return starts;
}
