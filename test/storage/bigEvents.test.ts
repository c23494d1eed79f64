/**
 * Large events: values of a MB each, or a MB of extra fields stamped on every event, are stored in
 * chunks of a few MB (4,096 of them made one chunk of GBs, past SQLite's 1 GB limit on a value: the
 * write failed for ever and every later event, stops included, was lost); an event that could
 * never be stored is refused at the call; a write the store refuses for good (too big) does not
 * hold up the events after it, and its loss is counted and said.
 */
import path from 'node:path';
import Database from 'better-sqlite3';
import type { PendingEvent } from '@omega-track/core';
import { StoreError } from '@omega-track/core';
import { SqliteStore } from '@omega-track/core/internal';
import { MAX_EVENT_VALUE_LENGTH, TrackingInputError, omega } from 'omega-track';
import { tempDir } from '../helpers/tmp';

const MB = 1024 * 1024;

/** The number of chunks and the size of the largest stored payload, read from the store file. */
function chunkSizes(file: string): { chunks: number; largest: number } {
  const db = new Database(file, { readonly: true });
  try {
    const row = db
      .prepare('SELECT count(*) AS chunks, max(length(payload)) AS largest FROM chunks')
      .get() as {
      chunks: number;
      largest: number;
    };
    return row;
  } finally {
    db.close();
  }
}

