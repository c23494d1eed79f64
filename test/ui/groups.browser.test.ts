import { omega } from 'omega-track';
import { drawnChart, legendSeries, uiSuite } from './browserHelpers';

/** loss of run i (0-based) at a step: each group's members spread around their mean. */
const loss = (i: number, step: number): number => 10 + (i % 2 === 0 ? 0 : 5) + i * 0.37 + step * 0.1;

/**
 * Issue 24, groups in charts, end to end: the compare page grouped by params.lr draws per group
 * one mean line with a band, from the real server's `/band` (no fake here).
 */
describe('groups of runs on the compare page, with the real band endpoint', () => {
  const ui = uiSuite(async (store) => {
    const om = omega({ store });
    const exp = om.runtime.experiment('sweep');
    for (let i = 0; i < 25; i++)
      await exp.run((e) => {
        // runs 1,3,5,7,9: lr 0.1; runs 2,4,6,8,10: lr 0.01
        e.logParam('lr', i % 2 === 0 ? 0.1 : 0.01);
        // a param of as many values as runs (a seed)
        e.logParam('seed', 1000 + i);
        for (let step = 0; step <= 20; step++) e.logMetric('loss', loss(i, step), step);
      });
    await om.close();
  });

  test('a group of 5 runs shows one band whose mean is the mean of its members at a step', async () => {
    await ui.page.goto(
      `${ui.server.url}#/e/sweep/compare?runs=1,2,3,4,5,6,7,8,9,10&charts=loss&group=params.lr`,
    );
    const card = await drawnChart(ui.page, 'loss');
    expect(await card.getAttribute('data-bands')).toBe('2');
    expect((await legendSeries(card)).map((s) => s.label)).toEqual([
      'params.lr=0.1 (5 runs)',
      'params.lr=0.01 (5 runs)',
    ]);
    // hover the middle of the plot: the legend shows the step and each group's mean there
    const box = (await card.locator('.u-over').boundingBox())!;
    await ui.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    const stepText = (await ui.page.locator('.chart-legend .legend-x').textContent()) ?? '';
    const step = Number(/^step (\d+)$/.exec(stepText)?.[1]);
    expect(Number.isInteger(step)).toBe(true);
    const shown = await ui.page.locator('.chart-legend .legend-value').allTextContents();
    const means = [0, 1].map((parity) => {
      const members = [0, 2, 4, 6, 8].map((i) => i + parity);
      return members.reduce((s, i) => s + loss(i, step), 0) / members.length;
    });
    expect(Number(shown[0])).toBeCloseTo(means[0], 1);
    expect(Number(shown[1])).toBeCloseTo(means[1], 1);
    // the members, on demand, five per group
    await ui.page.locator('input.members').check();
    await ui.page.waitForFunction(
      () =>
        (globalThis as any).document.querySelector('section.chart-card[data-key="loss"]')?.dataset.members ===
        '10',
    );
    expect(ui.pageErrors).toEqual([]);
  });

  test('a grouping into more groups than colours draws the 20 largest, says so, and asks 20 bands per chart', async () => {
    const bands: string[] = [];
    const listen = (r: { url(): string }): void => {
      if (r.url().includes('/band?')) bands.push(r.url());
    };
    ui.page.on('request', listen);
    try {
      const runs = Array.from({ length: 25 }, (_, i) => i + 1).join(',');
      await ui.page.goto('about:blank');
      await ui.page.goto(`${ui.server.url}#/e/sweep/compare?runs=${runs}&charts=loss&group=params.seed`);
      await drawnChart(ui.page, 'loss');
      const note = ui.page.locator('.group-note');
      await note.waitFor();
      expect(await note.textContent()).toContain('25 groups by params.seed: the 20 largest are drawn');
      expect(bands.length).toBe(20);
      expect(ui.pageErrors).toEqual([]);
    } finally {
      ui.page.off('request', listen);
    }
  });
});
