/**
 * Issue 24: artifacts downloaded through the page in headless Chromium are what they are — a tfjs
 * model as one zip that `tf.loadLayersModel` accepts with the logged weights, typed arrays as
 * `.npy` files with dtype and shape, bytes under the name they were logged with.
 */
import fs from 'node:fs';
import path from 'node:path';
import { uiSuite } from './browserHelpers';
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

describe('artifact downloads in headless Chromium', () => {
  let logged: LoggedModel;
  const ui = uiSuite(async (store) => {
    logged = await prepareFilesStore(store);
  });

  /** Clicks the download link of artifact `key` on the artifacts page: its file name and bytes. */
  const download = async (key: string): Promise<{ name: string; body: Buffer }> => {
    const row = ui.page.locator('table.grid tbody tr', {
      has: ui.page.locator('td.name', {
        hasText: new RegExp(`^${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
      }),
    });
    const [file] = await Promise.all([ui.page.waitForEvent('download'), row.locator('a.download').click()]);
    const saved = path.join(ui.dir, `download-${key}`);
    await file.saveAs(saved);
    return { name: file.suggestedFilename(), body: fs.readFileSync(saved) };
  };

  beforeAll(async () => {
    await ui.page.goto(`${ui.server.url}#/e/${FILES_EXP}/run/1/artifacts`);
    await ui.page.locator('table.grid tbody tr').nth(11).waitFor();
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
      await ui.page
        .locator('table.grid tbody tr', { has: ui.page.locator('td.name', { hasText: /^mnist-model$/ }) })
        .locator('a.download')
        .textContent(),
    ).toBe('download mnist-model.zip');
    expect(ui.pageErrors).toEqual([]);
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
    expect(ui.pageErrors).toEqual([]);
  });
});
