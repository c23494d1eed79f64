/**
 * Local-first (issue 22): the server is killed and restarted twice while a client logs at 1 kHz
 * on a 1 ms timer. The client's loop never stalls and every event is stored exactly once.
 */
import path from 'node:path';
import { omega } from 'omega-track';
import { sleep, tempDir } from '../helpers/tmp';
import { clientReport, startTeamClient } from '../helpers/teamClients';
import { startTeamServer } from '../helpers/teamServer';

jest.setTimeout(120_000);

const tmp = tempDir('team-restarts');
afterAll(() => tmp.cleanup());

test('SIGKILL and restart of the server, twice, under a 1 kHz client: no stall over 50 ms, every event once', async () => {
  const store = `sqlite:${path.join(tmp.dir, 'team.db')}`;
  const server = await startTeamServer({ store });
  const COUNT = 8_000;
  const client = startTeamClient('timer', COUNT, 'restarts', {
    OMEGA_STORE: server.url,
    OMEGA_SPOOL_DIR: path.join(tmp.dir, 'spool'),
  });
  try {
    // the client needs the server for start(); then it logs for ~8-16 s
    await sleep(1500);
    for (let i = 0; i < 2; i++) {
      await server.kill('SIGKILL');
      await sleep(1200);
      await server.restart();
      await sleep(1200);
    }
    const r = await client.done;
    expect(r.code).toBe(0);
    // an outage is said once, and so is its recovery (under load the backoff may span both
    // outages, which then read as one)
    const outages = r.stderr.match(/shipping the spool to the server/g) ?? [];
    expect(outages.length).toBeGreaterThanOrEqual(1);
    expect(r.stderr.match(/server recovered/g)).toHaveLength(outages.length);
    const report = clientReport<{ run: number; logged: number; worstLateMs: number }>(r.stdout);
    expect(report.logged).toBe(COUNT);
    expect(report.worstLateMs).toBeLessThanOrEqual(50);

    await server.close();
    const om = omega({ store });
    try {
      const exp = await om.runtime.experiment('restarts').use(report.run);
      const rows = await exp.data({ run: report.run, event: 'metric', key: 'm' });
      expect(rows.length).toBe(COUNT);
      expect(rows.map((e) => e.step)).toEqual(Array.from({ length: COUNT }, (_, i) => i));
      expect(await exp.status(report.run)).toBe('STOPPED');
    } finally {
      await om.close();
    }
  } finally {
    client.child.kill('SIGKILL');
    await server.close();
  }
});
