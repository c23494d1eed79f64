import type { ExitFlushable } from '../../process/exitFlush';
import { WeakMembers } from '../../process/weakSet';

/**
 * The browser's exit hooks (they replace core/src/process/exitFlush.ts). A page gets no
 * `exit`: it is hidden (another tab, a minimised window, a phone's lock screen) and then maybe
 * closed without another word. So whenever it is hidden, and when it goes, each provider writes
 * what it queued at once (`flushSync`: into the store's IndexedDB spool, whose write the browser
 * finishes as the page goes). A page restored from the back-forward cache carries on.
 */
const registered = new WeakMembers<ExitFlushable>();
let installed = false;

function flushAllSync(): void {
  for (const p of registered) {
    try {
      if (p.hasPending()) p.flushSync();
    } catch {
      // nothing can be reported or retried any more
    }
  }
}

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

/** Stops watching `provider` (after its shutdown). */
export function forgetOnExit(provider: ExitFlushable): void {
  registered.delete(provider);
}
