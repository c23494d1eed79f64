/**
 * Issue 24: the profile page in headless Chromium — charts grouped by what they measure with the
 * unit on their axis and no two tick labels alike, constants as a facts table, every chart drawn
 * in a full-page capture (also those below the fold), and a clear word for a run without profile.
 */
import { omega } from 'omega-track';
import { uiSuite } from './browserHelpers';

const EXP = 'prof';

/** Run 1: 20 samples of the profiler's keys (memory_used near 1.21 GB, moving by kB); run 2: none. */
async function prepare(store: string): Promise<void> {
  const om = omega({ store });
  const exp = om.runtime.experiment(EXP);
  await exp.start();
  const t0 = Date.now() - 60_000;
  for (let s = 0; s < 20; s++) {
    const at = { step: s, dt: t0 + s * 1000 };
    const log = (key: string, value: number, extra: Record<string, unknown> = {}): void =>
      exp.logEvent('profile', key, value, { ...at, ...extra });
    log('cpu_load', 20 + 10 * Math.sin(s));
    log('cpu_load_user', 15 + 5 * Math.cos(s));
    log('cpu_count', 8);
    log('memory_total', 16e9);
    // the values that made `1.21G` three times: they differ by a few kB only
    log('memory_used', 1.21e9 + (s % 5) * 3000);
    log('memory_load', 7.5 + (s % 3) * 0.01);
    log('disk_use', 42);
    log('disk_read_rate', 1e6 * (s % 4));
    log('disk_write_rate', 2.5e5 * (s % 3));
    log('net_rx_rate', 1200 + 100 * (s % 2));
    log('net_tx_rate', 800 + 50 * (s % 5));
    log('process_cpu', 95 + (s % 4));
    log('process_rss', 3e8 + 1e6 * s);
    log('tfjs_tensors', 100 + s);
    for (const gpu of [0, 1]) log('gpu_util', 40 * gpu + (s % 7), { gpu });
    log('custom_probe', Math.sqrt(s));
  }
  await exp.stop();
  await exp.start();
  exp.logMetric('loss', 1, 0);
  await exp.stop();
  await om.close();
}

