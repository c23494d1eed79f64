import type { Locator } from 'playwright-core';
import { omega } from 'omega-track';
import { drawnChart, legendSeries, pixelsOfColor, uiSuite } from './browserHelpers';

const RUNS = 12;
const WIDE_KEYS = 300;
const PREFIXES = ['train', 'val', 'system'];

/**
 * `sync`: 12 runs with a noisy `loss` and `acc` over 100 steps and a param lr (3 values);
 * `other`: one run with `loss` (compared across experiments); `wide`: one run with 300 metric
 * keys, 100 each under train/, val/ and system/.
 */
async function prepare(store: string): Promise<void> {
  const om = omega({ store });
  const sync = om.runtime.experiment('sync');
  for (let i = 0; i < RUNS; i++)
    await sync.run(
      (e) => {
        e.logParams({ lr: [0.1, 0.01, 0.001][i % 3] });
        for (let step = 0; step < 100; step++) {
          // a zig-zag: its raw line covers far more pixels than its smoothed one
          e.logMetric('loss', 2 + i * 0.4 + (step % 2 === 0 ? 0.8 : -0.8) - step / 100, step);
          e.logMetric('acc', i * 0.05 + step / 200, step);
        }
      },
      { name: `r${i + 1}` },
    );
  await om.runtime.experiment('other').run((e) => {
    for (let step = 0; step < 100; step++) e.logMetric('loss', 5 - step / 50, step);
    // a level near 1 GB moving by a few MB: ticks 1.000e9 … 1.014e9
    for (let step = 0; step < 100; step++) e.logMetric('gpu_mem', 1e9 + step * 140_000, step);
  });
  await om.runtime.experiment('wide').run((e) => {
    for (let k = 0; k < WIDE_KEYS; k++) {
      const key = `${PREFIXES[k % 3]}/m${String(Math.floor(k / 3)).padStart(3, '0')}`;
      for (let step = 0; step < 5; step++) e.logMetric(key, k + step, step);
    }
  });
  await om.close();
}

/** `rgb(r, g, b)` as hue (degrees) and lightness (0–100). */
function hueLight(rgb: string): { hue: number; light: number } {
  const [r, g, b] = (rgb.match(/\d+/g) ?? []).map((v) => Number(v) / 255);
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const light = ((max + min) / 2) * 100;
  const d = max - min;
  let hue = 0;
  if (d > 0) {
    if (max === r) hue = ((g - b) / d) % 6;
    else if (max === g) hue = (b - r) / d + 2;
    else hue = (r - g) / d + 4;
  }
  return { hue: (hue * 60 + 360) % 360, light };
}

/** The x position (in the plot area) of a chart's cursor line, or null when it is off. */
async function cursorX(card: Locator): Promise<number | null> {
  return card.locator('.u-cursor-x').evaluate((el) => {
    if (el.classList.contains('u-off')) return null;
    const m = /translate\(([-\d.]+)px/.exec((el as any).style.transform as string);
    return m ? Number(m[1]) : null;
  });
}

/**
 * Pixels of a chart's canvas in `rgb` drawn faint (opacity about `alpha`): the canvas is
 * transparent under the lines, so a faint line leaves pixels of the colour with a low alpha.
 */
async function faintPixels(card: Locator, rgb: string, alpha: number): Promise<number> {
  const [r, g, b] = (rgb.match(/\d+/g) ?? []).map(Number);
  return card.locator('canvas').evaluate(
    (canvas, t) => {
      const c = canvas as any;
      const data: Uint8ClampedArray = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) {
        const a = data[i + 3] / 255;
        if (a < t.alpha * 0.6 || a > t.alpha * 1.6) continue;
        if (Math.abs(data[i] - t.r) + Math.abs(data[i + 1] - t.g) + Math.abs(data[i + 2] - t.b) < 60) n++;
      }
      return n;
    },
    { r, g, b, alpha },
  );
}

