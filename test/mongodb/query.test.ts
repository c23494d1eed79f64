import { ObjectId } from 'mongodb';
import {
  MONGO_EVENT_SORT,
  MongoEventIds,
  mongoColumnBatch,
  mongoEventDoc,
  mongoEventFilter,
  mongoEventFromDoc,
  mongoEventsCollection,
  mongoFindOptions,
  mongoPrefixRange,
  mongoReadValue,
  mongoRunFilterConditions,
  mongoStoreValue,
  parseRunFilter,
  resolveQuery,
} from '@omega-track/core/internal';
import type { EventQuery, PendingEvent } from '@omega-track/core';
import type { RunContext } from '@omega-track/core/internal';

// The translation of data() queries (SPEC §3) into MongoDB filters, without a server: a user
// query is resolved as the providers resolve it, then translated as the MongoDB store does.

const LATEST = 7;
const ctx = (currentRun?: number): RunContext => ({ currentRun, latestRun: () => LATEST });

async function translate(query: EventQuery, currentRun?: number): Promise<Record<string, unknown>> {
  return mongoEventFilter(await resolveQuery(query, ctx(currentRun)));
}

describe('data() queries as MongoDB filters', () => {
  test('run numbers: one, negative (counted back from the latest), lists, ranges, all', async () => {
    expect(await translate({ run: 3 })).toEqual({ run: { $in: [3] } });
    expect(await translate({ run: -1 })).toEqual({ run: { $in: [LATEST] } });
    expect(await translate({ run: -2 })).toEqual({ run: { $in: [LATEST - 1] } });
    // further back than the first run: no run (0) matches
    expect(await translate({ run: -20 })).toEqual({ run: { $in: [0] } });
    expect(await translate({ run: [1, -1, 4] })).toEqual({ run: { $in: [1, LATEST, 4] } });
    expect(await translate({ run: { from: 2, to: 5 } })).toEqual({ run: { $gte: 2, $lte: 5 } });
    expect(await translate({ run: { from: -3, to: -1 } })).toEqual({ run: { $gte: 5, $lte: 7 } });
    expect(await translate({ run: 'all' })).toEqual({});
    expect(await translate({ run: '*' })).toEqual({});
  });

  test('no run given: the current run, else every run', async () => {
    expect(await translate({}, 4)).toEqual({ run: { $in: [4] } });
    expect(await translate({})).toEqual({});
    expect(await translate({ run: 'all' }, 4)).toEqual({});
  });

  test('event, key and step: a value or a list', async () => {
    expect(await translate({ run: 'all', event: 'metric' })).toEqual({ event: { $in: ['metric'] } });
    expect(await translate({ run: 'all', event: ['metric', 'param'] })).toEqual({
      event: { $in: ['metric', 'param'] },
    });
    expect(await translate({ run: 'all', key: 'loss' })).toEqual({ key: { $in: ['loss'] } });
    expect(await translate({ run: 'all', key: ['loss', 'acc'], step: [0, 2] })).toEqual({
      key: { $in: ['loss', 'acc'] },
      step: { $in: [0, 2] },
    });
    expect(await translate({ run: 'all', step: 5 })).toEqual({ step: { $in: [5] } });
  });

  test('since and end: Dates, ISO text and spans before now, as Dates on dt', async () => {
    const at = new Date('2026-03-01T12:00:00.000Z');
    expect(await translate({ run: 'all', since: at })).toEqual({ dt: { $gte: at } });
    expect(await translate({ run: 'all', end: '2026-03-02T00:00:00Z' })).toEqual({
      dt: { $lte: new Date('2026-03-02T00:00:00Z') },
    });
    expect(await translate({ run: 'all', since: at, end: '2026-03-02' })).toEqual({
      dt: { $gte: at, $lte: new Date('2026-03-02') },
    });
    // relative spans are resolved when the query is: between the instants around the call
    const before = Date.now();
    const filter = await translate({ run: 'all', since: '15m', end: '1h' });
    const after = Date.now();
    const dt = filter.dt as { $gte: Date; $lte: Date };
    expect(Object.keys(filter)).toEqual(['dt']);
    expect(dt.$gte).toBeInstanceOf(Date);
    expect(dt.$gte.getTime()).toBeGreaterThanOrEqual(before - 15 * 60_000);
    expect(dt.$gte.getTime()).toBeLessThanOrEqual(after - 15 * 60_000);
    expect(dt.$lte.getTime()).toBeGreaterThanOrEqual(before - 3600_000);
    expect(dt.$lte.getTime()).toBeLessThanOrEqual(after - 3600_000);
    const month = (await translate({ run: 'all', since: '1M' })).dt as { $gte: Date };
    expect(month.$gte.getTime()).toBeLessThanOrEqual(Date.now() - 30 * 86_400_000);
  });

  test('extra fields: matched as { k, v } values, a missing field counting as null', async () => {
    expect(await translate({ run: 'all', taskid: 'abc' })).toEqual({
      $and: [{ extra: { $elemMatch: { k: 'taskid', s: true, v: { $in: ['abc'] } } } }],
    });
    expect(await translate({ run: 'all', phase: ['val', 'train'], flag: true, n: 2 })).toEqual({
      $and: [
        { extra: { $elemMatch: { k: 'phase', s: true, v: { $in: ['val', 'train'] } } } },
        { extra: { $elemMatch: { k: 'flag', s: true, v: { $in: [true] } } } },
        { extra: { $elemMatch: { k: 'n', s: true, v: { $in: [2] } } } },
      ],
    });
    expect(await translate({ run: 'all', taskid: null })).toEqual({
      $and: [
        {
          $or: [
            { extra: { $elemMatch: { k: 'taskid', s: true, v: null } } },
            { extra: { $not: { $elemMatch: { k: 'taskid' } } } },
          ],
        },
      ],
    });
    expect(await translate({ run: 'all', taskid: ['t1', null] })).toEqual({
      $and: [
        {
          $or: [
            { extra: { $elemMatch: { k: 'taskid', s: true, v: { $in: ['t1'] } } } },
            { extra: { $elemMatch: { k: 'taskid', s: true, v: null } } },
            { extra: { $not: { $elemMatch: { k: 'taskid' } } } },
          ],
        },
      ],
    });
    // node and userid are fields of every event, as the embedded store reads them
    expect(await translate({ run: 'all', userid: 'u1', node: ['n1', 'n2'] })).toEqual({
      $and: [{ userid: { $in: ['u1'] } }, { node: { $in: ['n1', 'n2'] } }],
    });
    // a field name with a dot is a name, not a path
    expect(await translate({ run: 'all', 'model.version': 3 })).toEqual({
      $and: [{ extra: { $elemMatch: { k: 'model.version', s: true, v: { $in: [3] } } } }],
    });
  });

  test('limit and offset: skip and limit on the sorted result (dt, then insertion order)', async () => {
    const q = await resolveQuery({ run: 1, limit: 2, offset: 1 }, ctx());
    expect(mongoFindOptions(q)).toEqual({ sort: MONGO_EVENT_SORT, skip: 1, limit: 2, empty: false });
    expect(MONGO_EVENT_SORT).toEqual({ dt: 1, _id: 1 });
    expect(mongoFindOptions(await resolveQuery({ run: 1 }, ctx()))).toEqual({
      sort: MONGO_EVENT_SORT,
      empty: false,
    });
    expect(mongoFindOptions(await resolveQuery({ run: 1, offset: 0 }, ctx()))).toEqual({
      sort: MONGO_EVENT_SORT,
      empty: false,
    });
    // MongoDB reads limit 0 as "no limit": a query for no rows is answered without one
    expect(mongoFindOptions(await resolveQuery({ run: 1, limit: 0 }, ctx())).empty).toBe(true);
  });

  test('every part at once', async () => {
    const filter = await translate({
      run: [-1, 2],
      event: 'metric',
      key: ['loss'],
      step: [1],
      since: new Date(1_000),
      end: new Date(9_000),
      taskid: 't',
    });
    expect(filter).toEqual({
      run: { $in: [LATEST, 2] },
      event: { $in: ['metric'] },
      key: { $in: ['loss'] },
      step: { $in: [1] },
      dt: { $gte: new Date(1_000), $lte: new Date(9_000) },
      $and: [{ extra: { $elemMatch: { k: 'taskid', s: true, v: { $in: ['t'] } } } }],
    });
  });
});

