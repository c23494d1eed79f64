/**
 * Decimal number syntax, the only text a filter reads as a number: an optional sign, digits with
 * an optional fraction (or a fraction alone), an optional exponent. Not '0x10', 'Infinity',
 * 'NaN', '' or ' 16'. (Each part has one way to match, so a long text of digits cannot make it
 * backtrack.)
 */
const DECIMAL = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/**
 * The number a text in decimal syntax stands for ('16', '-0.5', '1e-3'); undefined for any
 * other text and for one whose value overflows to ±Infinity ('1e999'): such a text is no number a
 * filter compares with, as `Number()` would have it ('0x10' is 16, '' is 0, 'Infinity' is one).
 */
export function decimalNumber(text: string): number | undefined {
  if (!DECIMAL.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** The forms a time attribute of a filter takes, as errors name them. */
export const FILTER_TIME_FORMS =
  "ms since the epoch or an ISO date: 1796630073904 or '1796630073904' (quoted: 9 digits or more), " +
  "'2026-12-07' (UTC), '2026-12-07T10:00:00Z', '2026-12-07T10:00:00.250+01:00'";

/**
 * ms since the epoch, quoted: 9 digits or more, for a shorter one reads as well as an ISO year
 * ('2026') or basic date ('20261207') as ms, and is refused rather than guessed.
 */
const EPOCH_MS = /^-?\d{9,16}$/;

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
 * The time a filter's text value for `start_time` or `end_time` stands for, in ms since the epoch:
 * a whole number of ms of 9 digits or more ('1796630073904', as the unquoted number), or an ISO 8601 date
 * ('2026-12-07': that day's midnight UTC, as Date.parse reads a date alone) or date-time with its
 * zone ('2026-12-07T10:00:00Z', '…+01:00'; a date-time without a zone is refused, for the server's
 * zone would decide it). Undefined for anything else: '12', '2026', 'March 7', 'Tue Dec 08 2026',
 * '2026-02-30', '2026-12-07T10:00'.
 */
export function filterTime(text: string): number | undefined {
  if (EPOCH_MS.test(text)) return Number(text);
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
