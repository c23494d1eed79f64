import type * as tfjs from '@tensorflow/tfjs';
import { ProviderPackageNotInstalledError } from '@omega-track/core';
import { registerTfjsProbe } from './tfjsProbe';

/** The TensorFlow.js module in use: `@tensorflow/tfjs-node` or `@tensorflow/tfjs`. */
export type Tfjs = typeof tfjs;

let chosen: Tfjs | undefined;

/**
 * Makes `tf` the module every later use gets (see useTfjs, which checks it first), and the
 * `tfjs` system probe (its version, backend and memory in `logSystem()`).
 */
export function chooseTfjs(tf: Tfjs): void {
  chosen = tf;
  registerTfjsProbe(tf);
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
      const tf = require(name) as Tfjs;
      chooseTfjs(tf);
      return tf;
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
