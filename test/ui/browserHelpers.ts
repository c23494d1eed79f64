/**
 * For the browser tests of the web UI: the built client, a prepared store, headless Chromium
 * (Debian's `chromium`, driven by playwright-core) with a fresh profile, and reading what a chart
 * drew from its canvas.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import type { UiServerHandle } from 'omega-track';
import { omega, startUiServer } from 'omega-track';
import { tempDir } from '../helpers/tmp';

export const REPO = path.join(__dirname, '..', '..');
export const ASSETS = path.join(REPO, 'cli', 'dist', 'ui', 'assets', 'app.js');
export const CHROMIUM = '/usr/bin/chromium';
export const XSS_NAME = '<img src=x onerror=alert(1)>';

/** Builds the client bundle when it is not there (jest runs the server from sources, not the page). */
export function ensureClientBuilt(): void {
  if (fs.existsSync(ASSETS) && fs.existsSync(path.join(REPO, 'cli', 'dist', 'ui', 'index.html'))) return;
  const r = spawnSync(process.execPath, [path.join(REPO, 'cli', 'scripts', 'buildUi.js')], {
    cwd: REPO,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`building the UI failed:\n${r.stdout}\n${r.stderr}`);
}

/**
 * The store the tests browse: `mnist` with three finished runs (loss and acc over 60 steps,
 * params that differ in lr), and an experiment named like an HTML injection whose run holds
 * markup in its name, a param and a metric key.
 */
export async function prepareStore(storeUrl: string): Promise<void> {
  const om = omega({ store: storeUrl });
  const mnist = om.runtime.experiment('mnist');
  for (const [i, lr] of [0.1, 0.01, 0.001].entries()) {
    await mnist.run(
      (e) => {
        e.logParams({ lr, batch: 32, optimizer: 'adam' });
        for (let step = 0; step < 60; step++) {
          e.logMetric('loss', (1 + i) / (step + 1) + 0.02 * Math.sin(step), step);
          e.logMetric('acc', 1 - 0.5 / (step + 1 + i * 3), step);
        }
      },
      { name: `lr ${lr}` },
    );
  }
  const hostile = om.runtime.experiment(XSS_NAME);
  await hostile.run(
    (e) => {
      e.logParam('<b>bold</b>', '<script>alert(2)</script>');
      for (let step = 0; step < 10; step++) e.logMetric('<img src=y onerror=alert(3)>', step * step, step);
      // artifacts under a key no URL path can carry, and one named like markup
      e.logArtifact({ note: '<i>shown as text</i>' }, '..');
      e.logArtifact(Buffer.from('the bytes'), '<b>weights</b>');
    },
    { name: '<svg onload=alert(4)>' },
  );
  await om.close();
}

/** Chromium with a fresh profile, as the issue asks (no state between runs). */
export async function launchBrowser(extraArgs: string[] = []): Promise<{
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
    viewport: { width: 1200, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    context,
    page,
    close: async () => {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** What a suite of the UI server uses: its temporary directory, the store and the server on it. */
export interface UiServerSuite {
  /** A temporary directory of the suite, removed after it. */
  dir: string;
  store: string;
  server: UiServerHandle;
}

/** A UI server suite with headless Chromium: its page, and the errors thrown in it so far. */
export interface UiSuite extends UiServerSuite {
  page: Page;
  pageErrors: string[];
}

/** How a suite's store is made and how long its start may take. */
export interface UiSuiteOptions {
  /** The store's URL, made in the suite's directory (default: SQLite there). */
  storeUrl?: (dir: string) => Promise<string>;
  /** The start's timeout in ms, for stores that take long to prepare (jest's default otherwise). */
  timeout?: number;
}

/**
 * Registers `start` in beforeAll and the close of what it started in afterAll; the handle is
 * usable as soon as the tests run (it forwards to what beforeAll started).
 */
function suiteHandle<T extends object>(
  start: () => Promise<T & { close(): Promise<void> }>,
  timeout?: number,
): T {
  let started: (T & { close(): Promise<void> }) | undefined;
  beforeAll(async () => {
    started = await start();
  }, timeout);
  afterAll(async () => {
    await started?.close();
  });
  return new Proxy({} as T, {
    get: (_target, key) => {
      if (!started) throw new Error('the suite starts in beforeAll');
      return Reflect.get(started, key) as unknown;
    },
  });
}

/** A temporary store that `prepare` filled, a UI server on it, and (with `browser`) Chromium. */
async function startUiSuite(
  prepare: (store: string) => Promise<unknown>,
  opts: UiSuiteOptions & { browser: boolean; viewport?: { width: number; height: number } },
): Promise<UiSuite & { close(): Promise<void> }> {
  const tmp = tempDir('omega-ui-suite-');
  let server: UiServerHandle | undefined;
  let browser: Awaited<ReturnType<typeof launchBrowser>> | undefined;
  const close = async (): Promise<void> => {
    await browser?.close();
    await server?.close();
    tmp.cleanup();
  };
  try {
    if (opts.browser) ensureClientBuilt();
    const store = opts.storeUrl ? await opts.storeUrl(tmp.dir) : `sqlite:${path.join(tmp.dir, 'omega.db')}`;
    await prepare(store);
    server = await startUiServer({ store, port: 0 });
    const pageErrors: string[] = [];
    let page: Page | undefined;
    if (opts.browser) {
      browser = await launchBrowser();
      page = browser.page;
      if (opts.viewport) await page.setViewportSize(opts.viewport);
      page.on('pageerror', (e) => pageErrors.push(e.message));
    }
    return {
      dir: tmp.dir,
      store,
      server,
      get page(): Page {
        if (!page) throw new Error('this suite runs no browser');
        return page;
      },
      pageErrors,
      close,
    };
  } catch (e) {
    // a start that failed half way leaves nothing behind (afterAll has no handle to close)
    await close();
    throw e;
  }
}

/**
 * The UI server of a test file without a browser: a temporary store that `prepare` filled and
 * `startUiServer` on it, started before the file's tests and closed after them.
 */
export function uiServerSuite(
  prepare: (store: string) => Promise<unknown>,
  opts: UiSuiteOptions = {},
): UiServerSuite {
  return suiteHandle(() => startUiSuite(prepare, { ...opts, browser: false }), opts.timeout);
}

/**
 * The browser suite of a test file: a temporary store that `prepare` filled, `startUiServer` on
 * it and Chromium (at `viewport` when given), its page's errors collected in `pageErrors`;
 * started before the file's tests and closed after them.
 */
export function uiSuite(
  prepare: (store: string) => Promise<unknown>,
  opts: UiSuiteOptions & { viewport?: { width: number; height: number } } = {},
): UiSuite {
  return suiteHandle(() => startUiSuite(prepare, { ...opts, browser: true }), opts.timeout);
}

/** The chart card of a metric key on the compare page, once drawn. */
export async function drawnChart(page: Page, key: string): Promise<Locator> {
  const card = page.locator(`section.chart-card[data-key="${key.replace(/["\\]/g, '\\$&')}"]`);
  await card.and(page.locator('[data-state="drawn"]')).waitFor();
  return card;
}

/**
 * The lines a chart page's legend lists (one legend per page, above the charts — issue 24), with
 * each one's colour as the browser computed it from its swatch. `card` names the page.
 */
export async function legendSeries(card: Locator): Promise<{ label: string; color: string }[]> {
  const items = card.page().locator('.chart-legend .legend-item');
  const n = await items.count();
  const out: { label: string; color: string }[] = [];
  for (let i = 0; i < n; i++) {
    const item = items.nth(i);
    const label = (await item.locator('.legend-label').textContent()) ?? '';
    const color = await item
      .locator('.swatch')
      .evaluate((m) => (globalThis as any).getComputedStyle(m).backgroundColor as string);
    out.push({ label, color });
  }
  return out;
}

/**
 * How many pixels of the chart's canvas are close to `rgb` (`rgb(r, g, b)`): a line drawn in a
 * run's color leaves many; axes and grid are grey and leave none.
 */
export async function pixelsOfColor(card: Locator, rgb: string): Promise<number> {
  const [r, g, b] = (rgb.match(/\d+/g) ?? []).map(Number);
  return card.locator('canvas').evaluate(
    (canvas, target) => {
      const c = canvas as any;
      const data: Uint8ClampedArray = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3] < 200) continue;
        const d =
          Math.abs(data[i] - target.r) + Math.abs(data[i + 1] - target.g) + Math.abs(data[i + 2] - target.b);
        if (d < 60) n++;
      }
      return n;
    },
    { r, g, b },
  );
}

/** A script for a child process: logs `loss` into a STARTED run of `live` and flushes every 200 ms. */
export function liveLoggerScript(dir: string): string {
  const file = path.join(dir, 'live-logger.js');
  const dist = path.join(REPO, 'cli', 'dist', 'index.js');
  fs.writeFileSync(
    file,
    `// logs into a STARTED run until killed (flushOnExit writes the rest on SIGTERM)
const { omega } = require(${JSON.stringify(dist)});
const om = omega({ store: process.argv[2] });
const exp = om.runtime.experiment('live');
(async () => {
  await exp.start({ name: 'watch me' });
  let step = 0;
  const tick = async () => {
    for (let i = 0; i < 5; i++, step++) exp.logMetric('loss', 1 / (step + 1), step);
    await exp.flush();
    process.stdout.write('step ' + step + '\\n');
    setTimeout(tick, 200);
  };
  await tick();
})().catch((e) => { console.error(e); process.exit(1); });
`,
  );
  return file;
}
