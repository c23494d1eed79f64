/**
 * The aggregates of a run's metrics beyond the last value (issue 24): `mean` in runs() on the
 * embedded store (kept as the events are written, filled in from the events when an older store
 * is opened), and `metrics.<key>.last|min|max|mean` in filters and orderings, in the API and the CLI.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { FilterSyntaxError, omega } from 'omega-track';
import { parseRunFilter, parseRunOrder } from 'omega-track/internal';
import { omegaPerTest } from '../helpers/omegaPerTest';
import type { Exp } from './helpers';
import { runNumbers } from './helpers';

const BIN = path.join(__dirname, '..', '..', 'cli', 'dist', 'bin.js');

/**
 * Four runs of `acc`: run r logs r/10 + s/100 at steps 0..3 (min r/10, max r/10 + .03, mean
 * r/10 + .015), run 4 ends on a low value (last .1 below its max), run 3 also logs NaN and
 * Infinity (left out of min, max and mean); a metric `grad.max` (a key ending in `.max`).
 */
async function fourRuns(exp: Exp): Promise<void> {
  for (let r = 1; r <= 4; r++)
    await exp.run((e) => {
      for (let s = 0; s < 4; s++) e.logMetric('acc', r / 10 + s / 100, s);
      if (r === 4) e.logMetric('acc', 0.1, 4);
      if (r === 3) {
        e.logMetric('acc', NaN, 5);
        e.logMetric('acc', Infinity, 6);
        e.logMetric('acc', 0.33, 7);
      }
      e.logMetric('grad.max', 10 * r);
    });
}

