/**
 * The one place where omega-track writes diagnostics. Recording-time failures (a store that is
 * down, a server that does not answer) are reported here instead of being thrown into the
 * user's training loop.
 */
export type ErrorHandler = (error: unknown, context?: string) => void;

/** Writes one diagnostic line; replace it with `setDiagWriter` (tests, quiet applications). */
export type DiagWriter = (line: string) => void;

// stderr in Node; a page's console (a page has no process)
let writer: DiagWriter = (line) =>
  typeof process !== 'undefined' && process.stderr
    ? void process.stderr.write(`[omega-track] ${line}\n`)
    : console.warn(`[omega-track] ${line}`);

/** Replaces where diagnostic lines go; returns the previous writer. */
export function setDiagWriter(next: DiagWriter): DiagWriter {
  const previous = writer;
  writer = next;
  return previous;
}

/** Writes one diagnostic line. Never throws. */
export function diag(line: string): void {
  try {
    writer(line);
  } catch {
    // a broken writer must not take tracking (or training) down with it
  }
}

/** The default error handler: one diagnostic line per error. */
export const defaultErrorHandler: ErrorHandler = (error, context) => {
  const message = error instanceof Error ? error.message : String(error);
  diag(`${context ? context + ': ' : ''}${redactUrls(message)}`);
};

/** A value as text for messages: an Error's message, JSON for data, String() otherwise. */
export function describeValue(value: unknown): string {
  if (value instanceof Error) return value.message;
  if (typeof value === 'object' && value !== null) {
    try {
      return JSON.stringify(value);
    } catch {
      return Object.prototype.toString.call(value);
    }
  }
  return String(value);
}

/** Removes passwords from URLs in a text, so credentials never reach a log line. */
export function redactUrls(text: string): string {
  // the scheme is bounded (real ones are short): unbounded, a long run of letters without '://'
  // backtracks from every position, quadratic in the text (a long request path, a filter echoed
  // in an error) — seconds on one thread for 40 kB
  return text.replace(/([a-z][a-z0-9+.-]{0,31}:\/\/)([^/\s:@]*):([^/\s@]+)@/gi, '$1$2:***@');
}
