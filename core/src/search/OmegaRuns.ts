import { TrackingInputError } from '../errors/TrackingInputError';
import type { RunInfo } from '../events/types';
import type { ExperimentBackend } from '../experiments/ExperimentBackend';
import { parseNamePattern } from '../objects/namePattern';
import { parseRunSearch, searchRunTable } from './searchRuns';
import type { RunSearch } from './searchRuns';

/** What `om.runs.search` takes: which experiments, and a search over their runs. */
export interface RunsSearchOptions extends RunSearch {
  /**
   * Experiment names: one name, a list, or a pattern with `*`, `?`, `[…]` (as `om.models.list`),
   * e.g. `'team/*'`. Default: every experiment.
   */
  experiments?: string | readonly string[];
}

/**
 * `om.runs`: runs across experiments. `search()` asks each experiment's provider for the runs
 * matching the filter (the embedded store evaluates it, `mlflow` passes it to the server), then
 * orders and pages them all together; each run carries its `experiment`.
 */
export class OmegaRuns {
  /** One handle per experiment searched: its provider is made once, and shut down with `om`. */
  private readonly handles = new Map<string, ReturnType<ExperimentBackend['proxy']>>();

  constructor(private readonly experiments: ExperimentBackend) {}

  async search(opts: RunsSearchOptions = {}): Promise<RunInfo[]> {
    const { experiments, limit, offset, ...search } = opts;
    const parsed = parseRunSearch({ ...search, limit, offset });
    const names = await this.names(experiments);
    const all: RunInfo[] = [];
    for (const name of names) {
      let exp = this.handles.get(name);
      if (!exp) this.handles.set(name, (exp = this.experiments.proxy(name)));
      // each experiment gives at most offset + limit runs: more can never make the page
      const page = limit === undefined ? undefined : (offset ?? 0) + limit;
      const runs = await exp.runs({ ...search, ...(page === undefined ? {} : { limit: page }) });
      for (const run of runs) all.push({ ...run, experiment: name });
    }
    return searchRunTable(all, { ...parsed, filter: { all: [], text: '' } });
  }

  private async names(experiments: RunsSearchOptions['experiments']): Promise<string[]> {
    const known = await this.experiments.list();
    if (experiments === undefined) return known;
    const patterns = typeof experiments === 'string' ? [experiments] : experiments;
    if (!Array.isArray(patterns) || patterns.some((p) => typeof p !== 'string'))
      throw new TrackingInputError('experiments is a name, a pattern such as "team/*", or a list of them');
    const matchers = patterns.map((p) => parseNamePattern(p));
    return known.filter((name) =>
      matchers.some((m, i) => (m.wildcard ? m.matches(name) : name === patterns[i])),
    );
  }
}
