/**
 * examples/browser run as its README says: a write token limited to `demo/*`, `omega-track
 * server --cors-origin <the page's origin>`, the example's static server (serve.mjs) with the
 * server's URL and the token, and the page opened in Chromium. The page trains its tfjs model in
 * `exp.run(…)` with TensorflowCallback; the server's store then holds the run with its epoch
 * metrics, and the page's link opens the run's chart in the server's web UI.
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { omega } from 'omega-track';
import { startTeamServer } from '../helpers/teamServer';
import type { TeamServer } from '../helpers/teamServer';
import { sleep, tempDir } from '../helpers/tmp';
import { drawnChart, launchBrowser, REPO } from '../ui/browserHelpers';
import { createToken } from './pageHarness';

jest.setTimeout(180_000);

const SERVE = path.join(REPO, 'examples', 'browser', 'serve.mjs');
const EPOCHS = 5;

/** A port free a moment ago (the page's origin must be known before the team server starts). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Starts serve.mjs as the README says; resolves with the origin it printed. */
function serveExample(args: string[]): Promise<{ child: ChildProcess; origin: string }> {
  const child = spawn(process.execPath, [SERVE, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve.mjs printed nothing in time: ${out}`)), 20_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving (http:\/\/\S+)\//.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, origin: m[1] });
      }
    });
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve.mjs exited (${code}): ${out}`));
    });
  });
}

const tmp = tempDir('omega-example-');
const store = `sqlite:${path.join(tmp.dir, 'server.db')}`;
let server: TeamServer | undefined;
let serve: ChildProcess | undefined;
let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;

afterAll(async () => {
  await browser?.close();
  serve?.kill('SIGTERM');
  await server?.close().catch(() => undefined);
  tmp.cleanup();
});

/** What the server's store holds of run `run` of `experiment` (read in Node, as an admin would). */
async function stored(experiment: string, run: number): Promise<{ rows: any[]; status: string | undefined }> {
  const om = omega({ store, create: false });
  try {
    const exp = om.runtime.experiment(experiment);
    const rows = (await exp.data({ run })) as any[];
    const status = (await exp.runs()).find((r: any) => r.run === run)?.status;
    return { rows, status };
  } finally {
    await om.close();
  }
}

test('the example page trains in Chromium: the server holds its run with every epoch, and the page links to the run’s live chart', async () => {
  const pagePort = await freePort();
  const pageOrigin = `http://127.0.0.1:${pagePort}`;
  // README step 1: the page's token
  const token = createToken(store, 'demo-page', 'write', ['--experiments', 'demo/*']);
  // README step 2: the team server, letting the page's origin call it
  server = await startTeamServer({ store, args: ['--cors-origin', pageOrigin] });
  // README step 3: the example's static server
  const served = await serveExample([
    '--server',
    server.url,
    '--token',
    token,
    '--port',
    String(pagePort),
    '--epochs',
    String(EPOCHS),
  ]);
  serve = served.child;
  expect(served.origin).toBe(pageOrigin);

  // README step 4: open the page (?autostart presses Train)
  browser = await launchBrowser();
  const page = browser.page;
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`${pageOrigin}/?autostart`);
  await page.waitForSelector('body[data-state="done"], body[data-state="failed"]', { timeout: 120_000 });
  expect(await page.locator('#problems').textContent()).toBe('');
  expect(await page.getAttribute('body', 'data-state')).toBe('done');
  expect(await page.locator('#epochs tbody tr').count()).toBe(EPOCHS);
  const href = (await page.getAttribute('#run-link', 'href')) ?? '';
  const m = /#\/e\/demo%2Ftwo-moons\/compare\?runs=(\d+)$/.exec(href);
  expect(m).not.toBeNull();
  expect(href.startsWith(`${server.url}/`)).toBe(true);
  const run = Number(m![1]);

  // the run reaches the server's store (the page ships its IndexedDB spool in the background)
  let got = await stored('demo/two-moons', run);
  for (let i = 0; i < 100 && !(got.status === 'STOPPED' && got.rows.length > 0); i++) {
    await sleep(200);
    got = await stored('demo/two-moons', run);
  }
  expect(got.status).toBe('STOPPED');
  const params = Object.fromEntries(got.rows.filter((r) => r.event === 'param').map((r) => [r.key, r.value]));
  expect(params).toMatchObject({
    epochs: EPOCHS,
    batchSize: 32,
    learningRate: 0.05,
    points: 400,
    optimizer: 'Adam',
  });
  expect(['webgl', 'webgpu', 'wasm', 'cpu']).toContain(params.backend);
  for (const key of ['loss', 'acc', 'val_loss', 'val_acc']) {
    const epochs = got.rows.filter((r) => r.event === 'metric' && r.key === key && r.phase === 'epoch');
    expect(epochs.map((r) => r.step)).toEqual([...Array(EPOCHS).keys()]);
    for (const r of epochs) expect(Number.isFinite(r.value)).toBe(true);
  }
  expect(new Set(got.rows.map((r) => r.writer))).toEqual(new Set(['demo-page']));

  // the page's link opens the run's chart in the server's UI (a new tab, as the link says)
  const [tab] = await Promise.all([browser.context.waitForEvent('page'), page.click('#run-link')]);
  await tab.waitForLoadState();
  expect(tab.url()).toBe(href);
  for (const key of ['loss', 'acc']) {
    const card = await drawnChart(tab, key);
    expect(await card.getAttribute('data-series')).toBe('1');
    expect(await card.getAttribute('data-points')).toBe(String(EPOCHS));
  }
  expect(pageErrors).toEqual([]);
});
