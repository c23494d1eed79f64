import { TrackingInputError } from '../errors/TrackingInputError';
import { MAX_VALUE_DEPTH, nestingExceeds } from '../objects/plainValues';
import { encodeValue } from './valueCodec';

export { MAX_VALUE_DEPTH };

/** Longest key, experiment or extra-field name accepted (SPEC §1). */
export const MAX_NAME_LENGTH = 250;

/**
 * The longest tag value, in characters (MLflow's limit for a tag value). A value that is not a
 * text counts as its JSON text, as MLflow stores it.
 */
export const MAX_TAG_VALUE_LENGTH = 8000;

/**
 * The longest param value, in characters (MLflow's limit for a param value). A value that is not
 * a text counts as its JSON text, as MLflow stores it.
 */
export const MAX_PARAM_VALUE_LENGTH = 6000;

/**
 * The longest event value, and the longest extra fields of one event (logExtra's and the call's
 * together), in characters (UTF-16 units, as `String.length` counts) of a text as it is, of
 * anything else as its JSON text: 64 Mi. An event is stored whole in one value of the store
 * (SQLite takes at most 1 GB there, and a text may take two bytes per character): a value that
 * large could never be written, and used to hold up every event logged after it. Large content
 * goes to `logArtifact`, whose content is stored as a blob.
 */
export const MAX_EVENT_VALUE_LENGTH = 64 * 1024 * 1024;

/**
 * Throws unless a value (`what`: which one, for the message) whose text is `length` characters
 * long is within MAX_EVENT_VALUE_LENGTH; `asJson`: the length is of its JSON text.
 */
export function validateEventSize(length: number, what: string, asJson: boolean): void {
  if (length <= MAX_EVENT_VALUE_LENGTH) return;
  throw new TrackingInputError(
    `${what}: ${length} characters${asJson ? ' as JSON' : ''}, over the cap; an event value, and the extra fields ` +
      `of an event together, are at most ${MAX_EVENT_VALUE_LENGTH} (MAX_EVENT_VALUE_LENGTH, 64 Mi): ` +
      'log large content with logArtifact',
  );
}

/**
 * The most distinct tag keys one run takes from one handle. Tags label a run for finding it: every
 * key is a column of the run table that `runs()`, `omega-track runs` and the web UI read for each
 * run, so a run with 100,000 tags made each of them slow or fail. 1,000 is far beyond labelling
 * (MLflow's own UI shows a few dozen) and keeps a run's row small; bulk data goes to `logData` or
 * an artifact. Setting a key again does not count.
 */
export const MAX_TAGS_PER_RUN = 1000;

/**
 * Event names the provider writes itself: a run's `start` and `stop` events decide its status,
 * so a recording call may not forge them.
 */
export const RESERVED_EVENT_NAMES: ReadonlySet<string> = new Set(['start', 'stop']);

/**
 * Throws unless `key` is a non-empty string of at most 250 characters without a NUL character
 * (a finite number is taken as its decimal text).
 */
export function validateKey(key: unknown, what = 'key'): string {
  if (typeof key === 'number' && Number.isFinite(key)) key = String(key);
  if (typeof key !== 'string') throw new TrackingInputError(`${what} must be a string, got ${typeof key}`);
  if (key.length === 0) throw new TrackingInputError(`${what} must not be empty`);
  if (key.length > MAX_NAME_LENGTH)
    throw new TrackingInputError(
      `${what} is ${key.length} characters long; at most ${MAX_NAME_LENGTH} are allowed`,
    );
  // NUL ends strings in C libraries, SQLite functions and MLflow: a key must mean one thing everywhere
  if (key.includes('\0')) throw new TrackingInputError(`${what} must not contain a NUL character`);
  return key;
}

/**
 * Throws unless `event` is a valid event name (see `validateKey`) that a recording call may use:
 * `start` and `stop` are written by the provider only (`RESERVED_EVENT_NAMES`).
 */
export function validateEventName(event: unknown): string {
  const name = validateKey(event, 'event');
  if (RESERVED_EVENT_NAMES.has(name))
    throw new TrackingInputError(
      `event name '${name}' is reserved: runs are started and stopped with start()/stop() or run() (a provider class writes these events with logRunEvent)`,
    );
  return name;
}

/**
 * How many characters (code points, as MLflow counts them) `text` has, counted only as far as
 * needed to tell whether it is over `max`.
 */
function overLength(text: string, max: number): number | undefined {
  if (text.length <= max) return undefined;
  // a code point is one or two UTF-16 units: past 2 * max units it is over, whatever they are
  if (text.length > 2 * max) return text.length;
  let points = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    // a high surrogate followed by a low one is one character
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    points++;
  }
  return points > max ? points : undefined;
}

/**
 * Throws unless the value of a `tag` or `param` event (`event`) is within its cap,
 * `MAX_TAG_VALUE_LENGTH` or `MAX_PARAM_VALUE_LENGTH` characters: a text as it is, any other value
 * as its JSON text. Other events are not capped here. `value` must have passed `validateValue`.
 */
