import { ProviderPackageNotInstalledError } from '@omega-track/core';
import type { Tfjs } from './tfjsChoice';
import { chooseTfjs, chosenTfjs } from './tfjsChoice';

export type { Tfjs };
export { chooseTfjs };

/**
 * The TensorFlow.js module, loaded on first use: tfjs is an optional peer, so nothing here is
 * loaded until a callback or a model is actually used.
 */
export function loadTfjs(): Tfjs {
  const chosen = chosenTfjs();
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
