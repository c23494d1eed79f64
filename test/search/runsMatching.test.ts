/**
 * Issue 13: a log that can tell on its side which runs may match a filter (`runsMatching`, the
 * MongoDB store's query of its aggregates) narrows what runs() reads to those runs; the table
 * runs() gives is the same as without it, because the filter is still applied exactly after.
 * The log here is the real embedded store with `runsMatching` added: a superset of the matches,
 * as the interface allows.
 */
import type { RunFilter } from '@omega-track/core';
import { omega } from 'omega-track';
import { SqliteStore, matchesRunFilter, runTableFromStats } from 'omega-track/internal';
import { runNumbers } from './helpers';

/** The embedded store, answering runsMatching from its own run table, with one extra run let through. */
class NarrowingStore extends SqliteStore {
  asked: string[] = [];
  statsRead: Array<readonly number[] | undefined> = [];

  constructor() {
    super(':memory:', 'memory:');
  }

  async runsMatching(experiment: string, filter: RunFilter): Promise<number[] | undefined> {
    this.asked.push(filter.text);
    if (filter.text.includes('status')) return undefined;
    const { rows } = await super.runStats(experiment);
    const matches = runTableFromStats(rows)
      .filter((r) => matchesRunFilter(r, filter))
      .map((r) => r.run);
    // a superset: run 1 never matches `metrics.acc > …` here, and is let through all the same
    return [...new Set([1, ...matches])];
  }

  override async runStats(experiment: string, runs?: readonly number[]) {
    this.statsRead.push(runs);
    return super.runStats(experiment, runs);
  }
}

describe('runsMatching narrows what runs() reads', () => {
  test('only the candidate runs are read; the answer is what the filter alone gives', async () => {
    const store = new NarrowingStore();
    const om = omega({ store });
    const exp = om.runtime.experiment('narrow');
    try {
      for (let r = 1; r <= 30; r++) {
        await exp.start();
        exp.logMetric('acc', r / 30);
        await exp.stop();
      }
      store.statsRead = [];
      const narrowed = await exp.runs({ filter: 'metrics.acc > 0.9' });
      expect(runNumbers(narrowed)).toEqual([28, 29, 30]);
      expect(store.asked).toEqual(['metrics.acc > 0.9']);
      // the candidates (1, 28, 29, 30) are all that was read
      expect(store.statsRead).toEqual([[1, 28, 29, 30]]);

      // within a run selection: only candidates that are also selected
      store.statsRead = [];
      expect(runNumbers(await exp.runs({ run: [1, 2, 29], filter: 'metrics.acc > 0.9' }))).toEqual([29]);
      expect(store.statsRead).toEqual([[1, 29]]);

      // a filter the log cannot narrow (undefined): the whole table, filtered after
      store.statsRead = [];
      expect(
        runNumbers(await exp.runs({ filter: "attributes.status = 'FINISHED' AND metrics.acc < 0.1" })),
      ).toEqual([1, 2]);
      expect(store.statsRead).toEqual([undefined]);

      // no filter: runsMatching is not asked
      store.asked = [];
      expect((await exp.runs()).length).toBe(30);
      expect(store.asked).toEqual([]);
    } finally {
      await om.close();
    }
  });
});
