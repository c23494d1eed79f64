import path from 'node:path';
import type { PendingEvent } from 'omega-track';
import { omega } from 'omega-track';
import { tempDir } from '../helpers/tmp';
import { cliIn } from './cliRunner';

const TAGS = 100_000;
const OTHER_RUNS = 200;

/**
 * Issue 19.6 (the CLI): one run with 100,000 tags made `omega-track runs` take 50 s and print
 * 11.7 MB. The tags are written to the store's event log directly, as a store of an older
 * version (before the API capped the tags of a run) may hold them.
 */
describe('omega-track runs on an experiment with a very wide run', () => {
  const tmp = tempDir();
  const env = { OMEGA_STORE: `sqlite:${path.join(tmp.dir, 'omega.db')}` };

  beforeAll(async () => {
    const om = omega({ store: env.OMEGA_STORE });
    const exp = om.runtime.experiment('wide');
    await exp.run((e) => {
      e.logParam('lr', 0.1);
      e.logMetric('acc', 0.5);
      e.setTag('team', 'nlp');
    });
    const event = { run: 1, event: 'tag', step: null, node: 'n', userid: 'u', extra: undefined };
    for (let from = 0; from < TAGS; from += 10_000) {
      const chunk: PendingEvent[] = [];
      for (let i = from; i < from + 10_000; i++)
        chunk.push({ ...event, key: `t${i}`, value: `value of tag ${i}`, dt: Date.now() });
      await om.store.appendEvents('wide', chunk);
    }
    // many ordinary runs beside it: each used to get a cell for every tag of run 1
    const who = { node: 'n', userid: 'u', extra: undefined, step: null };
    for (let r = 0; r < OTHER_RUNS; r++) {
      const dt = Date.now();
      const run = await om.store.startRun('wide', { ...who, event: 'start', key: 'start', value: null, dt });
      await om.store.appendEvents('wide', [
        { ...who, run, event: 'metric', key: 'acc', value: r / OTHER_RUNS, dt },
        { ...who, run, event: 'stop', key: 'stop', value: { status: 'STOPPED' }, dt: dt + 1 },
      ]);
    }
    await exp.run((e) => e.setTags({ a: 1, b: 2, '*': 'star' }));
    await om.close();
  }, 120_000);
  afterAll(() => tmp.cleanup());

  test('the table shows 20 tags, says how many it leaves out and how to see them, in linear time', async () => {
    const started = Date.now();
    const r = await cliIn(env, ['runs', 'wide']);
    const ms = Date.now() - started;
    expect(r).toMatchObject({ code: 0, err: '' });
    const lines = r.out.trimEnd().split('\n');
    expect(lines).toHaveLength(2 + 1 + OTHER_RUNS + 1 + 1);
    const header = lines[0].split(/\s+/);
    expect(header.slice(0, 9)).toEqual([
      'run',
      'status',
      'started',
      'stopped',
      'duration',
      'node',
      'userid',
      'params.lr',
      'metrics.acc',
    ]);
    // tags in order of appearance: team, t0 … t18 (the last run's a, b, * are left out too)
    expect(header.filter((h) => h.startsWith('tags.'))).toEqual([
      'tags.team',
      ...Array.from({ length: 19 }, (_, i) => `tags.t${i}`),
    ]);
    expect(lines[2]).toMatch(/^1\s+STOPPED\s.*\snlp\s+value of tag 0\s+value of tag 1\s/);
    expect(lines[lines.length - 1]).toBe(
      `(${(TAGS + 3 - 19).toLocaleString('en')} tags not shown: a table shows 20 of each; --columns picks ` +
        "the columns, e.g. --columns 'run,status,tags.*' for every one; --format csv or json has them all)",
    );
    // was 5 MB or more (a header of 100,000 columns)
    expect(r.out.length).toBeLessThan(100_000);
    // reading the runs is most of it; the old table took many seconds more
    expect(ms).toBeLessThan(15_000);
  });

  test('--columns picks any tag, and tags.* every tag', async () => {
    const picked = await cliIn(env, [
      'runs',
      'wide',
      '--columns',
      'run,tags.t99999,tags.`*`',
      '--limit',
      '1',
    ]);
    expect(picked.code).toBe(0);
    expect(picked.out).toMatch(/^run\s+tags\.t99999\s+tags\.\*\n-+\s+-+\s+-+\n1\s+value of tag 99999\n$/);
    const star = await cliIn(env, [
      'runs',
      'wide',
      '--sort=-run',
      '--limit',
      '1',
      '--columns',
      'run,tags.*',
      '--format',
      'json',
    ]);
    expect(JSON.parse(star.out)).toEqual([
      { run: OTHER_RUNS + 2, 'tags.a': 1, 'tags.b': 2, 'tags.*': 'star' },
    ]);
  });

  test('JSON has every tag of the wide run and none in the others, in time linear in what the runs hold', async () => {
    const started = Date.now();
    const r = await cliIn(env, ['runs', 'wide', '--format', 'json']);
    const ms = Date.now() - started;
    expect(r.code).toBe(0);
    const runs = JSON.parse(r.out) as Array<Record<string, unknown>>;
    expect(runs).toHaveLength(OTHER_RUNS + 2);
    expect(Object.keys(runs[0]).filter((k) => k.startsWith('tags.'))).toHaveLength(TAGS + 1);
    expect(runs[0]['tags.t99999']).toBe('value of tag 99999');
    expect(Object.keys(runs[1]).filter((k) => k.startsWith('tags.'))).toEqual([]);
    // the old code made a row of 100,000 cells for each of the 202 runs
    expect(ms).toBeLessThan(15_000);
  });
});
