/**
 * Loads run one after another, in the order they were asked for. The charts of a page all ask
 * the one server process at once; answered together, the first chart waits for the last (a
 * compare of 200 runs drew its first chart after every visible chart's read, 2× later). In
 * turn, the charts nearest the top (built first) come first.
 */
export class LoadQueue {
  #tail: Promise<unknown> = Promise.resolve();

  /** Runs `load` after every load asked for before it settled; resolves as it does. */
  run<T>(load: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(load, load);
    // a failed load must not stop the ones after it: the queue only waits for it to settle
    this.#tail = next.catch(() => undefined);
    return next;
  }
}