/** Expects `call` to throw a TrackingInputError that names the cap on event sizes. */
function expectRefused(call: () => unknown): void {
  let error: unknown;
  try {
    call();
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(TrackingInputError);
  expect((error as Error).message).toMatch(/MAX_EVENT_VALUE_LENGTH/);
}

describe('large events are stored in chunks of a few MB', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  test('300 values of 1 MB each: all stored, the run STOPPED, no chunk over a few MB', async () => {
    const file = path.join(tmp.dir, 'values.db');
    const om = omega({ store: `sqlite:${file}` });
    const exp = om.runtime.experiment('bigval');
    const began = Date.now();
    await exp.run(async (e) => {
      for (let i = 0; i < 300; i++) e.logEvent('pred', 'p', 'v'.repeat(MB - 6) + String(i).padStart(6, '0'));
    });
    const rows = await exp.data({ run: -1, event: 'pred' });
    expect(rows).toHaveLength(300);
    expect(rows.map((r) => (r.value as string).slice(-6))).toEqual(
      Array.from({ length: 300 }, (_, i) => String(i).padStart(6, '0')),
    );
    expect((await exp.runs()).map((r) => r.status)).toEqual(['STOPPED']);
    await om.close();
    // linear in the data (~300 MB): seconds, never the minutes of a write retried for ever
    expect(Date.now() - began).toBeLessThan(60_000);
    const { chunks, largest } = chunkSizes(file);
    expect(chunks).toBeGreaterThanOrEqual(300 / 5);
    expect(largest).toBeLessThan(8 * MB);
  }, 120_000);

  test('1 MB of extra fields on 300 metrics: all stored, the next run too, runs STOPPED, no chunk over a few MB', async () => {
    const file = path.join(tmp.dir, 'extra.db');
    const om = omega({ store: `sqlite:${file}` });
    const exp = om.runtime.experiment('extra');
    await exp.run(async (e) => {
      e.logExtra({ big: 'z'.repeat(MB) });
      for (let i = 0; i < 300; i++) e.logMetric('m', i, i);
    });
    await exp.run(async (e) => {
      e.logExtra(null);
      e.logMetric('after', 1);
    });
    const runs = await exp.runs();
    expect(runs.map((r) => [r.run, r.status, Object.keys(r.metrics ?? {})])).toEqual([
      [1, 'STOPPED', ['m']],
      [2, 'STOPPED', ['after']],
    ]);
    const metrics = await exp.data({ run: 1, event: 'metric' });
    expect(metrics.map((r) => r.value)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    expect(metrics.every((r) => (r.big as string).length === MB)).toBe(true);
    await om.close();
    expect(chunkSizes(file).largest).toBeLessThan(8 * MB);
  }, 120_000);
});

describe('an event that can never be stored is refused at the call', () => {
  test('a value or extra fields over MAX_EVENT_VALUE_LENGTH: TrackingInputError naming the cap; nothing else lost', async () => {
    expect(MAX_EVENT_VALUE_LENGTH).toBe(64 * MB);
    const om = omega({ store: 'memory:' });
    const exp = om.runtime.experiment('caps');
    await exp.start();
    exp.logExtra({ tag: 'kept' });
    exp.logMetric('m', 1, 1);
    const huge = 'x'.repeat(MAX_EVENT_VALUE_LENGTH + 1);
    expectRefused(() => exp.logEvent('pred', 'p', huge));
    expectRefused(() => exp.logEvents('pred', 'p', ['small', huge]));
    expectRefused(() => exp.logEvent('pred', 'p', { text: huge }));
    expectRefused(() => exp.logMetric('m', 2, { step: 2, note: huge }));
    // logExtra's fields are stamped on every later event: measured once, when they are set
    expectRefused(() => exp.logExtra({ big: huge }));
    // as long as the cap allows: taken
    exp.logEvent('pred', 'p', huge.slice(1));
    exp.logMetric('m', 3, 3);
    await exp.stop();
    const rows = await exp.data({ event: ['metric', 'pred'] });
    expect(rows.map((r) => [r.event, r.value === huge.slice(1) ? 'longest' : r.value, r.tag])).toEqual([
      ['metric', 1, 'kept'],
      ['pred', 'longest', 'kept'],
      ['metric', 3, 'kept'],
    ]);
    expect(rows.some((r) => 'big' in r)).toBe(false);
    expect(await exp.status()).toBe('STOPPED');
    await om.close();
  }, 60_000);
});

/** SQLite's own refusal of a value over its 1 GB limit (an unfilled buffer: no memory is used). */
async function sqliteTooBig(store: SqliteStore): Promise<unknown> {
  try {
    await store.putBlob('too-big', Buffer.allocUnsafe(1_000_000_001));
  } catch (error) {
    return error;
  }
  throw new Error('SQLite took a value of 1 GB');
}

describe('a write the store refuses for good', () => {
  test('SQLite refusing a value over 1 GB is a too-big StoreError that says so, not "damaged or moved"', async () => {
    const store = new SqliteStore(':memory:', 'memory:');
    const error = await sqliteTooBig(store);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('too-big');
    expect((error as Error).message).toMatch(/too big/);
    expect((error as Error).message).toMatch(/retrying cannot help/);
    expect((error as Error).message).not.toMatch(/damaged|moved/);
    await store.close();
  });

  test('does not hold up the events after it: the rest are written, the loss is counted and said', async () => {
    /** The real store, refusing (with SQLite's own too-big error) any write holding an event keyed 'refused'. */
    class RefusingStore extends SqliteStore {
      appends = 0;
      constructor() {
        super(':memory:', 'memory:');
      }
      override async appendEvents(experiment: string, events: readonly PendingEvent[]): Promise<void> {
        this.appends++;
        if (events.some((e) => e.key === 'refused')) throw await sqliteTooBig(this);
        await super.appendEvents(experiment, events);
      }
    }
    const store = new RefusingStore();
    const errors: string[] = [];
    const om = omega({ store, onError: (e, context) => errors.push(`${context}: ${(e as Error).message}`) });
    const exp = om.runtime.experiment('refused');
    await exp.start();
    // one batch of 1,000 events with one the store refuses in the middle
    for (let i = 0; i < 1000; i++) exp.logMetric(i === 500 ? 'refused' : 'm', i, i);
    const result = await exp.provider().then((p) => p.stop());
    expect(result).toMatchObject({ dropped: 1, pending: 0 });
    const rows = await exp.data({ event: 'metric' });
    expect(rows.map((r) => r.value)).toEqual(
      Array.from({ length: 1000 }, (_, i) => i).filter((i) => i !== 500),
    );
    expect(await exp.status()).toBe('STOPPED');
    // found by halving the write: a few attempts, not one per event, and no retry loop
    expect(store.appends).toBeLessThan(40);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/1 event\(s\) of experiment 'refused' cannot be stored/);
    expect(errors[0]).toMatch(/metric 'refused'/);
    expect(errors[0]).toMatch(/too big/);
    // the next run's events are written as usual
    await exp.run(async (e) => e.logMetric('after', 1));
    expect((await exp.runs()).map((r) => r.status)).toEqual(['STOPPED', 'STOPPED']);
    await om.close();
  });
});
