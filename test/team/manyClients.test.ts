/**
 * Many training processes log through one team server (issue 22): every event arrives once, in
 * order per run, on the embedded store and on PostgreSQL behind the server.
 */
import { omega } from 'omega-track';
import path from 'node:path';
import { clientReport, startTeamClient } from '../helpers/teamClients';
import { freshDatabaseName, removeAllPostgresServers, startPostgresServer } from '../helpers/postgresServer';
import type { PostgresServer } from '../helpers/postgresServer';
import { startTeamServer } from '../helpers/teamServer';
import { tempDir } from '../helpers/tmp';

jest.setTimeout(300_000);

const CLIENTS = 8;
const PER_CLIENT = 100_000;

let pg: PostgresServer;
const tmp = tempDir('team-many');

beforeAll(async () => {
  pg = await startPostgresServer();
});

afterAll(async () => {
  await removeAllPostgresServers();
  tmp.cleanup();
});

/** Starts CLIENTS burst clients against `url`, each into its own run; resolves with their runs. */
async function burstClients(url: string, experiment: string): Promise<number[]> {
  const clients = Array.from({ length: CLIENTS }, () =>
    startTeamClient('burst', PER_CLIENT, experiment, {
      OMEGA_STORE: url,
      OMEGA_SPOOL_DIR: path.join(tmp.dir, `spool-${experiment}`),
    }),
  );
  const done = await Promise.all(clients.map((c) => c.done));
  for (const r of done) expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: '' });
  return done.map((r) => clientReport<{ run: number }>(r.stdout).run);
}

/** Every run holds steps 0…PER_CLIENT-1 of metric m, once each, in logging order. */
async function expectAllStored(storeUrl: string, experiment: string, runs: number[]): Promise<void> {
  const om = omega({ store: storeUrl });
  try {
    expect(new Set(runs).size).toBe(CLIENTS);
    const exp = await om.runtime.experiment(experiment).use(runs[0]);
    let total = 0;
    for (const run of runs) {
      const rows = await exp.data({ run, event: 'metric', key: 'm' });
      total += rows.length;
      expect(rows.length).toBe(PER_CLIENT);
      let inOrder = true;
      for (let i = 0; i < rows.length; i++) if (rows[i].step !== i || rows[i].value !== i) inOrder = false;
      expect(inOrder).toBe(true);
      expect(await exp.status(run)).toBe('STOPPED');
    }
    expect(total).toBe(CLIENTS * PER_CLIENT);
  } finally {
    await om.close();
  }
}

test('8 clients × 100,000 metrics through a server on the embedded store: 800,000 stored, in order per run', async () => {
  const store = `sqlite:${path.join(tmp.dir, 'team.db')}`;
  const server = await startTeamServer({ store });
  let runs: number[];
  try {
    runs = await burstClients(server.url, 'many');
  } finally {
    await server.close();
  }
  await expectAllStored(store, 'many', runs);
});

test('the same through a server on PostgreSQL', async () => {
  const store = await pg.createDatabase(freshDatabaseName());
  const server = await startTeamServer({ store });
  let runs: number[];
  try {
    runs = await burstClients(server.url, 'many-pg');
  } finally {
    await server.close();
  }
  await expectAllStored(store, 'many-pg', runs);
});
