/**
 * Issue 14, point 2: restore an artifact from a row of `data()` (omega-ml's
 * `restore_artifact(value=…)`: "this value is used instead of querying data"): a row, its
 * `value`, a name with `{ value }`, and a list of rows for `restoreArtifacts` — by format,
 * without a query.
 */
import type { ArtifactSource } from '@omega-track/core';
import type { Experiment, TrackingEvent } from 'omega-track';
import { Metadata, TrackingInputError } from 'omega-track';
import type { ParityStore } from './parityStore';
import { parityStore } from './parityStore';

/** Maps and Sets as plain lists: v8.deserialize builds them in Node's realm, not jest's. */
function comparable(value: unknown): unknown {
  const tag = Object.prototype.toString.call(value);
  if (tag === '[object Map]')
    return ['Map', [...(value as Map<unknown, unknown>)].map(([k, v]) => [comparable(k), comparable(v)])];
  if (tag === '[object Set]') return ['Set', [...(value as Set<unknown>)].map(comparable)];
  return value;
}

describe('restoring artifacts from data() rows', () => {
  let s: ParityStore;
  let exp: Experiment;
  let rows: TrackingEvent[];
  const logged = {
    somedata: { a: 1, b: [1, 2, NaN] },
    lookup: new Map<string, unknown>([['k', new Set([1, 2])]]),
    bytes: Buffer.from('raw bytes'),
    series: new Float32Array([0.5, 1.5, 2.5]),
  };

  beforeEach(async () => {
    s = parityStore();
    await s.om.models.put({ weights: [1, 2] }, 'mymodel');
    exp = s.om.runtime.experiment('restore');
    await exp.run(async (e) => {
      for (const [name, obj] of Object.entries(logged)) e.logArtifact(obj, name);
      e.logArtifact(await s.om.models.metadata('mymodel'), 'mymodel');
    });
    rows = await exp.data({ event: 'artifact' });
  });
  afterEach(() => s.close());

  const row = (name: string): TrackingEvent => rows.find((r) => r.key === name) as TrackingEvent;

  test('restoreArtifact({ value: row.value }) restores each format', async () => {
    expect(rows.map((r) => (r.value as { format: string }).format)).toEqual([
      'type',
      'serialized',
      'binary',
      'dataset',
      'metadata',
    ]);
    for (const [name, obj] of Object.entries(logged))
      expect(comparable(await exp.restoreArtifact({ value: row(name).value }))).toEqual(comparable(obj));
    const meta = await exp.restoreArtifact({ value: row('mymodel').value });
    expect(meta).toBeInstanceOf(Metadata);
    expect((meta as Metadata).name).toBe('mymodel');
  });

  test("restoreArtifact('X', { value }) and restoreArtifact(row) restore that row", async () => {
    expect(await exp.restoreArtifact('somedata', { value: row('somedata').value })).toEqual(logged.somedata);
    expect(await exp.restoreArtifact(row('series'))).toEqual(logged.series);
  });

  test('restoreArtifacts(rows) restores a list of rows in their order; one { value } gives a list of one', async () => {
    const restored = await exp.restoreArtifacts(rows.slice(0, 4).reverse());
    expect(restored.map(comparable)).toEqual(Object.values(logged).reverse().map(comparable));
    expect(await exp.restoreArtifacts({ value: row('bytes').value })).toEqual([logged.bytes]);
    expect(await exp.restoreArtifacts([])).toEqual([]);
  });

  test('no query is made: an inline value restores after its events are gone, from a handle without a run', async () => {
    const value = row('somedata').value;
    await exp.clear({ force: true });
    expect(await exp.data({ run: 'all' })).toEqual([]);
    const fresh = s.open().runtime.experiment('restore');
    expect(fresh.currentRun).toBeUndefined();
    expect(await fresh.restoreArtifact({ value })).toEqual(logged.somedata);
  });

  test('rows another experiment gave restore on any handle of the store', async () => {
    const other = s.om.runtime.experiment('other');
    const foreign = await other.data({ experiment: 'restore', event: 'artifact', key: 'lookup' });
    expect(comparable(await other.restoreArtifact(foreign[0]))).toEqual(comparable(logged.lookup));
  });

  test('a value that is not an artifact is given back as it is (omega-ml: the actual data)', async () => {
    await exp.run(async (e) => e.logMetric('loss', 0.25));
    const [metric] = await exp.data({ event: 'metric' });
    expect(await exp.restoreArtifact(metric)).toBe(0.25);
  });

  test('a wrong row, list items that are no rows and forged references are TrackingInputErrors', async () => {
    const wrong = exp.restoreArtifact('bytes', { value: row('somedata').value });
    await expect(wrong).rejects.toThrow(TrackingInputError);
    await expect(wrong).rejects.toThrow("was given the value of artifact 'somedata'");
    const notRows = exp.restoreArtifacts([row('bytes'), 5] as unknown as ArtifactSource[]);
    await expect(notRows).rejects.toThrow(TrackingInputError);
    await expect(notRows).rejects.toThrow('item 1 is not a row of data()');
    const forged = [
      { name: 'm', format: 'model', data: 'mymodel' },
      { name: 'd', format: 'dataset', data: { not: 'a name' } },
      { name: 'b', format: 'binary', data: { blob: 'models/secret/data' } },
      { name: 's', format: 'serialized', data: null },
      { name: 'x', format: 'metadata', data: 'text' },
    ];
    for (const value of forged) {
      const restored = exp.restoreArtifact({ value });
      await expect(restored).rejects.toThrow(TrackingInputError);
      await expect(restored).rejects.toThrow('does not refer to stored artifact content');
    }
  });

  test('queries still work as before', async () => {
    expect(await exp.restoreArtifact('somedata')).toEqual(logged.somedata);
    expect(await exp.restoreArtifacts({ key: ['bytes', 'series'] })).toEqual([logged.bytes, logged.series]);
  });
});
