import { WeakMembers } from './weakSet';

/** A provider with queued events that must not be lost when the process ends. */
export interface ExitFlushable {
  /** Whether anything is queued. */
  hasPending(): boolean;
  /** Writes what is queued (the event loop is still running: `beforeExit`). */
  flush(): Promise<unknown>;
  /** Writes what is queued without the event loop (`exit`); best effort. */
  flushSync(): void;
}

/**
 * What the exit hooks write when the process (or the page) goes: Node's hooks in exitFlush.ts,
 * a page's in its browser twin.
 */
export const registered = new WeakMembers<ExitFlushable>();

/** Writes every queue synchronously: the last moment, when nothing can wait. */
export function flushAllSync(): void {
  for (const p of registered) {
    try {
      if (p.hasPending()) p.flushSync();
    } catch {
      // nothing can be reported or retried any more
    }
  }
}

/** Stops watching `provider` (after its shutdown). */
export function forgetOnExit(provider: ExitFlushable): void {
  registered.delete(provider);
}
