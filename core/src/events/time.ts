import { TrackingInputError } from '../errors/TrackingInputError';
import type { TimeSpec } from './types';

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 7 * 86_400_000,
  M: 30 * 86_400_000,
};

const RELATIVE = /^[-+]?(\d+(?:\.\d+)?)([smhdwM])$/;

/**
 * Resolves a time given to `since`/`end` into epoch milliseconds: a Date, an ISO string, or a
 * span `'<n><unit>'` (s m h d w, M = 30-day month) meaning that long before `now`. A leading
 * sign is ignored: a span always points into the past (SPEC §3, fixing omega-ml's `end`).
 */
export function resolveTime(spec: TimeSpec, field: string, now = Date.now()): number {
  if (spec instanceof Date) {
    const t = spec.getTime();
    if (Number.isNaN(t)) throw new TrackingInputError(`${field} is an invalid Date`);
    return t;
  }
  if (typeof spec !== 'string')
    throw new TrackingInputError(
      `${field} must be a Date, an ISO string or a span like '15m', got ${typeof spec}`,
    );
  const match = RELATIVE.exec(spec.trim());
  if (match) return now - Number(match[1]) * UNIT_MS[match[2]];
  const t = Date.parse(spec);
  if (Number.isNaN(t))
    throw new TrackingInputError(
      `${field} '${spec}' is neither an ISO date nor a span like '30s', '15m', '2h', '1d', '1w', '1M'`,
    );
  return t;
}

/** The latest time a JavaScript Date holds, in epoch milliseconds (±100,000,000 days). */
export const MAX_DATE_MS = 8.64e15;

/**
 * Turns the `dt` option of a recording call into epoch milliseconds: a Date, an ISO string or a
 * number of epoch milliseconds, within what a Date holds (±8.64e15 ms). Anything else is a
 * TrackingInputError: an out-of-range time would be stored as a time no reader can show.
 */
export function resolveEventTime(dt: unknown): number {
  if (dt === undefined || dt === null) return Date.now();
  if (typeof dt === 'number') {
    if (!Number.isFinite(dt)) throw new TrackingInputError('dt must be a finite epoch-millisecond number');
    if (Math.abs(dt) > MAX_DATE_MS)
      throw new TrackingInputError(
        `dt ${dt} is outside the range of a Date (±${MAX_DATE_MS} ms around 1970-01-01)`,
      );
    // times are kept to the millisecond, as a Date holds them (it truncates, too)
    return Math.trunc(dt);
  }
  if (dt instanceof Date || typeof dt === 'string') {
    // a Date or a date string outside that range is already an invalid time: NaN here
    const t = dt instanceof Date ? dt.getTime() : Date.parse(dt);
    if (Number.isNaN(t)) throw new TrackingInputError(`dt '${String(dt)}' is not a valid time`);
    return t;
  }
  throw new TrackingInputError(`dt must be a Date, an ISO string or epoch milliseconds, got ${typeof dt}`);
}