export function validateValueLength(event: string, key: string, value: unknown): void {
  const max = event === 'tag' ? MAX_TAG_VALUE_LENGTH : event === 'param' ? MAX_PARAM_VALUE_LENGTH : undefined;
  // numbers, booleans and null are never that long
  if (max === undefined || (typeof value !== 'string' && (typeof value !== 'object' || value === null)))
    return;
  const text = typeof value === 'string' ? value : encodeValue(value);
  const length = overLength(text, max);
  if (length === undefined) return;
  const cap = event === 'tag' ? 'MAX_TAG_VALUE_LENGTH' : 'MAX_PARAM_VALUE_LENGTH';
  throw new TrackingInputError(
    `${event} '${key}' is ${length} characters long${typeof value === 'string' ? '' : ' as JSON'}; ` +
      `a ${event} value is at most ${max} (${cap}, as MLflow): log long content with logData or logArtifact`,
  );
}

/** Throws unless `step` is null/undefined or an integer within ±(2^53 − 1), the safe-integer range. */
export function validateStep(step: unknown): number | null {
  if (step === undefined || step === null) return null;
  if (typeof step !== 'number' || !Number.isInteger(step))
    throw new TrackingInputError(
      `step must be an integer, got ${typeof step === 'number' ? step : typeof step}`,
    );
  // beyond 2^53 neighbouring integers share one float: step 2**60 + 1 would be stored as 2**60
  if (!Number.isSafeInteger(step))
    throw new TrackingInputError(
      `step ${step} is outside the safe-integer range ±${Number.MAX_SAFE_INTEGER}, where steps stay exact`,
    );
  return step;
}

/**
 * Throws unless `name` is a valid experiment name: a string of 1–250 characters, no NUL, and no
 * `..` path segment (`/` is allowed, as in `myapp/regmodel`).
 */
export function validateExperimentName(name: unknown): string {
  // unlike keys, a number is not taken as its text: experiment(5) is a mistake, not a name
  if (typeof name !== 'string')
    throw new TrackingInputError(
      `experiment name must be a string, got ${name === null ? 'null' : Array.isArray(name) ? 'an array' : typeof name}`,
    );
  const s = validateKey(name, 'experiment name');
  if (s.split('/').some((segment) => segment === '..' || segment === '.'))
    throw new TrackingInputError(`experiment name '${s}' must not contain a '.' or '..' path segment`);
  return s;
}

/**
 * Throws unless `value` can be stored as an event value: JSON data (numbers may be NaN or
 * ±Infinity; Dates become ISO strings) with no functions, symbols, bigints or cycles, nested at
 * most `MAX_VALUE_DEPTH` levels.
 */
export function validateValue(value: unknown, what = 'value'): void {
  switch (typeof value) {
    case 'number':
    case 'string':
    case 'boolean':
    case 'undefined':
      return;
    case 'object':
      if (value === null) return;
      checkObject(value, what, what, []);
      return;
    default:
      throw new TrackingInputError(`${what} cannot be stored: a ${typeof value} is not a JSON value`);
  }
}

/** The key valueCodec tags non-finite numbers with; a user object may not use it. */
const RESERVED_KEY = '$omega.nonfinite';

/** Checks an object of a value named `root`, at `path` in it, inside the objects on `stack`. */
function checkObject(value: object, root: string, path: string, stack: object[]): void {
  if (stack.includes(value)) throw new TrackingInputError(`${path} is circular: it contains itself`);
  if (value instanceof Date) return;
  // the error names the value, not the path into it (which would be 100 levels long)
  if (stack.length >= MAX_VALUE_DEPTH) throw tooDeep(root);
  const proto = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && proto !== Object.prototype && proto !== null)
    throw new TrackingInputError(
      `${path} cannot be stored as an event value: a ${value.constructor?.name ?? 'class instance'} is not JSON data (log it as an artifact)`,
    );
  if (!Array.isArray(value) && RESERVED_KEY in value)
    throw new TrackingInputError(`${path} uses the key '${RESERVED_KEY}', which omega-track reserves`);
  stack.push(value);
  const entries: Array<[string, unknown]> = Array.isArray(value)
    ? value.map((v, i) => [`[${i}]`, v])
    : Object.entries(value).map(([k, v]) => [`.${k}`, v]);
  for (const [suffix, v] of entries) {
    const t = typeof v;
    if (t === 'function' || t === 'symbol' || t === 'bigint')
      throw new TrackingInputError(`${path}${suffix} cannot be stored: a ${t} is not a JSON value`);
    if (t === 'object' && v !== null) checkObject(v as object, root, path + suffix, stack);
  }
  stack.pop();
}

function tooDeep(what: string): TrackingInputError {
  return new TrackingInputError(
    `${what} is nested more than ${MAX_VALUE_DEPTH} levels deep (arrays and objects in one another); flatten it`,
  );
}

/**
 * Throws unless arrays, plain objects, Maps and Sets nest at most `MAX_VALUE_DEPTH` levels in
 * `value` (an artifact: cycles are allowed there and do not count as depth).
 */
export function validateDepth(value: unknown, what = 'value'): void {
  if (nestingExceeds(value, MAX_VALUE_DEPTH)) throw tooDeep(what);
}
