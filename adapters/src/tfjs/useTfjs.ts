import { TrackingInputError } from '@omega-track/core';
import type { Tfjs } from './loadTfjs';
import { chooseTfjs } from './loadTfjs';
import type { TfjsModule } from './tfjsTypes';

/**
 * Uses `tf` as the TensorFlow.js module (e.g. `@tensorflow/tfjs-node-gpu`, or a bundler's copy).
 * Without it, the first use loads `@tensorflow/tfjs-node` if installed, else `@tensorflow/tfjs`.
 */
export function useTfjs(tf: TfjsModule): void {
  if (
    typeof tf !== 'object' ||
    tf === null ||
    typeof tf.loadLayersModel !== 'function' ||
    typeof tf.registerCallbackConstructor !== 'function'
  )
    throw new TrackingInputError(
      'useTfjs(tf) needs the TensorFlow.js module (import * as tf from "@tensorflow/tfjs")',
    );
  chooseTfjs(tf as unknown as Tfjs);
}
