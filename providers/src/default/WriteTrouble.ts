import type { ErrorHandler } from '@omega-track/core';
import { StoreError } from '@omega-track/core';

/** Longest wait between two retries of a failing store (ms). */
export const MAX_RETRY_DELAY_MS = 5000;
const FIRST_RETRY_DELAY_MS = 100;
/** While the store keeps failing, at most one reminder line per this long (ms). */
const REMINDER_EVERY_MS = 60_000;

/**
 * Keeps a failing store from flooding the log and the event loop: retries back off (doubling to
 * a ceiling of a few seconds), and the diagnostics are one line when the trouble starts, at most
 * one a minute while it lasts, and one when it ends, with how many events waited.
 */
export class WriteTrouble {
  private since: number | undefined;
  private lastLine = 0;
  private delay = 0;
  private failures = 0;
  /** Whether the last failure was another process's write lock (a slow one: it waited). */
  lastLocked = false;
  /** The message of the last failure. */
  lastError: string | undefined;

  constructor(
    private readonly experiment: string,
    private readonly onError: ErrorHandler,
  ) {}

  /** Whether writes are failing now. */
  get failing(): boolean {
    return this.since !== undefined;
  }

  /** A write failed with `pending` events waiting: reports (rate-limited); returns the retry delay. */
  failed(error: unknown, pending: number, dropped: number): number {
    const now = Date.now();
    this.failures++;
    this.lastLocked = error instanceof StoreError && error.code === 'locked';
    this.lastError = error instanceof Error ? error.message : String(error);
    this.delay = this.delay ? Math.min(this.delay * 2, MAX_RETRY_DELAY_MS) : FIRST_RETRY_DELAY_MS;
    if (this.since === undefined) {
      this.since = now;
      this.lastLine = now;
      this.onError(
        error,
        `writing events of '${this.experiment}' (${pending} waiting; retrying with backoff, next line when it recovers)`,
      );
    } else if (now - this.lastLine >= REMINDER_EVERY_MS) {
      this.lastLine = now;
      this.onError(
        error,
        `writing events of '${this.experiment}' still fails after ${Math.round((now - this.since) / 1000)} s, ${this.failures} attempts (${pending} waiting${dropped ? `, ${dropped} dropped` : ''})`,
      );
    }
    return this.delay;
  }

  /** A write went through: if it ended a failing spell, says so with how many events had waited. */
  recovered(waited: number): void {
    if (this.since === undefined) return;
    const seconds = Math.round((Date.now() - this.since) / 1000);
    this.since = undefined;
    this.delay = 0;
    this.failures = 0;
    this.lastLocked = false;
    this.onError(
      new Error(
        `the store takes writes again after ${seconds} s; ${waited} event(s) that waited are being written`,
      ),
      `'${this.experiment}' recovered`,
    );
  }
}
