/**
 * A team server client whose spool's disk fills up: the training process goes on and ends as it
 * would (what could not be spooled is counted and said), it does not die of the spool's error.
 */
import { execFileSync, spawn } from 'node:child_process';
import path from 'node:path';
import { startTeamServer } from '../helpers/teamServer';
import type { TeamServer } from '../helpers/teamServer';
import { tempDir } from '../helpers/tmp';
import { mountTmpfs, testWithTmpfs } from '../helpers/tmpfs';

const withTmpfs = testWithTmpfs('The full-spool test');

let tmp: ReturnType<typeof tempDir>;
let server: TeamServer;

beforeAll(async () => {
  tmp = tempDir('omega-spool-full-');
  server = await startTeamServer({ store: `sqlite:${path.join(tmp.dir, 'omega.db')}` });
});

afterAll(async () => {
  await server?.close();
  tmp?.cleanup();
});

withTmpfs(
  'a spool on a full disk: the process is not killed by it; it says so and ends normally',
  async () => {
    const spool = tempDir('omega-spool-tmpfs-');
    const reason = mountTmpfs(spool.dir, '2m');
    if (reason) throw new Error(reason);
    try {
      const child = spawn(
        process.execPath,
        [path.join(__dirname, '..', 'fixtures', 'httpLogFast.js'), server.url, 'full/a', '300000'],
        {
          env: { ...process.env, OMEGA_SPOOL_DIR: spool.dir, OMEGA_SHIP_TIMEOUT_MS: '2000' },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect({ code, uncaught: /SqliteError|^\s+at /m.test(err) }).toEqual({ code: 0, uncaught: false });
      expect(JSON.parse(out.trim().split('\n').pop() ?? '{}')).toEqual({ done: true, threw: 0 });
      expect(err).toMatch(/full/);
    } finally {
      execFileSync('umount', [spool.dir]);
      spool.cleanup();
    }
  },
  120_000,
);
