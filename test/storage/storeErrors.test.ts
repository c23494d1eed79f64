import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreError, TrackingError, openStore } from '@omega-track/core';
import { startEvent } from '@omega-track/core/internal';
import { tempDir } from '../helpers/tmp';

/** The StoreError that `fn` throws (fails the test when it throws something else or nothing). */
function storeErrorOf(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toBeInstanceOf(TrackingError);
    return error as StoreError;
  }
  throw new Error('expected a StoreError, nothing was thrown');
}

/** Makes `dir` read-only for this process: a read-only remount as root, else its mode bits. */
function makeReadOnly(dir: string): () => void {
  if (process.getuid?.() === 0) {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
    return () => execFileSync('umount', [dir]);
  }
  fs.chmodSync(dir, 0o555);
  return () => fs.chmodSync(dir, 0o755);
}

describe('store errors are typed and name the place', () => {
  const tmp = tempDir();
  afterAll(() => tmp.cleanup());

  test('a read-only folder: cannot-open / read-only, with the path, for a new and for an existing store', async () => {
    const dir = path.join(tmp.dir, 'ro');
    fs.mkdirSync(dir);
    const undo = makeReadOnly(dir);
    try {
      // an existing store on a file system that became read-only
      const file = path.join(dir, 'omega.db');
      const store = openStore(`sqlite:${file}`);
      await store.putEntry('models', {
        name: 'm',
        kind: 'json',
        attributes: {},
        data: 1,
        created: new Date(),
        modified: new Date(),
      });
      await store.close();
      if (process.getuid?.() === 0) execFileSync('mount', ['-o', 'remount,ro', dir]);
      else fs.chmodSync(dir, 0o555);
      const existing = storeErrorOf(() => openStore(`sqlite:${file}`));
      expect(['read-only', 'cannot-open']).toContain(existing.code);
      expect(existing.message).toContain(file);
      expect(existing.location).toBe(file);
      // a new store in that folder
      const fresh = storeErrorOf(() => openStore(`sqlite:${path.join(dir, 'new.db')}`));
      expect(['read-only', 'cannot-open']).toContain(fresh.code);
      expect(fresh.message).toContain(path.join(dir, 'new.db'));
      expect(fresh.message).not.toMatch(/^SqliteError/);
      expect(fs.existsSync(path.join(dir, 'new.db'))).toBe(false);
    } finally {
      undo();
    }
  });

  test('a file that is not a database: not-a-database, with the path; the file is left as it was', () => {
    const file = path.join(tmp.dir, 'garbage.db');
    const garbage = Buffer.from('this is no database '.repeat(500));
    fs.writeFileSync(file, garbage);
    const error = storeErrorOf(() => openStore(`sqlite:${file}`));
    expect(error.code).toBe('not-a-database');
    expect(error.message).toContain(file);
    expect(error.message).toMatch(/not an omega-track store/);
    expect(fs.readFileSync(file)).toEqual(garbage);
  });

  test('reading a store that does not exist says so and creates nothing', () => {
    const dir = path.join(tmp.dir, 'nothing-here');
    const file = path.join(dir, 'omega.db');
    const error = storeErrorOf(() => openStore(`sqlite:${file}`, { create: false }));
    expect(error.code).toBe('not-found');
    expect(error.message).toBe(`no store at ${file}; set OMEGA_STORE or --store`);
    expect(fs.existsSync(dir)).toBe(false);
  });

  test('a path under /proc, /sys or /dev fails at once (it used to spin in mkdir)', () => {
    for (const file of ['/proc/nope/x.db', '/sys/x.db', '/dev/omega/x.db']) {
      const error = storeErrorOf(() => openStore(`sqlite:${file}`));
      expect(error.code).toBe('invalid-url');
      expect(error.message).toContain(file);
    }
  });

  test('a path that reaches /proc through a symlink is refused too, before any mkdir', () => {
    const link = path.join(tmp.dir, 'to-proc');
    fs.symlinkSync('/proc', link);
    const error = storeErrorOf(() => openStore(`sqlite:${path.join(link, 'nope', 'x.db')}`));
    expect(error.code).toBe('invalid-url');
  });

  test('a lock timeout that is not a number of milliseconds is refused', () => {
    expect(() =>
      openStore(`sqlite:${path.join(tmp.dir, 'lt.db')}`, { lockTimeoutMs: 'abc' as never }),
    ).toThrow(/lockTimeoutMs must be a number/);
  });

  test('a store damaged in the middle: reads fail with not-a-database naming the file, not a raw SqliteError', async () => {
    const file = path.join(tmp.dir, 'damaged.db');
    const store = openStore(`sqlite:${file}`);
    const start = startEvent();
    await store.startRun('d', start);
    const events = Array.from({ length: 200_000 }, (_, i) => ({
      ...start,
      run: 1,
      event: 'metric',
      key: 'm',
      value: i,
      step: i,
      dt: start.dt + i,
    }));
    await store.appendEvents('d', events);
    await store.close();
    // fold the WAL into the file, then zero pages in its middle
    const db = new Database(file);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const size = fs.statSync(file).size;
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.alloc(4096 * 8), 0, 4096 * 8, Math.floor(size / 2 / 4096) * 4096);
    fs.closeSync(fd);
    const damaged = openStore(`sqlite:${file}`);
    try {
      const error = await damaged.queryEvents('d', { events: ['metric'] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe('not-a-database');
      expect((error as StoreError).message).toContain(file);
    } finally {
      await damaged.close();
    }
  });

  test('a folder named as the store file: cannot-open, naming the file it should be', () => {
    const error = storeErrorOf(() => openStore(`sqlite:${tmp.dir}`));
    expect(error.code).toBe('cannot-open');
    expect(error.message).toContain(path.join(tmp.dir, 'omega.db'));
  });

  test('a store file in a folder that is a file: cannot-open with the path', () => {
    const notADir = path.join(tmp.dir, 'plain-file');
    fs.writeFileSync(notADir, 'x');
    const error = storeErrorOf(() => openStore(`sqlite:${path.join(notADir, 'omega.db')}`));
    expect(error.code).toBe('cannot-open');
    expect(error.message).toContain(path.join(notADir, 'omega.db'));
  });
});
