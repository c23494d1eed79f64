/**
 * The browser's AsyncScope (it replaces core/src/process/asyncScope.ts in the browser build): a
 * page has no async context, so the value bound by `run(value, fn)` is the current one from the
 * call until what `fn` returns settles. That is exact for one `run(fn)` at a time, and for runs
 * nested inside each other; two `run(fn)` of one experiment overlapping in time in one page
 * should use two handles, or `start()` / `stop()`, instead.
 */
export class AsyncScope<T> {
  #current: T | undefined;

  get(): T | undefined {
    return this.#current;
  }

  run<R>(value: T, fn: () => R): R {
    const outer = this.#current;
    this.#current = value;
    let result: R;
    try {
      result = fn();
    } catch (error) {
      this.#current = outer;
      throw error;
    }
    if (!isThenable(result)) {
      this.#current = outer;
      return result;
    }
    const restore = (): void => {
      // a later run that began meanwhile and is still going keeps its own value
      if (this.#current === value) this.#current = outer;
    };
    return result.then(
      (v) => {
        restore();
        return v;
      },
      (error: unknown) => {
        restore();
        throw error;
      },
    ) as R;
  }
}

function isThenable(v: unknown): v is PromiseLike<unknown> {
  return typeof (v as { then?: unknown } | null)?.then === 'function';
}
