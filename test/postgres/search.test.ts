import type { Omega } from '@omega-track/core';
import { setDiagWriter } from '@omega-track/core';
import { parseRunFilter } from '@omega-track/core/internal';
import type { PostgresStore } from '@omega-track/core/internal';
import { omega } from 'omega-track';
import { freshDatabaseName, removeAllPostgresServers, startPostgresServer } from '../helpers/postgresServer';

// Run filters on the PostgreSQL store are evaluated on the server (runsMatching, over the runs'
// aggregates) and then exactly: runs() answers what the embedded store answers, for every kind
// of value a filter meets (numbers, text, objects, non-finite numbers).

setDiagWriter(() => undefined);

let pgOm: Omega;
let sqliteOm: Omega;
beforeAll(async () => {
  const server = await startPostgresServer();
  pgOm = omega({ store: await server.createDatabase(freshDatabaseName()) });
  sqliteOm = omega({ store: 'memory:' });
  for (const om of [pgOm, sqliteOm]) {
    const exp = om.runtime.experiment('search');
    for (let r = 1; r <= 6; r++)
      await exp.run((e) => {
        for (let s = 0; s < 4; s++) e.logMetric('acc', r / 10 + s / 100, s);
        e.logMetric('edge', r === 2 ? Infinity : r === 3 ? NaN : r === 4 ? -Infinity : r);
        e.logParam('lr', r === 2 ? '0.01' : 0.1 * r);
        e.logParam('cfg', r === 5 ? { depth: 3 } : 'plain');
        e.setTag('team', r % 2 ? 'a' : 'b');
        if (r === 6) e.setTag('odd', 'nul\u0000inside');
      });
  }
}, 60_000);
afterAll(async () => {
  await pgOm.close();
  await sqliteOm.close();
  await removeAllPostgresServers();
}, 30_000);

const FILTERS = [
  'metrics.acc > 0.25',
  'metrics.acc <= 0.2',
  'metrics.acc != 0.33',
  'metrics.acc IN (0.13, 0.53)',
  'metrics.edge > 100',
  'metrics.edge < 0',
  'metrics.edge = 5',
  "params.lr = '0.01'",
  'params.lr > 0.15',
  "params.lr IN ('0.01', '0.30000000000000004')",
  "params.cfg = 'plain'",
  'params.cfg = \'{"depth":3}\'',
  "params.cfg != 'plain'",
  "tags.team = 'a'",
  "tags.team != 'a'",
  "tags.team LIKE 'a%'",
  "tags.odd = 'nul\u0000inside'",
  'attributes.run >= 2',
  'attributes.run IN (1, 3)',
  'attributes.run NOT IN (1, 3)',
  "tags.team = 'b' AND metrics.acc > 0.3 AND attributes.run < 6",
  "attributes.status = 'FINISHED'",
  'metrics.missing > 0',
  'metrics.acc.max > 0.25',
  'metrics.acc.min <= 0.2',
  'metrics.acc.mean > 0.3',
  'metrics.acc.mean != 0.315',
  'metrics.`acc`.max IN (0.13, 0.53)',
  'metrics.edge.mean < 0',
  'metrics.edge.max != 5',
];

test.each(FILTERS)(
  '%s: the same runs as the embedded store, narrowed on the server to a superset',
  async (text) => {
    const runs = async (om: Omega): Promise<number[]> =>
      (await om.runtime.experiment('search').runs({ filter: text })).map((r) => r.run);
    const exact = await runs(sqliteOm);
    expect(await runs(pgOm)).toEqual(exact);
    const candidates = await (pgOm.store as PostgresStore).runsMatching('search', parseRunFilter(text));
    if (candidates) expect(candidates).toEqual(expect.arrayContaining(exact));
  },
);

test('the server narrows: metric comparisons, params and the run number leave only candidates that can match', async () => {
  const store = pgOm.store as PostgresStore;
  expect(await store.runsMatching('search', parseRunFilter('metrics.acc > 0.25'))).toEqual([3, 4, 5, 6]);
  // run 6's aggregates hold a NUL, which jsonb cannot: a candidate of every filter, matched exactly after
  expect(await store.runsMatching('search', parseRunFilter('metrics.missing > 0'))).toEqual([6]);
  expect(await store.runsMatching('search', parseRunFilter('metrics.acc < 0.2'))).toEqual([1, 6]);
  expect(
    await store.runsMatching('search', parseRunFilter("tags.team = 'a' and attributes.run >= 2")),
  ).toEqual([3, 5, 6]);
  expect(
    await store.runsMatching('search', parseRunFilter("attributes.status = 'FINISHED'")),
  ).toBeUndefined();
  // the aggregates: acc of run r is r/10 + 0, .01, .02, .03; its mean r/10 + .015
  expect(await store.runsMatching('search', parseRunFilter('metrics.acc.mean > 0.3'))).toEqual([3, 4, 5, 6]);
  expect(await store.runsMatching('search', parseRunFilter('metrics.acc.min >= 0.5'))).toEqual([5, 6]);
  expect(await store.runsMatching('search', parseRunFilter('metrics.acc.max < 0.2'))).toEqual([1, 6]);
  const [r3] = await pgOm.runtime.experiment('search').runs({ run: 3 });
  expect(r3.metrics?.acc.mean).toBeCloseTo(0.315, 12);
  // only non-finite values: no mean
  expect((await pgOm.runtime.experiment('search').runs({ run: 2 }))[0].metrics?.edge.mean).toBeNaN();
});
