import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { StoreError, openStore } from '@omega-track/core';
import type { PendingEvent } from '@omega-track/core';
import { HttpSpool, HttpStore, decodeBatchRows } from '@omega-track/core/internal';
import { runFixture } from '../helpers/child';
import { tempDir } from '../helpers/tmp';

/** A port nothing listens on: taken, then given back. */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function metrics(n: number, from = 0, run = 1): PendingEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    run,
    event: 'metric',
    key: 'loss',
    value: from + i,
    step: from + i,
    dt: 1_000 + from + i,
    node: 'n1',
    userid: 'u1',
    extra: i % 1000 === 0 ? { fold: i } : undefined,
  }));
}

/** The items of a spool file, read through a second connection: kind, count, batch id and rows. */
function spoolContents(file: string): Array<{ seq: number; count: number; id: string; values: unknown[] }> {
  const spool = HttpSpool.open(file);
  const out = [];
  for (let item = spool.next(); item; item = spool.next()) {
    const body = JSON.parse(spool.body(item) as string) as { batch: string };
    out.push({
      seq: item.seq,
      count: item.count,
      id: body.batch,
      values: decodeBatchRows('e', body).map((r) => r.value),
    });
    spool.remove(item);
  }
  return out;
}

describe('HTTP store spool (no server needed)', () => {
  let tmp: ReturnType<typeof tempDir>;
  let url: string;
  beforeEach(async () => {
    tmp = tempDir();
    url = `http://127.0.0.1:${await deadPort()}`;
  });
  afterEach(() => tmp.cleanup());

  test('appends resolve at once with no server; the spool keeps them in order, ≤ 5,000 a batch, ids <spool>-<seq>', async () => {
    const store = openStore(url, { http: { spoolDir: tmp.dir, shipTimeoutMs: 100 } });
    expect(store).toBeInstanceOf(HttpStore);
    const t0 = Date.now();
    await store.appendEvents('e', metrics(12_000));
    await store.appendEvents('e', metrics(3, 12_000));
    expect(Date.now() - t0).toBeLessThan(5000);
    const file = (store as HttpStore).spoolFile!;
    // named after the server and this process, in the spool folder
    expect(path.dirname(file)).toBe(tmp.dir);
    expect(path.basename(file)).toMatch(
      new RegExp(`^127\\.0\\.0\\.1_${new URL(url).port}-${process.pid}-[0-9a-f]{12}\\.spool$`),
    );
    expect((store as HttpStore).pendingEvents('e')).toEqual(new Map([[1, 12_003]]));
    const items = spoolContents(file);
    expect(items.map((i) => i.count)).toEqual([5000, 5000, 2000, 3]);
    const spoolId = items[0].id.split('-')[0];
    expect(items.map((i) => i.id)).toEqual(items.map((i) => `${spoolId}-${String(i.seq).padStart(6, '0')}`));
    expect(new Set(items.map((i) => i.id)).size).toBe(4);
    expect(items.flatMap((i) => i.values)).toEqual(Array.from({ length: 12_003 }, (_, i) => i));
    // the spool is kept where it is, and the server recorded in it, never the token
    await store.close();
  });

  test('a big append never blocks the event loop for long: it is encoded in slices', async () => {
    const store = new HttpStore(url, { spoolDir: tmp.dir, shipTimeoutMs: 100 });
    // the spool is opened first, as a run's start() does: loading its modules is not the append
    await store.appendEvents('e', metrics(1, 0, 2));
    const events = metrics(500_000);
    let worst = 0;
    let last = Date.now();
    const ticker = setInterval(() => {
      const now = Date.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 1);
    await store.appendEvents('e', events);
    clearInterval(ticker);
    // one encode of 500,000 events takes ~350 ms on this machine; a slice a few ms
    expect(worst).toBeLessThan(150);
    expect(store.pendingEvents('e').get(1)).toBe(500_000);
    await store.close();
  });

  test('the spool is bounded: beyond OMEGA_SPOOL_MAX_MB an append fails with a StoreError and spools nothing of it', async () => {
    const store = new HttpStore(url, { spoolDir: tmp.dir, spoolMaxMb: 0.5, shipTimeoutMs: 100 });
    await store.appendEvents('e', metrics(1000));
    // 20,000 events are 4 slices of ~200 KB: the third passes the bound, the two before it go too
    const big = metrics(20_000, 1000);
    const error = await store.appendEvents('e', big).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('disk-full');
    expect((error as Error).message).toMatch(/spool .* is full .*OMEGA_SPOOL_MAX_MB/);
    expect(store.pendingEvents('e').get(1)).toBe(1000);
    expect(store.spoolPending()).toMatchObject({ items: 1, events: 1000 });
    await expect(store.putBlob('k', new Uint8Array(600 * 1024))).rejects.toMatchObject({ code: 'disk-full' });
    // what fits still goes in
    await store.appendEvents('e', metrics(5000, 1000));
    expect(store.pendingEvents('e').get(1)).toBe(6000);
    const file = store.spoolFile!;
    await store.close();
    expect(spoolContents(file).map((i) => i.count)).toEqual([1000, 5000]);
  });

  test('close() with no server waits OMEGA_SHIP_TIMEOUT_MS, keeps the spool and says to run sync; a reader makes no spool', async () => {
    const lines: string[] = [];
    const { setDiagWriter } = await import('@omega-track/core');
    const previous = setDiagWriter((l) => lines.push(l));
    try {
      const store = new HttpStore(url, { spoolDir: tmp.dir, shipTimeoutMs: 300 });
      await store.appendEvents('e', metrics(10));
      await store.putBlob('.experiments/e/1', Buffer.from('content'));
      const file = store.spoolFile!;
      const t0 = Date.now();
      await store.close();
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      expect(fs.existsSync(file)).toBe(true);
      expect(lines.filter((l) => /omega-track sync/.test(l))).toEqual([
        expect.stringMatching(/2 batch\(es\) \(10 event\(s\)\) .* wait in .*\.spool: run `omega-track sync`/),
      ]);
      // the blob waits as a file beside the spool, not in the spool's rows
      expect(fs.readdirSync(`${file}.blobs`).length).toBe(1);

      // a store that only reads makes no spool file at all
      const reader = new HttpStore(url, { spoolDir: tmp.dir, timeoutMs: 200 });
      await expect(reader.latestRun('e')).rejects.toMatchObject({ code: 'unreachable' });
      await reader.close();
      expect(reader.spoolFile).toBeUndefined();
      expect(HttpSpool.files(tmp.dir)).toEqual([file]);
    } finally {
      setDiagWriter(previous);
    }
  });

  test('appendEventsSync in process.on("exit") spools the events durably', async () => {
    const { code } = await runFixture('httpExitWrite.js', [url, '7000'], { OMEGA_SPOOL_DIR: tmp.dir });
    expect(code).toBe(0);
    const [file] = HttpSpool.files(tmp.dir);
    expect(HttpSpool.pidOf(file)).not.toBe(process.pid);
    const spool = HttpSpool.open(file);
    expect(spool.info.url).toBe(url);
    expect(spool.pending()).toMatchObject({ items: 2, events: 7000 });
    spool.close();
    expect(spoolContents(file).flatMap((i) => i.values)).toEqual(Array.from({ length: 7000 }, (_, i) => i));
  });
});
