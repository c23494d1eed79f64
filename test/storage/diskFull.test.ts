import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { openStore } from '@omega-track/core';
import { tempDir } from '../helpers/tmp';
import { mountTmpfs, testWithTmpfs } from '../helpers/tmpfs';
import { lastJson, startStorageFixture } from './processes';

const withTmpfs = testWithTmpfs('The disk-full tests');

/** A small file system, almost filled by a filler file that the test can remove to make room. */
function smallDisk(): { dir: string; filler: string; release: () => void } {
  const tmp = tempDir('omega-track-full-');
  // 1.5 MB of room to fill up; removing the filler then makes room for the whole backlog
  const reason = mountTmpfs(tmp.dir, '64m');
  if (reason) throw new Error(reason);
  const filler = path.join(tmp.dir, 'filler');
  fs.writeFileSync(filler, Buffer.alloc(62.5 * 1024 * 1024));
  return {
    dir: tmp.dir,
    filler,
    release: () => {
      execFileSync('umount', [tmp.dir]);
      tmp.cleanup();
    },
  };
}

const diagLines = (stderr: string): string[] =>
  stderr.split('\n').filter((l) => l.startsWith('[omega-track]'));

describe('a store on a full disk', () => {
  withTmpfs(
    'a few diagnostic lines, bounded memory, and the backlog written in order once there is room',
    async () => {
      const disk = smallDisk();
      try {
        const logger = startStorageFixture('fillDisk.js', [
          `sqlite:${path.join(disk.dir, 'full.db')}`,
          'free',
        ]);
        await logger.printed('FULL');
        fs.rmSync(disk.filler);
        logger.child.stdin.write('FREED\n');
        expect(await logger.exited).toBe(0);
        const seen = lastJson<{
          loggedWhileFull: number;
          step: number;
          rssBefore: number;
          rssMax: number;
          stop: { written: number; pending: number; dropped: number };
          stored: number;
          ordered: boolean;
          status: string;
        }>(logger.stdout());
        const lines = diagLines(logger.stderr());
        // one line when the trouble started, one when it ended: no line per retry
        expect(lines.length).toBeGreaterThanOrEqual(2);
        expect(lines.length).toBeLessThanOrEqual(4);
        expect(lines[0]).toMatch(/disk-full|full/i);
        expect(lines[0]).toContain('full.db');
        expect(lines[lines.length - 1]).toMatch(/takes writes again .* event\(s\) that waited/);
        expect(seen.loggedWhileFull).toBeGreaterThan(100_000);
        // the queue's documented bound: 500,000 events / 32 MiB, ~110 MB of RSS at the limit
        expect(seen.rssMax - seen.rssBefore).toBeLessThan(150 * 1024 * 1024);
        // at most 3 s × 200 ticks × 500 events were logged while full: within the queue's limit
        expect(seen.stop).toEqual({ written: seen.step + 1, pending: 0, dropped: 0 });
        expect(seen.stored).toBe(seen.step);
        expect(seen.ordered).toBe(true);
        expect(seen.status).toBe('STOPPED');
      } finally {
        disk.release();
      }
    },
    60_000,
  );

  withTmpfs(
    'a process that exits while the disk is still full says how many events were lost, and the count is exact',
    async () => {
      const disk = smallDisk();
      try {
        const url = `sqlite:${path.join(disk.dir, 'full.db')}`;
        // a small queue limit, so that events are also dropped while the disk is full
        const logger = startStorageFixture('fillDisk.js', [url, 'exit', '50000']);
        expect(await logger.exited).toBe(0);
        const seen = lastJson<{ step: number }>(logger.stdout());
        const lines = diagLines(logger.stderr());
        expect(lines.length).toBeLessThanOrEqual(5);
        expect(lines.some((l) => /dropping events of 'full'.*queue is full/.test(l))).toBe(true);
        const last = lines[lines.length - 1];
        const lost = /(\d+) event\(s\) of experiment 'full' were not stored at exit/.exec(last);
        expect(lost).not.toBeNull();
        expect(last).toMatch(/dropped earlier while the queue was full/);
        fs.rmSync(disk.filler);
        const store = openStore(url);
        const stored = await store.queryEvents('full', { events: ['metric'] });
        const stops = await store.queryEvents('full', { events: ['stop'] });
        await store.close();
        // everything logged is either stored or counted as lost; nothing vanished silently
        expect(stored.length + Number(lost![1])).toBe(seen.step);
        expect(stops).toHaveLength(0);
      } finally {
        disk.release();
      }
    },
    60_000,
  );
});
