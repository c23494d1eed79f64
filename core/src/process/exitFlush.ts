import type { ExitFlushable } from './exitRegistry';
import { flushAllSync, forgetOnExit, registered } from './exitRegistry';

export type { ExitFlushable };
export { forgetOnExit };

const gaveUp = new WeakSet<ExitFlushable>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  // The event loop ran dry (timers are unref'd): flush; the flush's own I/O keeps the loop alive.
  // A provider whose store still fails after one such flush is left to the exit hook (its last
  // try, which says what is lost): retrying here would keep the process from ever ending.
  process.on('beforeExit', () => {
    for (const p of registered) {
      if (!p.hasPending() || gaveUp.has(p)) continue;
      void p.flush().then(() => {
        if (p.hasPending()) gaveUp.add(p);
      });
    }
  });
  // Ctrl-C or a polite kill: write what is queued, then let the signal do what it would have
  // done — unless the program handles the signal itself, in which case it decides.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      flushAllSync();
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    // first in line: a program's own `process.once(signal, …)` handler is still registered (and
    // counted) when this one runs, whether it was added before or after
    process.prependOnceListener(signal, onSignal);
  }
  // process.exit() or the last moment: only synchronous writes can still happen.
  process.on('exit', flushAllSync);
}

/** Makes sure `provider`'s queue is written when the process exits. */
export function flushOnExit(provider: ExitFlushable): void {
  registered.add(provider);
  install();
}
