/**
 * Writes split by key (issue 24: a chart of one key of 200 runs reads that key's chunks only):
 * a write's busy keys get chunks of their own, and every read keeps the logging order of events
 * of equal time across them, whatever the store's ids and whatever the times hold.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '@omega-track/core';
import type { PendingEvent, Store } from '@omega-track/core';
import { encodeChunks, eventsOfChunks, mergeChunksByTime } from '@omega-track/core/internal';
import type { ChunkMeta, SqliteStore } from '@omega-track/core/internal';
import { tempDir } from '../helpers/tmp';

const tmp = tempDir('split-writes');
afterAll(() => tmp.cleanup());

function metric(run: number, key: string, value: unknown, dt: number, event = 'metric'): PendingEvent {
  return { run, event, key, value, step: null, dt, node: 'n', userid: 'u', extra: undefined };
}

async function iterated(store: Store, query: Parameters<Store['iterateEvents']>[1], batch: number) {
  const rows = [];
  for await (const b of store.iterateEvents('e', query, batch)) rows.push(...b);
  return rows;
}

describe('the embedded store', () => {
  let store: Store;
  let file: string;
  beforeEach(() => {
    file = path.join(tmp.dir, `${expect.getState().currentTestName!.replace(/\W+/g, '-')}.db`);
    store = openStore(`sqlite:${file}`);
  });
  afterEach(async () => {
    await store.close();
  });

  test('a loop of 20 keys per step is written in chunks of one key each', async () => {
    const events: PendingEvent[] = [];
    for (let step = 0; step < 200; step++)
      for (let k = 0; k < 20; k++) events.push({ ...metric(1, `m${k}`, step + k, 1_000 + step), step });
    await store.appendEvents('e', events);
    await store.close();
    const db = new Database(file, { readonly: true });
    const keys = db.prepare('SELECT keys FROM chunks').pluck().all() as string[];
    db.close();
    expect(keys).toHaveLength(20);
    expect(new Set(keys)).toEqual(new Set(Array.from({ length: 20 }, (_, k) => `\u0001m${k}\u0001`)));
    store = openStore(`sqlite:${file}`);
    const back = await store.queryEvents('e', {});
    expect(back.map((e) => `${e.key}@${e.step}`)).toEqual(events.map((e) => `${e.key}@${e.step}`));
  });

  test('a key whose events all have invalid times: iterateEvents pages as queryEvents reads', async () => {
    // written through the Store API (the tracker refuses such times; an old store may hold them)
    const events: PendingEvent[] = [];
    for (let i = 0; i < 100; i++) {
      events.push(metric(1, 'a', i, 5_000 + i));
      events.push(metric(1, 'bad', 1_000 + i, NaN));
      if (i % 10 === 0) events.push(metric(1, 'r', 2_000 + i, i % 20 === 0 ? 5_000 + i : NaN));
    }
    await store.appendEvents('e', events);
    const whole = (await store.queryEvents('e', {})).map((e) => e.value);
    // valid times first, in order; then the invalid ones in logging order
    expect(whole.slice(0, 105)).toEqual(events.filter((e) => Number.isFinite(e.dt)).map((e) => e.value));
    expect(whole.slice(105)).toEqual(events.filter((e) => !Number.isFinite(e.dt)).map((e) => e.value));
    for (const batch of [1, 7, 1000])
      expect((await iterated(store, {}, batch)).map((e) => e.value)).toEqual(whole);
    for (const [offset, limit] of [
      [150, 20],
      [200, 10],
    ])
      expect((await iterated(store, { offset, limit }, 3)).map((e) => e.value)).toEqual(
        whole.slice(offset, offset + limit),
      );
  });

  test('an append still being packed when the process exits is written by the exit path, once', async () => {
    const events: PendingEvent[] = [];
    for (let step = 0; step < 1000; step++)
      for (let k = 0; k < 20; k++) events.push({ ...metric(1, `m${k}`, step, 1_000 + step), step });
    // packing 20,000 events gives the event loop turns: the write is not yet the writer thread's
    const underWay = store.appendEvents('e', events);
    expect((store as SqliteStore).hasPending()).toBe(true);
    (store as SqliteStore).flushSync(); // what the exit hook does
    expect(await store.queryEvents('e', {})).toHaveLength(20_000);
    await underWay; // the packing ends: it writes nothing more
    expect(await store.queryEvents('e', {})).toHaveLength(20_000);
  });

  test("the change mark's last time is the latest of a split write, wherever its stop sits", async () => {
    const events: PendingEvent[] = [];
    for (let i = 0; i < 100; i++)
      events.push(metric(1, 'loss', i, 10_000 + i), metric(1, 'acc', i, 10_000 + i));
    events.push(metric(1, 'stop', 'STOPPED', 15_000, 'stop'));
    await store.appendEvents('e', events);
    expect((await store.changeMark!('e')).lastDt).toBe(15_000);
  });
});

test("where another writer takes ids between a split write's chunks, both readers agree", async () => {
  // PostgreSQL's ids under a concurrent writer: the split write's chunks get ids 1, 3 and 4,
  // another process's chunk id 2, all at the same two milliseconds
  const write: PendingEvent[] = [];
  for (let i = 0; i < 70; i++)
    write.push(
      metric(1, 'a', `a${i}`, i < 35 ? 1_000 : 1_001),
      metric(1, 'b', `b${i}`, i < 35 ? 1_000 : 1_001),
    );
  write.push(metric(1, 'r', 'r0', 1_001));
  const split = encodeChunks(write);
  expect(split).toHaveLength(3);
  const [other] = encodeChunks([metric(2, 'x', 'x0', 1_001)]);
  const chunks = [
    { id: 1, chunk: split[0] },
    { id: 2, chunk: other },
    { id: 3, chunk: split[1] },
    { id: 4, chunk: split[2] },
  ];
  const whole = eventsOfChunks(
    'e',
    {},
    chunks.map(({ chunk }) => [chunk.run, chunk.payload] as const),
  );
  // the split write in logging order, placed where its first chunk is
  expect(whole.filter((e) => e.run === 1).map((e) => e.value)).toEqual(write.map((e) => e.value));
  const metas: ChunkMeta[] = chunks
    .map(({ id, chunk }) => ({
      id,
      run: chunk.run,
      min_dt: chunk.minDt,
      max_dt: chunk.maxDt,
      // what the PostgreSQL store selects: the lowest id of the write and run
      first: chunk.run === 1 ? 1 : id,
    }))
    .sort((x, y) => x.min_dt - y.min_dt || x.id - y.id);
  const payloads = new Map(chunks.map(({ id, chunk }) => [id, chunk.payload]));
  for (const batch of [1, 50, 1000]) {
    const paged = [];
    for await (const b of mergeChunksByTime('e', {}, batch, metas, (id) => payloads.get(id)))
      paged.push(...b);
    expect(paged.map((e) => e.value)).toEqual(whole.map((e) => e.value));
  }
});