describe('name prefixes as index ranges', () => {
  test('the range holds exactly the names that start with the prefix', () => {
    expect(mongoPrefixRange('name', '')).toEqual({});
    expect(mongoPrefixRange('name', 'experiments/')).toEqual({
      name: { $gte: 'experiments/', $lt: 'experiments0' },
    });
    expect(mongoPrefixRange('filename', '.experiments/a%2Fb/')).toEqual({
      filename: { $gte: '.experiments/a%2Fb/', $lt: '.experiments/a%2Fb0' },
    });
    // the last code point is raised, not the last UTF-16 unit
    expect(mongoPrefixRange('name', 'x😀')).toEqual({ name: { $gte: 'x😀', $lt: 'x😁' } });
    expect(mongoPrefixRange('name', 'a\u{10ffff}')).toEqual({ name: { $gte: 'a\u{10ffff}', $lt: 'b' } });
    expect(mongoPrefixRange('name', 'a\ud7ff')).toEqual({ name: { $gte: 'a\ud7ff', $lt: 'a\ue000' } });
    // compared as MongoDB compares strings (UTF-8 bytes): in, in, out, out
    const { $gte, $lt } = (mongoPrefixRange('name', 'ab') as { name: { $gte: string; $lt: string } }).name;
    const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');
    const inRange = (s: string): boolean =>
      Buffer.compare(utf8(s), utf8($gte)) >= 0 && Buffer.compare(utf8(s), utf8($lt)) < 0;
    expect(['ab', 'ab\u{10ffff}zz', 'ac', 'aa'].map(inRange)).toEqual([true, true, false, false]);
  });
});

