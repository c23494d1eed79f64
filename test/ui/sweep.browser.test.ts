/**
 * A sweep's run page links to its trials (issue 25): the runs table filtered to the sweep's
 * child runs, with the parallel coordinates open; a run that is no sweep has no such link.
 */
import { omega } from 'omega-track';
import { uiSuite } from './browserHelpers';

/** Run 1: a sweep of 3 trials (runs 2–4); run 5: a run of its own. */
async function prepare(store: string): Promise<void> {
  const om = omega({ store });
  const exp = om.runtime.experiment('sw');
  await exp.sweep(
    { space: { lr: [0.1, 0.01, 0.001] }, method: 'grid', metric: 'acc', goal: 'maximize' },
    (p, e) => e.logMetric('acc', 1 - (p.lr as number), 0),
  );
  await exp.run((e) => e.logMetric('acc', 0.5, 0), { name: 'alone' });
  await om.close();
}

describe("a sweep's run page (issue 25)", () => {
  const ui = uiSuite(prepare);

  afterEach(() => expect(ui.pageErrors).toEqual([]));

  test('links to its trials: the runs table filtered to them, the parallel coordinates open with a line per trial', async () => {
    await ui.page.goto(`${ui.server.url}#/e/sw/run/1/events`);
    const link = ui.page.locator('nav.run-nav a.sweep-trials');
    await link.waitFor();
    await link.click();
    await ui.page.locator('table.grid tbody tr').first().waitFor();
    const hash = await ui.page.evaluate(() => (globalThis as any).location.hash as string);
    const query = new URLSearchParams(hash.slice(hash.indexOf('?') + 1));
    expect(query.get('filter')).toBe('attributes.parent = 1');
    expect(query.get('plots')).toBe('1');
    expect(await ui.page.locator('table.grid tbody tr').count()).toBe(3);
    expect(await ui.page.locator('details.plots').evaluate((d) => (d as any).open as boolean)).toBe(true);
    await ui.page.locator('.parallel path.run-line').first().waitFor();
    expect(await ui.page.locator('.parallel path.run-line').count()).toBe(3);
  });

  test('a run that is no sweep has no link to trials', async () => {
    // the nav asks the server for the run once the page is drawn: its answer decides
    const answered = ui.page.waitForResponse(
      (r) => r.url().includes('/runs?') && r.url().includes('attributes.run'),
    );
    await ui.page.goto(`${ui.server.url}#/e/sw/run/5/events`);
    await answered;
    await ui.page.locator('nav.run-nav').waitFor();
    await ui.page.evaluate(() => new Promise((r) => setTimeout(r, 0)));
    expect(await ui.page.locator('nav.run-nav a.sweep-trials').count()).toBe(0);
  });
});
