/**
 * In a page without Web Locks (plain http from a non-loopback host name), a spool belongs to its
 * page while the page renews its lease (every 5 s; stale after 3 minutes). A
 * live page whose renewals were late (Chrome runs a hidden tab's chained timers once a minute
 * after 5 minutes; a frozen tab runs none) has its spool adopted by another tab. The adopter
 * ships what it read and must then leave what the live page appended since; the live page's
 * shipper, finding items the adopter shipped gone, goes on with the next. Every event is stored
 * once. (Page A's network is cut by routing, not the server stopped, so that the adopter ships
 * first: the outcome does not depend on whose backoff ends first.)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { BrowserContext, Page } from 'playwright-core';
import { omega } from 'omega-track';
import { startTeamServer } from '../helpers/teamServer';
import type { TeamServer } from '../helpers/teamServer';
import { tempDir } from '../helpers/tmp';
import { CHROMIUM } from '../ui/browserHelpers';
import type { PageServer } from './pageHarness';
import { createToken, startPageServer } from './pageHarness';

jest.setTimeout(120_000);

const HOST = 'omega-attack.test';
let tmp: { dir: string; cleanup: () => void };
let store: string;
let server: TeamServer;
let pages: PageServer;
let context: BrowserContext;
let profile: string;
let origin: string;

beforeAll(async () => {
  tmp = tempDir('omega-attack-lease-');
  store = `sqlite:${path.join(tmp.dir, 'server.db')}`;
  pages = await startPageServer();
  // the page server listens on 127.0.0.1; Chromium reaches it under a name: no secure context
  origin = pages.origin.replace('127.0.0.1', HOST);
  server = await startTeamServer({ store, args: ['--cors-origin', origin] });
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-attack-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', `--host-resolver-rules=MAP ${HOST} 127.0.0.1`],
  });
});

afterAll(async () => {
  await context?.close();
  fs.rmSync(profile, { recursive: true, force: true });
  await server?.close().catch(() => undefined);
  await pages?.close();
  tmp?.cleanup();
});

async function openClient(page: Page, token: string): Promise<void> {
  await page.goto(`${origin}/client.html`);
  await page.waitForFunction(() => (globalThis as any).otReady === true);
  await page.evaluate(
    ({ url, token }) => {
      (globalThis as any).om = (globalThis as any).ot.omega({ store: url, token });
    },
    { url: server.url, token },
  );
}

test('a live page whose lease renewal was late keeps every event: another tab that adopts its spool does not delete what it appends later', async () => {
  const token = createToken(store, 'lease-page', 'write', ['--experiments', 'demo/*']);
  // the page's own copy of the client: it must load while the team server is down
  pages.page(
    '/client.html',
    `<!doctype html><script type="module">import * as ot from '/omega-track.browser.js'; window.ot = ot; window.otReady = true;</script>`,
  );
  pages.page('/probe.html', '<!doctype html><p>probe</p>');
  const a = context.pages()[0] ?? (await context.newPage());
  await openClient(a, token);
  const info = await a.evaluate(() => {
    const g = globalThis as any;
    return { locks: !!g.navigator.locks, secure: g.isSecureContext };
  });
  expect(info).toEqual({ locks: false, secure: false });
  const run = await a.evaluate(async () => {
    const g = globalThis as any;
    g.exp = g.om.runtime.experiment('demo/lease');
    await g.exp.start();
    return g.exp.currentRun as number;
  });
  // page A cannot reach the server for a while (its network, not the server): what it logs waits
  await a.route(`${server.url}/**`, (route) => route.abort());
  const logSome = (from: number): Promise<void> =>
    a.evaluate(async (from) => {
      for (let i = from; i < from + 100; i++) (globalThis as any).exp.logMetric('x', i, i);
      await (globalThis as any).exp.flush();
    }, from);
  await logSome(0);
  // page A missed its lease renewals for long (a frozen background tab)
  const b = await context.newPage();
  await b.goto(`${origin}/probe.html`);
  await b.evaluate(
    () =>
      new Promise<void>((resolve) => {
        const open = (globalThis as any).indexedDB.open('omega-track-spool');
        open.onsuccess = () => {
          const db = open.result;
          const tx = db.transaction('spools', 'readwrite');
          const spools = tx.objectStore('spools');
          const all = spools.getAll();
          all.onsuccess = () => {
            for (const s of all.result) spools.put({ ...s, beat: Date.now() - 600_000 });
          };
          tx.oncomplete = () => {
            db.close();
            resolve();
          };
        };
      }),
  );
  // another tab of the origin opens a store of the same server: it adopts A's spool
  await openClient(b, token);
  await b.waitForTimeout(1500);
  // page A is alive and logs on; then it reaches the server again
  await logSome(100);
  await b.waitForTimeout(1500);
  await a.unroute(`${server.url}/**`);
  let steps: number[] = [];
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    const om = omega({ store, create: false });
    try {
      const rows = (await om.runtime.experiment('demo/lease').data({ run, event: 'metric' })) as any[];
      steps = rows.map((r) => r.step as number);
    } finally {
      await om.close();
    }
    if (steps.length >= 200) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(steps).toEqual(Array.from({ length: 200 }, (_, i) => i));
});