describe('the profile page in headless Chromium', () => {
  const ui = uiSuite(prepare);

  beforeAll(async () => {
    await ui.page.goto(`${ui.server.url}#/e/${EXP}/run/1/profile`);
    await ui.page.locator('section.profile-chart[data-state="drawn"]').first().waitFor();
  });

  test('charts are grouped (CPU %, memory bytes, disk and network rates, process, GPU), one per unit', async () => {
    expect(
      await ui.page
        .locator('section.profile-group')
        .evaluateAll((els) => els.map((e) => (e as any).dataset.group)),
    ).toEqual(['CPU', 'Memory', 'Disk', 'Network', 'Process', 'GPU', 'Other']);
    const charts = await ui.page
      .locator('section.profile-chart')
      .evaluateAll((els) => els.map((e) => [(e as any).dataset.unit, (e as any).dataset.keys]));
    expect(charts).toEqual([
      ['%', 'cpu_load cpu_load_user'],
      ['%', 'memory_load'],
      ['bytes', 'memory_used'],
      ['bytes/s', 'disk_read_rate disk_write_rate'],
      ['bytes/s', 'net_rx_rate net_tx_rate'],
      ['%', 'process_cpu'],
      ['bytes', 'process_rss'],
      ['count', 'tfjs_tensors'],
      ['%', 'gpu_util[0] gpu_util[1]'],
      ['', 'custom_probe'],
    ]);
    expect(await ui.page.locator('section.profile-chart h4').allTextContents()).toEqual(
      expect.arrayContaining(['CPU · %', 'Memory · bytes', 'Disk · bytes/s', 'Network · bytes/s']),
    );
  });

  test('constants are a facts table, not charts: memory_total, cpu_count and a key that never changed', async () => {
    const facts = await ui.page
      .locator('table.facts tbody tr')
      .evaluateAll((rows) => rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent)));
    expect(facts).toEqual([
      ['cpu_count', '8', 'CPU'],
      ['disk_use', '42%', 'Disk'],
      ['memory_total', '16 GB', 'Memory'],
    ]);
    const charted = (
      await ui.page
        .locator('section.profile-chart')
        .evaluateAll((els) => els.map((e) => (e as any).dataset.keys as string))
    ).join(' ');
    expect(charted).not.toMatch(/memory_total|cpu_count|disk_use/);
  });

  test('every y axis has its unit in each tick label, and no two tick labels of an axis alike', async () => {
    const ticks = await ui.page.locator('section.profile-chart').evaluateAll((els) =>
      els.map((e) => ({
        unit: (e as any).dataset.unit as string,
        ticks: JSON.parse((e as any).dataset.yticks) as string[],
      })),
    );
    const suffix: Record<string, RegExp> = {
      '%': /^-?[\d.]+%$/,
      bytes: /^-?[\d.]+ (B|kB|MB|GB|TB)$/,
      'bytes/s': /^-?[\d.]+ (B|kB|MB|GB|TB)\/s$/,
      count: /^-?\d+$/,
      '': /^-?[\d.]+$/,
    };
    for (const t of ticks) {
      expect(t.ticks.length).toBeGreaterThanOrEqual(2);
      expect({ ...t, distinct: new Set(t.ticks).size }).toEqual({ ...t, distinct: t.ticks.length });
      for (const label of t.ticks)
        expect({ unit: t.unit, label }).toEqual({
          unit: t.unit,
          label: expect.stringMatching(suffix[t.unit]),
        });
    }
    // the memory axis (1.21 GB moving by kB) is a level from zero: readable ticks, not 2 kB apart
    const memory = ticks.find((t) => t.unit === 'bytes')!;
    expect(memory.ticks[0]).toMatch(/^0(\.0+)? (B|kB|MB|GB)$/);
    expect(memory.ticks[memory.ticks.length - 1]).toMatch(/^1\.[0-9]+ GB$/);
  });

  test('a full-page capture shows every chart drawn, also the last one below the fold', async () => {
    const last = ui.page.locator('section.profile-chart').last();
    const box = (await last.locator('canvas').first().boundingBox())!;
    const viewport = ui.page.viewportSize()!;
    // below the first screen: the case where charts stayed empty boxes
    expect(box.y).toBeGreaterThan(viewport.height);
    const shot = await ui.page.screenshot({ fullPage: true });
    const ink = await ui.page.evaluate(
      async ({ png, box }) => {
        const g = globalThis as any;
        const img = new g.Image();
        img.src = `data:image/png;base64,${png}`;
        await img.decode();
        const canvas = g.document.createElement('canvas');
        canvas.width = Math.round(box.width);
        canvas.height = Math.round(box.height);
        const ctx = canvas.getContext('2d');
        ctx.drawImage(img, -Math.round(box.x), -Math.round(box.y));
        const data: Uint8ClampedArray = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
        // pixels far from the chart's background (its first pixel, the panel): lines, axes, labels
        const [r, g0, b] = [data[0], data[1], data[2]];
        let n = 0;
        for (let i = 0; i < data.length; i += 4)
          if (Math.abs(data[i] - r) + Math.abs(data[i + 1] - g0) + Math.abs(data[i + 2] - b) > 90) n++;
        return n;
      },
      { png: shot.toString('base64'), box: { x: box.x, y: box.y, width: box.width, height: box.height } },
    );
    expect(ink).toBeGreaterThan(300);
    expect(ui.pageErrors).toEqual([]);
  });

  test('a run without profile says so clearly, with no charts and no facts', async () => {
    await ui.page.goto(`${ui.server.url}#/e/${EXP}/run/2/profile`);
    const empty = ui.page.locator('.profile-empty');
    await empty.waitFor();
    expect(await empty.textContent()).toMatch(/^Run 2 has no profile\./);
    expect(await ui.page.locator('section.profile-chart').count()).toBe(0);
    expect(await ui.page.locator('table.facts').isVisible()).toBe(false);
    expect(ui.pageErrors).toEqual([]);
  });
});
