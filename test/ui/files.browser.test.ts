/**
 * Issue 24: artifacts downloaded through the page in headless Chromium are what they are — a tfjs
 * model as one zip that `tf.loadLayersModel` accepts with the logged weights, typed arrays as
 * `.npy` files with dtype and shape, bytes under the name they were logged with.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startUiServer } from 'omega-track';
import { tempDir } from '../helpers/tmp';
import { ensureClientBuilt, launchBrowser } from './browserHelpers';
import type { LoggedModel } from './filesHelpers';
import {
  ARRAYS,
  BYTES,
  FILES_EXP,
  loadFromFiles,
  parseNpy,
  predict,
  prepareFilesStore,
  readZip,
  weightsOf,
} from './filesHelpers';

type Server = Awaited<ReturnType<typeof startUiServer>>;
type Browser = Awaited<ReturnType<typeof launchBrowser>>;

describe('artifact downloads in headless Chromium', () => {
  const tmp = tempDir('omega-ui-files-browser-');
  let server: Server;
  let browser: Browser;
  let page: Page;
  let logged: LoggedModel;
  const pageErrors: string[] = [];

  /** Clicks the download link of artifact `key` on the artifacts page: its file name and bytes. */
  const download = async (key: string): Promise<{ name: string; body: Buffer }> => {
    const row = page.locator('table.grid tbody tr', {
      has: page.locator('td.name', {
        hasText: new RegExp(`^${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
      }),
    });
    const [file] = await Promise.all([page.waitForEvent('download'), row.locator('a.download').click()]);
    const saved = path.join(tmp.dir, `download-${key}`);
    await file.saveAs(saved);
    return { name: file.suggestedFilename(), body: fs.readFileSync(saved) };
  };

  beforeAll(async () => {
    ensureClientBuilt();
    const store = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
    logged = await prepareFilesStore(store);
    server = await startUiServer({ store, port: 0 });
    browser = await launchBrowser();
    page = browser.page;
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${server.url}#/e/${FILES_EXP}/run/1/artifacts`);
    await page.locator('table.grid tbody tr').nth(11).waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    tmp.cleanup();
  });

  test('a tfjs model downloads as <name>.zip that loads with tf.loadLayersModel and the logged weights', async () => {
    const { name, body } = await download('mnist-model');
    expect(name).toBe('mnist-model.zip');
    const files = readZip(body);
    expect([...files.keys()].sort()).toEqual(['model.json', 'weights.bin']);
    const model = await loadFromFiles(files);
    expect(weightsOf(model)).toEqual(logged.weights);
    expect(predict(model, logged.input)).toEqual(logged.prediction);
    // the link says what the file is
    expect(
      await page
        .locator('table.grid tbody tr', { has: page.locator('td.name', { hasText: /^mnist-model$/ }) })
        .locator('a.download')
        .textContent(),
    ).toBe('download mnist-model.zip');
    expect(pageErrors).toEqual([]);
  });

  test('bytes download under the name they were logged with: checkpoint.bin, never checkpoint.bin.bin', async () => {
    for (const [key, file] of Object.entries(BYTES)) {
      const got = await download(key);
      expect({ key, name: got.name, body: got.body.toString() }).toEqual({
        key,
        name: file,
        body: `bytes of ${key}`,
      });
    }
  });

  test('a typed array downloads as .npy and reads back with its dtype, shape and values', async () => {
    for (const [key, expected] of Object.entries(ARRAYS)) {
      const got = await download(key);
      expect(got.name).toBe(`${key}.npy`);
      const npy = parseNpy(got.body);
      expect({
        key,
        descr: npy.descr,
        fortran: npy.fortranOrder,
        shape: npy.shape,
        values: npy.values,
      }).toEqual({
        key,
        descr: expected.descr,
        fortran: false,
        shape: [expected.values.length],
        values: expected.values,
      });
    }
    expect(pageErrors).toEqual([]);
  });
});
