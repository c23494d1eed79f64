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
 * Resolves a time given to `since`/`end` into epoch milliseconds: a Date, an ISO date or date-time
 * with its zone (see isoTime), or a
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
  const t = isoTime(spec.trim());
  if (t === undefined)
    throw new TrackingInputError(
      `${field} '${spec}' is neither an ISO date nor a span like '30s', '15m', '2h', '1d', '1w', '1M' (ISO: '2026-12-07' for its midnight UTC, '2026-12-07T10:00:00Z' or '…+01:00' with the zone)`,
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

/** An ISO 8601 date, or date-time with its zone (Z or ±hh:mm, ±hhmm, ±hh), in the extended format. */
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:(Z)|([-+])(\d{2})(?::?(\d{2}))?))?$/;

function daysIn(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** ms since the epoch of a UTC time (Date.UTC would read years 0-99 as 1900-1999). */
function utc(year: number, month: number, day: number, hour = 0, minute = 0, second = 0, ms = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime();
}

/**
 * ms since the epoch of an ISO 8601 date ('2026-12-07': that day's midnight UTC, as Date.parse
 * reads a date alone) or date-time with its zone ('2026-12-07T10:00:00Z', '…+01:00'). Undefined
 * for anything else — a date-time without a zone (the process's zone would decide it), '12',
 * 'March 7', 'Tue Dec 08 2026', '2026-02-30' — which Date.parse would read as some time or other.
 */
export function isoTime(text: string): number | undefined {
  const m = ISO_TIME.exec(text);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, frac, z, sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  if (h === undefined) return utc(year, month, day);
  if (z === undefined && sign === undefined) return undefined;
  const hour = Number(h);
  const minute = Number(mi);
  const second = s === undefined ? 0 : Number(s);
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const offsetHours = oh === undefined ? 0 : Number(oh);
  const offsetMinutes = om === undefined ? 0 : Number(om);
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const ms = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, '0'));
  const offset = (sign === '-' ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  return utc(year, month, day, hour, minute, second, ms) - offset;
}
