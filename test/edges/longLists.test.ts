/**
 * Issue 19, point 6: no data-sized list is spread into a call's arguments. A query naming
 * 200,000 runs or 100,000 keys overflowed the stack in the embedded store (`push(...runs)`), which
 * then said the database file might be damaged; past the stack, SQLite takes at most 32,766
 * parameters per statement. Such a query answers like a short one.
 */
import { omegaPerTest } from '../helpers/omegaPerTest';

describe('queries with long lists', () => {
  const { om } = omegaPerTest();

  test('data(), iterate() and runs() with 200,000 runs or 100,000 keys answer like a short list', async () => {
    const exp = om().runtime.experiment('lists');
    for (let r = 1; r <= 3; r++)
      await exp.run(async (e) => {
        e.logMetric('loss', r, 0);
        e.logMetric('acc', r / 10, 0);
        e.logParam('lr', r);
      });
    const runs = Array.from({ length: 200_000 }, (_, i) => 200_000 - i);
    const keys = Array.from({ length: 100_000 }, (_, i) => `k${i}`).concat('loss');

    const byRuns = await exp.data({ run: runs, event: 'metric', key: 'loss' });
    expect(byRuns.map((e) => [e.run, e.value])).toEqual([
      [1, 1],
      [2, 2],
      [3, 3],
    ]);
    const byKeys = await exp.data({ run: 'all', key: keys });
    expect(byKeys.map((e) => [e.run, e.key])).toEqual([
      [1, 'loss'],
      [2, 'loss'],
      [3, 'loss'],
    ]);
    const events = Array.from({ length: 1000 }, (_, i) => `e${i}`).concat('param');
    expect((await exp.data({ run: runs, event: events })).map((e) => e.run)).toEqual([1, 2, 3]);
    let rows = 0;
    for await (const batch of exp.iterate({ run: runs, key: keys }, { batchSize: 2 })) rows += batch.length;
    expect(rows).toBe(3);
    expect((await exp.runs({ run: runs })).map((r) => r.run)).toEqual([1, 2, 3]);
    // a long list of runs that are not there: nothing
    expect(await exp.data({ run: runs.map((r) => r + 10), event: 'metric' })).toEqual([]);
  });
});
