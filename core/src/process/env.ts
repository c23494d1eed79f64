/**
 * The environment variables, or none where there is no process (a web page): the code shared
 * with the browser build reads OMEGA_* settings through this, never `process.env` directly.
 */
export function env(): Record<string, string | undefined> {
  return typeof process === 'undefined' ? {} : process.env;
}

/** This process's id, or 0 where there is none (a web page). */
export function processId(): number {
  return typeof process === 'undefined' ? 0 : process.pid;
}

/** Lets the event loop run (timers, I/O, rendering) before going on. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => void runSoon(resolve));
}

/**
 * Runs `fn` at the next turn of the event loop (Node's setImmediate, a page's zero timeout);
 * returns what cancels it.
 */
export function runSoon(fn: () => void): () => void {
  if (typeof setImmediate === 'function') {
    const immediate = setImmediate(fn);
    return () => clearImmediate(immediate);
  }
  const timer = setTimeout(fn, 0);
  return () => clearTimeout(timer);
}

/**
 * Lets a timer not keep the process alive (Node's `unref`); a page's timers have no such thing
 * and need none. Returns the timer.
 */
export function unrefTimer<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
