import type * as tfjs from '@tensorflow/tfjs';
import { ProviderPackageNotInstalledError } from '@omega-track/core';

/** The TensorFlow.js module in use: `@tensorflow/tfjs-node` or `@tensorflow/tfjs`. */
export type Tfjs = typeof tfjs;

let chosen: Tfjs | undefined;

/**
 * Uses `tf` as the TensorFlow.js module (e.g. `@tensorflow/tfjs-node-gpu`, or a bundler's copy).
 * Without it, the first use loads `@tensorflow/tfjs-node` if installed, else `@tensorflow/tfjs`.
 */
export function useTfjs(tf: Tfjs): void {
  chosen = tf;
}

/**
 * The TensorFlow.js module, loaded on first use: tfjs is an optional peer, so nothing here is
 * loaded until a callback or a model is actually used.
 */
export function loadTfjs(): Tfjs {
  if (chosen) return chosen;
  for (const name of ['@tensorflow/tfjs-node', '@tensorflow/tfjs']) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      chosen = require(name) as Tfjs;
      return chosen;
    } catch (error) {
      // only "not installed" moves on to the next candidate; a broken install is reported
      if (
        (error as { code?: string }).code !== 'MODULE_NOT_FOUND' ||
        !String((error as Error).message).includes(name)
      )
        throw error;
    }
  }
  throw new ProviderPackageNotInstalledError('TensorFlow.js tracking', '@tensorflow/tfjs');
}
