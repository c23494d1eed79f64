/**
 * Issue 24, the runs page on what the UI server gains in the same issue (built in parallel on
 * another branch, against the contract in ui24-contract.md): a metric's mean (`metrics[k].mean`),
 * the value at a step (`GET …/values`), saved views (`GET/PUT/DELETE …/views`) and the profile
 * flag of a run (`profile: true`). In headless Chromium, served by `startUiServer`.
 */
import { omega } from 'omega-track';
import { uiSuite } from './browserHelpers';
import { accAt, cellOf, prepareSweep, waitForRuns } from './tableHelpers';

describe('the runs table on the issue-24 server API', () => {
  const ui = uiSuite(
    async (store) => {
      await prepareSweep(store);
      // run 1 of `profiled` has profile events, run 2 none
      const om = omega({ store });
      const profiled = om.runtime.experiment('profiled');
      await profiled.run((e) => {
        for (let step = 0; step < 5; step++) e.logEvent('profile', 'cpu_load', 0.1 * step, { step });
      });
      await profiled.run((e) => e.logMetric('loss', 1, 0));
      await om.close();
    },
    { viewport: { width: 1358, height: 900 } },
  );

  async function open(experiment: string, query = ''): Promise<void> {
    await ui.page.goto('about:blank');
    await ui.page.goto(`${ui.server.url}#/e/${experiment}${query ? `?${query}` : ''}`);
    await ui.page.locator('table.grid tbody tr').first().waitFor();
  }

  test("a metric column shows its mean (the server's metrics[k].mean)", async () => {
    await open('sweep', 'val=acc:mean');
    await waitForRuns(ui.page, [1, 2, 3, 4, 5, 6]);
    const mean = (i: number): number =>
      Array.from({ length: 10 }, (_, s) => accAt(i, s)).reduce((a, b) => a + b) / 10;
    // 0.9 × 0.75
    expect(mean(0)).toBeCloseTo(0.675, 12);
    expect(await cellOf(ui.page, 1, 'metrics.acc')).toBe('0.675');
    expect(await cellOf(ui.page, 3, 'metrics.acc')).toBe('0.7125');
    expect(ui.pageErrors).toEqual([]);
  });

  test('a metric column shows the value at a chosen step (GET …/values)', async () => {
    await open('sweep');
    await waitForRuns(ui.page, [1, 2, 3, 4, 5, 6]);
    const valueRequests: string[] = [];
    ui.page.on('request', (r) => {
      if (r.url().includes('/values?')) valueRequests.push(r.url());
    });
    await ui.page.locator('th[data-col="metrics.acc"] select.val-choice').selectOption('step');
    await ui.page.locator('th[data-col="metrics.acc"] input.val-step').fill('5');
    await ui.page.locator('th[data-col="metrics.acc"] input.val-step').press('Enter');
    await ui.page.waitForFunction(() => (globalThis as any).location.hash.includes('step'));
    await ui.page.waitForFunction(
      () =>
        (globalThis as any).document
          .querySelector('input.pick[data-run="3"]')
          ?.closest('tr')
          ?.textContent?.includes('0.95'),
      undefined,
      { timeout: 10_000 },
    );
    // at step 5 acc is at its peak: the run's base
    expect(await cellOf(ui.page, 3, 'metrics.acc')).toBe('0.95');
    expect(await cellOf(ui.page, 6, 'metrics.acc')).toBe('0.6');
    expect(valueRequests.length).toBeGreaterThan(0);
    expect(decodeURIComponent(new URL(ui.page.url()).hash)).toContain('val=acc:step:5');
    expect(await ui.page.locator('.step-note').isHidden()).toBe(true);
  });

  test('a view is saved under a name, listed, opened and deleted', async () => {
    await open('sweep', `filter=${encodeURIComponent("params.optimizer = 'adam'")}&group=params.lr`);
    await ui.page.locator('details.views-panel > summary').click();
    await ui.page.locator('input.view-name').fill('adam by lr');
    await ui.page.locator('button.save-view').click();
    const item = ui.page.locator('.views-list li.view[data-view="adam by lr"]');
    await item.waitFor();

    // from a page without that state, the view brings it back
    await open('sweep');
    await ui.page.locator('details.views-panel > summary').click();
    await item.locator('a.open-view').click();
    await ui.page.locator('table.grid tbody tr.group-row').first().waitFor();
    expect(await ui.page.locator('input.filter').inputValue()).toBe("params.optimizer = 'adam'");
    expect(await ui.page.locator('input.group').inputValue()).toBe('params.lr');
    expect(new URLSearchParams(new URL(ui.page.url()).hash.split('?')[1]).get('view')).toBe('adam by lr');

    await ui.page.locator('details.views-panel > summary').click();
    await item.locator('button.delete-view').click();
    await ui.page.locator('.views-list li', { hasText: 'No saved views.' }).waitFor();
    expect(await item.count()).toBe(0);
    expect(ui.pageErrors).toEqual([]);
  });

  test('a view saved on Compare keeps its runs, x axis, smoothing and charts, and opens Compare again', async () => {
    await ui.page.goto('about:blank');
    await ui.page.goto(`${ui.server.url}#/e/sweep/compare?runs=2,4&x=relative&smooth=0.5&charts=acc`);
    await ui.page.locator('.chart-card').first().waitFor();
    await ui.page.locator('details.views-panel > summary').click();
    await ui.page.locator('input.view-name').fill('two runs, smoothed');
    await ui.page.locator('button.save-view').click();
    await ui.page.locator('.views-list li.view[data-view="two runs, smoothed"]').waitFor();

    // listed with the runs page's views; opening it goes back to Compare with every setting
    await open('sweep');
    await ui.page.locator('details.views-panel > summary').click();
    await ui.page.locator('.views-list li.view[data-view="two runs, smoothed"] a.open-view').click();
    await ui.page.locator('.compare-page .chart-card').first().waitFor();
    const [route, query] = new URL(ui.page.url()).hash.split('?');
    expect(route).toBe('#/e/sweep/compare');
    const q = new URLSearchParams(query);
    expect({ runs: q.get('runs'), x: q.get('x'), smooth: q.get('smooth'), charts: q.get('charts') }).toEqual({
      runs: '2,4',
      x: 'relative',
      smooth: '0.5',
      charts: 'acc',
    });
    expect(await ui.page.locator('select[aria-label="x axis"]').inputValue()).toBe('relative');
    expect(ui.pageErrors).toEqual([]);
  });

  test('the profile link shows only in the row of a run that has a profile', async () => {
    await open('profiled');
    await waitForRuns(ui.page, [1, 2]);
    const linksOf = (run: number) =>
      ui.page
        .locator('table.grid tbody tr', { has: ui.page.locator(`input.pick[data-run="${run}"]`) })
        .locator('.links a')
        .allTextContents();
    expect(await linksOf(1)).toEqual(['profile', 'artifacts', 'events']);
    expect(await linksOf(2)).toEqual(['artifacts', 'events']);
  });
});