describe('run filters as conditions on the run aggregates', () => {
  const conditions = (text: string): Array<Record<string, unknown>> =>
    mongoRunFilterConditions(parseRunFilter(text));

  test('metrics compare their last value; NOT IN only asks that the metric exists', () => {
    expect(conditions('metrics.acc > 0.9')).toEqual([
      { event: 'metric', key: 'acc', count: { $gt: 0 }, last: { $gt: 0.9 } },
    ]);
    expect(conditions('metrics.loss <= 1 and metrics.acc != 0.5')).toEqual([
      { event: 'metric', key: 'loss', count: { $gt: 0 }, last: { $lte: 1 } },
      { event: 'metric', key: 'acc', count: { $gt: 0 }, last: { $ne: 0.5 } },
    ]);
    expect(conditions('metrics.acc IN (0.5, 1)')).toEqual([
      { event: 'metric', key: 'acc', count: { $gt: 0 }, last: { $in: [0.5, 1] } },
    ]);
    expect(conditions('metrics.acc NOT IN (0.5, 1)')).toEqual([
      { event: 'metric', key: 'acc', count: { $gt: 0 } },
    ]);
    expect(conditions('metrics.`val/loss.$x` < 2')).toEqual([
      { event: 'metric', key: 'val/loss.$x', count: { $gt: 0 }, last: { $lt: 2 } },
    ]);
  });

  test('params and tags: text equal as text or as the JSON form of other values; numbers also against text', () => {
    expect(conditions("params.lr = '0.01'")).toEqual([
      {
        event: 'param',
        key: 'lr',
        last: { $ne: null },
        $or: [{ last: { $in: ['0.01'] } }, { last: { $not: { $type: 'string' } } }, { lastEnc: 'json' }],
      },
    ]);
    expect(conditions('params.layers >= 3')).toEqual([
      {
        event: 'param',
        key: 'layers',
        last: { $ne: null },
        $or: [{ last: { $gte: 3 } }, { last: { $type: 'string' } }],
      },
    ]);
    expect(conditions("tags.team IN ('a', 'b')")).toEqual([
      {
        event: 'tag',
        key: 'team',
        last: { $ne: null },
        $or: [{ last: { $in: ['a', 'b'] } }, { last: { $not: { $type: 'string' } } }, { lastEnc: 'json' }],
      },
    ]);
    expect(conditions("tags.team != 'a'")).toEqual([{ event: 'tag', key: 'team', last: { $ne: null } }]);
    expect(conditions("params.opt LIKE 'ad%'")).toEqual([
      { event: 'param', key: 'opt', last: { $ne: null } },
    ]);
  });

  test('attributes: run numbers narrow; status, times and derived tags are left to the exact check', () => {
    expect(conditions('attributes.run >= 3')).toEqual([{ run: { $gte: 3 } }]);
    expect(conditions('attributes.run IN (1, 2)')).toEqual([{ run: { $in: [1, 2] } }]);
    expect(conditions('attributes.run NOT IN (1, 2)')).toEqual([{ run: { $nin: [1, 2] } }]);
    expect(conditions("attributes.status = 'FINISHED'")).toEqual([]);
    expect(conditions('attributes.start_time > 0')).toEqual([]);
    expect(conditions("tags.`mlflow.runName` = 'x'")).toEqual([]);
    expect(conditions("attributes.status = 'FINISHED' and metrics.acc > 0.1")).toEqual([
      { event: 'metric', key: 'acc', count: { $gt: 0 }, last: { $gt: 0.1 } },
    ]);
  });
});

