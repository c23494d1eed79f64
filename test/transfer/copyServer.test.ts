import path from 'node:path';
import { setDiagWriter } from 'omega-track';
import { cliIn } from '../cli/cliRunner';
import { startTeamServer } from '../helpers/teamServer';
import type { TeamServer } from '../helpers/teamServer';
import { tempDir } from '../helpers/tmp';
import { logSample, snapshot, withOmega } from './sampleRuns';

// `omega-track copy` into a team server and back out of it: the server's API carries runs,
// events, artifact blobs (listed by prefix) and om.models / om.datasets.

setDiagWriter(() => undefined);

const tmp = tempDir('copy-server');
let server: TeamServer;
beforeAll(async () => {
  process.env.OMEGA_SPOOL_DIR = path.join(tmp.dir, 'spool');
  server = await startTeamServer({ store: `sqlite:${path.join(tmp.dir, 'server.db')}` });
});
afterAll(async () => {
  await server?.close();
  tmp.cleanup();
});

test('embedded → team server → embedded gives back runs, artifacts, models and datasets', async () => {
  const a = `sqlite:${path.join(tmp.dir, 'a.db')}`;
  await withOmega(a, async (om) => {
    await logSample(om, 'shared', { bulk: 1, points: 5_000 });
    await om.datasets.put({ rows: [1, 2, 3] }, 'ds/plain');
    await om.models.put(new Float32Array([0.5, 1.5]), 'weights/v1');
  });
  const before = await withOmega(a, (om) => snapshot(om, 'shared', { signedZero: false }));

  const up = await cliIn({}, ['copy', '--from', a, '--to', server.url]);
  expect(up.err).toBe('');
  expect(up.code).toBe(0);
  expect(up.out).toMatch(
    /^copied 5 runs .*; 2 models and datasets \(1 file\) from sqlite:.* to http:\/\/127\.0\.0\.1/,
  );
  // the server marks what it stores with the writer (here the loopback's `local`): all else is as it was
  const there = await withOmega(server.url, (om) => snapshot(om, 'shared'));
  expect(there.head.every((row) => (row as { writer?: string }).writer === 'local')).toBe(true);
  expect(
    await withOmega(server.url, (om) => snapshot(om, 'shared', { without: ['writer'], signedZero: false })),
  ).toEqual(before);

  // a second copy (or one resumed) finds every run there, although the server marked them
  const again = await cliIn({}, ['copy', '--from', a, '--to', server.url]);
  expect(again.err).toBe('');
  expect(again.out).toMatch(/^copied 0 runs \(0 events\) of 1 experiment; 5 already there/);

  const b = `sqlite:${path.join(tmp.dir, 'b.db')}`;
  const down = await cliIn({}, ['copy', '--from', server.url, '--to', b]);
  expect(down.err).toBe('');
  expect(down.code).toBe(0);
  expect(
    await withOmega(b, (om) => snapshot(om, 'shared', { without: ['writer'], signedZero: false })),
  ).toEqual(before);
  await withOmega(b, async (om) => {
    expect(await om.datasets.get('ds/plain')).toEqual({ rows: [1, 2, 3] });
    expect([...(await om.models.get<Float32Array>('weights/v1'))]).toEqual([0.5, 1.5]);
  });
}, 60_000);
