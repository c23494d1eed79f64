/** What the UI server's handlers answer, and how it goes out over HTTP. */
import { FilterSyntaxError, StoreError, TrackingError, TrackingInputError } from '@omega-track/core';
import { jsonReplacer } from '../../commands/format';
import type { Output } from '../../commands/output';

/** A refusal with its HTTP status (and fields the JSON body carries besides `error`). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** A handler's answer. */
export type Reply =
  /** JSON of a value: dates as ISO text, non-finite numbers as "NaN", "Infinity", "-Infinity". */
  | { kind: 'json'; body: unknown; status?: number }
  /** JSON text built by the handler. */
  | { kind: 'jsonText'; text: string }
  /** Text written as it is produced (CSV), as a download named `filename`. */
  | { kind: 'stream'; contentType: string; filename: string; write: (out: Output) => Promise<void> }
  /** Bytes as a download named `filename`. */
  | { kind: 'download'; filename: string; data: Uint8Array; headers?: Record<string, string> };

/** Headers every answer carries: nothing is framed, sniffed, cached or told where it came from. */
export const COMMON_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  // the page's URL may hold the access token: it is never sent on as a referrer
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Cross-Origin-Opener-Policy': 'same-origin',
};

/** The page may run and load only what the server itself serves. */
export const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; " +
  "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; " +
  "frame-ancestors 'none'";
/** Anything but the page (JSON, downloads) runs nothing at all, even opened on its own. */
export const DATA_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox";

/** A file name that every browser and file system takes as it is: `[A-Za-z0-9._-]`, not hidden. */
export function safeFilename(name: string, fallback = 'download'): string {
  const safe = name
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/^[._]+/, '')
    .slice(0, 120);
  return safe || fallback;
}

/** `Content-Disposition` for a download: the safe name, and the original in RFC 5987 form. */
export function attachment(filename: string, original = filename): string {
  const encoded = encodeURIComponent(original).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
  return `attachment; filename="${safeFilename(filename)}"; filename*=UTF-8''${encoded}`;
}

/** JSON text of `value` as the API sends it. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, jsonReplacer);
}

/** The status and body of an error thrown by a handler. */
export function describeError(error: unknown): {
  status: number;
  message: string;
  fields: Record<string, unknown>;
} {
  if (error instanceof HttpError)
    return { status: error.status, message: error.message, fields: error.fields };
  if (error instanceof FilterSyntaxError)
    return {
      status: 400,
      message: error.message,
      fields: { position: error.position, expected: error.expected },
    };
  if (error instanceof TrackingInputError) return { status: 400, message: error.message, fields: {} };
  if (error instanceof StoreError)
    return { status: 503, message: error.message, fields: { code: error.code } };
  if (error instanceof TrackingError) return { status: 500, message: error.message, fields: {} };
  // an unexpected failure: its message (a URL's password redacted), never its stack
  return {
    status: 500,
    message: `internal error: ${error instanceof Error ? error.message : String(error)}`,
    fields: {},
  };
}
