/**
 * The low defects found in review of the issue-24 UI, in headless Chromium: the zoom and the order
 * of `charts=` kept in the URL, a metric of one point drawn, natural order of keys, a section's box
 * in the metric picker that only ticks, `group=parent` with the sweep's own run heading its group,
 * `sel=` checked against the runs there are, and round ticks on parallel coordinates.
 */
import type { Page } from 'playwright-core';
import { omega } from 'omega-track';
import { drawnChart, legendSeries, pixelsOfColor, uiSuite } from './browserHelpers';
import { columnLabels } from './tableHelpers';

/** acc (last) of the sweep's trials: values whose quarters are no round numbers. */
const ACC = [0.613, 0.712, 0.845, 0.931];

/**
 * `keys`: runs 1 and 2 with loss, m1, m2, m10 (100 steps), train/a, train/b and val/x (10 steps);
 * run 1 also logs `single` once. `sweep`: run 1 is the sweep's own run with runs 2 and 3 as its
 * children (run(fn) inside its run(fn)), run 4 stands alone; each trial logs lr, seed and acc.
 */
async function prepare(store: string): Promise<void> {
  const om = omega({ store });
  const keys = om.runtime.experiment('keys');
  for (let r = 1; r <= 2; r++)
    await keys.run(
      (e) => {
        for (let step = 0; step < 100; step++) e.logMetric('loss', r + 10 / (step + 1), step);
        for (const key of ['m1', 'm2', 'm10'])
          for (let step = 0; step < 100; step++) e.logMetric(key, r + step, step);
        for (const key of ['train/a', 'train/b', 'val/x'])
          for (let step = 0; step < 10; step++) e.logMetric(key, r + step, step);
        if (r === 1) e.logMetric('single', 5, 3);
      },
      { name: `k${r}` },
    );
  const sweep = om.runtime.experiment('sweep');
  /** What trial `i` logs. */
  const trial =
    (i: number) =>
    (e: {
      logParams(p: Record<string, number>): unknown;
      logMetric(k: string, v: number, s: number): unknown;
    }) => {
      e.logParams({ lr: [0.1, 0.01, 0.001, 0.0001][i], seed: i });
      e.logMetric('acc', ACC[i], 0);
    };
  await sweep.run(
    async (e) => {
      trial(0)(e);
      await sweep.run(trial(1), { name: 'trial-1' });
      await sweep.run(trial(2), { name: 'trial-2' });
    },
    { name: 'the sweep' },
  );
  await sweep.run(trial(3), { name: 'alone' });
  await om.close();
}

/** The query of the page's hash. */
async function hashQuery(page: Page): Promise<URLSearchParams> {
  const hash = await page.evaluate(() => (globalThis as any).location.hash as string);
  return new URLSearchParams(hash.slice(hash.indexOf('?') + 1));
}

/** The keys of the chart grid's slots, in page order. */
async function slotKeys(page: Page, n: number): Promise<string[]> {
  await page.waitForFunction(
    (count) => (globalThis as any).document.querySelectorAll('.chart-grid .chart-slot').length === count,
    n,
  );
  return page
    .locator('.chart-grid .chart-slot')
    .evaluateAll((slots) => slots.map((s) => s.getAttribute('data-key') ?? ''));
}