describe('documents', () => {
  const base: PendingEvent = {
    run: 2,
    event: 'metric',
    key: 'loss',
    value: 0.5,
    step: 3,
    dt: 1_700_000_000_123,
    node: 'n1',
    userid: 'u1',
    extra: undefined,
  };
  const id = new ObjectId();

  test('an event reads back as it was logged, whatever its value and extra fields', () => {
    const values: unknown[] = [
      0.5,
      NaN,
      Infinity,
      -Infinity,
      'text',
      '$where',
      true,
      null,
      [1, 'a', null],
      { nested: [Infinity, -Infinity, 'x'] },
      { $ne: null, 'a.b': 1, '': 2 },
      { status: 'FAILED', error: 'diverged' },
    ];
    for (const value of values) {
      const doc = mongoEventDoc(id, {
        ...base,
        value,
        extra: { taskid: 't1', flag: true, obj: { a: [1] }, none: null },
      });
      const row = mongoEventFromDoc('exp', doc);
      expect(row).toEqual({
        experiment: 'exp',
        run: 2,
        event: 'metric',
        key: 'loss',
        value,
        step: 3,
        dt: new Date(base.dt),
        node: 'n1',
        userid: 'u1',
        taskid: 't1',
        flag: true,
        obj: { a: [1] },
        none: null,
      });
    }
    const plain = mongoEventDoc(id, base);
    expect(plain).toEqual({
      _id: id,
      run: 2,
      event: 'metric',
      key: 'loss',
      value: 0.5,
      step: 3,
      dt: new Date(base.dt),
      node: 'n1',
      userid: 'u1',
    });
  });

  test('values are documents where that is safe, else JSON text', () => {
    expect(mongoStoreValue({ a: 1, b: [true, 'x'] })).toEqual({
      value: { a: 1, b: [true, 'x'] },
      json: false,
    });
    expect(mongoStoreValue(new Date('2026-01-02T03:04:05Z'))).toEqual({
      value: '2026-01-02T03:04:05.000Z',
      json: false,
    });
    expect(mongoStoreValue({ when: new Date(0), gone: undefined })).toEqual({
      value: { when: '1970-01-01T00:00:00.000Z' },
      json: false,
    });
    for (const unsafe of [{ $where: '1' }, { 'a.b': 1 }, { '': 1 }, { a: { $gt: 0 } }, [{ x: NaN }]])
      expect(mongoStoreValue(unsafe).json).toBe(true);
    let deep: unknown = 1;
    for (let i = 0; i < 80; i++) deep = [deep];
    const stored = mongoStoreValue(deep);
    expect(stored.json).toBe(true);
    expect(mongoReadValue(stored.value, stored.json)).toEqual(deep);
  });

  test('ids of one process increase, within a second and when the counter wraps', () => {
    const ids = new MongoEventIds(ObjectId, (n) => Buffer.alloc(n, 0xff));
    const hex = Array.from({ length: 5000 }, () => ids.next().toHexString());
    expect([...hex].sort()).toEqual(hex);
    expect(new Set(hex).size).toBe(hex.length);
  });

  test('event collections: omega-ml’s dataset name under omega., escaped, shortened when too long', () => {
    expect(mongoEventsCollection('omega', 'mnist')).toBe('omega..experiments/mnist');
    expect(mongoEventsCollection('omega', 'team/reg model')).toBe('omega..experiments/team/reg model');
    expect(mongoEventsCollection('omega', 'a$b%c#d')).toBe('omega..experiments/a%24b%25c%23d');
    expect(mongoEventsCollection('omega', 'x.system.users')).toBe('omega..experiments/x%2Esystem.users');
    const long = 'é'.repeat(250);
    const name = mongoEventsCollection('omega', long);
    expect(Buffer.byteLength(`omega.${name}`)).toBeLessThanOrEqual(255);
    expect(name).toMatch(/^omega\.\.experiments\/é+#[0-9a-f]{32}$/);
    expect(mongoEventsCollection('omega', long.slice(0, 249) + 'e')).not.toBe(name);
  });

  test('documents as columns: numbers only where stored as numbers, steps and times as they are', () => {
    const docs = [1, 'text', { a: 1 }, NaN, -0, '[1]'].map((value, i) => ({
      ...mongoEventDoc(new ObjectId(), {
        run: 4,
        event: i === 2 ? 'param' : 'metric',
        key: i < 3 ? 'loss' : 'acc',
        value,
        step: i === 1 ? null : i * 10,
        dt: 1_000 + i,
        node: 'n',
        userid: 'u',
        extra: undefined,
      }),
    }));
    // a JSON text stored for an unsafe value is not a number, whatever it reads as
    docs[5] = { ...docs[5], value: '1', enc: 'json' };
    const b = mongoColumnBatch(4, docs);
    expect(b.run).toBe(4);
    expect(b.length).toBe(6);
    expect(b.names).toEqual(['metric', 'loss', 'param', 'acc']);
    expect([...b.event].map((i) => b.names[i])).toEqual([
      'metric',
      'metric',
      'param',
      'metric',
      'metric',
      'metric',
    ]);
    expect([...b.key].map((i) => b.names[i])).toEqual(['loss', 'loss', 'loss', 'acc', 'acc', 'acc']);
    expect([...b.numeric!]).toEqual([1, 0, 0, 1, 1, 0]);
    expect([...b.values]).toEqual([1, NaN, NaN, NaN, -0, NaN]);
    expect(Object.is(b.values[4], -0)).toBe(true);
    expect([...b.step]).toEqual([0, NaN, 20, 30, 40, 50]);
    expect([...b.dt]).toEqual([1000, 1001, 1002, 1003, 1004, 1005]);
    // all numbers: no numeric column at all
    expect(mongoColumnBatch(4, [docs[0], docs[4]]).numeric).toBeUndefined();
    expect(mongoColumnBatch(4, []).length).toBe(0);
  });
});
