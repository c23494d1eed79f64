/**
 * Issue 14, point 4: `data({ experiment: 'other', … })` (omega-ml's `data(experiment=…)`) reads the
 * events of another experiment of the same store, with that experiment's runs; an unknown
 * experiment gives `[]`, a name that is not an experiment name a TrackingInputError.
 */
import type { Experiment, TrackingEvent } from 'omega-track';
import { TrackingInputError } from 'omega-track';
import type { ParityStore } from './parityStore';
import { parityStore } from './parityStore';

describe("reading another experiment's events", () => {
  let s: ParityStore;
  let reader: Experiment;
  beforeEach(async () => {
    s = parityStore();
    const a = s.om.runtime.experiment('team/a');
    await a.run((e) => e.logMetric('acc', 0.1, 1));
    await a.run((e) => {
      e.logMetric('acc', 0.2, 1);
      e.logArtifact({ best: true }, 'summary');
    });
    // the reader has more runs of its own, and a current run (run 3)
    reader = s.om.runtime.experiment('reader');
    for (let i = 0; i < 3; i++) await reader.run((e) => e.logMetric('own', i));
  });
  afterEach(() => s.close());

  const keys = (rows: TrackingEvent[]): Array<[string, number, string]> =>
    rows.map((r) => [r.experiment, r.run, r.key]);

  test('data({ experiment }) reads all runs of the other experiment, not the reader’s current run', async () => {
    expect(reader.currentRun).toBe(3);
    expect(keys(await reader.data({ experiment: 'team/a', event: 'metric' }))).toEqual([
      ['team/a', 1, 'acc'],
      ['team/a', 2, 'acc'],
    ]);
    // the reader's own data is unchanged: its current run
    expect(keys(await reader.data({ event: 'metric' }))).toEqual([['reader', 3, 'own']]);
  });

  test("negative runs count back from the other experiment's latest run", async () => {
    expect(keys(await reader.data({ experiment: 'team/a', run: -1, event: 'metric' }))).toEqual([
      ['team/a', 2, 'acc'],
    ]);
    expect(keys(await reader.data({ experiment: 'team/a', run: [-2], key: 'acc' }))).toEqual([
      ['team/a', 1, 'acc'],
    ]);
  });

  test('iterate({ experiment }) yields the same rows; restoreArtifacts({ experiment }) restores them', async () => {
    const batches: TrackingEvent[][] = [];
    for await (const batch of reader.iterate({ experiment: 'team/a', event: 'metric' }, { batchSize: 1 }))
      batches.push(batch);
    expect(batches.map((b) => keys(b))).toEqual([[['team/a', 1, 'acc']], [['team/a', 2, 'acc']]]);
    expect(await reader.restoreArtifacts({ experiment: 'team/a' })).toEqual([{ best: true }]);
  });

  test('naming its own experiment is the same as naming none', async () => {
    expect(await reader.data({ experiment: 'reader' })).toEqual(await reader.data());
  });

  test('an unknown experiment gives []', async () => {
    expect(await reader.data({ experiment: 'nobody' })).toEqual([]);
    expect(await reader.data({ experiment: 'nobody', run: -1 })).toEqual([]);
    const batches: TrackingEvent[][] = [];
    for await (const batch of reader.iterate({ experiment: 'nobody' })) batches.push(batch);
    expect(batches.flat()).toEqual([]);
  });

  test('a name that is not an experiment name is a TrackingInputError', async () => {
    for (const experiment of ['', '../a', 'a/../b', 'x\0y', 'x'.repeat(251), 5, { $ne: null }, ['team/a']]) {
      const read = reader.data({ experiment });
      await expect(read).rejects.toThrow(TrackingInputError);
      await expect(read).rejects.toThrow('experiment name');
    }
    const iterated = (async () => {
      for await (const _ of reader.iterate({ experiment: '../a' })) return;
    })();
    await expect(iterated).rejects.toThrow(TrackingInputError);
    await expect(iterated).rejects.toThrow("experiment name '../a'");
  });

  test('calls that read only their own experiment refuse the field instead of ignoring it', async () => {
    await expect(reader.runs({ experiment: 'team/a' })).rejects.toThrow(TrackingInputError);
    await expect(reader.summary({ experiment: 'team/a' })).rejects.toThrow(TrackingInputError);
  });
});
