import type { LayersModel } from '@tensorflow/tfjs';
import type { MetadataEntry, ObjectBackend, ObjectWriteContext } from '@omega-track/core';
import { TrackingError } from '@omega-track/core';
import { loadTfjs } from './loadTfjs';

/** Duck-typed check, so that asking "is this a tfjs model?" never loads tfjs itself. */
export function isLayersModel(obj: unknown): obj is LayersModel {
  const m = obj as Partial<LayersModel> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    typeof m.save === 'function' &&
    typeof m.predict === 'function' &&
    typeof m.getConfig === 'function' &&
    Array.isArray(m.layers)
  );
}

/**
 * Stores TensorFlow.js `LayersModel`s in `om.models`: topology and weights go through a tfjs
 * IOHandler into two blobs (`model.json`, `weights.bin`) of the entry; `get` loads them back with
 * `tf.loadLayersModel`, compiled as it was when stored. Kind `tfjs.layers`; artifacts of such models
 * get the format `model`.
 */
export const tfjsModelBackend: ObjectBackend = {
  kind: 'tfjs.layers',
  supports: isLayersModel,
  async put(obj, { store, blobPrefix }: ObjectWriteContext) {
    const tf = loadTfjs();
    const model = obj as LayersModel;
    let layers = 0;
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        const { weightData, ...json } = artifacts;
        const weights =
          weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(weightData);
        await store.putBlob(`${blobPrefix}model.json`, Buffer.from(JSON.stringify(json)));
        await store.putBlob(`${blobPrefix}weights.bin`, new Uint8Array(weights));
        layers = model.layers.length;
        return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
      }),
      // a compiled model keeps its loss, metrics and optimizer state: loaded again (by a runtime
      // worker) it trains on where it left off instead of asking to be compiled
      { includeOptimizer: (model as { optimizer?: unknown }).optimizer != null },
    );
    return {
      kind: 'tfjs.layers',
      attributes: { className: model.getClassName(), layers, params: model.countParams() },
    };
  },
  async get(entry: MetadataEntry, { store, blobPrefix }: ObjectWriteContext) {
    const tf = loadTfjs();
    const json = await store.getBlob(`${blobPrefix}model.json`);
    const weights = await store.getBlob(`${blobPrefix}weights.bin`);
    if (!json || !weights)
      throw new TrackingError(`the tfjs model '${entry.name}' is missing its topology or weights`);
    const artifacts = JSON.parse(json.toString()) as Parameters<typeof tf.io.fromMemory>[0];
    // copy out of the Buffer's pool into an ArrayBuffer of exactly the weights
    const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength);
    return tf.loadLayersModel(tf.io.fromMemory({ ...artifacts, weightData }));
  },
};
