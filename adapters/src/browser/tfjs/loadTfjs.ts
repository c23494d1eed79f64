import { TrackingInputError } from '@omega-track/core';
import type { Tfjs } from '../../tfjs/tfjsChoice';
import { chooseTfjs, chosenTfjs } from '../../tfjs/tfjsChoice';

export type { Tfjs };
export { chooseTfjs };

/**
 * The page's TensorFlow.js (it replaces adapters/src/tfjs/loadTfjs.ts in the browser build): the
 * module given to `useTfjs(tf)` or `omega({ tf })`, else the global `tf` of a `<script>` tag.
 * A page cannot load a package by name.
 */
export function loadTfjs(): Tfjs {
  const chosen = chosenTfjs();
  if (chosen) return chosen;
  const global = (globalThis as { tf?: Tfjs }).tf;
  if (global && typeof global.registerCallbackConstructor === 'function') {
    chooseTfjs(global);
    return global;
  }
  throw new TrackingInputError(
    "TensorFlow.js tracking in a page needs the page's tfjs: omega({ store, token, tf }), useTfjs(tf), or a <script> that defines the global tf first",
  );
}
