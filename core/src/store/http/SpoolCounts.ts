/**
 * What waits in a spool, counted as items come and go (a spool's reads of them stay cheap and
 * synchronous): items, events and bytes, and events per experiment and run (for runs()'s
 * `pending`). Shared by the Node spool (SQLite) and a page's (IndexedDB).
 */
export class SpoolCounts {
  items = 0;
  events = 0;
  bytes = 0;
  readonly #byRun = new Map<string, Map<number, number>>();

  /** Counts an item in (`sign` 1) or out (-1); `runs` holds its events per run. */
  count(
    experiment: string,
    events: number,
    bytes: number,
    runs: Record<string, number> | null,
    sign: 1 | -1,
  ): void {
    this.items += sign;
    this.events += sign * events;
    this.bytes += sign * bytes;
    if (!runs) return;
    let byRun = this.#byRun.get(experiment);
    if (!byRun) this.#byRun.set(experiment, (byRun = new Map()));
    for (const [run, n] of Object.entries(runs)) {
      const left = (byRun.get(Number(run)) ?? 0) + sign * n;
      if (left > 0) byRun.set(Number(run), left);
      else byRun.delete(Number(run));
    }
  }

  /** Events of `experiment` waiting, per run. */
  byRun(experiment: string): Map<number, number> {
    return new Map(this.#byRun.get(experiment) ?? []);
  }
}
