import { execFileSync } from 'node:child_process';
import path from 'node:path';
import type { Omega } from '@omega-track/core';
import { omega } from 'omega-track';
import { sleep, tempDir } from '../helpers/tmp';
import { startStorageFixture } from './processes';

// heartbeats every 200 ms in the fixtures, a run dead after 1 s without one (defaults: 10 s, 60 s)
const HEARTBEAT_ENV = { OMEGA_HEARTBEAT_MS: '200' };
const CRASH_AFTER_MS = '1000';

async function statusWithin(om: Omega, experiment: string, want: string, ms: number): Promise<string> {
  const until = Date.now() + ms;
  let status = '';
  while (Date.now() < until) {
    status = (await om.runtime.experiment(experiment).runs())[0]?.status ?? '';
    if (status === want) return status;
    await sleep(100);
  }
  return status;
}

describe('runs whose process died read as CRASHED', () => {
  const tmp = tempDir();
  const url = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
  let om: Omega;
  const previous = process.env.OMEGA_CRASH_AFTER_MS;
  beforeAll(() => {
    process.env.OMEGA_CRASH_AFTER_MS = CRASH_AFTER_MS;
    om = omega({ store: url });
  });
  afterAll(async () => {
    await om.close();
    if (previous === undefined) delete process.env.OMEGA_CRASH_AFTER_MS;
    else process.env.OMEGA_CRASH_AFTER_MS = previous;
    tmp.cleanup();
  });

  test('SIGKILL mid-run: CRASHED in runs(), status() and the CLI, with a duration that stops growing; stop() still works', async () => {
    const holder = startStorageFixture('holdRun.js', [url, 'killed', 'start'], HEARTBEAT_ENV);
    await holder.printed('{"run":1}');
    const exp = om.runtime.experiment('killed');
    await sleep(1500);
    // alive and beating: not CRASHED, although older than the threshold
    expect((await exp.runs())[0].status).toBe('STARTED');
    holder.child.kill('SIGKILL');
    await holder.exited;
    expect(await statusWithin(om, 'killed', 'CRASHED', 5000)).toBe('CRASHED');
    expect(await exp.status(1)).toBe('CRASHED');
    const first = (await exp.runs())[0];
    await sleep(300);
    const again = (await exp.runs())[0];
    expect(again.duration).toBe(first.duration);
    // reading changed nothing
    expect((await exp.data({ run: 1 })).map((r) => r.event)).toEqual(['start', 'metric']);

    const cli = execFileSync(
      process.execPath,
      [
        path.join(__dirname, '..', '..', 'cli', 'dist', 'bin.js'),
        'runs',
        'killed',
        '--store',
        url,
        '--format',
        'json',
      ],
      {
        env: { ...process.env, OMEGA_CRASH_AFTER_MS: CRASH_AFTER_MS },
      },
    ).toString();
    expect(JSON.parse(cli)[0].status).toBe('CRASHED');

    // a CRASHED run can still be stopped (e.g. by a cleanup job)
    await exp.use(1);
    await exp.stop();
    expect(await exp.status(1)).toBe('STOPPED');
    // use() does not join a CRASHED run: it starts a new one
    const other = om.runtime.experiment('killed-join');
    const h2 = startStorageFixture('holdRun.js', [url, 'killed-join', 'start'], HEARTBEAT_ENV);
    await h2.printed('{"run":1}');
    h2.child.kill('SIGKILL');
    await h2.exited;
    expect(await statusWithin(om, 'killed-join', 'CRASHED', 5000)).toBe('CRASHED');
    await other.use();
    expect(other.currentRun).toBe(2);
    await other.stop();
  }, 30_000);

  test('a run kept alive by another process after the first ended is STARTED; it is CRASHED once that one dies', async () => {
    const first = startStorageFixture('holdRun.js', [url, 'handed-over', 'start-exit'], HEARTBEAT_ENV);
    await first.printed('{"run":1}');
    expect(await first.exited).toBe(0);
    const worker = startStorageFixture('holdRun.js', [url, 'handed-over', 'join', '1'], HEARTBEAT_ENV);
    await worker.printed('{"run":1}');
    await sleep(2000);
    const exp = om.runtime.experiment('handed-over');
    expect((await exp.runs())[0].status).toBe('STARTED');
    expect(await exp.status(1)).toBe('STARTED');
    worker.child.kill('SIGKILL');
    await worker.exited;
    expect(await statusWithin(om, 'handed-over', 'CRASHED', 5000)).toBe('CRASHED');
  }, 30_000);

  test('a scope that joined a run (impliedRun: false) stops keeping it alive when it ends', async () => {
    const client = omega({ store: url });
    await client.runtime.experiment('joined', { heartbeatIntervalMs: 100 }).start();
    await client.close(); // the client goes away without stop()
    const worker = om.runtime.experiment('joined', { impliedRun: false, heartbeatIntervalMs: 100 });
    await worker.run(async (e) => {
      expect(e.currentRun).toBe(1);
      await sleep(1500);
      // held by this scope: alive although the client stopped beating long ago
      expect(await e.status(1)).toBe('STARTED');
      e.logMetric('task', 1);
    });
    expect(await statusWithin(om, 'joined', 'CRASHED', 5000)).toBe('CRASHED');
  }, 30_000);
});
