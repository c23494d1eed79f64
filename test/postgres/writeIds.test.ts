import type { PendingEvent } from '@omega-track/core';
import { openStore, setDiagWriter } from '@omega-track/core';
import type { PostgresStore } from '@omega-track/core/internal';
import { freshDatabaseName, removeAllPostgresServers, startPostgresServer } from '../helpers/postgresServer';
import type { PostgresServer } from '../helpers/postgresServer';
import { lastJson, startStorageFixture } from '../storage/processes';

// Write ids on the PostgreSQL store beyond the contract suite: a store of schema version 1 is
// upgraded to take them; the exit writer records them; two processes replaying the same writes
// at once store each once.

setDiagWriter(() => undefined);

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgresServer();
}, 60_000);
afterAll(() => removeAllPostgresServers(), 30_000);

const metric = (i: number): PendingEvent => ({
  run: 1,
  event: 'metric',
  key: 'm',
  value: i,
  step: i,
  dt: 1_000 + i,
  node: 'n',
  userid: 'u',
  extra: undefined,
});
const start = { ...metric(0), event: 'start', key: 'start', value: null };

test('a store of schema version 1 is upgraded to version 3 (write ids, running sums) when opened, its data kept', async () => {
  const db = freshDatabaseName();
  const url = await server.createDatabase(db);
  const first = openStore(url);
  try {
    await first.startRun('e', start);
    await first.appendEvents('e', [metric(1)]);
  } finally {
    await first.close();
  }
  // what version 1 was: the same tables without write_ids, metric aggregates without their sums
  server.sql(
    db,
    `DROP TABLE omega.write_ids; UPDATE omega.meta SET value = '1' WHERE key = 'schema_version';
     UPDATE omega.run_stats SET stats = (SELECT jsonb_agg(CASE WHEN e->>0 = 'metric'
       THEN (SELECT jsonb_agg(x ORDER BY i) FROM jsonb_array_elements(e) WITH ORDINALITY AS t(x, i) WHERE i <= 8)
       ELSE e END)::text FROM jsonb_array_elements(stats::jsonb) AS e)`,
  );
  const metricEntryLength =
    "SELECT jsonb_array_length(e) FROM omega.run_stats, jsonb_array_elements(stats::jsonb) AS e WHERE e->>0 = 'metric'";
  expect(server.sql(db, metricEntryLength)).toBe('8');
  const store = openStore(url);
  try {
    expect(await store.latestRun('e')).toBe(1);
    expect(server.sql(db, "SELECT value FROM omega.meta WHERE key = 'schema_version'")).toBe('3');
    // the sums filled in from the events: the metric's mean is known
    const sums = (await store.runStats!('e')).rows.find((r) => r.event === 'metric');
    expect(sums).toMatchObject({ sum: 1, finite: 1, count: 1 });
    expect(server.sql(db, metricEntryLength)).toBe('10');
    expect(await store.appendEvents('e', [metric(2)], { id: 'w', digest: 'd' })).toBeUndefined();
    expect(await store.appendEvents('e', [metric(2)], { id: 'w', digest: 'd' })).toEqual({ duplicate: true });
    expect((await store.queryEvents('e', { events: ['metric'] })).map((e) => e.value)).toEqual([1, 2]);
  } finally {
    await store.close();
  }
});

test('a write with an id under way at exit is written by the exit writer under its id: stored once', async () => {
  const url = await server.createDatabase(freshDatabaseName());
  const store = openStore(url) as PostgresStore;
  try {
    await store.startRun('e', start);
    const events = Array.from({ length: 3000 }, (_, i) => metric(i));
    const id = { id: 'exit-batch', digest: 'x' };
    const underWay = store.appendEvents('e', events, id);
    expect(store.hasPending()).toBe(true);
    store.flushSync();
    expect(await store.queryEvents('e', { events: ['metric'] })).toHaveLength(3000);
    // the write itself then finds its id recorded, and so does a replay
    expect(await underWay).toEqual({ duplicate: true });
    expect(await store.appendEvents('e', events, id)).toEqual({ duplicate: true });
    expect(await store.queryEvents('e', { events: ['metric'] })).toHaveLength(3000);
    expect((await store.runStats('e')).rows.find((r) => r.event === 'metric')?.count).toBe(3000);
  } finally {
    await store.close();
  }
});

test('two processes replaying the same 200 batches and 200 starts at once store each once', async () => {
  const url = await server.createDatabase(freshDatabaseName());
  const store = openStore(url);
  try {
    await store.startRun('replay', start);
  } finally {
    await store.close();
  }
  const at = String(Date.now() + 2000);
  const procs = [0, 1].map(() => startStorageFixture('replayWrites.js', [url, 'replay', '200', at]));
  const codes = await Promise.all(procs.map((p) => p.exited));
  expect({ codes, stderr: procs.map((p) => p.stderr()) }).toEqual({ codes: [0, 0], stderr: ['', ''] });
  const outs = procs.map((p) => lastJson<{ stored: number; duplicates: number; runs: number[] }>(p.stdout()));
  expect(outs[0].stored + outs[1].stored).toBe(200);
  expect(outs[0].duplicates + outs[1].duplicates).toBe(200);
  expect(outs[0].runs).toEqual(outs[1].runs);
  expect([...outs[0].runs].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 2));
  const check = openStore(url);
  try {
    expect(await check.latestRun('replay')).toBe(201);
    expect((await check.queryEvents('replay', { events: ['metric'] })).length).toBe(2000);
  } finally {
    await check.close();
  }
}, 60_000);
