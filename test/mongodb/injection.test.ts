import net from 'node:net';
import { ObjectId } from 'mongodb';
import { TrackingInputError } from '@omega-track/core';
import {
  MongoStore,
  mongoEventDoc,
  mongoEventFilter,
  mongoRunComparisonFilter,
  mongoStatsUpdate,
  parseRunFilter,
  mongoRunFilterConditions,
  resolveQuery,
} from '@omega-track/core/internal';
import type { ResolvedQuery } from '@omega-track/core';
import type { FilterComparison } from '@omega-track/core';

// No operator reaches MongoDB from input: objects given where a value belongs are refused
// (TrackingInputError), and text that looks like an operator stays a value.

/** The operators and field names the translation itself writes; anything else came from input. */
const OWN_OPERATORS = new Set(['$in', '$gte', '$lte', '$and', '$or', '$elemMatch', '$not']);
const OWN_FIELDS = new Set([
  'run',
  'event',
  'key',
  'step',
  'dt',
  'extra',
  'k',
  'v',
  's',
  'node',
  'userid',
  '_id',
]);

/** Every object key of a filter, checked against what the translation writes itself. */
function keysOf(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) value.forEach((v) => keysOf(v, out));
  else if (value && typeof value === 'object' && !(value instanceof Date))
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      keysOf(v, out);
    }
  return out;
}

const ctx = { currentRun: undefined, latestRun: () => 3 };