describe('the review of the issue-24 UI (low defects)', () => {
  // tall: every slot of the 8 charts is laid out with the picker open (the grid lays out slots
  // within a screen below the viewport)
  const ui = uiSuite(prepare, { viewport: { width: 1200, height: 1600 } });

  afterEach(() => expect(ui.pageErrors).toEqual([]));

  beforeEach(async () => {
    await ui.page.goto('about:blank');
  });

  test('the zoom of the charts is in the URL, comes back on a reload and goes with a double-click', async () => {
    await ui.page.goto(`${ui.server.url}#/e/keys/compare?runs=1,2&charts=loss,m1`);
    const loss = await drawnChart(ui.page, 'loss');
    const box = (await loss.locator('.u-over').boundingBox())!;
    await ui.page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await ui.page.mouse.down();
    await ui.page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
    await ui.page.mouse.up();
    await loss.and(ui.page.locator('[data-zoomed="true"]')).waitFor();
    const zoom = (await hashQuery(ui.page)).get('zoom');
    expect(zoom).toMatch(/^\d+,\d+$/);
    const [from, to] = zoom!.split(',').map(Number);
    expect(from).toBeGreaterThan(10);
    expect(to).toBeLessThan(90);

    await ui.page.reload();
    const again = await drawnChart(ui.page, 'loss');
    await again.and(ui.page.locator('[data-zoomed="true"]')).waitFor();
    // every chart of the page, at the range of the URL, its points fetched for that range
    for (const card of [again, await drawnChart(ui.page, 'm1')]) {
      expect(await card.getAttribute('data-zoomed')).toBe('true');
      expect(Number(await card.getAttribute('data-xmin'))).toBe(from);
      expect(Number(await card.getAttribute('data-xmax'))).toBe(to);
    }
    expect(Number(await again.getAttribute('data-total'))).toBeLessThan(2 * 100);

    await again.locator('.u-over').dblclick();
    await ui.page.waitForFunction(
      () => (globalThis as any).document.querySelectorAll('section.chart-card[data-zoomed]').length === 0,
    );
    expect((await hashQuery(ui.page)).has('zoom')).toBe(false);
  });

  test('charts come in the order charts= lists them, a prefix/* in key order at its place', async () => {
    await ui.page.goto(`${ui.server.url}#/e/keys/compare?runs=1,2&charts=val/x,m10,train/*,m2`);
    expect(await slotKeys(ui.page, 5)).toEqual(['val/x', 'm10', 'train/a', 'train/b', 'm2']);
    // unticking one in the picker keeps the others where they are
    await ui.page.locator('details.picker > summary').click();
    const none = ui.page.locator('details.picker-section[data-prefix=""]');
    await none.locator('summary').click({ position: { x: 60, y: 5 } });
    await none.locator('input.picker-key[data-key="m10"]').uncheck();
    expect(await slotKeys(ui.page, 4)).toEqual(['val/x', 'train/a', 'train/b', 'm2']);
    expect((await hashQuery(ui.page)).get('charts')).toBe('val/x,train/*,m2');
  });

  /** The keys of experiment 'keys', in natural order. */
  const KEYS_IN_NATURAL_ORDER = ['loss', 'm1', 'm2', 'm10', 'single', 'train/a', 'train/b', 'val/x'];

  test('keys are in natural order (m1, m2, m10) in the chart grid, the picker and the table columns', async () => {
    await ui.page.goto(`${ui.server.url}#/e/keys/compare?runs=1,2`);
    expect(await slotKeys(ui.page, 8)).toEqual(KEYS_IN_NATURAL_ORDER);
    await ui.page.locator('details.picker > summary').click();
    const none = ui.page.locator('details.picker-section[data-prefix=""]');
    await none.locator('summary').click({ position: { x: 60, y: 5 } });
    await none.locator('input.picker-key').first().waitFor();
    expect(
      await none
        .locator('input.picker-key')
        .evaluateAll((boxes) => boxes.map((b) => b.getAttribute('data-key'))),
    ).toEqual(['loss', 'm1', 'm2', 'm10', 'single']);

    await ui.page.goto(`${ui.server.url}#/e/keys`);
    await ui.page.locator('table.grid tbody input.pick').first().waitFor();
    const metricHeaders = (await columnLabels(ui.page)).filter((l) => /^metrics\.m\d+$/.test(l));
    expect(metricHeaders).toEqual(['metrics.m1', 'metrics.m2', 'metrics.m10']);
    await ui.page.locator('details.col-chooser > summary').click();
    const offered = await ui.page
      .locator('fieldset.chooser-metrics input.col-pick')
      .evaluateAll((boxes) => boxes.map((b) => b.getAttribute('data-col')));
    expect(offered).toEqual([
      'metrics.loss',
      'metrics.m1',
      'metrics.m2',
      'metrics.m10',
      'metrics.single',
      'metrics.train/a',
      'metrics.train/b',
      'metrics.val/x',
    ]);
  });

  test('a metric of a single point is drawn, as a marker', async () => {
    await ui.page.goto(`${ui.server.url}#/e/keys/compare?runs=1,2&charts=single`);
    const card = await drawnChart(ui.page, 'single');
    const [one] = await legendSeries(card);
    expect(await card.getAttribute('data-points')).toBe('1');
    expect(await pixelsOfColor(card, one.color)).toBeGreaterThan(10);
  });

  test("a section's box in the metric picker ticks its keys and does not fold the section", async () => {
    await ui.page.goto(`${ui.server.url}#/e/keys/compare?runs=1,2`);
    await slotKeys(ui.page, 8);
    await ui.page.locator('details.picker > summary').click();
    const train = ui.page.locator('details.picker-section[data-prefix="train"]');
    await train.locator('summary').click({ position: { x: 60, y: 5 } });
    await train.locator('input.picker-key').first().waitFor();
    expect(await train.evaluate((d) => (d as any).open)).toBe(true);
    await train.locator('summary input[type="checkbox"]').click();
    expect(await slotKeys(ui.page, 6)).not.toContain('train/a');
    // still open, its keys shown unticked
    const section = ui.page.locator('details.picker-section[data-prefix="train"]');
    expect(await section.evaluate((d) => (d as any).open)).toBe(true);
    expect(
      await section.locator('input.picker-key').evaluateAll((boxes) => boxes.map((b) => (b as any).checked)),
    ).toEqual([false, false]);
    // and ticked again, the same
    await section.locator('summary input[type="checkbox"]').click();
    expect(await slotKeys(ui.page, 8)).toEqual(KEYS_IN_NATURAL_ORDER);
    expect((await hashQuery(ui.page)).has('charts')).toBe(false);
    expect(await section.evaluate((d) => (d as any).open)).toBe(true);
  });

  test("group=parent: the sweep's own run heads its children's group, not (no parent)", async () => {
    await ui.page.goto(`${ui.server.url}#/e/sweep?group=parent`);
    await ui.page.locator('tr.group-row').first().waitFor();
    const groups = await ui.page
      .locator('tr.group-row')
      .evaluateAll((rows) =>
        rows.map((r) => [
          r.querySelector('.group-label')?.textContent ?? '',
          Number(r.querySelector('.group-toggle')?.getAttribute('data-count')),
        ]),
      );
    expect(groups.sort()).toEqual([
      ['parent = (none)', 1],
      ['parent = 1', 3],
    ]);
    // the same groups on the compare page
    await ui.page.goto(`${ui.server.url}#/e/sweep/compare?runs=1,2,3,4&group=parent&charts=acc`);
    const card = await drawnChart(ui.page, 'acc');
    expect((await legendSeries(card)).map((s) => s.label).sort()).toEqual([
      'parent=(no parent) (1 runs)',
      'parent=run 1 (3 runs)',
    ]);
  });

  test('sel= keeps only runs there are: others are not counted, kept or compared', async () => {
    await ui.page.goto(`${ui.server.url}#/e/keys?sel=2,99,1`);
    const compare = ui.page.locator('button.compare');
    await ui.page.waitForFunction(
      () => (globalThis as any).document.querySelector('button.compare')?.textContent === 'Compare 2 run(s)',
    );
    expect(await ui.page.locator('table.grid tbody input.pick:checked').count()).toBe(2);
    expect((await hashQuery(ui.page)).get('sel')).toBe('1,2');
    await compare.click();
    await ui.page.waitForFunction(() => (globalThis as any).location.hash.includes('/compare?'));
    expect((await hashQuery(ui.page)).get('runs')).toBe('1,2');
    // none of them a run: nothing picked
    await ui.page.goto('about:blank');
    await ui.page.goto(`${ui.server.url}#/e/keys?sel=7,99`);
    await ui.page.locator('table.grid tbody input.pick').first().waitFor();
    await ui.page.waitForFunction(() => !(globalThis as any).location.hash.includes('sel='));
    expect(await compare.isDisabled()).toBe(true);
  });

  test('parallel-coordinates ticks are round: 1, 2 or 5 × 10^k steps, powers of ten on log axes', async () => {
    await ui.page.goto(`${ui.server.url}#/e/sweep?cols=params.lr,params.seed,metrics.acc`);
    await ui.page.locator('details.plots > summary').click();
    const ticks = async (col: string): Promise<number[]> => {
      const axis = ui.page.locator(`.parallel g.axis[data-col="${col}"]`);
      await axis.waitFor();
      return (await axis.locator('.tick-label').allTextContents()).map(Number);
    };
    for (const col of ['metrics.acc', 'params.seed']) {
      const values = await ticks(col);
      expect(values.length).toBeGreaterThanOrEqual(3);
      const step = values[1] - values[0];
      const mantissa = step / 10 ** Math.floor(Math.log10(step) + 1e-9);
      expect([1, 2, 5].some((m) => Math.abs(mantissa - m) < 1e-6)).toBe(true);
      for (const [i, v] of values.entries()) {
        expect(Math.abs(v / step - Math.round(v / step))).toBeLessThan(1e-6);
        if (i > 0) expect(v - values[i - 1]).toBeCloseTo(step, 9);
      }
    }
    expect(await ticks('metrics.acc')).toEqual([0.65, 0.7, 0.75, 0.8, 0.85, 0.9]);
    const lr = await ticks('params.lr');
    expect(lr).toEqual([0.0001, 0.001, 0.01, 0.1]);
  });
});
