/** A provider with queued events that must not be lost when the process ends. */
export interface ExitFlushable {
  /** Whether anything is queued. */
  hasPending(): boolean;
  /** Writes what is queued (the event loop is still running: `beforeExit`). */
  flush(): Promise<void>;
  /** Writes what is queued without the event loop (`exit`); best effort. */
  flushSync(): void;
}

const registered = new Set<ExitFlushable>();
let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  // The event loop ran dry (timers are unref'd): flush; the flush's own I/O keeps the loop alive.
  process.on('beforeExit', () => {
    for (const p of registered) if (p.hasPending()) void p.flush();
  });
  // process.exit() or the last moment: only synchronous writes can still happen.
  process.on('exit', () => {
    for (const p of registered) {
      try {
        if (p.hasPending()) p.flushSync();
      } catch {
        // nothing can be reported or retried any more
      }
    }
  });
}

/** Makes sure `provider`'s queue is written when the process exits. */
export function flushOnExit(provider: ExitFlushable): void {
  registered.add(provider);
  install();
}

/** Stops watching `provider` (after its shutdown). */
export function forgetOnExit(provider: ExitFlushable): void {
  registered.delete(provider);
}
