import path from 'node:path';
import type { Omega, RunInfo } from '@omega-track/core';
import { FilterSyntaxError, TrackingInputError, omega } from 'omega-track';
import { NODE_NAME, currentUserId, parseRunFilter } from 'omega-track/internal';
import { tempDir } from '../helpers/tmp';
import type { Exp } from './helpers';
import { pick, runNumbers, seededRandom, withoutLiveDurations } from './helpers';

/** The error `parseRunFilter(text)` throws; fails the test when it parses. */
function filterError(text: string): FilterSyntaxError {
  try {
    parseRunFilter(text);
  } catch (error) {
    return error as FilterSyntaxError;
  }
  throw new Error(`${JSON.stringify(text)} parsed`);
}

describe('parsing the run filter language', () => {
  test('comparisons of each entity, joined by AND in any case', () => {
    expect(
      parseRunFilter("metrics.acc > 0.9 and params.lr = '0.01' AND tags.team != 'x' aNd attributes.run <= 3")
        .all,
    ).toEqual([
      { field: { entity: 'metric', key: 'acc' }, op: '>', value: 0.9 },
      { field: { entity: 'param', key: 'lr' }, op: '=', value: '0.01' },
      { field: { entity: 'tag', key: 'team' }, op: '!=', value: 'x' },
      { field: { entity: 'attribute', key: 'run' }, op: '<=', value: 3 },
    ]);
    // every operator, and the two other spellings of = and !=
    const ops = ['=', '!=', '<', '<=', '>', '>='].map((op) => parseRunFilter(`metrics.a ${op} 1`).all[0].op);
    expect(ops).toEqual(['=', '!=', '<', '<=', '>', '>=']);
    expect(parseRunFilter('metrics.a == 1').all[0].op).toBe('=');
    expect(parseRunFilter('metrics.a <> 1').all[0].op).toBe('!=');
    expect(parseRunFilter("params.o like 'a%' AND params.o IlIkE 'A%'").all.map((c) => c.op)).toEqual([
      'LIKE',
      'ILIKE',
    ]);
    expect(
      parseRunFilter("params.o in ('a', 2) AND params.o not  in ('b')").all.map((c) => [c.op, c.value]),
    ).toEqual([
      ['IN', ['a', 2]],
      ['NOT IN', ['b']],
    ]);
    // no space is needed around operators
    expect(parseRunFilter("params.lr='0.1'").all[0]).toEqual({
      field: { entity: 'param', key: 'lr' },
      op: '=',
      value: '0.1',
    });
  });

  test("MLflow's entity aliases and attribute names", () => {
    const fields = (text: string) => parseRunFilter(text).all.map((c) => c.field);
    expect(
      fields(
        "metric.a = 1 AND param.b = 'x' AND tag.c = 'y' AND attribute.status = 'x' AND run.status = 'x' AND attr.run = 1",
      ),
    ).toEqual([
      { entity: 'metric', key: 'a' },
      { entity: 'param', key: 'b' },
      { entity: 'tag', key: 'c' },
      { entity: 'attribute', key: 'status' },
      { entity: 'attribute', key: 'status' },
      { entity: 'attribute', key: 'run' },
    ]);
    const attributes =
      "attributes.run_name = 'a' AND attributes.name = 'a' AND attributes.start_time > 0 AND attributes.end_time > 0 AND " +
      "attributes.duration > 0 AND attributes.node = 'n' AND attributes.userid = 'u' AND attributes.user = 'u' AND " +
      'attributes.parent = 1 AND attributes.run_number = 1 AND attributes.STATUS = 1';
    expect(fields(attributes).map((f) => f.key)).toEqual([
      'run_name',
      'run_name',
      'start_time',
      'end_time',
      'duration',
      'node',
      'userid',
      'userid',
      'parent',
      'run',
      'status',
    ]);
  });

  test('quoting: single and double quotes, doubled quotes, backslash escapes', () => {
    const value = (text: string) => parseRunFilter(text).all[0].value;
    expect(value("params.a = 'it''s'")).toBe("it's");
    expect(value('params.a = "say ""hi"""')).toBe('say "hi"');
    expect(value("params.a = 'it\\'s'")).toBe("it's");
    expect(value('params.a = "a\\"b"')).toBe('a"b');
    expect(value("params.a = 'back\\\\slash'")).toBe('back\\slash');
    expect(value('params.a = "it\'s"')).toBe("it's");
    // quotes keep what is inside them as text, operators and keywords too
    expect(value("params.a = 'x AND params.b = 1'")).toBe('x AND params.b = 1');
    expect(value("params.a = ''")).toBe('');
    expect(value("params.a = '0.01'")).toBe('0.01');
  });

  test('keys: backticked with spaces, dashes and dots; plain keys run on through dots', () => {
    const key = (text: string) => parseRunFilter(text).all[0].field.key;
    expect(key('metrics.`val loss` < 1')).toBe('val loss');
    expect(key("params.`learning-rate` = '1'")).toBe('learning-rate');
    expect(key("tags.`mlflow.runName` = 'x'")).toBe('mlflow.runName');
    expect(key('metrics."val loss" < 1')).toBe('val loss');
    expect(key('metrics.`a``b` < 1')).toBe('a`b');
    expect(key('metrics.val.loss < 1')).toBe('val.loss');
    expect(key('metrics.val.loss<.5')).toBe('val.loss');
    expect(key('params.layer.0.units = 1')).toBe('layer.0.units');
    expect(key('metrics.epoch_1.acc_top5 > 1')).toBe('epoch_1.acc_top5');
    // a backticked key is one key whatever it holds
    expect(key('metrics.`a = 1 AND b` > 1')).toBe('a = 1 AND b');
  });

  test('numbers: negative, fractions, exponents', () => {
    const value = (text: string) => parseRunFilter(text).all[0].value;
    expect(value('metrics.a > -1')).toBe(-1);
    expect(value('metrics.a > -1.5e-3')).toBe(-0.0015);
    expect(value('metrics.a > 1E2')).toBe(100);
    expect(value('metrics.a > 2.5e+1')).toBe(25);
    expect(value('metrics.a > .5')).toBe(0.5);
    expect(value('metrics.a > +3')).toBe(3);
    expect(value('metrics.a>-2')).toBe(-2);
    expect(value('metrics.a IN (1,.5,-2e1)')).toEqual([1, 0.5, -20]);
  });

  test('an empty filter matches every run', () => {
    expect(parseRunFilter('').all).toEqual([]);
    expect(parseRunFilter('   ').all).toEqual([]);
    expect(parseRunFilter(undefined).all).toEqual([]);
  });

  // each: the filter, where the error points, and what its message says is expected (and found) there
  const bad: Array<[string, number, RegExp]> = [
    ['metrics.acc >', 13, /a value .*after '>'/],
    ['foo.bar = 1', 0, /metrics, params, tags or attributes/],
    ["params.lr = '0.01", 12, /closing '/],
    ['params.lr = "0.01', 12, /closing "/],
    ["params.opt = 'it''s", 13, /closing '/],
    ["params.opt = 'a\\'", 13, /closing '/],
    ['tags.`a b = 1', 5, /closing `/],
    ['1; DROP TABLE', 1, /a name, a value or an operator.*found ';'/],
    ['metrics.acc = 1; DROP TABLE runs', 15, /found ';'/],
    ["metrics.acc LIKE 'x'", 12, /comparison of numbers.*metrics\.acc is a number/],
    ["metrics.acc ILIKE 'x'", 12, /comparison of numbers/],
    ["metrics.acc = 'high'", 14, /a number to compare metrics\.acc with/],
    ["metrics.acc IN (1, 'high')", 19, /a number to compare metrics\.acc/],
    ['params.lr = 0.01 OR params.lr = 0.1', 17, /AND.*no OR/],
    ['params.lr', 9, /an operator: = != < <= > >= LIKE ILIKE IN NOT IN/],
    ['params. = 1', 8, /the name of a param after 'params\.'/],
    ['attributes.nope = 1', 11, /an attribute: run, run_name, status, start_time/],
    ['metrics.acc = 1 AND', 19, /a name such as metrics\.acc/],
    ['metrics.acc = 1 and ', 20, /a name such as metrics\.acc/],
    ['(', 0, /a name such as metrics\.acc/],
    ["(params.lr = '1')", 0, /a name such as metrics\.acc/],
    ["attributes.start_time > 'yesterday-ish'", 24, /ms since the epoch or an ISO date/],
    ["attributes.run = 'one'", 17, /a number to compare attributes\.run/],
    ["attributes.run LIKE '1'", 15, /comparison of numbers/],
    ['params.lr LIKE 1', 15, /a 'quoted' pattern after LIKE/],
    ['params.opt = adam', 13, /a value .*after '='/],
    ['params.lr IN ()', 14, /a value/],
    ['params.lr IN (1, 2', 18, /',' or '\)'/],
    ["params.lr IN '1'", 13, /'\(' after IN/],
    ['params.lr NOT 1', 14, /IN after 'NOT'/],
    ['metrics.acc = 1 metrics.loss = 2', 16, /AND or the end of the filter/],
    ['metrics = 1', 8, /'\.' after 'metrics'/],
    ['metrics.a..b = 1', 8, /a key name/],
    ['metrics.`` = 1', 8, /a key name/],
    ['metrics.acc = 1 # comment', 16, /found '#'/],
  ];

  test.each(bad)('%j is a FilterSyntaxError at %d', (text, position, expected) => {
    const error = filterError(text);
    expect(error).toBeInstanceOf(FilterSyntaxError);
    expect(error).toBeInstanceOf(TrackingInputError);
    expect(error.position).toBe(position);
    expect(error.text).toBe(text);
    // the message alone tells the position, what was expected and what was found there
    expect(error.message).toContain(`position ${position}`);
    expect(error.message).toContain(`expected ${error.expected}`);
    expect(error.message).toMatch(expected);
  });

  test('a filter that is not text is a TrackingInputError', () => {
    expect(() => parseRunFilter(42 as unknown as string)).toThrow(TrackingInputError);
  });
});

/**
 * A small experiment on the embedded store whose every value is known, for the operators:
 * 1 'alpha' STOPPED, 2 'beta' FAILED, 3 "it's-gamma" STOPPED with child 4 'child', 5 STARTED.
 */
async function buildSmall(exp: Exp): Promise<void> {
  await exp.start({
    name: 'alpha',
    tags: { team: 'vision', 'data-set': 'mnist', priority: 1, pattern: 'a.b' },
  });
  exp.logParams({ lr: 0.01, opt: 'adam', 'learning-rate': '1e-3', 'model.depth': 3 });
  // logged first but later in time: the last value is the latest by time
  exp.logMetric('acc', 0.9, { step: 1 });
  exp.logMetric('acc', 0.5, { step: 0, dt: Date.now() - 60_000 });
  exp.logMetrics({ loss: 0.2, 'val.loss': 0.3, 'val loss': 0.4 });
  await exp.stop();

  await exp.start({ name: 'beta', tags: { team: 'nlp', priority: 2, pattern: 'axb' } });
  exp.logParams({ lr: 0.1, opt: 'sgd' });
  exp.logMetrics({ acc: 0.7, loss: 0.5 });
  await exp.stop({ error: new Error('diverged') });

  await exp.run(
    async () => {
      exp.logParams({ lr: 0.001, opt: 'Adam' });
      exp.logMetrics({ acc: -1.5, loss: 1e-3, 'val.loss': 0.1 });
      await exp.run(
        async () => {
          // text, where the others logged numbers: compares as its text '0.01'
          exp.logParam('lr', '0.01');
          exp.logMetric('acc', 0.9);
        },
        { name: 'child', tags: { team: 'vision', 'data-set': 'cifar' } },
      );
    },
    { name: "it's-gamma", tags: { team: 'Vision', priority: '3' }, note: 'the best so far' },
  );

  await exp.start();
}

describe('every operator on metrics, params, tags and attributes (embedded store)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let om: Omega;
  let exp: Exp;
  let all: RunInfo[];
  beforeAll(async () => {
    tmp = tempDir();
    om = omega({ store: `sqlite:${path.join(tmp.dir, 'omega.db')}` });
    exp = om.runtime.experiment('operators');
    await buildSmall(exp);
    all = await exp.runs();
  });
  afterAll(async () => {
    await om.close();
    tmp.cleanup();
  });

  test('the experiment is as built', () => {
    expect(all.map((r) => [r.run, r.name, r.status, r.parent])).toEqual([
      [1, 'alpha', 'STOPPED', undefined],
      [2, 'beta', 'FAILED', undefined],
      [3, "it's-gamma", 'STOPPED', undefined],
      [4, 'child', 'STOPPED', 3],
      [5, undefined, 'STARTED', undefined],
    ]);
    expect(all.map((r) => r.metrics?.acc?.last)).toEqual([0.9, 0.7, -1.5, 0.9, undefined]);
  });

  const NODE = `'${NODE_NAME.replace(/'/g, "''")}'`;
  const USER = `'${currentUserId().replace(/'/g, "''")}'`;
  const cases: Array<[string, number[]]> = [
    // metrics: their last value
    ['metrics.acc = 0.9', [1, 4]],
    ['metrics.acc == 0.9', [1, 4]],
    ['metrics.acc = 0.5', []],
    ['metrics.acc != 0.9', [2, 3]],
    ['metrics.acc <> 0.9', [2, 3]],
    ['metrics.acc < 0.7', [3]],
    ['metrics.acc <= 0.7', [2, 3]],
    ['metrics.acc > 0.7', [1, 4]],
    ['metrics.acc >= 0.7', [1, 2, 4]],
    ['metrics.acc IN (0.7, -1.5)', [2, 3]],
    ['metrics.acc NOT IN (0.9)', [2, 3]],
    ['metrics.acc = -1.5', [3]],
    ['metrics.acc < -1.4e0', [3]],
    ['metrics.acc > -2', [1, 2, 3, 4]],
    ['metrics.loss < 1e-2', [3]],
    ['metrics.loss <= 2E-1', [1, 3]],
    ['metrics.val.loss > 0.2', [1]],
    ['metrics.`val.loss` < 0.2', [3]],
    ['metrics.`val loss` = 0.4', [1]],
    ['metric.acc >= .9', [1, 4]],
    ['metrics.nosuch != 1', []],
    // params: as text against text, as numbers against numbers
    ["params.lr = '0.01'", [1, 4]],
    ['params.lr = "0.01"', [1, 4]],
    ['params.lr = 0.01', [1, 4]],
    ['params.lr != 0.01', [2, 3]],
    ["params.lr != '0.01'", [2, 3]],
    ['params.lr > 0.005', [1, 2, 4]],
    ['params.lr >= 0.01', [1, 2, 4]],
    ['params.lr < 0.01', [3]],
    ['params.lr <= 0.01', [1, 3, 4]],
    ["params.lr < '0.01'", [3]],
    ["params.lr LIKE '0.0%'", [1, 3, 4]],
    ["params.lr IN ('0.1', 0.001)", [2, 3]],
    ['params.lr NOT IN (0.01)', [2, 3]],
    ["params.opt = 'adam'", [1]],
    ["params.opt LIKE 'a%'", [1]],
    ["params.opt ILIKE 'A%'", [1, 3]],
    ["params.opt LIKE '_gd'", [2]],
    ["params.opt IN ('sgd', 'Adam')", [2, 3]],
    ["params.opt NOT IN ('adam')", [2, 3]],
    ["params.opt != 'adam'", [2, 3]],
    ["params.opt >= 'b'", [2]],
    ["params.opt <= 'adam'", [1, 3]],
    ['params.opt > 1', []],
    ["params.`learning-rate` = '1e-3'", [1]],
    ['params.model.depth = 3', [1]],
    ["param.opt = 'sgd'", [2]],
    // tags
    ["tags.team = 'vision'", [1, 4]],
    ["tags.team != 'vision'", [2, 3]],
    ["tags.team LIKE 'vis%'", [1, 4]],
    ["tags.team ILIKE 'VISION'", [1, 3, 4]],
    ["tags.team IN ('nlp', 'Vision')", [2, 3]],
    ["tags.team NOT IN ('nlp')", [1, 3, 4]],
    ["tags.team > 'o'", [1, 4]],
    ["tags.team < 'o'", [2, 3]],
    ["tags.team <= 'nlp'", [2, 3]],
    ["tags.team >= 'vision'", [1, 4]],
    ["tags.`data-set` = 'mnist'", [1]],
    ['tags.priority >= 2', [2, 3]],
    ["tags.priority = '1'", [1]],
    // LIKE's '.' is a plain character, not a regular expression's
    ["tags.pattern LIKE 'a.b'", [1]],
    ["tags.pattern LIKE 'a_b'", [1, 2]],
    ["tags.`mlflow.runName` = 'alpha'", [1]],
    ["tags.`mlflow.note.content` LIKE '%best%'", [3]],
    [`tags.\`mlflow.user\` = ${USER}`, [1, 2, 3, 4, 5]],
    ["tag.team = 'nlp'", [2]],
    // attributes
    ['attributes.run IN (1, 3)', [1, 3]],
    ['attributes.run > 3', [4, 5]],
    ['attributes.run_number <= 2', [1, 2]],
    ['attributes.run != 2', [1, 3, 4, 5]],
    ['attributes.run NOT IN (2, 5)', [1, 3, 4]],
    ["attributes.run_name = 'alpha'", [1]],
    ["attributes.run_name = 'it''s-gamma'", [3]],
    ['attributes.run_name = "it\'s-gamma"', [3]],
    ["attributes.run_name = 'it\\'s-gamma'", [3]],
    ["attributes.run_name LIKE '%a'", [1, 2, 3]],
    ["attributes.run_name LIKE 'ALPHA'", []],
    ["attributes.run_name ILIKE 'ALPHA'", [1]],
    ["attributes.run_name != 'alpha'", [2, 3, 4]],
    ["attributes.run_name > 'b'", [2, 3, 4]],
    ["attributes.run_name IN ('beta', 'child')", [2, 4]],
    ["attributes.name NOT IN ('beta')", [1, 3, 4]],
    ["attributes.status = 'FAILED'", [2]],
    ["attributes.status = 'FINISHED'", [1, 3, 4]],
    ["attributes.status = 'STOPPED'", [1, 3, 4]],
    ["attributes.status = 'RUNNING'", [5]],
    ["attributes.status = 'finished'", [1, 3, 4]],
    ["attributes.status = 'KILLED'", []],
    ["attributes.status != 'FAILED'", [1, 3, 4, 5]],
    ["attributes.status IN ('FAILED', 'RUNNING')", [2, 5]],
    ["attributes.status NOT IN ('FINISHED')", [2, 5]],
    ["attributes.status LIKE 'STOP%'", [1, 3, 4]],
    ["attributes.status ILIKE 'fail%'", [2]],
    ["run.status = 'FAILED'", [2]],
    ['attributes.parent = 3', [4]],
    ['attributes.parent != 99', [4]],
    ['attributes.parent IN (1, 3)', [4]],
    [`attributes.node = ${NODE}`, [1, 2, 3, 4, 5]],
    [`attributes.node != ${NODE}`, []],
    ["attributes.node LIKE '%'", [1, 2, 3, 4, 5]],
    [`attributes.userid = ${USER}`, [1, 2, 3, 4, 5]],
    [`attributes.user IN (${USER}, 'nobody')`, [1, 2, 3, 4, 5]],
    ["attributes.userid = 'nobody'", []],
    ['attributes.end_time > 0', [1, 2, 3, 4]],
    ["attributes.start_time > '2000-01-01'", [1, 2, 3, 4, 5]],
    ["attributes.start_time < '2000-01-01T00:00:00Z'", []],
    ["attributes.end_time < '2100-01-01'", [1, 2, 3, 4]],
    ['attributes.duration >= 0', [1, 2, 3, 4, 5]],
    ['attributes.duration < 0', []],
    // AND chains
    ["metrics.acc > 0 and params.opt = 'adam'", [1]],
    ["metrics.acc > 0 AND tags.team = 'vision' AnD attributes.status = 'FINISHED'", [1, 4]],
    ["params.lr = '0.01' AND attributes.parent = 3", [4]],
    ['metrics.acc > 0 AND metrics.acc < 0', []],
    ["tags.team ILIKE 'vision' AND params.lr < 0.01 AND metrics.`val.loss` = 0.1", [3]],
    ['', [1, 2, 3, 4, 5]],
  ];

  test.each(cases)('%s', async (filter, expected) => {
    const found = await exp.runs({ filter });
    expect(runNumbers(found)).toEqual(expected);
    // the rows are the rows of runs(), whole (but for the running run's growing duration)
    expect(withoutLiveDurations(found)).toEqual(
      withoutLiveDurations(all.filter((r) => expected.includes(r.run))),
    );
  });

  test('start and end times in ms since the epoch and as ISO dates', async () => {
    const third = all[2];
    const t = third.started!.getTime();
    const iso = third.started!.toISOString();
    const startedFrom = (ms: number) => runNumbers(all.filter((r) => r.started!.getTime() >= ms));
    expect(runNumbers(await exp.runs({ filter: `attributes.start_time >= ${t}` }))).toEqual(startedFrom(t));
    expect(runNumbers(await exp.runs({ filter: `attributes.start_time >= '${iso}'` }))).toEqual(
      startedFrom(t),
    );
    expect(runNumbers(await exp.runs({ filter: `attributes.start_time < '${iso}'` }))).toEqual(
      runNumbers(all.filter((r) => r.started!.getTime() < t)),
    );
    expect(runNumbers(await exp.runs({ filter: `attributes.start_time = ${t}` }))).toEqual(
      runNumbers(all.filter((r) => r.started!.getTime() === t)),
    );
    const stop = all[1].stopped!.getTime();
    expect(runNumbers(await exp.runs({ filter: `attributes.end_time <= ${stop}` }))).toEqual(
      runNumbers(all.filter((r) => r.stopped !== undefined && r.stopped.getTime() <= stop)),
    );
    expect(
      runNumbers(await exp.runs({ filter: `attributes.end_time > '${new Date(stop).toISOString()}'` })),
    ).toEqual(runNumbers(all.filter((r) => r.stopped !== undefined && r.stopped.getTime() > stop)));
  });

  test('a filter applies within the runs selected', async () => {
    expect(runNumbers(await exp.runs({ run: [1, 2, 3], filter: "tags.team = 'vision'" }))).toEqual([1]);
    expect(runNumbers(await exp.runs({ run: -2, filter: "tags.team = 'vision'" }))).toEqual([4]);
    expect(runNumbers(await exp.runs({ run: { from: 2, to: 4 }, filter: 'metrics.acc < 1' }))).toEqual([
      2, 3, 4,
    ]);
  });

  test.each([
    ['metrics.acc >', 13],
    ['foo.bar = 1', 0],
    ["params.lr = 'x", 12],
    ['1; DROP TABLE', 1],
  ])('runs({ filter: %j }) rejects with a TrackingInputError at %d', async (filter, position) => {
    const failure = exp.runs({ filter });
    await expect(failure).rejects.toThrow(TrackingInputError);
    await expect(failure).rejects.toMatchObject({ position });
  });

  test('bad orderings and pages are TrackingInputErrors', async () => {
    await expect(exp.runs({ orderBy: ['metrics.acc SIDEWAYS'] })).rejects.toThrow(TrackingInputError);
    await expect(exp.runs({ orderBy: ['nope DESC'] })).rejects.toThrow(TrackingInputError);
    await expect(exp.runs({ orderBy: [42 as unknown as string] })).rejects.toThrow(TrackingInputError);
    await expect(exp.runs({ limit: -1 })).rejects.toThrow(TrackingInputError);
    await expect(exp.runs({ offset: 1.5 })).rejects.toThrow(TrackingInputError);
  });
});

describe('a bad filter loses nothing already logged', () => {
  let tmp: ReturnType<typeof tempDir>;
  let om: Omega;
  beforeEach(() => {
    tmp = tempDir();
    om = omega({ store: `sqlite:${path.join(tmp.dir, 'omega.db')}` });
  });
  afterEach(async () => {
    await om.close();
    tmp.cleanup();
  });

  test('events queued before the failing search are written, the run goes on', async () => {
    const exp = om.runtime.experiment('intact');
    await exp.start({ name: 'kept', tags: { a: 1 } });
    exp.logParam('lr', 0.1);
    for (let i = 0; i < 20; i++) exp.logMetric('acc', i / 20, i);
    const before = await exp.data({ run: 'all' });
    // more events wait in the queue while the searches fail
    for (let i = 20; i < 30; i++) exp.logMetric('acc', i / 30, i);
    await expect(exp.runs({ filter: 'metrics.acc >' })).rejects.toThrow(TrackingInputError);
    await expect(om.runs.search({ filter: 'foo.bar = 1' })).rejects.toThrow(TrackingInputError);
    await expect(exp.runs({ filter: 'params.lr = 0.01 OR params.lr = 0.1' })).rejects.toThrow(
      TrackingInputError,
    );
    exp.logMetric('after', 1);
    await exp.stop();
    const after = await exp.data({ run: 'all' });
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.filter((e) => e.event === 'metric' && e.key === 'acc').map((e) => e.step)).toEqual(
      Array.from({ length: 30 }, (_, i) => i),
    );
    const [run] = await exp.runs();
    expect(run).toMatchObject({
      run: 1,
      status: 'STOPPED',
      name: 'kept',
      tags: { a: 1 },
      params: { lr: 0.1 },
    });
    expect(run.metrics?.acc?.count).toBe(30);
    expect(run.metrics?.after?.last).toBe(1);
  });
});

/** What the 200-run experiment logged, to check the run table against. */
interface Logged {
  name?: string;
  params: Record<string, unknown>;
  tags: Record<string, unknown>;
  acc?: number[];
  loss?: number[];
  failed: boolean;
}

const LRS = [0.1, 0.01, 0.001, 0.0001];
const OPTIMIZERS = ['adam', 'sgd', 'rmsprop', 'AdamW'];

/** 200 runs with random params, metrics (some lacking), tags and names, some FAILED. */
async function build200(exp: Exp): Promise<Logged[]> {
  const random = seededRandom(20261202);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  const logged: Logged[] = [];
  for (let i = 1; i <= 200; i++) {
    const name = i % 10 === 0 ? undefined : `${random() < 0.5 ? 'baseline' : 'tuned'}-${i}`;
    const tags: Record<string, unknown> = { team: pick(random, ['vision', 'nlp', 'speech']) };
    if (random() < 0.7) tags.stage = pick(random, ['dev', 'prod']);
    await exp.start({ name, tags });
    const params: Record<string, unknown> = {
      batch: pick(random, [16, 32, 64, 128]),
      optimizer: pick(random, OPTIMIZERS),
    };
    if (random() < 0.93) params.lr = pick(random, LRS);
    // a param logged twice: the run table shows the later value
    if (params.lr !== undefined && random() < 0.2) exp.logParam('lr', 0.5);
    exp.logParams(params);
    const entry: Logged = { name, params, tags, failed: random() < 0.1 };
    const t0 = Date.now() - 100_000;
    for (const key of ['acc', 'loss'] as const) {
      if (random() < 0.1) continue;
      const points = Array.from({ length: 2 + Math.floor(random() * 4) }, () => round(random()));
      points.forEach((v, step) => exp.logMetric(key, v, { step, dt: t0 + step * 1000 }));
      entry[key] = points;
    }
    await (entry.failed ? exp.stop({ error: new Error(`run ${i} diverged`) }) : exp.stop());
    logged.push(entry);
  }
  return logged;
}

describe('filters equal filtering runs() by hand: 200 runs', () => {
  let tmp: ReturnType<typeof tempDir>;
  let om: Omega;
  let exp: Exp;
  let logged: Logged[];
  let all: RunInfo[];
  beforeAll(async () => {
    tmp = tempDir();
    om = omega({ store: `sqlite:${path.join(tmp.dir, 'omega.db')}` });
    exp = om.runtime.experiment('two-hundred');
    logged = await build200(exp);
    all = await exp.runs();
  }, 120_000);
  afterAll(async () => {
    await om.close();
    tmp.cleanup();
  });

  const acc = (r: RunInfo) => r.metrics?.acc?.last;
  const loss = (r: RunInfo) => r.metrics?.loss?.last;
  const param = (r: RunInfo, key: string) => r.params?.[key];
  const tag = (r: RunInfo, key: string) => r.tags?.[key];
  const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
  const quantile = (q: number) => {
    const values = all
      .map(acc)
      .filter((v): v is number => v !== undefined)
      .sort((a, b) => a - b);
    return values[Math.floor(q * (values.length - 1))];
  };

  test('the run table holds what was logged', () => {
    expect(runNumbers(all)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    all.forEach((r, i) => {
      const l = logged[i];
      expect(r.name).toBe(l.name);
      expect(r.status).toBe(l.failed ? 'FAILED' : 'STOPPED');
      expect(r.error).toBe(l.failed ? `run ${i + 1} diverged` : undefined);
      expect(r.params).toEqual(l.params);
      expect(r.tags).toEqual(l.tags);
      for (const key of ['acc', 'loss'] as const) {
        const points = l[key];
        if (!points) expect(r.metrics?.[key]).toBeUndefined();
        else
          expect(r.metrics?.[key]).toEqual({
            last: points[points.length - 1],
            step: points.length - 1,
            min: Math.min(...points),
            max: Math.max(...points),
            mean: expect.closeTo(points.reduce((a, b) => a + b, 0) / points.length, 10),
            count: points.length,
          });
      }
    });
    // the experiment has what the filters below need: missing values, failures, every choice
    expect(all.filter((r) => acc(r) === undefined).length).toBeGreaterThan(3);
    expect(all.filter((r) => param(r, 'lr') === undefined).length).toBeGreaterThan(3);
    expect(all.filter((r) => r.status === 'FAILED').length).toBeGreaterThan(5);
    for (const lr of LRS) expect(all.some((r) => param(r, 'lr') === lr)).toBe(true);
  });

  test('~40 filters give the runs a hand-written filter over runs() gives', async () => {
    const q25 = quantile(0.25);
    const q50 = quantile(0.5);
    const q75 = quantile(0.75);
    const some = all.find((r) => acc(r) !== undefined)!;
    const exact = acc(some)!;
    const tMid = all[100].started!.getTime();
    const tEnd = all[150].stopped!.getTime();
    const inRange = (v: number | undefined, lo: number, hi: number) => v !== undefined && v > lo && v <= hi;
    const cases: Array<[string, (r: RunInfo) => boolean]> = [
      ...LRS.map((v): [string, (r: RunInfo) => boolean] => [`params.lr = ${v}`, (r) => param(r, 'lr') === v]),
      ["params.lr = '0.01'", (r) => param(r, 'lr') !== undefined && String(param(r, 'lr')) === '0.01'],
      ["params.lr = '0.5'", (r) => param(r, 'lr') === 0.5],
      ...[q25, q50, q75].map((q): [string, (r: RunInfo) => boolean] => [
        `metrics.acc > ${q}`,
        (r) => acc(r) !== undefined && acc(r)! > q,
      ]),
      [`metrics.acc <= ${q50}`, (r) => acc(r) !== undefined && acc(r)! <= q50],
      [`metrics.loss < ${q25}`, (r) => loss(r) !== undefined && loss(r)! < q25],
      [`metrics.acc = ${exact}`, (r) => acc(r) === exact],
      [`metrics.acc != ${exact}`, (r) => acc(r) !== undefined && acc(r) !== exact],
      [`metrics.acc >= -1e9`, (r) => acc(r) !== undefined],
      ["params.optimizer ILIKE 'adam%'", (r) => /^adam/i.test(String(param(r, 'optimizer')))],
      ["params.optimizer LIKE 'adam%'", (r) => String(param(r, 'optimizer')).startsWith('adam')],
      ["params.optimizer LIKE '%d%'", (r) => String(param(r, 'optimizer')).includes('d')],
      [
        "params.optimizer IN ('sgd', 'rmsprop')",
        (r) => ['sgd', 'rmsprop'].includes(param(r, 'optimizer') as string),
      ],
      ["params.optimizer NOT IN ('sgd')", (r) => param(r, 'optimizer') !== 'sgd'],
      ["params.optimizer = 'AdamW'", (r) => param(r, 'optimizer') === 'AdamW'],
      ['params.batch >= 64', (r) => num(param(r, 'batch'))! >= 64],
      ['params.batch IN (16, 128)', (r) => [16, 128].includes(param(r, 'batch') as number)],
      ["params.batch = '32'", (r) => param(r, 'batch') === 32],
      [
        `tags.team = 'vision' AND metrics.acc > ${q50}`,
        (r) => tag(r, 'team') === 'vision' && acc(r) !== undefined && acc(r)! > q50,
      ],
      ["tags.stage != 'prod'", (r) => tag(r, 'stage') !== undefined && tag(r, 'stage') !== 'prod'],
      ["tags.stage IN ('dev', 'prod')", (r) => tag(r, 'stage') !== undefined],
      ["attributes.status = 'FAILED'", (r) => r.status === 'FAILED'],
      ["attributes.status = 'FINISHED'", (r) => r.status === 'STOPPED'],
      [
        "attributes.status != 'FAILED' AND params.lr < 0.01",
        (r) => r.status !== 'FAILED' && num(param(r, 'lr')) !== undefined && num(param(r, 'lr'))! < 0.01,
      ],
      ["attributes.run_name LIKE 'tuned-%'", (r) => r.name?.startsWith('tuned-') === true],
      ["attributes.run_name ILIKE 'BASELINE-1%'", (r) => /^baseline-1/i.test(r.name ?? '')],
      ["tags.`mlflow.runName` LIKE '%-1_'", (r) => /^.*-1.$/.test(r.name ?? '')],
      ["attributes.run_name != 'tuned-1'", (r) => r.name !== undefined && r.name !== 'tuned-1'],
      ['attributes.run > 150', (r) => r.run > 150],
      ['attributes.run IN (3, 50, 199)', (r) => [3, 50, 199].includes(r.run)],
      [`attributes.start_time >= ${tMid}`, (r) => r.started!.getTime() >= tMid],
      [`attributes.start_time < '${new Date(tMid).toISOString()}'`, (r) => r.started!.getTime() < tMid],
      [`attributes.end_time <= ${tEnd}`, (r) => r.stopped!.getTime() <= tEnd],
      ['attributes.duration >= 0', () => true],
      [
        `metrics.acc >= ${q25} AND metrics.loss <= ${q75} AND params.optimizer != 'sgd'`,
        (r) =>
          acc(r) !== undefined &&
          acc(r)! >= q25 &&
          loss(r) !== undefined &&
          loss(r)! <= q75 &&
          param(r, 'optimizer') !== 'sgd',
      ],
      [
        "tags.team IN ('nlp', 'speech') AND params.batch < 64",
        (r) => ['nlp', 'speech'].includes(tag(r, 'team') as string) && (param(r, 'batch') as number) < 64,
      ],
      [
        'params.lr NOT IN (0.1, 0.0001)',
        (r) => param(r, 'lr') !== undefined && ![0.1, 0.0001].includes(param(r, 'lr') as number),
      ],
      [
        "metrics.loss > 0 and metrics.acc < 0.5 and tags.stage = 'dev'",
        (r) =>
          loss(r) !== undefined &&
          loss(r)! > 0 &&
          acc(r) !== undefined &&
          acc(r)! < 0.5 &&
          tag(r, 'stage') === 'dev',
      ],
      ['params.lr > 0.001 AND params.lr <= 0.1', (r) => inRange(num(param(r, 'lr')), 0.001, 0.1)],
    ];
    expect(cases.length).toBeGreaterThanOrEqual(30);
    let nonEmpty = 0;
    for (const [filter, hand] of cases) {
      const expected = all.filter(hand);
      const found = await exp.runs({ filter });
      // a failing case names its filter
      expect({ filter, runs: runNumbers(found) }).toEqual({ filter, runs: runNumbers(expected) });
      expect(found).toEqual(expected);
      if (expected.length > 0 && expected.length < all.length) nonEmpty++;
    }
    // the filters select something, and not everything: they tell runs apart
    expect(nonEmpty).toBeGreaterThan(cases.length - 5);
  });

  /** A comparator on one value: missing values last in either direction. */
  function by(
    value: (r: RunInfo) => number | undefined,
    descending = false,
  ): (a: RunInfo, b: RunInfo) => number {
    return (a, b) => {
      const x = value(a);
      const y = value(b);
      if (x === y) return 0;
      if (x === undefined) return 1;
      if (y === undefined) return -1;
      return descending ? y - x : x - y;
    };
  }

  /** Sorts by the comparators in turn, ties by run number. */
  function handSort(runs: RunInfo[], ...keys: Array<(a: RunInfo, b: RunInfo) => number>): RunInfo[] {
    return [...runs].sort((a, b) => {
      for (const k of keys) {
        const c = k(a, b);
        if (c !== 0) return c;
      }
      return a.run - b.run;
    });
  }

  test('orderBy and limit / offset equal a hand sort, missing values last', async () => {
    const lr = (r: RunInfo) => num(param(r, 'lr'));
    const started = (r: RunInfo) => r.started!.getTime();
    const byAccDesc = handSort(all, by(acc, true));
    expect(runNumbers(await exp.runs({ orderBy: ['metrics.acc DESC'] }))).toEqual(runNumbers(byAccDesc));
    // the runs without acc come last
    expect(byAccDesc.slice(-3).map(acc)).toEqual([undefined, undefined, undefined]);
    expect(runNumbers(await exp.runs({ orderBy: ['metrics.acc'] }))).toEqual(
      runNumbers(handSort(all, by(acc))),
    );
    expect(runNumbers(await exp.runs({ orderBy: '-metrics.acc' }))).toEqual(runNumbers(byAccDesc));
    expect(runNumbers(await exp.runs({ orderBy: ['params.lr', 'metrics.loss ASC'] }))).toEqual(
      runNumbers(handSort(all, by(lr), by(loss))),
    );
    expect(runNumbers(await exp.runs({ orderBy: ['params.lr DESC', 'metrics.loss DESC'] }))).toEqual(
      runNumbers(handSort(all, by(lr, true), by(loss, true))),
    );
    expect(runNumbers(await exp.runs({ orderBy: '-start_time' }))).toEqual(
      runNumbers(handSort(all, by(started, true))),
    );
    expect(runNumbers(await exp.runs({ orderBy: ['attributes.start_time ASC'] }))).toEqual(
      runNumbers(handSort(all, by(started))),
    );
    expect(runNumbers(await exp.runs({ orderBy: ['attributes.run DESC'] }))).toEqual(
      runNumbers([...all].reverse()),
    );
    // pages
    expect(runNumbers(await exp.runs({ orderBy: ['metrics.acc DESC'], limit: 10 }))).toEqual(
      runNumbers(byAccDesc.slice(0, 10)),
    );
    expect(runNumbers(await exp.runs({ orderBy: ['metrics.acc DESC'], limit: 10, offset: 5 }))).toEqual(
      runNumbers(byAccDesc.slice(5, 15)),
    );
    expect(runNumbers(await exp.runs({ orderBy: ['metrics.acc DESC'], offset: 195 }))).toEqual(
      runNumbers(byAccDesc.slice(195)),
    );
    expect(await exp.runs({ limit: 0 })).toEqual([]);
    expect(runNumbers(await exp.runs({ limit: 3, offset: 10 }))).toEqual([11, 12, 13]);
    // filter, order and page together
    const q25 = quantile(0.25);
    const filtered = all.filter((r) => acc(r) !== undefined && acc(r)! > q25);
    expect(
      await exp.runs({ filter: `metrics.acc > ${q25}`, orderBy: '-metrics.loss', limit: 7, offset: 2 }),
    ).toEqual(handSort(filtered, by(loss, true)).slice(2, 9));
  });
});

describe('om.runs.search across experiments', () => {
  let tmp: ReturnType<typeof tempDir>;
  let om: Omega;
  /** Logs one run per value of acc (undefined: a run without it) in experiment `name`. */
  const runsOf = async (name: string, accs: Array<number | undefined>) => {
    const exp = om.runtime.experiment(name);
    for (const [i, acc] of accs.entries()) {
      await exp.start({ name: `${name}#${i + 1}` });
      if (acc !== undefined) exp.logMetric('acc', acc);
      exp.logParam('lr', 0.1 * (i + 1));
      await exp.stop();
    }
  };
  beforeAll(async () => {
    tmp = tempDir();
    om = omega({ store: `sqlite:${path.join(tmp.dir, 'omega.db')}` });
    await runsOf('team/a', [0.9, 0.4, 0.8]);
    await runsOf('team/b', [0.8, 0.95, undefined]);
    await runsOf('other/c', [0.99, 0.1]);
    await runsOf('teams', [0.97]);
  });
  afterAll(async () => {
    await om.close();
    tmp.cleanup();
  });

  const rows = (runs: RunInfo[]) => runs.map((r) => [r.experiment, r.run, r.metrics?.acc?.last]);
  const sorted = (runs: RunInfo[]) => rows(runs).sort((x, y) => String(x).localeCompare(String(y)));

  test("a pattern: 'team/*' takes team/a and team/b, not teams or other/c", async () => {
    expect(sorted(await om.runs.search({ experiments: 'team/*' }))).toEqual([
      ['team/a', 1, 0.9],
      ['team/a', 2, 0.4],
      ['team/a', 3, 0.8],
      ['team/b', 1, 0.8],
      ['team/b', 2, 0.95],
      ['team/b', 3, undefined],
    ]);
  });

  test('filter, orderBy and limit across experiments; ties by experiment, then run', async () => {
    const found = await om.runs.search({
      experiments: 'team/*',
      filter: 'metrics.acc > 0.5',
      orderBy: ['metrics.acc DESC'],
      limit: 3,
    });
    expect(rows(found)).toEqual([
      ['team/b', 2, 0.95],
      ['team/a', 1, 0.9],
      ['team/a', 3, 0.8],
    ]);
    // each row is the run as its experiment lists it, with the experiment's name added
    const [b2] = await om.runtime.experiment('team/b').runs({ run: 2 });
    expect(found[0]).toEqual({ ...b2, experiment: 'team/b' });
    expect(
      rows(
        await om.runs.search({
          experiments: 'team/*',
          filter: 'metrics.acc > 0.5',
          orderBy: ['metrics.acc DESC'],
          limit: 2,
          offset: 2,
        }),
      ),
    ).toEqual([
      ['team/a', 3, 0.8],
      ['team/b', 1, 0.8],
    ]);
    // missing values last, across experiments too
    expect(rows(await om.runs.search({ experiments: ['team/b'], orderBy: 'metrics.acc' }))).toEqual([
      ['team/b', 1, 0.8],
      ['team/b', 2, 0.95],
      ['team/b', 3, undefined],
    ]);
  });

  test('a list of names, a single name, every experiment', async () => {
    expect(
      rows(
        await om.runs.search({
          experiments: ['team/a', 'other/c'],
          filter: 'metrics.acc >= 0.7',
          orderBy: 'metrics.acc',
        }),
      ),
    ).toEqual([
      ['team/a', 3, 0.8],
      ['team/a', 1, 0.9],
      ['other/c', 1, 0.99],
    ]);
    expect(
      rows(await om.runs.search({ experiments: 'team/b', filter: "attributes.run_name = 'team/b#2'" })),
    ).toEqual([['team/b', 2, 0.95]]);
    expect(rows(await om.runs.search({ orderBy: ['metrics.acc DESC'], limit: 3 }))).toEqual([
      ['other/c', 1, 0.99],
      ['teams', 1, 0.97],
      ['team/b', 2, 0.95],
    ]);
    expect((await om.runs.search()).length).toBe(9);
    expect(await om.runs.search({ experiments: 'nosuch' })).toEqual([]);
    expect(await om.runs.search({ experiments: 'nosuch/*' })).toEqual([]);
    for (const run of await om.runs.search({ experiments: ['team/a', 'teams'] }))
      expect(['team/a', 'teams']).toContain(run.experiment);
  });

  test('bad filters and experiment lists are TrackingInputErrors', async () => {
    await expect(om.runs.search({ experiments: 'team/*', filter: 'metrics.acc >' })).rejects.toMatchObject({
      position: 13,
    });
    await expect(om.runs.search({ filter: 'foo.bar = 1' })).rejects.toThrow(TrackingInputError);
    await expect(om.runs.search({ experiments: [42 as unknown as string] })).rejects.toThrow(
      TrackingInputError,
    );
  });
});
