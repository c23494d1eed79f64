import type * as tfjs from '@tensorflow/tfjs';
import { registerTfjsProbe } from './tfjsProbe';

/** The TensorFlow.js module in use: `@tensorflow/tfjs-node` or `@tensorflow/tfjs` (a page's own in the browser). */
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

/** The module chosen so far, if any. */
export function chosenTfjs(): Tfjs | undefined {
  return chosen;
}