describe('the chart pages in headless Chromium (issue 24)', () => {
  const ui = uiSuite(prepare);

  afterEach(() => expect(ui.pageErrors).toEqual([]));

  const all = Array.from({ length: RUNS }, (_, i) => i + 1).join(',');

  test('12 runs get 12 distinct colours: hues ≥ 25° apart or lightness clearly apart', async () => {
    await ui.page.goto(`${ui.server.url}#/e/sync/compare?runs=${all}&charts=acc`);
    const card = await drawnChart(ui.page, 'acc');
    const series = await legendSeries(card);
    expect(series).toHaveLength(RUNS);
    const hl = series.map((s) => hueLight(s.color));
    for (let i = 0; i < RUNS; i++)
      for (let j = i + 1; j < RUNS; j++) {
        const dh = Math.abs(hl[i].hue - hl[j].hue);
        const hueApart = Math.min(dh, 360 - dh) >= 25;
        const lightApart = Math.abs(hl[i].light - hl[j].light) >= 15;
        expect({ pair: [i + 1, j + 1], apart: hueApart || lightApart }).toEqual({
          pair: [i + 1, j + 1],
          apart: true,
        });
      }
    // the colour is by position in the selection: run 12 picked first gets the first colour
    await ui.page.goto(`${ui.server.url}#/e/sync/compare?runs=12,1&charts=acc`);
    const first = await legendSeries(await drawnChart(ui.page, 'acc'));
    expect(first.map((s) => s.label)).toEqual(['run 12 · r12', 'run 1 · r1']);
    expect(first[0].color).toBe(series[0].color);
    // and the lines are drawn in the legend's colours
    for (const s of first)
      expect(await pixelsOfColor(await drawnChart(ui.page, 'acc'), s.color)).toBeGreaterThan(50);
  });

  test('one legend per page, and hovering one chart moves the cursor on every chart', async () => {
    await ui.page.goto(`${ui.server.url}#/e/sync/compare?runs=1,2`);
    const loss = await drawnChart(ui.page, 'loss');
    const acc = await drawnChart(ui.page, 'acc');
    expect(await ui.page.locator('.chart-legend').count()).toBe(1);
    expect(await ui.page.locator('.u-legend').count()).toBe(0);
    const box = (await loss.locator('.u-over').boundingBox())!;
    await ui.page.mouse.move(box.x + box.width * 0.4, box.y + box.height / 2);
    await ui.page.waitForFunction(() => {
      const el = (globalThis as any).document.querySelector('section.chart-card[data-key="acc"] .u-cursor-x');
      return el && !el.classList.contains('u-off');
    });
    const onLoss = await cursorX(loss);
    const onAcc = await cursorX(acc);
    expect(onLoss).not.toBeNull();
    expect(onAcc).not.toBeNull();
    // the same step on both (same x range, same width)
    expect(Math.abs(onAcc! - onLoss!)).toBeLessThan(3);
    // the page legend shows the hovered values
    expect(await ui.page.locator('.chart-legend .legend-x').textContent()).toMatch(/^step \d+$/);
    expect(await ui.page.locator('.chart-legend .legend-value').first().textContent()).toMatch(/\d/);
    await ui.page.mouse.move(0, 0);
  });

  test('zooming one chart zooms all; a double-click shows the whole range on all again', async () => {
    await ui.page.goto(`${ui.server.url}#/e/sync/compare?runs=1,2`);
    const loss = await drawnChart(ui.page, 'loss');
    const acc = await drawnChart(ui.page, 'acc');
    const full = Number(await acc.getAttribute('data-xmax')) - Number(await acc.getAttribute('data-xmin'));
    const box = (await loss.locator('.u-over').boundingBox())!;
    await ui.page.mouse.move(box.x + box.width * 0.3, box.y + box.height / 2);
    await ui.page.mouse.down();
    await ui.page.mouse.move(box.x + box.width * 0.6, box.y + box.height / 2, { steps: 5 });
    await ui.page.mouse.up();
    await acc.and(ui.page.locator('[data-zoomed="true"]')).waitFor();
    await ui.page.waitForFunction(() => {
      const d = (globalThis as any).document;
      const a = d.querySelector('section.chart-card[data-key="acc"]').dataset;
      const l = d.querySelector('section.chart-card[data-key="loss"]').dataset;
      return a.xmin === l.xmin && a.xmax === l.xmax && a.state === 'drawn';
    });
    const zoomed = Number(await acc.getAttribute('data-xmax')) - Number(await acc.getAttribute('data-xmin'));
    expect(zoomed).toBeLessThan(full * 0.5);
    expect(await loss.getAttribute('data-zoomed')).toBe('true');
    await acc.locator('.u-over').dblclick();
    await ui.page.waitForFunction(
      () => (globalThis as any).document.querySelectorAll('section.chart-card[data-zoomed]').length === 0,
    );
    await ui.page.waitForFunction(
      (f) =>
        Number(
          (globalThis as any).document.querySelector('section.chart-card[data-key="loss"]').dataset.xmax,
        ) -
          Number(
            (globalThis as any).document.querySelector('section.chart-card[data-key="loss"]').dataset.xmin,
          ) >=
        f,
      full,
    );
  });

  test('hiding a run in the legend hides it on every chart', async () => {
    await ui.page.goto(`${ui.server.url}#/e/sync/compare?runs=1,2`);
    const loss = await drawnChart(ui.page, 'loss');
    const acc = await drawnChart(ui.page, 'acc');
    const [one, two] = await legendSeries(loss);
    for (const card of [loss, acc]) expect(await pixelsOfColor(card, one.color)).toBeGreaterThan(50);
    await ui.page.locator('.chart-legend .legend-item[data-id="sync:1"]').click();
    await ui.page.waitForFunction(() =>
      (globalThis as any).document.querySelector('.legend-item[data-id="sync:1"]').classList.contains('off'),
    );
    for (const card of [loss, acc]) {
      expect(await pixelsOfColor(card, one.color)).toBeLessThan(5);
      expect(await pixelsOfColor(card, two.color)).toBeGreaterThan(50);
    }
    await ui.page.locator('.chart-legend .legend-item[data-id="sync:1"]').click();
    for (const card of [loss, acc]) expect(await pixelsOfColor(card, one.color)).toBeGreaterThan(50);
  });

  test('a smoothed line keeps its raw line, faint, behind it', async () => {
    const open = async (smooth: number): Promise<{ card: Locator; color: string }> => {
      await ui.page.goto('about:blank');
      await ui.page.goto(
        `${ui.server.url}#/e/sync/compare?runs=1&charts=loss${smooth > 0 ? `&smooth=${smooth}` : ''}`,
      );
      const card = await drawnChart(ui.page, 'loss');
      const [line] = await legendSeries(card);
      return { card, color: line.color };
    };
    // unsmoothed, the zig-zag is drawn in full colour
    const raw = await open(0);
    const rawPixels = await pixelsOfColor(raw.card, raw.color);
    const smoothed = await open(0.9);
    expect(await smoothed.card.getAttribute('data-raw')).toBe('1');
    // smoothed, the same zig-zag is there, faint: about as many pixels, at low opacity (without
    // it only the blended edges of the smooth line are faint, a fraction of that)
    expect(await faintPixels(smoothed.card, smoothed.color, 0.25)).toBeGreaterThan(rawPixels * 0.5);
    // and the smoothed line on top, in full colour
    expect(await pixelsOfColor(smoothed.card, smoothed.color)).toBeGreaterThan(50);
  });

  test('the metric picker: search narrows the list, and the charts chosen land in the URL', async () => {
    await ui.page.goto(`${ui.server.url}#/e/wide/compare?runs=1`);
    await ui.page.locator('.chart-slot').first().waitFor();
    // every key has its place in the grid (its slot laid out as the page scrolls to it)
    expect(await ui.page.locator('.chart-grid').getAttribute('data-keys')).toBe(String(WIDE_KEYS));
    // sections by prefix
    expect(
      await ui.page.locator('.chart-section').evaluateAll((s) => s.map((e) => (e as any).dataset.prefix)),
    ).toEqual(PREFIXES.slice().sort());
    await ui.page.locator('details.picker > summary').click();
    await ui.page.locator('input.picker-search').fill('val/m01');
    await ui.page.waitForFunction(
      () => (globalThis as any).document.querySelectorAll('input.picker-key').length === 10,
    );
    expect(
      await ui.page.locator('input.picker-key').evaluateAll((els) => els.map((e) => (e as any).dataset.key)),
    ).toEqual(Array.from({ length: 10 }, (_, i) => `val/m01${i}`));
    await ui.page.locator('.picker-tools button', { hasText: 'only these' }).click();
    await ui.page.locator('.chart-grid[data-keys="10"]').waitFor();
    expect(await ui.page.locator('.chart-slot').count()).toBe(10);
    const hash = decodeURIComponent(new URL(ui.page.url()).hash);
    expect(hash).toMatch(/[?&]charts=val\/m010,val\/m011,/);
    // a whole section is one entry
    await ui.page.locator('input.picker-search').fill('');
    await ui.page.locator('.picker-tools button', { hasText: 'none' }).click();
    await ui.page.locator('.picker-section[data-prefix="train"] > summary input').check();
    await ui.page.locator('.chart-grid[data-keys="100"]').waitFor();
    expect(decodeURIComponent(new URL(ui.page.url()).hash)).toMatch(/[?&]charts=train\/\*(&|$)/);
    // the URL gives the same charts back
    await ui.page.reload();
    await ui.page.locator('.chart-slot').first().waitFor();
    expect(await ui.page.locator('.chart-grid').getAttribute('data-keys')).toBe('100');
    expect(await ui.page.locator('.chart-slot').first().getAttribute('data-key')).toBe('train/m000');
  });

  test('with 300 metric keys only the charts near the screen are built, and scrolling builds the others', async () => {
    await ui.page.goto(`${ui.server.url}#/e/wide/compare?runs=1`);
    await drawnChart(ui.page, 'system/m000');
    const canvases = (): Promise<number> => ui.page.locator('canvas').count();
    const first = await canvases();
    expect(first).toBeGreaterThan(0);
    expect(first).toBeLessThan(40);
    // slots are laid out a few screens at a time, and a spacer stands for the rest: the page is
    // about as tall as all 300 charts
    const slots = await ui.page.locator('.chart-slot').count();
    expect(slots).toBeLessThan(WIDE_KEYS);
    const height = await ui.page.evaluate(() => (globalThis as any).document.documentElement.scrollHeight);
    expect(height).toBeGreaterThan((WIDE_KEYS / 3) * 330);
    // slots keep the chart's size whether built or not
    const heights = await ui.page
      .locator('.chart-slot')
      .evaluateAll((els) => [
        ...new Set(els.map((e) => Math.round((e as any).getBoundingClientRect().height))),
      ]);
    expect(heights).toHaveLength(1);
    // scrolling down lays out the slots further down (the last section's last key included)
    const last = ui.page.locator('.chart-slot[data-key="val/m099"]');
    for (let i = 0; i < 200 && (await last.count()) === 0; i++)
      await ui.page.evaluate(() => (globalThis as any).scrollBy(0, (globalThis as any).innerHeight));
    await last.scrollIntoViewIfNeeded();
    await drawnChart(ui.page, 'val/m099');
    expect(await ui.page.locator('.chart-slot[data-key="system/m000"] canvas').count()).toBe(0);
    expect(await canvases()).toBeLessThan(40);
  });

  test('runs of two experiments in one compare view, each labelled with its experiment', async () => {
    await ui.page.goto(`${ui.server.url}#/compare?runs=sync:1,other:1&charts=loss`);
    const card = await drawnChart(ui.page, 'loss');
    expect(await card.getAttribute('data-series')).toBe('2');
    const series = await legendSeries(card);
    expect(series.map((s) => s.label)).toEqual(['sync · run 1 · r1', 'other · run 1']);
    for (const s of series) expect(await pixelsOfColor(card, s.color)).toBeGreaterThan(50);
  });

  test('a group is drawn as its mean line with a filled band (the band endpoint faked in the page)', async () => {
    // the drawing only: /band's answer is made here (the server's is tested in groups.browser.test.ts)
    const grid = Array.from({ length: 100 }, (_, i) => i);
    await ui.page.route('**/band?*', (route) => {
      const url = new URL(route.request().url());
      // each group's band in a place of its own: around its first run's number
      const lr = Number(url.searchParams.get('runs')!.split(',')[0]);
      void route.fulfill({
        contentType: 'application/json',
        body: JSON.stringify({
          key: url.searchParams.get('key'),
          x: 'step',
          band: 'std',
          runs: url.searchParams.get('runs')!.split(',').map(Number),
          grid,
          mean: grid.map((s) => lr + s / 100),
          lower: grid.map((s) => lr - 0.5 + s / 100),
          upper: grid.map((s) => lr + 0.5 + s / 100),
          count: grid.map(() => 2),
        }),
      });
    });
    try {
      await ui.page.goto(`${ui.server.url}#/e/sync/compare?runs=1,2,3,4,5,6&charts=loss&group=params.lr`);
      const card = await drawnChart(ui.page, 'loss');
      expect(await card.getAttribute('data-bands')).toBe('3');
      const series = await legendSeries(card);
      expect(series.map((s) => s.label)).toEqual([
        'params.lr=0.1 (2 runs)',
        'params.lr=0.01 (2 runs)',
        'params.lr=0.001 (2 runs)',
      ]);
      // the band's fill, faint in the group's colour
      expect(await faintPixels(card, series[0].color, 0.18)).toBeGreaterThan(500);
      // members on demand
      await ui.page.locator('input.members').check();
      await ui.page.waitForFunction(
        () =>
          (globalThis as any).document.querySelector('section.chart-card[data-key="loss"]')?.dataset
            .members === '6',
      );
      expect(new URL(ui.page.url()).hash).toContain('members=1');
    } finally {
      await ui.page.unroute('**/band?*');
    }
  });

  test('the dark theme follows prefers-color-scheme: a dark page and dark chart panels', async () => {
    const luminance = async (): Promise<number> => {
      const rgb = await ui.page.evaluate(
        () =>
          (globalThis as any).getComputedStyle((globalThis as any).document.body).backgroundColor as string,
      );
      const [r, g, b] = (rgb.match(/\d+/g) ?? []).map(Number);
      return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
    };
    await ui.page.emulateMedia({ colorScheme: 'dark' });
    try {
      await ui.page.goto(`${ui.server.url}#/e/sync/compare?runs=1,2&charts=acc`);
      await drawnChart(ui.page, 'acc');
      expect(await luminance()).toBeLessThan(0.2);
      const panel = await ui.page
        .locator('.chart-card')
        .first()
        .evaluate((e) => (globalThis as any).getComputedStyle(e).backgroundColor as string);
      expect(hueLight(panel).light).toBeLessThan(20);
      await ui.page.emulateMedia({ colorScheme: 'light' });
      await ui.page.waitForFunction(() => true);
      expect(await luminance()).toBeGreaterThan(0.8);
    } finally {
      await ui.page.emulateMedia({ colorScheme: 'light' });
    }
  });

  test('no two tick labels of an axis read alike (1.01G three times before)', async () => {
    await ui.page.goto('about:blank');
    await ui.page.goto(`${ui.server.url}#/e/other/compare?runs=1&charts=gpu_mem`);
    const card = await drawnChart(ui.page, 'gpu_mem');
    const ticks = JSON.parse((await card.getAttribute('data-yticks')) ?? '[]') as string[];
    expect(ticks.length).toBeGreaterThanOrEqual(3);
    expect(new Set(ticks).size).toBe(ticks.length);
    expect(ticks.every((t) => /^1(\.\d+)?G$/.test(t))).toBe(true);
  });
});
