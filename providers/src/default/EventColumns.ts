import type { PendingEvent } from '@omega-track/core';
import { NODE_NAME } from '@omega-track/core/internal';

/** Events per segment: the first is small (most batches are), later ones amortize allocation. */
const FIRST_SEGMENT = 1024;
const SEGMENT = 16_384;

/** One fixed-size block of the queue; numbers live in typed arrays, never boxed. */
class Segment {
  length = 0;
  readonly run: Int32Array;
  readonly num: Float64Array;
  /** NaN stands for "no step". */
  readonly step: Float64Array;
  readonly dt: Float64Array;
  readonly event: string[];
  readonly key: string[];
  readonly userid: string[];
  /** Non-numeric values by index, created on first use (metrics rarely need it). */
  other: unknown[] | undefined;
  isOther: Uint8Array | undefined;
  extra: Array<Record<string, unknown> | undefined> | undefined;
  /** Estimated bytes of each event's text and extra fields, created on first use (numbers have none). */
  bytes: Float64Array | undefined;

  constructor(readonly capacity: number) {
    this.run = new Int32Array(capacity);
    this.num = new Float64Array(capacity);
    this.step = new Float64Array(capacity);
    this.dt = new Float64Array(capacity);
    this.event = new Array<string>(capacity);
    this.key = new Array<string>(capacity);
    this.userid = new Array<string>(capacity);
  }
}

/**
 * The in-memory queue of the default provider, kept column by column in fixed-size segments.
 * A queued metric costs a few typed-array slots instead of an object, and the queue never copies
 * itself to grow, which is what lets a training loop hand over millions of values a second.
 * Events become objects only when they are written.
 */
export class EventColumns {
  private readonly segments: Segment[] = [new Segment(FIRST_SEGMENT)];
  length = 0;

  push(
    run: number,
    event: string,
    key: string,
    value: unknown,
    step: number | null,
    dt: number,
    userid: string,
    extra: Record<string, unknown> | undefined,
    bytes = 0,
  ): void {
    let s = this.segments[this.segments.length - 1];
    if (s.length === s.capacity) this.segments.push((s = new Segment(SEGMENT)));
    const i = s.length++;
    s.run[i] = run;
    s.event[i] = event;
    s.key[i] = key;
    if (typeof value === 'number') s.num[i] = value;
    else {
      (s.other ??= new Array<unknown>(s.capacity))[i] = value === undefined ? null : value;
      (s.isOther ??= new Uint8Array(s.capacity))[i] = 1;
    }
    s.step[i] = step === null ? NaN : step;
    s.dt[i] = dt;
    s.userid[i] = userid;
    if (extra !== undefined)
      (s.extra ??= new Array<Record<string, unknown> | undefined>(s.capacity))[i] = extra;
    if (bytes !== 0) (s.bytes ??= new Float64Array(s.capacity))[i] = bytes;
    this.length++;
  }

  /**
   * Where a write that starts at event `from` ends: after at most `maxEvents` events and, past the
   * first, before their estimated bytes (`eventBytes` each, plus their text and extra fields) pass
   * `maxBytes`. A write of 1,000 values of 1 MB each is then many small writes, never one of a GB.
   */
  sliceEnd(from: number, maxEvents: number, maxBytes: number, eventBytes: number): number {
    const end = Math.min(this.length, from + maxEvents);
    let total = 0;
    let base = 0;
    for (const s of this.segments) {
      if (base >= end) break;
      const first = Math.max(0, from - base);
      const last = Math.min(s.length, end - base);
      if (first < last) {
        const sizes = s.bytes;
        // numbers without extra fields cost their slots only: no need to look at each (a segment
        // of them is under a MB, so the write passes its bound by that much at most)
        if (!sizes) total += (last - first) * eventBytes;
        else
          for (let i = first; i < last; i++) {
            total += eventBytes + sizes[i];
            if (total > maxBytes) return Math.max(from + 1, base + i);
          }
        if (total > maxBytes) return Math.max(from + 1, base + last);
      }
      base += s.length;
    }
    return end;
  }

  /** The queued events from index `from` up to (not including) `to`, as objects, in order. */
  toEvents(from = 0, to = this.length): PendingEvent[] {
    const end = Math.min(to, this.length);
    const out = new Array<PendingEvent>(Math.max(0, end - from));
    let o = 0;
    let base = 0;
    for (const s of this.segments) {
      if (base >= end) break;
      const first = Math.max(0, from - base);
      const last = Math.min(s.length, end - base);
      for (let i = first; i < last; i++) {
        const step = s.step[i];
        out[o++] = {
          run: s.run[i],
          event: s.event[i],
          key: s.key[i],
          value: s.isOther?.[i] ? s.other![i] : s.num[i],
          step: Number.isNaN(step) ? null : step,
          dt: s.dt[i],
          node: NODE_NAME,
          userid: s.userid[i],
          extra: s.extra?.[i],
        };
      }
      base += s.length;
    }
    return out;
  }
}
