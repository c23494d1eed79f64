/**
 * Artifact downloads through the UI API, as what they are: a tfjs model as one zip that loads with
 * `tf.loadLayersModel`, typed arrays as `.npy`, bytes under their own name; and the 404s of what a
 * run does not hold.
 */
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
import type { Answer } from './helpers';
import { request } from './helpers';
import { uiServerSuite } from './browserHelpers';

const enc = encodeURIComponent;
const ONE = `/api/experiments/${FILES_EXP}/runs/1/artifact`;

describe('artifact downloads', () => {
  let logged: LoggedModel;
  const ui = uiServerSuite(async (store) => {
    logged = await prepareFilesStore(store);
  });
  const get = (p: string): Promise<Answer> => request(ui.server.port, p);
  const filename = (a: Answer): string | undefined =>
    /filename="([^"]*)"/.exec(String(a.headers['content-disposition']))?.[1];

  test('a tfjs model is one zip of model.json and the weights it names, and loads with its weights', async () => {
    const a = await get(`${ONE}?key=mnist-model`);
    expect(a.status).toBe(200);
    expect(filename(a)).toBe('mnist-model.zip');
    const files = readZip(a.body);
    expect([...files.keys()].sort()).toEqual(['model.json', 'weights.bin']);
    const manifest = (JSON.parse(files.get('model.json')!.toString()) as { weightsManifest: unknown })
      .weightsManifest as Array<{ paths: string[] }>;
    expect(manifest.flatMap((g) => g.paths)).toEqual(['weights.bin']);
    const model = await loadFromFiles(files);
    expect(weightsOf(model)).toEqual(logged.weights);
    expect(predict(model, logged.input)).toEqual(logged.prediction);
  });

  test("the model's parts one by one: a loadable model.json and the weights; another part is a 404", async () => {
    const json = await get(`${ONE}?key=mnist-model&part=model.json`);
    expect(filename(json)).toBe('model.json');
    const weights = await get(`${ONE}?key=mnist-model&part=weights.bin`);
    expect(filename(weights)).toBe('weights.bin');
    const model = await loadFromFiles(
      new Map([
        ['model.json', json.body],
        ['weights.bin', weights.body],
      ]),
    );
    expect(weightsOf(model)).toEqual(logged.weights);
    const nope = await get(`${ONE}?key=mnist-model&part=optimizer.bin`);
    expect(nope.status).toBe(404);
    expect((nope.json as { error: string }).error).toMatch(
      /no part 'optimizer.bin'.*model.json and weights.bin/,
    );
    const notModel = await get(`${ONE}?key=state&part=model.json`);
    expect(notModel.status).toBe(404);
    expect((notModel.json as { error: string }).error).toMatch(/not a model/);
  });

  test('bytes keep the name they were logged under (checkpoint.bin, never checkpoint.bin.bin)', async () => {
    for (const [key, file] of Object.entries(BYTES)) {
      const a = await get(`${ONE}?key=${enc(key)}`);
      expect({ key, status: a.status, file: filename(a), body: a.text }).toEqual({
        key,
        status: 200,
        file,
        body: `bytes of ${key}`,
      });
    }
  });

  test('typed arrays are .npy files with their dtype, shape and values', async () => {
    for (const [key, expected] of Object.entries(ARRAYS)) {
      const a = await get(`${ONE}?key=${key}`);
      expect({ key, status: a.status, file: filename(a) }).toEqual({ key, status: 200, file: `${key}.npy` });
      const npy = parseNpy(a.body);
      const length = (expected.array as unknown as { length: number }).length;
      expect({ key, ...npy }).toEqual({
        key,
        version: '1.0',
        descr: expected.descr,
        fortranOrder: false,
        shape: [length],
        dataOffset: npy.dataOffset,
        values: expected.values,
      });
      expect(npy.dataOffset % 64).toBe(0);
      // the bare bytes stay a request away
      const raw = await get(`${ONE}?key=${key}&raw=1`);
      expect(raw.headers['x-omega-array-type']).toBe(expected.array.constructor.name);
      expect(raw.body.equals(Buffer.from(expected.array.buffer))).toBe(true);
    }
  });

  test('the list names the file each artifact downloads as, and its size', async () => {
    const a = await get(`/api/experiments/${FILES_EXP}/runs/1/artifacts`);
    const list = (a.json as { artifacts: Array<{ key: string; file?: string; size?: number }> }).artifacts;
    const byKey = Object.fromEntries(list.map((x) => [x.key, x]));
    expect(byKey['mnist-model'].file).toBe('mnist-model.zip');
    expect(byKey['checkpoint.bin'].file).toBe('checkpoint.bin');
    expect(byKey.state.file).toBe('state.bin');
    expect(byKey.f64).toMatchObject({ file: 'f64.npy', size: 24 });
  });

  test('a key, an index or an event the run does not have is a 404 with a JSON error that says so', async () => {
    const none = await get(`${ONE}?key=nothing`);
    expect(none.status).toBe(404);
    expect(none.headers['content-type']).toMatch(/^application\/json/);
    expect((none.json as { error: string }).error).toBe(`run 1 of '${FILES_EXP}' has no artifact 'nothing'`);
    const beyond = await get(`${ONE}?key=f32&index=3`);
    expect(beyond.status).toBe(404);
    expect(beyond.json).toMatchObject({
      error: `run 1 of '${FILES_EXP}' has 1 artifact 'f32' (index 0 to 0), no #3`,
      count: 1,
    });
    expect((await get(`/api/experiments/${FILES_EXP}/runs/9/artifact?key=f32`)).status).toBe(404);
    expect((await get(`${ONE}?key=f32&index=-1`)).status).toBe(400);
    expect((await get(`${ONE}?key=f32&raw=maybe`)).status).toBe(400);
  });
});
