import { StoreError, TrackingInputError } from '@omega-track/core';
import type { PendingEvent, Store } from '@omega-track/core';

function ev(
  run: number,
  event: string,
  key: string,
  value: unknown,
  extra?: Record<string, unknown>,
  dt = 1_000,
): PendingEvent {
  return { run, event, key, value, step: null, dt, node: 'n1', userid: 'u1', extra };
}

const start = {
  event: 'start',
  key: 'start',
  value: null,
  step: null,
  dt: 1_000,
  node: 'n1',
  userid: 'u1',
  extra: undefined,
};

/**
 * The store contract: every Store implementation (embedded file, memory, MongoDB) passes the
 * same assertions.
 */
export function describeStoreContract(
  label: string,
  open: () => Promise<{ store: Store; cleanup: () => Promise<void> }>,
): void {
  describe(`store contract: ${label}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await open());
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    test('metadata entries: put, get, list by prefix, replace, delete', async () => {
      const created = new Date('2026-01-01T00:00:00Z');
      await store.putEntry('models', {
        name: 'experiments/a',
        kind: 'experiment.tracker',
        attributes: { x: 1 },
        created,
        modified: created,
      });
      await store.putEntry('models', {
        name: 'experiments/b',
        kind: 'experiment.tracker',
        attributes: {},
        data: [1, NaN],
        created,
        modified: created,
      });
      await store.putEntry('models', {
        name: 'other',
        kind: 'json',
        attributes: {},
        created,
        modified: created,
      });
      await store.putEntry('datasets', {
        name: 'experiments/c',
        kind: 'json',
        attributes: {},
        created,
        modified: created,
      });
      expect((await store.listEntries('models', 'experiments/')).map((e) => e.name)).toEqual([
        'experiments/a',
        'experiments/b',
      ]);
      expect((await store.listEntries('models')).map((e) => e.name)).toEqual([
        'experiments/a',
        'experiments/b',
        'other',
      ]);
      const b = await store.getEntry('models', 'experiments/b');
      expect(b?.data).toEqual([1, NaN]);
      expect(b?.created).toEqual(created);
      await store.putEntry('models', {
        name: 'experiments/a',
        kind: 'k2',
        attributes: { x: 2 },
        created,
        modified: new Date(),
      });
      expect((await store.getEntry('models', 'experiments/a'))?.attributes).toEqual({ x: 2 });
      expect(await store.deleteEntry('models', 'experiments/a')).toBe(true);
      expect(await store.deleteEntry('models', 'experiments/a')).toBe(false);
      expect(await store.getEntry('models', 'experiments/a')).toBeUndefined();
      expect(await store.getEntry('datasets', 'experiments/c')).toBeDefined();
    });

    test('runs are numbered 1, 2, 3 per experiment, each with its start event', async () => {
      expect(await store.latestRun('e')).toBeUndefined();
      expect(await store.startRun('e', start)).toBe(1);
      expect(await store.startRun('e', start)).toBe(2);
      expect(await store.startRun('other', start)).toBe(1);
      const runs = await Promise.all([
        store.startRun('e', start),
        store.startRun('e', start),
        store.startRun('e', start),
      ]);
      expect(runs.sort()).toEqual([3, 4, 5]);
      expect(await store.latestRun('e')).toBe(5);
      const starts = await store.queryEvents('e', { events: ['start'] });
      expect(starts.map((e) => e.run).sort()).toEqual([1, 2, 3, 4, 5]);
    });

    test('events come back typed, sorted by dt with ties in insertion order, filtered', async () => {
      await store.appendEvents('e', [
        ev(1, 'metric', 'b', 2, undefined, 2_000),
        ev(1, 'metric', 'a', 1, undefined, 1_000),
        ev(1, 'metric', 'c', NaN, undefined, 2_000),
        ev(2, 'param', 'p', { nested: [Infinity, -Infinity, 'x'] }, { taskid: 't1', flag: true }, 3_000),
        ev(3, 'metric', 'a', 'text', { taskid: 't2' }, 4_000),
        { ...ev(3, 'metric', 'a', 7), step: 5, dt: 5_000 },
      ]);
      const all = await store.queryEvents('e', {});
      expect(all.map((e) => e.key)).toEqual(['a', 'b', 'c', 'p', 'a', 'a']);
      expect(all[0]).toEqual({
        experiment: 'e',
        run: 1,
        event: 'metric',
        key: 'a',
        value: 1,
        step: null,
        dt: new Date(1_000),
        node: 'n1',
        userid: 'u1',
      });
      expect(all[2].value).toBeNaN();
      expect(all[3]).toMatchObject({
        value: { nested: [Infinity, -Infinity, 'x'] },
        taskid: 't1',
        flag: true,
      });
      expect((await store.queryEvents('e', { runs: [1, 3] })).length).toBe(5);
      expect((await store.queryEvents('e', { runs: { from: 2, to: 3 } })).length).toBe(3);
      expect((await store.queryEvents('e', { events: ['param'] })).map((e) => e.key)).toEqual(['p']);
      expect((await store.queryEvents('e', { keys: ['a'], steps: [5] })).map((e) => e.value)).toEqual([7]);
      expect((await store.queryEvents('e', { since: 2_000, end: 3_000 })).map((e) => e.key)).toEqual([
        'b',
        'c',
        'p',
      ]);
      expect((await store.queryEvents('e', { extras: { taskid: ['t2'] } })).map((e) => e.value)).toEqual([
        'text',
      ]);
      expect((await store.queryEvents('e', { extras: { flag: [true] } })).map((e) => e.key)).toEqual(['p']);
      expect((await store.queryEvents('e', { extras: { userid: ['u1'] } })).length).toBe(6);
      expect((await store.queryEvents('e', { limit: 2, offset: 1 })).map((e) => e.key)).toEqual(['b', 'c']);
      expect(await store.queryEvents('nothing', {})).toEqual([]);
    });

    test('iterateEvents gives the same rows in batches', async () => {
      const events = Array.from({ length: 95 }, (_, i) =>
        ev(1 + (i % 3), 'metric', `k${i}`, i, undefined, 1_000 + Math.floor(i / 10)),
      );
      await store.appendEvents('e', events);
      const whole = await store.queryEvents('e', { runs: [1, 2] });
      const batches: number[] = [];
      const rows = [];
      for await (const batch of store.iterateEvents('e', { runs: [1, 2] }, 7)) {
        batches.push(batch.length);
        rows.push(...batch);
      }
      expect(rows).toEqual(whole);
      expect(Math.max(...batches)).toBeLessThanOrEqual(7);
      const windowed = [];
      for await (const batch of store.iterateEvents('e', { offset: 10, limit: 20 }, 6))
        windowed.push(...batch);
      expect(windowed).toEqual(await store.queryEvents('e', { offset: 10, limit: 20 }));
    });

    test('many keys logged at the same times come back in logging order, whole and in pages', async () => {
      // 8 keys × 150 steps in one write, each step's events at one time and the keys in an order
      // that turns each step, beside a few rare events (a param, a rarely logged metric): an
      // embedded or PostgreSQL store keeps each busy key in chunks of its own (encodeChunks)
      const KEYS = 8;
      const events: PendingEvent[] = [];
      for (let step = 0; step < 150; step++) {
        for (let j = 0; j < KEYS; j++) {
          const k = (j + step) % KEYS;
          events.push({ ...ev(1, 'metric', `k${k}`, step * 10 + k, undefined, 10_000 + step), step });
        }
        if (step % 50 === 0)
          events.push({ ...ev(1, 'metric', 'rare', step, undefined, 10_000 + step), step });
        if (step === 75) events.push(ev(1, 'param', 'lr', 0.1, undefined, 10_000 + step));
      }
      await store.appendEvents('e', events);
      const line = (e: { event: string; key: string; value: unknown; step: number | null }): string =>
        `${e.event} ${e.key} ${String(e.value)} ${e.step}`;
      const all = await store.queryEvents('e', {});
      expect(all.map(line)).toEqual(events.map(line));
      const some = await store.queryEvents('e', { keys: ['k3', 'k5', 'rare'] });
      expect(some.map(line)).toEqual(events.filter((e) => ['k3', 'k5', 'rare'].includes(e.key)).map(line));
      const pages = [];
      for await (const batch of store.iterateEvents('e', {}, 97)) pages.push(...batch);
      expect(pages.map(line)).toEqual(events.map(line));
      const window = [];
      for await (const batch of store.iterateEvents('e', { offset: 333, limit: 500 }, 64))
        window.push(...batch);
      expect(window.map(line)).toEqual(events.slice(333, 833).map(line));
      if (store.queryColumns) {
        // per key, the numbers in the order they were logged
        const byKey = new Map<string, number[]>();
        for await (const b of store.queryColumns('e', { events: ['metric'] }))
          for (let i = 0; i < b.length; i++) {
            const key = b.names[b.key[i]];
            byKey.set(key, [...(byKey.get(key) ?? []), b.values[i]]);
          }
        for (let k = 0; k < KEYS; k++)
          expect(byKey.get(`k${k}`)).toEqual(Array.from({ length: 150 }, (_, step) => step * 10 + k));
      }
    });

    test('queryColumns holds what queryEvents holds, number by number, a batch per run', async () => {
      await store.appendEvents('e', [
        { ...ev(1, 'metric', 'a', 1, undefined, 1_000), step: 0 },
        { ...ev(1, 'metric', 'a', NaN, undefined, 1_500), step: 1 },
        ev(1, 'metric', 'b', -0, { taskid: 't1' }, 1_200),
        ev(1, 'param', 'p', { lr: 0.1 }, undefined, 1_100),
        ev(2, 'metric', 'a', 'text', { taskid: 't2' }, 2_000),
        { ...ev(2, 'metric', 'a', Infinity), step: 5, dt: 2_500 },
        { ...ev(2, 'metric', 'a', 2 ** 60), step: 6, dt: 2_600 },
      ]);
      expect(typeof store.queryColumns).toBe('function');
      // one line per event: run, name, key, the number (null where the value is none), step, time
      const line = (
        run: number,
        event: string,
        key: string,
        value: unknown,
        step: number | null,
        dt: number,
      ) => JSON.stringify([run, event, key, typeof value === 'number' ? String(value) : null, step, dt]);
      const fromRows = async (q: Parameters<Store['queryEvents']>[1]): Promise<string[]> =>
        (await store.queryEvents('e', q))
          .map((r) => line(r.run, r.event, r.key, r.value, r.step, r.dt.getTime()))
          .sort();
      const fromColumns = async (q: Parameters<Store['queryEvents']>[1]): Promise<string[]> => {
        const out: string[] = [];
        for await (const b of store.queryColumns!('e', q)) {
          expect(b.values.length).toBe(b.length);
          for (let i = 0; i < b.length; i++) {
            const number = b.numeric === undefined || b.numeric[i] === 1;
            const step = b.step[i];
            out.push(
              line(
                b.run,
                b.names[b.event[i]],
                b.names[b.key[i]],
                number ? b.values[i] : undefined,
                step === step ? step : null,
                b.dt[i],
              ),
            );
          }
        }
        return out.sort();
      };
      for (const q of [
        {},
        { runs: [2] },
        { runs: { from: 1, to: 1 } },
        { events: ['metric'], keys: ['a'] },
        { since: 1_200, end: 2_500 },
        { extras: { taskid: ['t1'] } },
        { steps: [5, 6] },
      ]) {
        const rows = await fromRows(q);
        expect({ q, columns: await fromColumns(q) }).toEqual({ q, columns: rows });
      }
      // -0 stays -0 (String(-0) is '0': looked at apart)
      for await (const b of store.queryColumns!('e', { keys: ['b'] }))
        expect(Object.is(b.values[0], -0)).toBe(true);
      const limited = async (): Promise<void> => {
        for await (const _ of store.queryColumns!('e', { limit: 1 })) void _;
      };
      await expect(limited()).rejects.toThrow(/limit and offset/);
    });

    test('pages far into many events are the same rows as queryEvents’ window', async () => {
      // run 1 in three writes with times that meet at the writes' edges (the same millisecond
      // on both sides), run 2 written in between with times among run 1's
      const run1 = (from: number) =>
        Array.from({ length: 5000 }, (_, i) =>
          ev(1, 'metric', 'a', from + i, undefined, 10_000 + Math.floor((from + i) / 7)),
        );
      await store.appendEvents('e', run1(0));
      await store.appendEvents(
        'e',
        Array.from({ length: 3000 }, (_, i) => ev(2, 'metric', 'b', i, undefined, 10_000 + i)),
      );
      await store.appendEvents('e', run1(5000));
      await store.appendEvents('e', run1(10_000));
      const whole = await store.queryEvents('e', {});
      expect(whole.length).toBe(18_000);
      for (const [offset, limit] of [
        [0, 10],
        [4095, 3],
        [4096, 1500],
        [5000, 2000],
        [9999, 4097],
        [17_990, 100],
        [18_000, 5],
      ]) {
        const rows = [];
        for await (const batch of store.iterateEvents('e', { offset, limit }, 1000)) rows.push(...batch);
        expect({ offset, values: rows.map((r) => `${r.run}:${String(r.value)}`) }).toEqual({
          offset,
          values: whole.slice(offset, offset + limit).map((r) => `${r.run}:${String(r.value)}`),
        });
      }
      const ofRun1 = [];
      for await (const batch of store.iterateEvents('e', { runs: [1], offset: 9000, limit: 50 }, 20))
        ofRun1.push(...batch);
      expect(ofRun1.map((r) => r.value)).toEqual(Array.from({ length: 50 }, (_, i) => 9000 + i));
    });

    test('deleteEvents removes events and restarts run numbering', async () => {
      await store.startRun('e', start);
      await store.appendEvents('e', [ev(1, 'metric', 'a', 1)]);
      await store.appendEvents('keep', [ev(1, 'metric', 'a', 1)]);
      expect(await store.deleteEvents('e')).toBe(2);
      expect(await store.queryEvents('e', {})).toEqual([]);
      expect(await store.latestRun('e')).toBeUndefined();
      expect(await store.startRun('e', start)).toBe(1);
      expect((await store.queryEvents('keep', {})).length).toBe(1);
    });

    test('write ids: a replayed append is stored once, also when both copies arrive at once', async () => {
      await store.startRun('e', start);
      const batch = [ev(1, 'metric', 'a', 1), ev(1, 'metric', 'a', 2), ev(1, 'param', 'p', 'x')];
      const id = { id: 'batch-1', digest: 'd1' };
      expect(await store.appendEvents('e', batch, id)).toBeUndefined();
      expect(await store.appendEvents('e', batch, id)).toEqual({ duplicate: true });
      expect(await store.appendEvents('e', batch, { ...id })).toEqual({ duplicate: true });
      const stored = await store.queryEvents('e', { events: ['metric', 'param'] });
      expect(stored.map((e) => e.value)).toEqual([1, 2, 'x']);
      // the aggregates count the batch once too
      const stats = (await store.runStats!('e')).rows.find((r) => r.event === 'metric' && r.key === 'a');
      expect(stats?.count).toBe(2);
      // two copies at once (a resend while the first is still being written): one is stored
      const again = { id: 'batch-2', digest: 'd2' };
      const answers = await Promise.all([
        store.appendEvents('e', [ev(1, 'metric', 'b', 7)], again),
        store.appendEvents('e', [ev(1, 'metric', 'b', 7)], again),
      ]);
      expect(answers.filter((a) => a === undefined).length).toBe(1);
      expect(answers.filter((a) => a !== undefined)).toEqual([{ duplicate: true }]);
      expect((await store.queryEvents('e', { keys: ['b'] })).length).toBe(1);
      // the same events under another id are another write; without an id, as before
      expect(await store.appendEvents('e', [ev(1, 'metric', 'b', 7)], { id: 'batch-3', digest: 'd2' })).toBe(
        undefined,
      );
      expect(await store.appendEvents('e', [ev(1, 'metric', 'b', 7)])).toBeUndefined();
      expect((await store.queryEvents('e', { keys: ['b'] })).length).toBe(3);
    });

    test('write ids: a replayed startRun answers the same run and allocates nothing', async () => {
      const id = { id: 'start-1', digest: 's1' };
      expect(await store.startRun('e', start, undefined, id)).toBe(1);
      expect(await store.startRun('e', start, undefined, id)).toBe(1);
      expect(await store.latestRun('e')).toBe(1);
      expect((await store.queryEvents('e', { events: ['start'] })).length).toBe(1);
      // replays at once, beside a run started without an id
      const runs = await Promise.all([
        store.startRun('e', start, 5, { id: 'start-2', digest: 's2' }),
        store.startRun('e', start, 5, { id: 'start-2', digest: 's2' }),
        store.startRun('e', start, 5),
      ]);
      expect(runs[0]).toBe(runs[1]);
      expect([...new Set(runs)].sort()).toEqual([5, 6]);
      expect(await store.latestRun('e')).toBe(6);
      expect((await store.queryEvents('e', { events: ['start'] })).map((e) => e.run)).toEqual([1, 5, 6]);
      expect(await store.startRun('e', start)).toBe(7);
    });

    test('write ids: the same id for other content is a conflict and nothing is written', async () => {
      await store.startRun('e', start, undefined, { id: 'start-a', digest: 's' });
      await store.appendEvents('e', [ev(1, 'metric', 'a', 1)], { id: 'x', digest: 'one' });
      const conflict = async (write: Promise<unknown>): Promise<void> => {
        const error = await write.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(StoreError);
        expect((error as StoreError).code).toBe('conflict');
        expect((error as StoreError).message).toMatch(/write id 'x' was used before for other content/);
      };
      await conflict(store.appendEvents('e', [ev(1, 'metric', 'a', 99)], { id: 'x', digest: 'two' }));
      // the same digest under another experiment, or for a start, is not that write either
      await conflict(store.appendEvents('f', [ev(1, 'metric', 'a', 1)], { id: 'x', digest: 'one' }));
      await conflict(store.startRun('e', start, undefined, { id: 'x', digest: 'one' }));
      const startConflict = await store
        .startRun('e', start, undefined, { id: 'start-a', digest: 'other' })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect((startConflict as StoreError).code).toBe('conflict');
      expect((await store.queryEvents('e', {})).map((e) => `${e.event}:${String(e.value)}`)).toEqual([
        'start:null',
        'metric:1',
      ]);
      expect(await store.queryEvents('f', {})).toEqual([]);
      expect(await store.latestRun('e')).toBe(1);
      expect(await store.latestRun('f')).toBeUndefined();
      // a write id that is no pair of non-empty strings is bad input
      for (const bad of [{ id: '', digest: 'd' }, { id: 'y' }, { id: 'y', digest: 3 }, null])
        await expect(
          store.appendEvents(
            'e',
            [ev(1, 'metric', 'a', 5)],
            bad as unknown as { id: string; digest: string },
          ),
        ).rejects.toBeInstanceOf(TrackingInputError);
      expect((await store.queryEvents('e', {})).length).toBe(2);
    });

    test("the 'system' bucket holds entries apart from models and datasets", async () => {
      const created = new Date('2026-01-01T00:00:00Z');
      const entry = { kind: 'server.token', attributes: { role: 'read' }, created, modified: created };
      await store.putEntry('system', { name: 'tokens/a', ...entry });
      await store.putEntry('models', { name: 'tokens/a', ...entry, kind: 'json' });
      expect((await store.getEntry('system', 'tokens/a'))?.kind).toBe('server.token');
      expect((await store.getEntry('models', 'tokens/a'))?.kind).toBe('json');
      expect((await store.listEntries('system')).map((e) => e.name)).toEqual(['tokens/a']);
      expect(await store.listEntries('datasets')).toEqual([]);
      expect(await store.deleteEntry('system', 'tokens/a')).toBe(true);
      expect(await store.getEntry('system', 'tokens/a')).toBeUndefined();
      expect(await store.getEntry('models', 'tokens/a')).toBeDefined();
    });

    test('blobs: put, get, replace, delete by prefix', async () => {
      await store.putBlob('.experiments/a/1', Buffer.from('one'));
      await store.putBlob('.experiments/a/2', new Uint8Array([1, 2, 3]));
      await store.putBlob('.experiments/a%2Fb/1', Buffer.from('nested'));
      expect((await store.getBlob('.experiments/a/1'))?.toString()).toBe('one');
      expect([...((await store.getBlob('.experiments/a/2')) ?? [])]).toEqual([1, 2, 3]);
      await store.putBlob('.experiments/a/1', Buffer.from('uno'));
      expect((await store.getBlob('.experiments/a/1'))?.toString()).toBe('uno');
      expect(await store.deleteBlobs('.experiments/a/')).toBe(2);
      expect(await store.getBlob('.experiments/a/1')).toBeUndefined();
      expect((await store.getBlob('.experiments/a%2Fb/1'))?.toString()).toBe('nested');
    });

    test('blobs: listed by prefix, each key once, in code point order', async () => {
      for (const key of [
        '.experiments/l/b',
        '.experiments/l/a/2',
        '.experiments/l/a/1',
        '.experiments/l/\u{1F600}',
        '.experiments/l/\uFFFD',
        '.experiments/lz',
      ])
        await store.putBlob(key, Buffer.from(key));
      // replaced: still one key
      await store.putBlob('.experiments/l/b', Buffer.from('again'));
      expect(await store.listBlobs('.experiments/l/')).toEqual([
        '.experiments/l/a/1',
        '.experiments/l/a/2',
        '.experiments/l/b',
        '.experiments/l/\uFFFD',
        '.experiments/l/\u{1F600}',
      ]);
      expect(await store.listBlobs('.experiments/l/a/')).toEqual([
        '.experiments/l/a/1',
        '.experiments/l/a/2',
      ]);
      expect(await store.listBlobs('.experiments/none/')).toEqual([]);
      expect(await store.listBlobs('.experiments/l')).toContain('.experiments/lz');
    });
  });
}
