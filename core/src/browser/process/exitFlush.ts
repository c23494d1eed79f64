import type { ExitFlushable } from '../../process/exitRegistry';
import { flushAllSync, forgetOnExit, registered } from '../../process/exitRegistry';

export type { ExitFlushable };
export { forgetOnExit };

/**
 * The browser's exit hooks (they replace core/src/process/exitFlush.ts). A page gets no
 * `exit`: it is hidden (another tab, a minimised window, a phone's lock screen) and then maybe
 * closed without another word. So whenever it is hidden, and when it goes, each provider writes
 * what it queued at once (`flushSync`: into the store's IndexedDB spool, whose write the browser
 * finishes as the page goes). A page restored from the back-forward cache carries on.
 */
let installed = false;

function install(): void {
  if (installed || typeof addEventListener !== 'function') return;
  installed = true;
  addEventListener('pagehide', flushAllSync);
  if (typeof document !== 'undefined')
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'hidden') flushAllSync();
    });
}

/** Makes sure `provider`'s queue is written when the page is hidden or goes. */
export function flushOnExit(provider: ExitFlushable): void {
  registered.add(provider);
  install();
}
