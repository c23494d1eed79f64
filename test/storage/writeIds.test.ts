import path from 'node:path';
import Database from 'better-sqlite3';
import { openStore } from '@omega-track/core';
import type { PendingEvent } from '@omega-track/core';
import { tempDir } from '../helpers/tmp';
import { lastJson, startStorageFixture } from './processes';

/**
 * Write ids on the embedded store across processes: two processes sending the same writes at
 * the same moment (what a server's client does when it resends a batch whose answer it lost,
 * while the first copy is still being written) store each once.
 */
describe('write ids on the embedded store', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  test('two processes replaying the same 200 batches and 200 starts at once store each once', async () => {
    const file = path.join(tmp.dir, 'replay', 'omega.db');
    const url = `sqlite:${file}`;
    // the store exists before both start, so that neither creates it under the other
    const store = openStore(url);
    await store.startRun('replay', {
      event: 'start',
      key: 'start',
      value: null,
      step: null,
      dt: 1,
      node: 'n',
      userid: 'u',
      extra: undefined,
    });
    await store.close();
    const at = String(Date.now() + 1500);
    const procs = [0, 1].map(() => startStorageFixture('replayWrites.js', [url, 'replay', '200', at]));
    const codes = await Promise.all(procs.map((p) => p.exited));
    const outs = procs.map((p) =>
      lastJson<{ stored: number; duplicates: number; runs: number[] }>(p.stdout()),
    );
    expect({ codes, stderr: procs.map((p) => p.stderr()) }).toEqual({ codes: [0, 0], stderr: ['', ''] });
    // each batch stored by exactly one of the two, found stored by the other
    expect(outs[0].stored + outs[1].stored).toBe(200);
    expect(outs[0].duplicates + outs[1].duplicates).toBe(200);
    // each start id got one run, the same in both processes, and no number was taken twice
    expect(outs[0].runs).toEqual(outs[1].runs);
    expect([...outs[0].runs].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 2));
    const check = openStore(url);
    try {
      expect(await check.latestRun('replay')).toBe(201);
      expect((await check.queryEvents('replay', { events: ['start'] })).length).toBe(201);
      const metrics = await check.queryEvents('replay', { events: ['metric'] });
      expect(metrics.length).toBe(2000);
      expect(new Set(metrics.map((m) => `${m.key}:${String(m.value)}`)).size).toBe(2000);
    } finally {
      await check.close();
    }
  }, 60_000);

  test('a store made before write ids takes them, and opening it writes nothing', async () => {
    const file = path.join(tmp.dir, 'old', 'omega.db');
    const first = openStore(`sqlite:${file}`);
    await first.startRun('old', {
      event: 'start',
      key: 'start',
      value: null,
      step: null,
      dt: 1,
      node: 'n',
      userid: 'u',
      extra: undefined,
    });
    await first.close();
    // what a store of the version before write ids holds: no write_ids table
    const raw = new Database(file);
    raw.exec('DROP TABLE write_ids');
    const tables = (): string[] =>
      raw
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .pluck()
        .all() as string[];
    // another process holds the write lock while the store is opened and read: opening must not wait for it
    raw.exec('BEGIN EXCLUSIVE');
    const store = openStore(`sqlite:${file}`);
    try {
      expect(await store.latestRun('old')).toBe(1);
      raw.exec('COMMIT');
      expect(tables()).not.toContain('write_ids');
      const ev: PendingEvent = {
        run: 1,
        event: 'metric',
        key: 'm',
        value: 1,
        step: null,
        dt: 2,
        node: 'n',
        userid: 'u',
        extra: undefined,
      };
      expect(await store.appendEvents('old', [ev], { id: 'w1', digest: 'd' })).toBeUndefined();
      expect(await store.appendEvents('old', [ev], { id: 'w1', digest: 'd' })).toEqual({ duplicate: true });
      expect(
        await store.startRun('old', { ...ev, event: 'start', key: 'start' }, 1, { id: 's', digest: 'd' }),
      ).toBe(2);
      expect(tables()).toContain('write_ids');
      expect((await store.queryEvents('old', { events: ['metric'] })).length).toBe(1);
    } finally {
      await store.close();
      raw.close();
    }
  }, 30_000);
});
