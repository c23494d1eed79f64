import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { omega, startUiServer } from 'omega-track';
import { freshDatabaseName, removeAllPostgresServers, startPostgresServer } from '../helpers/postgresServer';
import {
  XSS_NAME,
  drawnChart,
  launchBrowser,
  legendSeries,
  liveLoggerScript,
  pixelsOfColor,
  prepareStore,
  uiSuite,
} from './browserHelpers';

/** The stores the UI is tried on: the embedded one, and PostgreSQL on a private server (issue 21). */
const STORES: Array<[label: string, url: (dir: string) => Promise<string>]> = [
  ['sqlite', async (dir) => `sqlite:${path.join(dir, 'omega.db')}`],
  ['postgres', async () => (await startPostgresServer()).createDatabase(freshDatabaseName())],
];

afterAll(() => removeAllPostgresServers(), 30_000);

/**
 * Issue 12: the web UI in real headless Chromium (Debian's chromium through playwright-core),
 * served by `startUiServer` from a prepared store.
 */
describe.each(STORES)('the web UI in headless Chromium (%s store)', (_label, storeUrl) => {
  const ui = uiSuite(prepareStore, { storeUrl });
  const dialogs: string[] = [];

  beforeAll(() => {
    // any dialog at all (alert from an injected handler) is recorded and fails the XSS test
    ui.page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
  });

  test('the experiments page lists the experiments of the store', async () => {
    await ui.page.goto(ui.server.url);
    const links = ui.page.locator('a.experiment-link');
    await links.first().waitFor();
    expect((await links.allTextContents()).sort()).toEqual([XSS_NAME, 'mnist'].sort());
    const mnistRow = ui.page.locator('tr', {
      has: ui.page.locator('a.experiment-link', { hasText: /^mnist$/ }),
    });
    // name, provider, runs, last activity
    const cells = await mnistRow.locator('td').allTextContents();
    expect(cells[1]).toBe('default');
    expect(cells[2]).toBe('3');
    expect(cells[3]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    // the search box filters by name
    await ui.page.locator('input.search').fill('mni');
    await ui.page.waitForFunction(
      () => (globalThis as any).document.querySelectorAll('a.experiment-link').length === 1,
    );
    expect(await links.allTextContents()).toEqual(['mnist']);
    expect(ui.pageErrors).toEqual([]);
  });

  test('clicking through to a comparison of two runs draws one line per run', async () => {
    await ui.page.goto(ui.server.url);
    await ui.page.locator('a.experiment-link', { hasText: /^mnist$/ }).click();
    const picks = ui.page.locator('input.pick');
    await picks.first().waitFor();
    expect(await picks.count()).toBe(3);
    // the runs table shows the last value of each metric and each param, headed by kind and key
    const header = await ui.page.locator('table.grid thead th .col-label').allTextContents();
    expect(header).toEqual(
      expect.arrayContaining([
        'metrics.acc',
        'metrics.loss',
        'params.lr',
        'params.batch',
        'params.optimizer',
      ]),
    );
    await ui.page.locator('input.pick[data-run="1"]').check();
    await ui.page.locator('input.pick[data-run="2"]').check();
    await ui.page.locator('button.compare').click();
    await drawnChart(ui.page, 'loss');
    expect(new URL(ui.page.url()).hash).toBe('#/e/mnist/compare?runs=1,2');

    for (const key of ['acc', 'loss']) {
      const card = await drawnChart(ui.page, key);
      expect(await card.getAttribute('data-series')).toBe('2');
      const series = await legendSeries(card);
      expect(series.map((s) => s.label)).toEqual(['run 1 · lr 0.1', 'run 2 · lr 0.01']);
      // two colors, each actually drawn on the canvas
      expect(new Set(series.map((s) => s.color)).size).toBe(2);
      for (const s of series) expect(await pixelsOfColor(card, s.color)).toBeGreaterThan(50);
      // 60 points per run, none downsampled away
      expect(await card.getAttribute('data-points')).toBe('120');
    }
    // params side by side, the differing one marked
    const lrRow = ui.page.locator('table.side-by-side tr', {
      has: ui.page.locator('th', { hasText: /^lr$/ }),
    });
    expect(await lrRow.getAttribute('class')).toContain('differs');
    expect(await lrRow.locator('td').allTextContents()).toEqual(['≠', '0.1', '0.01']);
    const batchRow = ui.page.locator('table.side-by-side tr', {
      has: ui.page.locator('th', { hasText: /^batch$/ }),
    });
    expect((await batchRow.getAttribute('class')) ?? '').not.toContain('differs');
    expect(await batchRow.locator('td').allTextContents()).toEqual(['', '32', '32']);
    expect(ui.pageErrors).toEqual([]);
  });

  test("the runs filter box shows a key's underscores, and its example names a status the badges show", async () => {
    await ui.page.goto(`${ui.server.url}#/e/mnist`);
    const input = ui.page.locator('input.filter');
    await input.waitFor();
    expect(await input.getAttribute('placeholder')).toMatch(/status = 'STOPPED'/);
    // the same text with a space where the underscore is: if the underscore is clipped, the two
    // boxes look the same
    await input.fill('metrics.val_acc');
    const withUnderscore = await input.screenshot();
    await input.fill('metrics.val acc');
    const withSpace = await input.screenshot();
    expect(withUnderscore.equals(withSpace)).toBe(false);
    await input.fill('');
  });

  test("a FAILED run's error is in its row of the runs table", async () => {
    const om = omega({ store: ui.store });
    await om.runtime
      .experiment('failing')
      .run(() => {
        throw new Error('CUDA out of memory at epoch 3');
      })
      .catch(() => undefined);
    await om.close();
    await ui.page.goto(`${ui.server.url}#/e/failing`);
    const row = ui.page.locator('table.grid tbody tr').first();
    await row.waitFor();
    expect(await row.locator('.run-error').textContent()).toMatch(/CUDA out of memory at epoch 3/);
  });

  test('an experiment named like markup shows as text and opens no dialog', async () => {
    await ui.page.goto(ui.server.url);
    const link = ui.page.locator('a.experiment-link', { hasText: XSS_NAME });
    await link.waitFor();
    expect(await link.textContent()).toBe(XSS_NAME);
    // the name became no element
    expect(await ui.page.locator('main img, main svg:not(.uplot svg), main script').count()).toBe(0);
    await link.click();
    await ui.page.locator('input.pick').first().waitFor();
    expect(await ui.page.locator('h2').textContent()).toBe(XSS_NAME);
    expect(await ui.page.locator('#crumbs').textContent()).toContain(XSS_NAME);
    // the run's name, its param and its metric key (a column and a chart title) are text too
    expect(await ui.page.locator('table.grid tbody').textContent()).toContain('<svg onload=alert(4)>');
    expect(await ui.page.locator('table.grid thead').textContent()).toContain('<img src=y onerror=alert(3)>');
    await ui.page.locator('input.pick').first().check();
    await ui.page.locator('button.compare').click();
    const card = await drawnChart(ui.page, '<img src=y onerror=alert(3)>');
    expect(await card.locator('h3').textContent()).toBe('<img src=y onerror=alert(3)>');
    expect(await ui.page.locator('table.side-by-side').textContent()).toContain('<script>alert(2)</script>');
    expect(await ui.page.locator('main img, main script').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(ui.pageErrors).toEqual([]);
  });

  test('the artifacts page lists a run’s artifacts, shows JSON and downloads bytes, whatever their keys', async () => {
    await ui.page.goto(`${ui.server.url}#/e/${encodeURIComponent(XSS_NAME)}/run/1/artifacts`);
    const rows = ui.page.locator('table.grid tbody tr');
    await rows.nth(1).waitFor();
    expect(await ui.page.locator('table.grid tbody td.name').allTextContents()).toEqual([
      '..',
      '<b>weights</b>',
    ]);
    await rows.nth(0).locator('button.show').click();
    const shown = ui.page.locator('.viewer pre.json');
    await shown.waitFor();
    expect(JSON.parse((await shown.textContent()) ?? '')).toEqual({ note: '<i>shown as text</i>' });
    const href = await rows.nth(1).locator('a.download').getAttribute('href');
    expect(href).toContain('/artifact?key=');
    const body = await ui.page.evaluate(async (url) => (await fetch(url)).text(), href!);
    expect(body).toBe('the bytes');
    expect(await ui.page.locator('main i, main b, main script').count()).toBe(0);
    expect(dialogs).toEqual([]);
    expect(ui.pageErrors).toEqual([]);
  });

  test("a live run's chart grows while a child process logs, without a reload", async () => {
    const child: ChildProcess = spawn(process.execPath, [liveLoggerScript(ui.dir), ui.store], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let childErr = '';
    child.stderr!.on('data', (d: Buffer) => (childErr += d.toString()));
    try {
      // wait until the child has flushed a first batch into its run (run 1 of 'live')
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on('data', (d: Buffer) => {
          if (d.toString().includes('step')) resolve();
        });
        child.once('exit', (code) => reject(new Error(`the logger exited (${code}): ${childErr}`)));
      });
      await ui.page.goto(`${ui.server.url}#/e/live/compare?runs=1`);
      const card = await drawnChart(ui.page, 'loss');
      const first = Number(await card.getAttribute('data-points'));
      expect(first).toBeGreaterThan(0);
      // a mark on the window: a reload would drop it
      await ui.page.evaluate(() => ((globalThis as any).__sameDocument = true));
      await ui.page.waitForFunction(
        (n) =>
          Number(
            (globalThis as any).document.querySelector('section.chart-card[data-key="loss"]')?.dataset.points,
          ) > n,
        first,
        { timeout: 30_000 },
      );
      const later = Number(await card.getAttribute('data-points'));
      expect(later).toBeGreaterThan(first);
      expect(await ui.page.evaluate(() => (globalThis as any).__sameDocument)).toBe(true);
      // the runs table updates by itself too: its step count grows past what it showed first
      await ui.page.goto(`${ui.server.url}#/e/live`);
      const status = ui.page.locator('table.grid tbody tr', {
        has: ui.page.locator('input.pick[data-run="1"]'),
      });
      await status.locator('.status').waitFor();
      expect(await status.locator('.status').textContent()).toBe('STARTED');
      const lossCell = status.locator('td.metric');
      const before = await lossCell.textContent();
      await ui.page.waitForFunction(
        (text) =>
          (globalThis as any).document
            .querySelector('input.pick[data-run="1"]')
            ?.closest('tr')
            ?.querySelector('td.metric')?.textContent !== text,
        before,
        { timeout: 30_000 },
      );
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    }
    expect(ui.pageErrors).toEqual([]);
  });

  test('with the token on, a request without it gets 401 and ?token= loads the page', async () => {
    const guarded = await startUiServer({ store: ui.store, port: 0, token: 'sesame-0123456789' });
    const fresh = await launchBrowser();
    try {
      const base = `http://127.0.0.1:${guarded.port}/`;
      const refused = await fresh.page.goto(base);
      expect(refused?.status()).toBe(401);
      const api = await fresh.page.goto(`${base}api/experiments`);
      expect(api?.status()).toBe(401);
      expect(await fresh.page.locator('a.experiment-link').count()).toBe(0);
      const wrong = await fresh.page.goto(`${base}?token=not-the-token`);
      expect(wrong?.status()).toBe(401);

      expect(guarded.url).toBe(`${base}?token=sesame-0123456789`);
      const ok = await fresh.page.goto(guarded.url);
      expect(ok?.status()).toBe(200);
      const links = fresh.page.locator('a.experiment-link');
      await links.first().waitFor();
      expect(await links.allTextContents()).toEqual(expect.arrayContaining([XSS_NAME, 'mnist']));
    } finally {
      await fresh.close();
      await guarded.close();
    }
  });
});
