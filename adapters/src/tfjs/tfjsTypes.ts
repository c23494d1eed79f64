/**
 * The shapes of TensorFlow.js objects that appear in the adapters' public types. They are
 * structural on purpose: tfjs is an optional peer, and a TypeScript project that has not
 * installed it (or has `@tensorflow/tfjs-node` instead) must compile against these declarations.
 * tfjs's own `LayersModel`, `Logs` and module satisfy them.
 */

/** The logs tfjs hands a callback: values by name (numbers, or scalars in tfjs-node). */
export interface TrainingLogs {
  [key: string]: unknown;
}

/** A model as tfjs hands it to a callback's `setModel` (a `LayersModel`). */
export interface TfjsModelLike {
  readonly name: string;
}

/** The TensorFlow.js module (`import * as tf from '@tensorflow/tfjs'`, or tfjs-node, or a bundler's copy). */
export interface TfjsModule {
  readonly loadLayersModel: unknown;
  readonly registerCallbackConstructor: unknown;
}
