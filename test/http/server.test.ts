import { spawn } from 'node:child_process';
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { StoreError, setDiagWriter } from '@omega-track/core';
import type { FlushResult, PendingEvent } from '@omega-track/core';
import { HttpSpool, HttpStore } from '@omega-track/core/internal';
import { omega } from 'omega-track';
import { cliBin } from '../cli/cliRunner';
import { startTeamServer } from '../helpers/teamServer';
import type { TeamServer } from '../helpers/teamServer';
import { sleep, tempDir } from '../helpers/tmp';
import { answerLosingProxy, endLineDroppingProxy, refusingProxy } from './proxies';

/** A client fixture process, what it printed so far, and a wait for a line of its output. */
function startClient(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): {
  child: ChildProcessWithoutNullStreams;
  out: () => string;
  err: () => string;
  waitFor: (line: RegExp) => Promise<void>;
} {
  const child = spawn(process.execPath, [path.join(__dirname, '..', 'fixtures', script), ...args], {
    // standard input, output and error are pipes (the default)
    env: { ...process.env, ...env },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const waitFor = async (line: RegExp): Promise<void> => {
    while (!line.test(out)) {
      if (child.exitCode !== null) throw new Error(`fixture ended: ${err}`);
      await sleep(20);
    }
  };
  return { child, out: () => out, err: () => err, waitFor };
}

const started = new Date('2026-01-01T00:00:00Z');

function metrics(n: number, run = 1, from = 0): PendingEvent[] {
  return Array.from({ length: n }, (_, i) => ({
    run,
    event: 'metric',
    key: 'loss',
    value: i === 1 ? NaN : from + i,
    step: from + i,
    dt: 1_000_000 + from + i,
    node: 'n1',
    userid: 'u1',
    extra: i === 2 ? { fold: 2 } : undefined,
  }));
}

const startEvent = {
  event: 'start',
  key: 'start',
  value: null,
  step: null,
  dt: 1_000,
  node: 'n1',
  userid: 'u1',
  extra: undefined,
};

async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('the HTTP store through omega-track server', () => {
  let tmp: ReturnType<typeof tempDir>;
  let server: TeamServer;
  let spoolDir: string;
  let diag: string[];
  let restoreDiag: (line: string) => void;
  const env = { ...process.env };

  beforeEach(async () => {
    tmp = tempDir();
    spoolDir = path.join(tmp.dir, 'spool');
    process.env.OMEGA_SPOOL_DIR = spoolDir;
    server = await startTeamServer({ store: `sqlite:${path.join(tmp.dir, 'server.db')}` });
    diag = [];
    restoreDiag = setDiagWriter((line) => diag.push(line));
  });
  afterEach(async () => {
    setDiagWriter(restoreDiag);
    process.env = { ...env };
    await server.close();
    tmp.cleanup();
  });

  test('every Store method round-trips through the server; the spool is removed at close', async () => {
    const store = new HttpStore(server.url, { timeoutMs: 10_000 });
    // entries
    await store.putEntry('models', {
      name: 'experiments/a',
      kind: 'experiment.tracker',
      attributes: { x: 1 },
      data: [1, NaN, Infinity],
      created: started,
      modified: started,
    });
    await store.putEntry('datasets', {
      name: 'd1',
      kind: 'json',
      attributes: {},
      created: started,
      modified: started,
    });
    expect(await store.getEntry('models', 'experiments/a')).toEqual({
      name: 'experiments/a',
      kind: 'experiment.tracker',
      attributes: { x: 1 },
      data: [1, NaN, Infinity],
      created: started,
      modified: started,
    });
    expect(await store.getEntry('models', 'nope')).toBeUndefined();
    expect((await store.listEntries('models', 'experiments/')).map((e) => e.name)).toEqual(['experiments/a']);
    expect((await store.listEntries('datasets')).map((e) => e.name)).toEqual(['d1']);
    expect(await store.deleteEntry('datasets', 'd1')).toBe(true);
    expect(await store.deleteEntry('datasets', 'd1')).toBe(false);

    // runs: numbered by the server, concurrent starts distinct
    expect(await store.latestRun('e')).toBeUndefined();
    const runs = await Promise.all([1, 2, 3].map(() => store.startRun('e', startEvent)));
    expect(runs.sort()).toEqual([1, 2, 3]);
    expect(await store.startRun('e', startEvent, 10)).toBe(10);
    expect(await store.latestRun('e')).toBe(10);

    // events: spooled, shipped in order, read back typed (the server stamps the writer)
    await store.appendEvents('e', metrics(12_000, 1));
    await store.appendEvents('e', metrics(5, 2));
    const rows = await store.queryEvents('e', { runs: [1], events: ['metric'] });
    expect(rows.length).toBe(12_000);
    expect(rows.map((r) => r.step)).toEqual(Array.from({ length: 12_000 }, (_, i) => i));
    expect(rows[1].value).toBeNaN();
    expect(rows[2]).toMatchObject({ fold: 2, writer: 'local', experiment: 'e', run: 1, key: 'loss' });
    expect(rows[0].dt).toEqual(new Date(1_000_000));
    const page = await store.queryEvents('e', { runs: [1], events: ['metric'], offset: 5, limit: 3 });
    expect(page.map((r) => r.step)).toEqual([5, 6, 7]);
    const batches: number[] = [];
    for await (const b of store.iterateEvents('e', { events: ['metric'] }, 5000)) batches.push(b.length);
    expect(batches).toEqual([5000, 5000, 2005]);
    let columns = 0;
    for await (const b of store.queryColumns('e', { keys: ['loss'] })) columns += b.length;
    expect(columns).toBe(12_005);
    const stats = await store.runStats('e', [1]);
    expect(stats.rows.find((r) => r.key === 'loss')).toMatchObject({ run: 1, count: 12_000 });
    expect((await store.changeMark('e')).runs).toBeGreaterThanOrEqual(2);
    await store.beat('e', [1, 2], 'owner-1', 5000);
    expect((await store.liveness('e')).get(1)).toMatchObject({ intervalMs: 5000 });
    expect(store.pendingEvents('e').size).toBe(0);

    // blobs: spooled as files, streamed to the server
    const big = Buffer.alloc(3 * 1024 * 1024 + 7, 7);
    await store.putBlob('.experiments/e/big', big);
    await store.putBlob('.experiments/e/small', Buffer.from('one'));
    expect((await store.getBlob('.experiments/e/big'))?.equals(big)).toBe(true);
    expect((await store.getBlob('.experiments/e/small'))?.toString()).toBe('one');
    expect(await store.getBlob('.experiments/e/none')).toBeUndefined();
    expect(await store.deleteBlobs('.experiments/e/')).toBe(2);

    // deletes
    expect(await store.deleteRun('e', 2)).toBe(6);
    expect(await store.deleteEvents('e')).toBeGreaterThan(12_000);
    expect(await store.queryEvents('e', {})).toEqual([]);
    const file = store.spoolFile!;
    expect(fs.existsSync(file)).toBe(true);
    await store.close();
    expect(fs.existsSync(file)).toBe(false);
    expect(fs.readdirSync(spoolDir)).toEqual([]);
  });

  test('omega({ store: url }): runs, metrics, artifacts and om.models through the server', async () => {
    const om = omega({ store: server.url });
    const exp = om.runtime.experiment('team/a');
    await exp.run(async (e) => {
      for (let i = 0; i < 2000; i++) e.logMetric('acc', i / 2000, { step: i });
      e.logParam('lr', 0.1);
      e.logArtifact({ weights: [1, 2, 3] }, 'obj');
    });
    await om.models.put({ w: [4, 5] }, 'mymodel');
    expect(await om.models.get('mymodel')).toEqual({ w: [4, 5] });
    const [run] = await exp.runs();
    expect(run).toMatchObject({ run: 1, status: 'STOPPED', params: { lr: 0.1 } });
    expect(run.metrics?.acc.count).toBe(2000);
    expect(run.pending).toBeUndefined();
    expect(await exp.restoreArtifact('obj')).toEqual({ weights: [1, 2, 3] });
    await om.close();
    // another client reads what this one shipped
    const other = omega({ store: server.url });
    expect((await other.runtime.experiment('team/a').data({ event: 'metric' })).length).toBe(2000);
    await other.close();
  });

  test("a caller's WriteId is the batch and request id: the same write twice is stored once", async () => {
    const store = new HttpStore(server.url, { timeoutMs: 10_000 });
    const first = await store.startRun('w', startEvent, undefined, { id: 'start-1', digest: 'd' });
    expect(await store.startRun('w', startEvent, undefined, { id: 'start-1', digest: 'd' })).toBe(first);
    expect(await store.startRun('w', startEvent)).toBe(first + 1);
    await store.appendEvents('w', metrics(10, 1), { id: 'write-1', digest: 'd' });
    await store.appendEvents('w', metrics(10, 1), { id: 'write-1', digest: 'd' });
    await store.appendEvents('w', metrics(7000, 2), { id: 'write-2', digest: 'd' });
    await store.appendEvents('w', metrics(7000, 2), { id: 'write-2', digest: 'd' });
    const rows = await store.queryEvents('w', { events: ['metric'] });
    expect(rows.filter((r) => r.run === 1).length).toBe(10);
    expect(rows.filter((r) => r.run === 2).length).toBe(7000);
    await store.close();
  });

  test('a batch whose answer is lost is sent again and stored once', async () => {
    const proxy = await answerLosingProxy(server.port, /^POST \/api\/v1\/experiments\/[^ ]+\/events HTTP/, 1);
    try {
      const store = new HttpStore(proxy.url, { timeoutMs: 20_000 });
      expect(await store.startRun('e', startEvent)).toBe(1);
      await store.appendEvents('e', metrics(3000, 1));
      const rows = await store.queryEvents('e', { events: ['metric'] });
      expect(proxy.cut()).toBe(1);
      expect(rows.length).toBe(3000);
      expect(rows.map((r) => r.step)).toEqual(Array.from({ length: 3000 }, (_, i) => i));
      await store.close();
    } finally {
      await proxy.close();
    }
  });

  test('an events stream without its end line fails the read', async () => {
    const direct = new HttpStore(server.url, { timeoutMs: 10_000 });
    await direct.startRun('e', startEvent);
    await direct.appendEvents('e', metrics(50, 1));
    expect((await direct.queryEvents('e', {})).length).toBe(51);
    await direct.close();
    const proxy = await endLineDroppingProxy(server.port);
    try {
      const store = new HttpStore(proxy.url, { timeoutMs: 10_000 });
      const error = await store.queryEvents('e', {}).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect((error as Error).message).toMatch(/the answer was cut before its end line/);
      await store.close();
    } finally {
      await proxy.close();
    }
  });

  test('no server at start: start() fails with StoreError unreachable after the timeout', async () => {
    process.env.OMEGA_SERVER_TIMEOUT_MS = '1500';
    const om = omega({ store: `http://127.0.0.1:${await deadPort()}` });
    const t0 = Date.now();
    const error = await om.runtime
      .experiment('x')
      .start()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).code).toBe('unreachable');
    expect((error as Error).message).toMatch(/did not answer within 1\.5 s .*OMEGA_SERVER_TIMEOUT_MS/);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
    expect(Date.now() - t0).toBeLessThan(15_000);
    await om.close();
  });

  test('the server killed and restarted while logging: no stall, and every event arrives once', async () => {
    const om = omega({ store: server.url });
    const exp = om.runtime.experiment('outage');
    const run = await exp.start();
    let logged = 0;
    let worst = 0;
    let last = Date.now();
    const timer = setInterval(() => {
      const now = Date.now();
      worst = Math.max(worst, now - last);
      last = now;
      exp.logMetric('loss', logged, { step: logged });
      logged++;
    }, 1);
    await sleep(500);
    await server.kill('SIGKILL');
    await sleep(2000);
    await server.restart();
    await sleep(1500);
    clearInterval(timer);
    await exp.stop();
    const rows = await exp.data({ run, event: 'metric' });
    expect(rows.length).toBe(logged);
    expect(rows.map((r) => r.step)).toEqual(Array.from({ length: logged }, (_, i) => i));
    // a stall would be the length of the outage (seconds); a loaded 2-core machine adds some ms
    expect(worst).toBeLessThan(100);
    expect(diag.some((l) => /shipping the spool/.test(l))).toBe(true);
    await om.close();
  }, 90_000);

  test('close() with the server down keeps the spool; omega-track sync ships it once the server is back', async () => {
    const client = startClient('httpLogAfterGo.js', [server.url, 'synced', '5000', 'close'], {
      OMEGA_SHIP_TIMEOUT_MS: '500',
    });
    await client.waitFor(/started 1/);
    await server.kill('SIGKILL');
    client.child.stdin.write('go\n');
    const code = await new Promise<number | null>((resolve) => client.child.on('exit', resolve));
    expect({ code, err: client.err() }).toMatchObject({ code: 0 });
    expect(client.out()).toMatch(/closed/);
    expect(client.err()).toMatch(/wait in .*\.spool: run `omega-track sync`/);
    const [file] = HttpSpool.files(spoolDir);
    expect(file).toBeDefined();

    // the server still down: sync says what waits, exit 1, the spool stays
    const down = cliBin(['sync', '--spool-dir', spoolDir, '--timeout', '1'], { OMEGA_STORE: '' }, tmp.dir);
    expect(down).toMatchObject({ code: 1 });
    expect(down.out).toMatch(/shipped 0 batch\(es\), 0 event\(s\); [1-9]\d* still waiting/);
    expect(fs.existsSync(file)).toBe(true);

    await server.restart();
    const up = cliBin(['sync', '--spool-dir', spoolDir], { OMEGA_STORE: '' }, tmp.dir);
    expect(up).toMatchObject({ code: 0 });
    expect(up.out).toContain(`${server.url} (${file}): shipped `);
    expect(up.out).toMatch(/shipped \d+ batch\(es\), 5001 event\(s\); 0 still waiting\n/);
    expect(fs.existsSync(file)).toBe(false);
    const om = omega({ store: server.url });
    const exp = om.runtime.experiment('synced');
    expect((await exp.data({ event: 'metric' })).length).toBe(5000);
    expect(await exp.status(1)).toBe('STOPPED');
    await om.close();
  }, 90_000);

  test('a client killed mid-run while the server is down: sync ships its spool, the run reads CRASHED', async () => {
    const { child, waitFor } = startClient('httpLogAfterGo.js', [server.url, 'killed', '3000', 'hang'], {
      OMEGA_HEARTBEAT_MS: '200',
    });
    await waitFor(/started 1/);
    await server.kill('SIGKILL');
    child.stdin.write('go\n');
    await waitFor(/flushed/);
    const gone = new Promise((resolve) => child.on('exit', resolve));
    child.kill('SIGKILL');
    await gone;
    expect(HttpSpool.files(spoolDir).length).toBe(1);

    await server.restart();
    const synced = cliBin(['sync', '--spool-dir', spoolDir], { OMEGA_STORE: '' }, tmp.dir);
    expect(synced).toMatchObject({ code: 0 });
    expect(synced.out).toMatch(/shipped \d+ batch\(es\), 3000 event\(s\); 0 still waiting\n/);
    expect(HttpSpool.files(spoolDir)).toEqual([]);
    process.env.OMEGA_CRASH_AFTER_MS = '500';
    await sleep(800);
    const om = omega({ store: server.url });
    const exp = om.runtime.experiment('killed');
    expect((await exp.data({ event: 'metric' })).map((r) => r.step)).toEqual(
      Array.from({ length: 3000 }, (_, i) => i),
    );
    expect(await exp.status(1)).toBe('CRASHED');
    await om.close();
  }, 90_000);

  test('runs() tells which runs still have events waiting in the spool', async () => {
    const proxy = await refusingProxy(
      server.port,
      (req) => req.method === 'POST' && /\/events$/.test(req.url ?? ''),
    );
    try {
      proxy.refusing = false;
      const om = omega({ store: proxy.url });
      const exp = om.runtime.experiment('waiting');
      await exp.start();
      proxy.refusing = true;
      for (let i = 0; i < 100; i++) exp.logMetric('loss', i, { step: i });
      const [waiting] = await exp.runs();
      expect(waiting.pending).toBe(100);
      expect(proxy.refused).toBeGreaterThan(0);
      proxy.refusing = false;
      let run = waiting;
      for (let i = 0; i < 100 && run.pending !== undefined; i++) {
        await sleep(100);
        [run] = await exp.runs();
      }
      expect(run.pending).toBeUndefined();
      expect(run.metrics?.loss.count).toBe(100);
      await om.close();
    } finally {
      await proxy.close();
    }
  });

  test('a full spool keeps events back in the provider, which drops, counts and says what does not fit', async () => {
    const proxy = await refusingProxy(
      server.port,
      (req) => req.method === 'POST' && /\/events$/.test(req.url ?? ''),
    );
    try {
      proxy.refusing = false;
      process.env.OMEGA_SPOOL_MAX_MB = '0.05';
      process.env.OMEGA_SHIP_TIMEOUT_MS = '200';
      const om = omega({ store: proxy.url });
      const exp = om.runtime.experiment('full', { maxQueueEvents: 2000 });
      await exp.start();
      proxy.refusing = true;
      let result = (await exp.flush()) as FlushResult;
      for (let i = 0; i < 20; i++) {
        for (let j = 0; j < 500; j++) exp.logMetric('loss', i * 500 + j, { step: i * 500 + j });
        result = (await exp.flush({ timeoutMs: 100 })) as FlushResult;
      }
      // ~50 KB of spool holds ~1,500 metrics; the provider keeps 2,000 more; the rest is dropped
      expect(result.dropped).toBeGreaterThan(5000);
      expect(result.pending).toBeGreaterThan(0);
      expect(diag.some((l) => /spool .* is full/.test(l))).toBe(true);
      expect(diag.some((l) => /dropping events of 'full'/.test(l))).toBe(true);
      await om.close();
    } finally {
      await proxy.close();
    }
  });

  test('a refused token is said once, the spool kept, no tight loop; a refused batch is a dead letter and the rest goes on', async () => {
    const lines: string[] = [];
    const wrong = new HttpStore(server.url, {
      token: 'omt_wrongwrongwrongwrongwrongwrongwrongwrongwro',
      timeoutMs: 2000,
      onError: (error, context) => lines.push(`${context}: ${(error as Error).message}`),
    });
    await wrong.appendEvents('e', metrics(10, 1));
    await sleep(1500);
    expect(lines).toEqual([expect.stringMatching(/refuses the token .* HTTP 401/)]);
    await expect(wrong.latestRun('e')).rejects.toMatchObject({ code: 'unauthorized' });
    expect(wrong.spoolPending()).toMatchObject({ items: 1, events: 10 });
    const kept = wrong.spoolFile!;
    await new HttpStore(server.url).close();
    // close() does not wait 30 s for a token that is refused
    const t0 = Date.now();
    await wrong.close();
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(fs.existsSync(kept)).toBe(true);

    const said: string[] = [];
    const store = new HttpStore(server.url, {
      timeoutMs: 10_000,
      onError: (error, context) => said.push(`${context}: ${(error as Error).message}`),
    });
    expect(await store.startRun('d', startEvent)).toBe(1);
    await store.appendEvents('d', metrics(10, 99));
    await store.appendEvents('d', metrics(10, 1));
    expect((await store.queryEvents('d', { events: ['metric'] })).length).toBe(10);
    expect(said).toEqual([
      expect.stringMatching(
        /refused a batch of 10 event\(s\) of 'd' for good: kept as a dead letter .*HTTP 400/,
      ),
    ]);
    expect(store.spoolPending()).toMatchObject({ items: 0, dead: 1 });
    await store.close();
  });
});
