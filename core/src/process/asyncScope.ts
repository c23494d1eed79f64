import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A value bound to the current async context: `run(value, fn)` makes `get()` return `value`
 * inside `fn` and everything it awaits. In Node this is AsyncLocalStorage; the browser build
 * replaces this module (core/src/browser/process/asyncScope.ts), pages having no async context.
 */
export class AsyncScope<T> {
  readonly #storage = new AsyncLocalStorage<T>();

  get(): T | undefined {
    return this.#storage.getStore();
  }

  run<R>(value: T, fn: () => R): R {
    return this.#storage.run(value, fn);
  }
}
