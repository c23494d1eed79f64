/**
 * The background shipping loop of the HTTP store: what waits in the spool goes to the server in
 * order, each batch under its id, retried with jittered backoff while the server cannot be
 * reached. Isomorphic: the spool (a SQLite file in Node, IndexedDB in a page) and the sending
 * are given.
 */
import { HttpFailure } from './httpErrors';

/** A unit of work waiting in the spool, in the order it was spooled. */
export interface SpoolItem {
  /** Its place in the spool's order (and, with the spool's id, its batch id). */
  seq: number;
  /** `events`: a batch of events of `experiment`; `blob`: the content of blob `key`. */
  kind: 'events' | 'blob';
  experiment: string;
  key: string | null;
  /** How many events (0 for a blob). */
  count: number;
  /** Its size in bytes, as the spool's bound counts it. */
  bytes: number;
  /** False while it is part of an append still being spooled: nothing ships until it is whole. */
  ready?: boolean;
}

/**
 * What a spool's body() throws for an item that left it meanwhile (another page shipped it): the
 * shipper goes on with the next item.
 */
export class SpoolItemGone extends Error {}

/** What the shipper sends as a request body. */
export type SpoolBody = string | Uint8Array | Blob | ReadableStream<Uint8Array>;

/** The spool as the shipper sees it: the oldest item first; methods may be synchronous or not. */
export interface ShipperSpool {
  /** The oldest item waiting, if any. */
  next(): SpoolItem | undefined | Promise<SpoolItem | undefined>;
  /** What to send for `item` (a batch's JSON text with its id, a blob's content as a stream). */
  body(item: SpoolItem): SpoolBody | Promise<SpoolBody>;
  /** The server took `item`: it leaves the spool. */
  remove(item: SpoolItem): void | Promise<void>;
  /** The server refused `item` for good: it is set aside as a dead letter, with the reason. */
  bury(item: SpoolItem, reason: string): void | Promise<void>;
}

/** Options of the shipper. */
export interface ShipperOptions {
  /** Sends one item; throws an HttpFailure when the server does not take it. */
  send(item: SpoolItem, body: SpoolBody): Promise<void>;
  /** Where the shipper says what goes wrong (one line when trouble starts, when it ends, once a minute between). */
  onError(error: unknown, context: string): void;
  /** How long to wait after a 401 / 403 before trying again (default 30 s, at least that). */
  authBackoffMs?: number;
  /** The first and the longest wait between retries (default 100 ms and 10 s). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
}

/** Reminder lines while shipping keeps failing: at most one per this long. */
const REMINDER_EVERY_MS = 60_000;
const AUTH_BACKOFF_MS = 30_000;

interface Waiter {
  seq: number;
  resolve: () => void;
  reject: (error: unknown) => void;
}

function unref(timer: unknown): void {
  (timer as { unref?: () => void } | undefined)?.unref?.();
}

/**
 * Ships the spool, one item at a time from the front. A network error or a 5xx keeps the item
 * in front and retries it after a jittered, doubling wait (100 ms … 10 s): the server stores a
 * batch sent again under the same id once. A 401 / 403 stops shipping for at least 30 s and is
 * said once; any other 4xx refuses that item for good: it becomes a dead letter, counted and said,
 * and the items after it go on.
 */
export class HttpShipper {
  readonly #spool: ShipperSpool;
  readonly #opts: ShipperOptions;
  #loop: Promise<void> | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #waiters: Waiter[] = [];
  #attempts = 0;
  #troubleSince: number | undefined;
  #lastLine = 0;
  #closed = false;
  /** The last failure of a send, while shipping fails. */
  lastFailure: HttpFailure | undefined;
  /** Set while the server refuses the token (401 / 403): direct requests fail at once with it. */
  authFailure: HttpFailure | undefined;
  /** Items the server refused for good, since the shipper started. */
  deadLetters = 0;
  #deadSaid = 0;
  /** Items and events shipped since the shipper started. */
  shipped = { items: 0, events: 0 };

  constructor(spool: ShipperSpool, opts: ShipperOptions) {
    this.#spool = spool;
    this.#opts = opts;
  }

  /** Ships now unless a retry is scheduled (then it keeps to its schedule) or it already runs. */
  kick(): void {
    if (this.#closed || this.#loop || this.#timer !== undefined) return;
    this.#loop = this.#run()
      // the spool itself failed (its disk full, its file damaged): what waits stays where it is,
      // the process goes on, and shipping is tried again later
      .catch((error: unknown) =>
        this.#failed(
          new HttpFailure(
            `the spool on this machine: ${error instanceof Error ? error.message : String(error)}`,
            undefined,
            undefined,
          ),
        ),
      )
      .finally(() => {
        this.#loop = undefined;
      });
  }

