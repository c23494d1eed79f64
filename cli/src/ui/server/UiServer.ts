/**
 * The web UI's server (`omega-track ui`): the app of cli/src/server (Fastify) in its read-only
 * form. It serves the built single-page app (cli/dist/ui) and the read-only JSON API, on
 * 127.0.0.1 by default. Off the loopback interface (or with a token given) every request needs
 * the access token, as Jupyter does it: printed in the URL, then kept in a cookie. Bound to
 * loopback, a request must also name a loopback host (token or not). GET (and HEAD) only, but
 * for saving and deleting the UI's saved views (views.ts), which write to the store's metadata.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Omega } from '@omega-track/core';
import { TrackingInputError } from '@omega-track/core';
import { omega } from '../../omega';
import { singleTokenVerifier } from '../../server/auth';
import { createApp } from '../../server/createApp';
import { listen } from '../../server/listen';
import { isLoopback } from '../../server/loopback';
import type { ApiOptions } from './api';

export { isLoopback } from '../../server/loopback';
export { resolveAsset } from '../../server/uiRoutes';
export { TOKEN_COOKIE } from '../../server/auth';

/** The port `omega-track ui` listens on unless told otherwise. */
export const DEFAULT_UI_PORT = 5123;

/** Options of `startUiServer`. */
export interface UiServerOptions extends ApiOptions {
  /** An open Omega to read (left open by `close()`); else `store` is opened, read-only. */
  om?: Omega;
  /** The store URL to open when no `om` is given (default: OMEGA_STORE, else sqlite:.omega/omega.db). */
  store?: string;
  /** The port (default 5123; 0 picks a free one). */
  port?: number;
  /** The address to bind (default 127.0.0.1). Any other than a loopback one needs a token. */
  host?: string;
  /**
   * The access token: a text to use, `true` to generate one, `false` for none (loopback only).
   * Default: generated when `host` is not a loopback address, else none.
   */
  token?: string | boolean;
  /** Where the built UI is (index.html, assets/); default cli/dist/ui. */
  uiDir?: string;
  /** How often live updates compare the store's change marks while a page listens (default 500 ms). */
  liveIntervalMs?: number;
  /** Where the server says what went wrong unexpectedly (default: nowhere). */
  log?: (line: string) => void;
}

/** A running UI server. */
export interface UiServerHandle {
  /** The URL to open (with `?token=…` when a token is on). */
  url: string;
  port: number;
  host: string;
  /** The access token, when one is on. */
  token?: string;
  /** Stops the server: ends live streams and connections; closes the store it opened. */
  close(): Promise<void>;
}

/** Where `npm run build` puts the UI: cli/dist/ui (from cli/src/ui/server or cli/dist/ui/server alike). */
export function defaultUiDir(): string {
  return path.resolve(__dirname, '..', '..', '..', 'dist', 'ui');
}

/**
 * Starts the UI server; resolves once it listens. The store is opened read-only (never created)
 * when no `om` is given.
 */
export async function startUiServer(opts: UiServerOptions = {}): Promise<UiServerHandle> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? DEFAULT_UI_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TrackingInputError(`port takes a number from 0 to 65535, got ${String(port)}`);
  let token: string | undefined;
  if (typeof opts.token === 'string') {
    if (!/^[\x21-\x7e]+$/.test(opts.token) || opts.token.includes(';') || opts.token.includes(','))
      throw new TrackingInputError('a token is printable text without spaces, commas or semicolons');
    token = opts.token;
  } else if (opts.token === true || (opts.token === undefined && !isLoopback(host)))
    token = randomBytes(24).toString('hex');
  else if (!isLoopback(host))
    throw new TrackingInputError(`serving on ${host}, beyond this machine, needs an access token`);

  const ownOm = opts.om === undefined;
  const om = opts.om ?? omega({ store: opts.store, create: false });
  let app;
  let listening;
  try {
    app = await createApp({
      ...opts,
      om,
      mode: 'ui',
      verifier: token === undefined ? undefined : singleTokenVerifier(token),
      boundToLoopback: isLoopback(host),
      uiDir: opts.uiDir ?? defaultUiDir(),
    });
    listening = await listen(app, host, port);
  } catch (error) {
    if (ownOm) await om.close().catch(() => undefined);
    throw error;
  }
  const url = `${listening.base}/${token !== undefined ? `?token=${encodeURIComponent(token)}` : ''}`;
  let closing: Promise<void> | undefined;
  const running = app;
  return {
    url,
    port: listening.port,
    host,
    ...(token !== undefined ? { token } : {}),
    close: () =>
      (closing ??= (async () => {
        await running.close();
        if (ownOm) await om.close();
      })()),
  };
}