describe('the MongoDB store’s injection guard', () => {
  test('objects with operators as query values are refused by the query, and by the store itself', async () => {
    const hostile: unknown[] = [
      { $ne: null },
      { $where: 'sleep(1000) || true' },
      { $gt: '' },
      { 'a.b': 1 },
      { $regex: '.*' },
    ];
    for (const value of hostile) {
      // through data(): resolveQuery refuses them
      for (const field of ['key', 'event', 'step', 'run', 'taskid'])
        await expect(resolveQuery({ run: 'all', [field]: value }, ctx)).rejects.toThrow(TrackingInputError);
      // a ResolvedQuery made by hand: the translation refuses them on its own
      const forged: Array<Record<string, unknown>> = [
        { keys: [value] },
        { events: [value] },
        { steps: [value] },
        { runs: [value] },
        { runs: { from: value, to: 5 } },
        { since: value },
        { end: value },
        { extras: { taskid: [value] } },
        { extras: { taskid: value } },
        { keys: value },
      ];
      for (const q of forged) expect(() => mongoEventFilter(q as ResolvedQuery)).toThrow(TrackingInputError);
    }
    expect(() => mongoEventFilter({ extras: { value: ['x'] } })).toThrow(/not filterable/);
    expect(() => mongoEventFilter({ steps: ['$where' as unknown as number] })).toThrow(TrackingInputError);
    expect(() => mongoEventFilter('{ "$where": "1" }' as unknown as ResolvedQuery)).toThrow(
      TrackingInputError,
    );
  });

  test('query field names starting with $ are refused; names with dots are values, never paths', async () => {
    await expect(resolveQuery({ run: 'all', $where: 'x' }, ctx)).rejects.toThrow(TrackingInputError);
    await expect(resolveQuery({ run: 'all', $or: [{ key: 'a' }] }, ctx)).rejects.toThrow(TrackingInputError);
    await expect(resolveQuery({ run: 'all', 'x.$y': 1 }, ctx)).rejects.toThrow(TrackingInputError);
    const dotted = mongoEventFilter(await resolveQuery({ run: 'all', 'a.b': 'x' }, ctx));
    expect(keysOf(dotted)).not.toContain('a.b');
    expect(JSON.stringify(dotted)).toContain('"k":"a.b"');
    // a forged extra field named like an operator is a value too
    const forged = mongoEventFilter({ extras: { $where: ['1'], 'extra.k': ['x'] } });
    expect(keysOf(forged).filter((k) => !OWN_OPERATORS.has(k) && !OWN_FIELDS.has(k))).toEqual([]);
  });

  test('text that looks like an operator stays a plain value in the filter', async () => {
    const q = await resolveQuery(
      { run: 'all', key: ['$where', '{"$ne":null}'], event: '$gt', taskid: '$ne', 'x.y': '$regex' },
      ctx,
    );
    const filter = mongoEventFilter(q);
    for (const k of keysOf(filter)) expect(OWN_OPERATORS.has(k) || OWN_FIELDS.has(k)).toBe(true);
    expect(filter.key).toEqual({ $in: ['$where', '{"$ne":null}'] });
    expect(filter.event).toEqual({ $in: ['$gt'] });
  });

  test('run filters: keys and text are values; objects as literals are refused', () => {
    const conditions = mongoRunFilterConditions(
      parseRunFilter("params.`$where` = '$ne' and metrics.`a.b` > 1"),
    );
    expect(conditions[0]).toMatchObject({ event: 'param', key: '$where' });
    expect(JSON.stringify(conditions[0])).toContain('"$in":["$ne"]');
    expect(conditions[1]).toMatchObject({ event: 'metric', key: 'a.b' });
    const forged = (value: unknown): FilterComparison =>
      ({ field: { entity: 'param', key: 'lr' }, op: '=', value }) as unknown as FilterComparison;
    for (const value of [{ $ne: null }, [{ $gt: 0 }], { $where: '1' }])
      expect(() => mongoRunComparisonFilter(forged(value))).toThrow(TrackingInputError);
    expect(() => mongoRunFilterConditions({ $where: '1' } as never)).toThrow(TrackingInputError);
  });

  test('logged values and aggregates never put an operator into a write', () => {
    const doc = mongoEventDoc(new ObjectId(), {
      run: 1,
      event: 'param',
      key: 'p',
      value: { $set: { admin: true }, 'a.b': 1 },
      step: null,
      dt: 1_000,
      node: 'n',
      userid: 'u',
      extra: { q: { $where: '1' } },
    });
    expect(doc.value).toBe('{"$set":{"admin":true},"a.b":1}');
    expect(doc.enc).toBe('json');
    expect(doc.extra).toEqual([{ k: 'q', v: '{"$where":"1"}', j: true }]);
    // in an update pipeline, text is a field path ("$x") unless it is a $literal: every value is
    const update = mongoStatsUpdate(
      {
        event: 'param',
        key: 'p',
        last: '$where',
        lastDt: 1,
        lastStep: null,
        min: null,
        max: null,
        count: 1,
        sum: 0,
        finite: 0,
        node: '$$ROOT',
        userid: '$admin',
      },
      'batch',
    );
    const literals: unknown[] = [];
    const visit = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(visit);
      else if (v && typeof v === 'object')
        for (const [k, x] of Object.entries(v)) {
          if (k === '$literal') literals.push(x);
          else visit(x);
        }
      else if (typeof v === 'string' && v.startsWith('$'))
        // the pipeline's own field paths only
        expect([
          '$_newer',
          '$last',
          '$lastEnc',
          '$lastDt',
          '$lastStep',
          '$node',
          '$userid',
          '$min',
          '$max',
          '$count',
          '$applied',
        ]).toContain(v);
    };
    visit(update);
    expect(literals).toEqual(expect.arrayContaining(['$where', '$$ROOT', '$admin', 'batch']));
  });

  test('the store refuses hostile names and queries before any I/O', async () => {
    // a closed port: were anything sent, the calls would wait for the server selection timeout
    const port = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as net.AddressInfo;
        server.close(() => resolve(port));
      });
    });
    const store = new MongoStore(
      `mongodb://127.0.0.1:${port}/omega_injection?serverSelectionTimeoutMS=60000`,
    );
    try {
      const hostile = { $ne: null } as unknown as string;
      await expect(store.getEntry('models', hostile)).rejects.toThrow(TrackingInputError);
      await expect(store.getEntry({ $ne: null } as never, 'x')).rejects.toThrow(TrackingInputError);
      await expect(store.listEntries('models', { $gt: '' } as never)).rejects.toThrow(TrackingInputError);
      await expect(store.deleteEntry('models', hostile)).rejects.toThrow(TrackingInputError);
      await expect(store.getBlob(hostile)).rejects.toThrow(TrackingInputError);
      await expect(store.deleteBlobs(hostile)).rejects.toThrow(TrackingInputError);
      await expect(store.queryEvents('e', { keys: [hostile] })).rejects.toThrow(TrackingInputError);
      await expect(store.queryEvents(hostile, {})).rejects.toThrow(TrackingInputError);
      await expect(store.deleteRun('e', { $gt: 0 } as never)).rejects.toThrow(TrackingInputError);
      await expect(store.runStats('e', [{ $gt: 0 } as never])).rejects.toThrow(TrackingInputError);
      const iterate = async (): Promise<void> => {
        for await (const batch of store.iterateEvents('e', { extras: { t: [{ $where: '1' }] } } as never, 10))
          void batch;
      };
      await expect(iterate()).rejects.toThrow(TrackingInputError);
    } finally {
      await store.close();
    }
  });
});
