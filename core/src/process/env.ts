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
  return new Promise((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
  );
}

/**
 * Lets a timer not keep the process alive (Node's `unref`); a page's timers have no such thing
 * and need none. Returns the timer.
 */
export function unrefTimer<T>(timer: T): T {
  (timer as { unref?: () => void }).unref?.();
  return timer;
}