describe('parsing metrics.<key>.<aggregate>', () => {
  test('a plain key ending in last, min, max or mean names that value; backticks keep the key whole', () => {
    const field = (text: string): unknown => parseRunFilter(`${text} > 1`).all[0].field;
    expect(field('metrics.acc.max')).toEqual({ entity: 'metric', key: 'acc', aggregate: 'max' });
    expect(field('metrics.acc.min')).toEqual({ entity: 'metric', key: 'acc', aggregate: 'min' });
    expect(field('metrics.val.acc.mean')).toEqual({ entity: 'metric', key: 'val.acc', aggregate: 'mean' });
    expect(field('metrics.acc.last')).toEqual({ entity: 'metric', key: 'acc' });
    expect(field('metrics.acc')).toEqual({ entity: 'metric', key: 'acc' });
    // not an aggregate: part of the key, as before
    expect(field('metrics.val.loss')).toEqual({ entity: 'metric', key: 'val.loss' });
    expect(field('metrics.`grad.max`')).toEqual({ entity: 'metric', key: 'grad.max' });
    expect(field('metrics.`acc`.max')).toEqual({ entity: 'metric', key: 'acc', aggregate: 'max' });
    expect(field('metrics.`grad.max`.mean')).toEqual({
      entity: 'metric',
      key: 'grad.max',
      aggregate: 'mean',
    });
    // params and tags have no aggregates
    expect(field('params.lr.max')).toEqual({ entity: 'param', key: 'lr.max' });
    expect(parseRunOrder('metrics.acc.max DESC')).toEqual([
      { field: { entity: 'metric', key: 'acc', aggregate: 'max' }, descending: true },
    ]);
  });

  test('an unknown aggregate after a backticked key is a FilterSyntaxError naming the allowed ones', () => {
    let error: unknown;
    try {
      parseRunFilter('metrics.`acc`.median > 1');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(FilterSyntaxError);
    expect((error as FilterSyntaxError).position).toBe(14);
    expect((error as FilterSyntaxError).message).toMatch(/last, min, max or mean.*found 'median'/);
    expect(() => parseRunFilter('metrics.`acc`. > 1')).toThrow(FilterSyntaxError);
  });
});

describe('aggregates in runs() and filters on the embedded store', () => {
  const { om, dir } = omegaPerTest();
  let exp: Exp;
  beforeEach(async () => {
    exp = om().runtime.experiment('agg');
    await fourRuns(exp);
  });

  test('runs() gives the mean of the finite values with last, min, max and count', async () => {
    const runs = await exp.runs();
    expect(runs.map((r) => r.metrics?.acc.mean)).toEqual([
      expect.closeTo(0.115, 12),
      expect.closeTo(0.215, 12),
      // 0.3, .31, .32, .33, .33: NaN and Infinity left out
      expect.closeTo((0.3 + 0.31 + 0.32 + 0.33 + 0.33) / 5, 12),
      expect.closeTo((0.4 + 0.41 + 0.42 + 0.43 + 0.1) / 5, 12),
    ]);
    expect(runs[2].metrics?.acc).toMatchObject({ min: 0.3, max: 0.33, count: 7 });
  });

  test('filters and orderings on last, min, max and mean', async () => {
    const filtered = async (filter: string): Promise<number[]> => runNumbers(await exp.runs({ filter }));
    // run 4's last value is 0.1, its max 0.43
    expect(await filtered('metrics.acc > 0.2')).toEqual([2, 3]);
    expect(await filtered('metrics.acc.last > 0.2')).toEqual([2, 3]);
    expect(await filtered('metrics.acc.max > 0.4')).toEqual([4]);
    expect(await filtered('metrics.acc.min >= 0.3')).toEqual([3]);
    expect(await filtered('metrics.acc.mean < 0.3')).toEqual([1, 2]);
    expect(await filtered('metrics.`acc`.mean > 0.3 AND metrics.acc.min < 0.4')).toEqual([3, 4]);
    // the key that ends in .max, written with backticks
    expect(await filtered('metrics.`grad.max` >= 30')).toEqual([3, 4]);
    expect(await filtered('metrics.`grad.max`.max >= 30')).toEqual([3, 4]);
    expect(runNumbers(await exp.runs({ orderBy: 'metrics.acc.max DESC' }))).toEqual([4, 3, 2, 1]);
    expect(runNumbers(await exp.runs({ orderBy: 'metrics.acc DESC' }))).toEqual([3, 2, 1, 4]);
    expect(runNumbers(await exp.runs({ orderBy: ['metrics.acc.mean'] }))).toEqual([1, 2, 3, 4]);
  });

  test('the CLI: omega-track runs --filter with an aggregate', async () => {
    await om().close();
    const out = execFileSync(
      process.execPath,
      [
        BIN,
        'runs',
        'agg',
        '--filter',
        'metrics.acc.max > 0.4',
        '--format',
        'json',
        '--store',
        `sqlite:${path.join(dir(), 'omega.db')}`,
      ],
      { encoding: 'utf8' },
    );
    const runs = JSON.parse(out) as Array<{ run: number; metrics: Record<string, { mean: unknown }> }>;
    expect(runs.map((r) => r.run)).toEqual([4]);
  });

  test('a store written before running sums were kept gets them when opened, from its events', async () => {
    await om().close();
    const file = path.join(dir(), 'omega.db');
    // what an older store looks like: run_stats without the sums column, metric entries of 8 fields
    const db = new Database(file);
    const rows = db.prepare('SELECT run, stats FROM run_stats').all() as Array<{
      run: number;
      stats: string;
    }>;
    db.exec(`CREATE TABLE old_stats (experiment TEXT NOT NULL, run INTEGER NOT NULL, stats TEXT NOT NULL,
               PRIMARY KEY (experiment, run)) WITHOUT ROWID;
             INSERT INTO old_stats SELECT experiment, run, stats FROM run_stats;
             DROP TABLE run_stats; ALTER TABLE old_stats RENAME TO run_stats;`);
    const strip = db.prepare('UPDATE run_stats SET stats = ? WHERE run = ?');
    for (const r of rows) {
      const entries = JSON.parse(r.stats) as unknown[][];
      strip.run(JSON.stringify(entries.map((e) => (e[0] === 'metric' ? e.slice(0, 8) : e))), r.run);
    }
    db.close();
    const reopened = omega({ store: `sqlite:${file}` });
    try {
      const runs = await reopened.runtime.experiment('agg').runs();
      expect(runs[0].metrics?.acc.mean).toBeCloseTo(0.115, 12);
      expect(runs[3].metrics?.acc.mean).toBeCloseTo((0.4 + 0.41 + 0.42 + 0.43 + 0.1) / 5, 12);
      // filled in once, in the store: every run has its aggregates again
      const check = new Database(file, { readonly: true });
      const sums = check.prepare('SELECT sums FROM run_stats ORDER BY run').pluck().all();
      check.close();
      expect(sums).toEqual([1, 1, 1, 1]);
      // and kept up to date by later writes
      const e = reopened.runtime.experiment('agg');
      await e.use(1);
      e.logMetric('acc', 1.1, 9);
      await e.flush();
      expect((await e.runs({ run: 1 }))[0].metrics?.acc.mean).toBeCloseTo(
        (0.1 + 0.11 + 0.12 + 0.13 + 1.1) / 5,
        12,
      );
    } finally {
      await reopened.close();
    }
  });
});
