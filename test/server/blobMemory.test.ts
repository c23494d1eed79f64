/**
 * The server holds a blob upload whole until the store has it (a store takes blobs whole), so it
 * reads at most two at once: many writers uploading big artifacts together cannot add up to the
 * server's memory (the attack on issue 22 saw one 200 MB upload take the server to 1.16 GB).
 */
import fs from 'node:fs';
import path from 'node:path';
import { startTeamServer } from '../helpers/teamServer';
import type { TeamServer } from '../helpers/teamServer';
import { tempDir } from '../helpers/tmp';

jest.setTimeout(120_000);

const tmp = tempDir('server-blobs');
let server: TeamServer;

beforeAll(async () => {
  server = await startTeamServer({ store: `sqlite:${path.join(tmp.dir, 'omega.db')}` });
});

afterAll(async () => {
  await server?.close();
  tmp.cleanup();
});

/** The server's peak resident memory so far (MB). */
function peakRssMb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmHWM:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

test("eight 64 MB uploads at once: all stored, the server's memory grows by a few uploads, not eight", async () => {
  const before = peakRssMb(server.pid());
  const size = 64 * 1024 * 1024;
  const body = Buffer.alloc(size, 7);
  const answers = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      fetch(`${server.url}/api/v1/blobs?key=${encodeURIComponent(`.experiments/big/blob-${i}`)}`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/octet-stream' },
        body,
      }),
    ),
  );
  expect(answers.map((a) => a.status)).toEqual(Array(8).fill(204));
  const grown = peakRssMb(server.pid()) - before;
  // held whole and copied once, eight at once would be ~1 GB; two at a time stay well under
  expect(grown).toBeLessThan(700);
  const back = await fetch(`${server.url}/api/v1/blobs?key=${encodeURIComponent('.experiments/big/blob-5')}`);
  expect(back.status).toBe(200);
  expect((await back.arrayBuffer()).byteLength).toBe(size);
});
