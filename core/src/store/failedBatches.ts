import { encodeValue } from '../events/valueCodec';
import type { PendingEvent } from '../events/types';

/**
 * An event as text that tells it apart from any other of its batch, for recognising a failed
 * write when the provider writes the same events again.
 */
export function eventSignature(e: PendingEvent): string {
  return encodeValue([
    e.run,
    e.event,
    e.key,
    e.step,
    e.dt,
    e.node,
    e.userid,
    e.value ?? null,
    e.extra ?? null,
  ]);
}

/**
 * The last failed writes of each experiment and what names them in the store (ids, a batch
 * name): a provider retries a failed write with the very same events, which then get the same
 * names, so that what an attempt whose answer was lost did store is not stored twice.
 */
export class FailedBatches<T> {
  readonly #failed = new Map<string, Array<{ signatures: string[]; value: T }>>();

  /** @param keep how many failed writes per experiment are remembered (a provider retries its oldest first) */
  constructor(private readonly keep = 8) {}

  /** The names of an earlier failed write of exactly these events, if any. */
  find(experiment: string, events: readonly PendingEvent[]): T | undefined {
    let signatures: string[] | undefined;
    for (const f of this.#failed.get(experiment) ?? []) {
      if (f.signatures.length !== events.length) continue;
      signatures ??= events.map(eventSignature);
      if (signatures.every((s, i) => s === f.signatures[i])) return f.value;
    }
    return undefined;
  }

  /** Remembers a failed write (the oldest goes beyond `keep`). */
  remember(experiment: string, events: readonly PendingEvent[], value: T): void {
    const list = [...(this.#failed.get(experiment) ?? []), { signatures: events.map(eventSignature), value }];
    this.#failed.set(experiment, list.slice(-this.keep));
  }

  /** Forgets a write that is now stored. */
  forget(experiment: string, value: T): void {
    const rest = (this.#failed.get(experiment) ?? []).filter((f) => f.value !== value);
    if (rest.length) this.#failed.set(experiment, rest);
    else this.#failed.delete(experiment);
  }

  /** Forgets every write of an experiment (dropped). */
  clear(experiment: string): void {
    this.#failed.delete(experiment);
  }
}