  /**
   * Resolves once every item up to `seq` has left the spool (shipped or refused for good);
   * rejects after `timeoutMs` with the last failure, or at once while the token is refused.
   */
  whenShipped(seq: number, timeoutMs: number): Promise<void> {
    if (this.authFailure) return Promise.reject(this.authFailure);
    return new Promise<void>((resolve, reject) => {
      const timers: Array<ReturnType<typeof setTimeout>> = [];
      const waiter: Waiter = {
        seq,
        resolve: () => {
          clearTimeout(timers[0]);
          resolve();
        },
        reject: (error) => {
          clearTimeout(timers[0]);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(this.lastFailure ?? new HttpFailure('the spool did not ship in time', undefined, undefined));
      }, timeoutMs);
      // not unref'd: whoever waits (close(), a read) keeps the process alive until it ships or times out
      timers.push(timer);
      this.#waiters.push(waiter);
      void this.#settleWaiters().catch(() => undefined);
      this.kick();
    });
  }

  /** Stops shipping: no more retries (what waits stays in the spool). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Resolves the waiters whose items all left the spool. */
  async #settleWaiters(): Promise<void> {
    if (!this.#waiters.length) return;
    const head = await this.#spool.next();
    // an item not ready yet was spooled after the waiters that precede it: they are done
    const done = this.#waiters.filter((w) => head === undefined || head.seq > w.seq);
    if (!done.length) return;
    this.#waiters = this.#waiters.filter((w) => !done.includes(w));
    for (const w of done) w.resolve();
  }

  #retryIn(ms: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.kick();
    }, ms);
    // a pending retry never keeps a finished program alive: close() and the exit hooks decide
    unref(this.#timer);
  }

  #backoff(): number {
    const min = this.#opts.minBackoffMs ?? 100;
    const max = this.#opts.maxBackoffMs ?? 10_000;
    const ms = Math.min(max, min * 2 ** Math.min(this.#attempts, 20));
    this.#attempts++;
    // jitter: clients that lost the server together do not come back in step
    return Math.round(ms * (0.5 + Math.random() / 2));
  }

  async #run(): Promise<void> {
    for (;;) {
      if (this.#closed) return;
      const item = await this.#spool.next();
      if (!item || item.ready === false) {
        // nothing to send, or the head is an append still being spooled (its end kicks again)
        await this.#settleWaiters();
        return;
      }
      try {
        await this.#opts.send(item, await this.#spool.body(item));
      } catch (error) {
        if (error instanceof SpoolItemGone) {
          await this.#settleWaiters();
          continue;
        }
        const failure =
          error instanceof HttpFailure ? error : new HttpFailure(String(error), undefined, undefined);
        if (failure.auth) {
          this.#authFailed(failure);
          return;
        }
        if (failure.retryable) {
          this.#failed(failure);
          return;
        }
        await this.#spool.bury(item, failure.message);
        this.#buried(item, failure);
        await this.#settleWaiters();
        continue;
      }
      await this.#spool.remove(item);
      this.shipped.items++;
      this.shipped.events += item.count;
      this.#recovered();
      await this.#settleWaiters();
    }
  }

  #failed(failure: HttpFailure): void {
    this.lastFailure = failure;
    const now = Date.now();
    if (this.#troubleSince === undefined) {
      this.#troubleSince = now;
      this.#lastLine = now;
      this.#opts.onError(
        failure,
        'shipping the spool to the server (kept on disk; retrying with backoff, next line when it recovers)',
      );
    } else if (now - this.#lastLine >= REMINDER_EVERY_MS) {
      this.#lastLine = now;
      this.#opts.onError(
        failure,
        `shipping the spool still fails after ${Math.round((now - this.#troubleSince) / 1000)} s (kept on disk)`,
      );
    }
    this.#retryIn(this.#backoff());
  }

  #authFailed(failure: HttpFailure): void {
    // said once per spell; the spool is kept, and no request goes out for a while
    if (!this.authFailure)
      this.#opts.onError(
        failure,
        'the server refuses the token (check OMEGA_TOKEN / the token option); the spool is kept and shipping retried every 30 s',
      );
    this.authFailure = failure;
    this.lastFailure = failure;
    for (const w of this.#waiters.splice(0)) w.reject(failure);
    this.#retryIn(Math.max(AUTH_BACKOFF_MS, this.#opts.authBackoffMs ?? AUTH_BACKOFF_MS));
  }

  #buried(item: SpoolItem, failure: HttpFailure): void {
    this.deadLetters++;
    const now = Date.now();
    // the first refusal is said with its reason; more of them at most once a minute, counted
    if (this.#deadSaid === 0 || now - this.#lastLine >= REMINDER_EVERY_MS) {
      this.#lastLine = now;
      this.#opts.onError(
        failure,
        `the server refused ${item.kind === 'blob' ? `blob '${item.key}'` : `a batch of ${item.count} event(s) of '${item.experiment}'`} for good: kept as a dead letter in the spool (${this.deadLetters} refused so far)`,
      );
      this.#deadSaid = this.deadLetters;
    }
  }

  #recovered(): void {
    this.#attempts = 0;
    this.lastFailure = undefined;
    if (this.authFailure) {
      this.authFailure = undefined;
      this.#opts.onError(new Error('the server takes the token again; shipping the spool'), 'server');
    }
    if (this.#troubleSince === undefined) return;
    const seconds = Math.round((Date.now() - this.#troubleSince) / 1000);
    this.#troubleSince = undefined;
    this.#opts.onError(
      new Error(`the server answers again after ${seconds} s; the spool is being shipped`),
      'server recovered',
    );
  }
}
