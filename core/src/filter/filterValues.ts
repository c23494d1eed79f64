import { isoTime } from '../events/time';
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

/**
 * The time a filter's text value for `start_time` or `end_time` stands for, in ms since the epoch:
 * a whole number of ms of 9 digits or more ('1796630073904', as the unquoted number), or an ISO 8601 date
 * ('2026-12-07': that day's midnight UTC, as Date.parse reads a date alone) or date-time with its
 * zone ('2026-12-07T10:00:00Z', '…+01:00'; a date-time without a zone is refused, for the server's
 * zone would decide it). Undefined for anything else: '12', '2026', 'March 7', 'Tue Dec 08 2026',
 * '2026-02-30', '2026-12-07T10:00'.
 */
export function filterTime(text: string): number | undefined {
  return EPOCH_MS.test(text) ? Number(text) : isoTime(text);
}
