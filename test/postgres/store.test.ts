import type { PendingEvent } from '@omega-track/core';
import { openStore, setDiagWriter } from '@omega-track/core';
import type { PostgresStore } from '@omega-track/core/internal';
import { freshDatabaseName, removeAllPostgresServers, startPostgresServer } from '../helpers/postgresServer';
import type { PostgresServer } from '../helpers/postgresServer';

// What the contract suite does not show of the PostgreSQL store: a write under way when the
// process exits is written again by the exit writer and stored once; names PostgreSQL's text
// cannot hold; queryColumns and iterateEvents over many chunks.

setDiagWriter(() => undefined);

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgresServer();
}, 60_000);
afterAll(() => removeAllPostgresServers(), 30_000);

const metric = (run: number, i: number, key = 'm'): PendingEvent => ({
  run,
  event: 'metric',
  key,
  value: i,
  step: i,
  dt: 1_000 + i,
  node: 'n',
  userid: 'u',
  extra: undefined,
});

test('a write under way at exit is written by the exit writer and, when the write then ends too, stored once', async () => {
  const url = await server.createDatabase(freshDatabaseName());
  const store = openStore(url) as PostgresStore;
  try {
    await store.startRun('e', { ...metric(1, 0), event: 'start', key: 'start', value: null });
    const events = Array.from({ length: 5000 }, (_, i) => metric(1, i));
    const underWay = store.appendEvents('e', events);
    expect(store.hasPending()).toBe(true);
    // what the exit hook does: the same batch from a child process, waited for
    store.flushSync();
    expect(await store.queryEvents('e', { events: ['metric'] })).toHaveLength(5000);
    await underWay;
    expect(await store.queryEvents('e', { events: ['metric'] })).toHaveLength(5000);
    const stats = (await store.runStats('e')).rows.find((r) => r.event === 'metric');
    expect(stats).toMatchObject({ count: 5000, min: 0, max: 4999, last: 4999 });
  } finally {
    await store.close();
  }
});

test('event names and keys with NUL (which PostgreSQL text cannot hold) are stored and found exactly', async () => {
  const store = openStore(await server.createDatabase(freshDatabaseName()));
  try {
    await store.appendEvents('e', [metric(1, 1, 'a\u0000b'), metric(1, 2, 'a\uFFFDb'), metric(1, 3, 'ab')]);
    const rows = await store.queryEvents('e', { keys: ['a\u0000b'] });
    expect(rows.map((r) => [r.key, r.value])).toEqual([['a\u0000b', 1]]);
    const columns = [];
    for await (const batch of store.queryColumns!('e', { keys: ['a\u0000b'] })) columns.push(...batch.values);
    expect(columns).toEqual([1]);
  } finally {
    await store.close();
  }
});

test('iterateEvents and queryColumns read 50,000 events of 3 runs in many chunks, a few payloads at a time', async () => {
  const store = openStore(await server.createDatabase(freshDatabaseName()));
  try {
    for (const run of [1, 2, 3])
      await store.appendEvents(
        'e',
        Array.from({ length: run === 2 ? 20_000 : 15_000 }, (_, i) => metric(run, i)),
      );
    let seen = 0;
    let previous = -Infinity;
    let outOfOrder = 0;
    for await (const batch of store.iterateEvents('e', {}, 1000)) {
      for (const row of batch) {
        if (row.dt.getTime() < previous) outOfOrder++;
        previous = row.dt.getTime();
      }
      seen += batch.length;
    }
    expect(seen).toBe(50_000);
    expect(outOfOrder).toBe(0);
    const page: number[] = [];
    for await (const batch of store.iterateEvents('e', { offset: 44_990, limit: 20 }, 7))
      page.push(...batch.map((r) => r.dt.getTime()));
    expect(page).toEqual(
      (await store.queryEvents('e', { offset: 44_990, limit: 20 })).map((r) => r.dt.getTime()),
    );
    let sum = 0;
    let count = 0;
    for await (const batch of store.queryColumns!('e', { runs: [2] })) {
      for (const v of batch.values) sum += v;
      count += batch.length;
    }
    expect(count).toBe(20_000);
    expect(sum).toBe((19_999 * 20_000) / 2);
  } finally {
    await store.close();
  }
});
