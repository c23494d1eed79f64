import path from 'node:path';
import { openStore } from '@omega-track/core';
import { runFixture, startFixture } from './helpers/child';
import { sleep, tempDir } from './helpers/tmp';

describe('many processes on one embedded store', () => {
  const tmp = tempDir();
  const url = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
  afterAll(() => tmp.cleanup());

  test('four processes each starting 25 runs of one experiment get 100 distinct numbers, 1..100', async () => {
    const results = await Promise.all(
      [1, 2, 3, 4].map(() => runFixture('startRuns.js', [url, 'race', '25'])),
    );
    for (const r of results) expect(r.stderr).toBe('');
    const runs = results.flatMap((r) => JSON.parse(r.stdout) as number[]);
    expect(runs).toHaveLength(100);
    expect([...runs].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    const store = openStore(url);
    const starts = await store.queryEvents('race', { events: ['start'] });
    await store.close();
    expect(starts).toHaveLength(100);
  });
});

describe('nothing queued is lost when a process ends', () => {
  const tmp = tempDir();
  const url = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
  afterAll(() => tmp.cleanup());

  async function metrics(experiment: string): Promise<number[]> {
    const store = openStore(url);
    const rows = await store.queryEvents(experiment, { events: ['metric'] });
    await store.close();
    return rows.map((r) => r.value as number);
  }

  const expected = Array.from({ length: 10_000 }, (_, i) => i);

  test('10,000 metrics, no stop or flush, the program simply ends: all stored', async () => {
    const r = await runFixture('logAndExit.js', [url, 'natural', '10000', 'natural']);
    expect(r.code).toBe(0);
    expect(await metrics('natural')).toEqual(expected);
  });

  test('10,000 metrics, then process.exit(): all stored', async () => {
    const r = await runFixture('logAndExit.js', [url, 'exit', '10000', 'exit']);
    expect(r.code).toBe(0);
    expect(await metrics('exit')).toEqual(expected);
  });

  test('an artifact logged right before process.exit() is not stored half: the metrics are, and a line says so', async () => {
    const r = await runFixture('logAndExit.js', [url, 'artifact-exit', '1000', 'artifact-exit']);
    expect(r.code).toBe(0);
    expect(await metrics('artifact-exit')).toEqual(expected.slice(0, 1000));
    expect(r.stderr).toContain(
      '1 artifact(s) logged just before process.exit() were not stored: await flush() before exiting',
    );
    const store = openStore(url);
    expect(await store.queryEvents('artifact-exit', { events: ['artifact'] })).toEqual([]);
    await store.close();
  });

  test('interrupted with SIGINT (Ctrl-C): what was queued is written, and the process still ends by the signal', async () => {
    const child = startFixture('logAndExit.js', [url, 'interrupted', '10000', 'hang']);
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => d.toString().includes('READY') && resolve());
      child.on('exit', () => reject(new Error('fixture ended early')));
    });
    const exited = new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGINT');
    expect(await exited).toBe('SIGINT');
    expect(await metrics('interrupted')).toEqual(expected);
  });

  test('a profiling run started and never stopped does not keep the process alive; its events are written', async () => {
    const t0 = Date.now();
    const r = await runFixture('profileNoStop.js', [url]);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(Date.now() - t0).toBeLessThan(10_000);
    const store = openStore(url);
    const rows = await store.queryEvents('nostop', {});
    await store.close();
    expect(rows.filter((e) => e.event === 'metric').map((e) => e.value)).toEqual([1]);
    expect(rows.filter((e) => e.event === 'profile' && e.key === 'profile_dt').length).toBeGreaterThanOrEqual(
      2,
    );
  });

  test('killed with SIGKILL 3 s after its last logMetric: none lost', async () => {
    const child = startFixture('logAndExit.js', [url, 'killed', '10000', 'hang']);
    await new Promise<void>((resolve, reject) => {
      child.stdout?.on('data', (d: Buffer) => d.toString().includes('READY') && resolve());
      child.on('exit', () => reject(new Error('fixture ended early')));
    });
    await sleep(3000);
    const exited = new Promise((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    expect(await metrics('killed')).toEqual(expected);
  });
});
