/**
 * The web UI's server (`omega-track ui`): node:http only. It serves the built single-page app
 * (cli/dist/ui) and the read-only JSON API, on 127.0.0.1 by default. Off the loopback interface
 * (or with a token given) every request needs the access token, as Jupyter does it: printed in the
 * URL, then kept in a cookie. Bound to loopback, a request must also name a loopback host (token
 * or not). GET (and HEAD) only: no endpoint writes.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import net from 'node:net';
import path from 'node:path';
import type { Omega } from '@omega-track/core';
import { TrackingError, TrackingInputError } from '@omega-track/core';
import { redactUrls, validateExperimentName } from '@omega-track/core/internal';
import { omega } from '../../omega';
import type { ApiOptions } from './api';
import { UiApi, runParam } from './api';
import { LiveHub } from './live';
import {
  COMMON_HEADERS,
  DATA_CSP,
  HttpError,
  PAGE_CSP,
  describeError,
  sendError,
  sendReply,
} from './respond';

/** The port `omega-track ui` listens on unless told otherwise. */
export const DEFAULT_UI_PORT = 5123;
/** The cookie that carries the access token once the page was opened with it. */
export const TOKEN_COOKIE = 'omega_ui_token';

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

/** Whether `host` is a loopback address or name (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1' || /^::ffff:127\./.test(h) || h === '0:0:0:0:0:0:0:1';
  return false;
}

/** A token as the server compares it: a fixed-length digest, so the comparison takes the same time for any guess. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The token a request carries: `?token=`, `Authorization: Bearer`, or the cookie. */
function tokensOf(req: IncomingMessage, query: URLSearchParams): string[] {
  const found: string[] = [];
  // every token given is a candidate: ?token=old&token=new is let in by the right one
  for (const q of query.getAll('token')) if (q) found.push(q);
  const auth = req.headers.authorization;
  const bearer = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
  if (bearer) found.push(bearer[1]);
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) {
      try {
        found.push(decodeURIComponent(part.slice(eq + 1).trim()));
      } catch {
        // a cookie that is not valid percent-encoding is no token
      }
    }
  }
  return found;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/**
 * The file under `root` that URL path segments name, or undefined when they name none — or try
 * to leave it: `..`, encoded slashes or backslashes, NUL, hidden files, symlinks out of it.
 */
export function resolveAsset(root: string, rawSegments: readonly string[]): string | undefined {
  const segments: string[] = [];
  for (const raw of rawSegments) {
    let s: string;
    try {
      s = decodeURIComponent(raw);
    } catch {
      return undefined;
    }
    if (s === '' || s.startsWith('.') || /[/\\\0]/.test(s)) return undefined;
    segments.push(s);
  }
  if (segments.length === 0) return undefined;
  let realRoot: string;
  let real: string;
  try {
    realRoot = fs.realpathSync(root);
    real = fs.realpathSync(path.join(root, ...segments));
  } catch {
    return undefined;
  }
  if (!real.startsWith(realRoot + path.sep)) return undefined;
  try {
    return fs.statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a Host header names this machine's loopback (any port): what a page on another site cannot send. */
function loopbackHost(hostHeader: string | undefined): boolean {
  if (!hostHeader) return false;
  const host = hostHeader.startsWith('[')
    ? hostHeader.slice(0, hostHeader.indexOf(']') + 1)
    : hostHeader.split(':')[0];
  return isLoopback(host);
}

/** Serves one static file. */
function sendFile(
  res: ServerResponse,
  file: string,
  head: boolean,
  headers: Record<string, string> = {},
): void {
  const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  const size = fs.statSync(file).size;
  res.writeHead(200, {
    ...COMMON_HEADERS,
    'Content-Security-Policy': type.startsWith('text/html') ? PAGE_CSP : DATA_CSP,
    'Content-Type': type,
    'Content-Length': size,
    // the assets have fixed names: the browser asks again (cheaply) rather than keep a stale build
    'Cache-Control': 'no-cache',
    ...headers,
  });
  if (head) {
    res.end();
    return;
  }
  fs.createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

/** The URL host part for `host` (IPv6 in brackets; any-address binds shown as the loopback). */
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return net.isIPv6(host) ? `[${host}]` : host;
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
  const tokenDigest = token === undefined ? undefined : digest(token);
  const boundToLoopback = isLoopback(host);
  const uiDir = opts.uiDir ?? defaultUiDir();
  const assetsDir = path.join(uiDir, 'assets');
  const log = opts.log ?? (() => undefined);

  const ownOm = opts.om === undefined;
  const om = opts.om ?? omega({ store: opts.store, create: false });
  const api = new UiApi(om, opts);
  const live = new LiveHub(
    { experiments: () => om.experiments.list(), mark: (name) => api.mark(name) },
    { intervalMs: opts.liveIntervalMs, onError: (e) => log(`live updates: ${redactUrls(String(e))}`) },
  );

  const authorized = (req: IncomingMessage, query: URLSearchParams): boolean =>
    tokenDigest === undefined || tokensOf(req, query).some((t) => timingSafeEqual(digest(t), tokenDigest));

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD')
      return sendError(
        res,
        405,
        `${method} is not served: this server only reads`,
        {},
        { Allow: 'GET, HEAD' },
      );
    const head = method === 'HEAD';
    const url = new URL(req.url ?? '/', 'http://ui.invalid');
    // Bound to loopback, only pages of this machine may ask: a site that points its own name at
    // 127.0.0.1 (DNS rebinding) sends its own name as the Host. A token does not lift this: a
    // page that got hold of it (a shared link, a cookie sent along) must still not reach the
    // server under a name of its own. Off loopback, clients name the machine as they know it.
    if (boundToLoopback && !loopbackHost(req.headers.host))
      return sendError(res, 403, 'this server answers requests for localhost / 127.0.0.1 only');
    if (!authorized(req, url.searchParams))
      return sendError(
        res,
        401,
        'this server needs its access token: open the URL it printed (…/?token=…), or send Authorization: Bearer <token>',
        {},
        { 'WWW-Authenticate': 'Bearer' },
      );
    const segments = url.pathname.split('/').slice(1);
    if (url.pathname === '/' || url.pathname === '/index.html') return page(res, url.searchParams, head);
    if (segments[0] === 'assets') {
      const file = resolveAsset(assetsDir, segments.slice(1));
      if (!file) return sendError(res, 404, 'no such file');
      return sendFile(res, file, head);
    }
    if (segments[0] === 'api') return apiRoute(req, res, segments.slice(1), url.searchParams, head);
    return sendError(res, 404, `nothing at ${url.pathname}`);
  }

  /** The page; opened with a valid `?token=`, it also sets the cookie that carries the token on. */
  function page(res: ServerResponse, query: URLSearchParams, head: boolean): void {
    const file = path.join(uiDir, 'index.html');
    if (!fs.existsSync(file)) {
      res.writeHead(503, {
        ...COMMON_HEADERS,
        'Content-Security-Policy': DATA_CSP,
        'Content-Type': 'text/plain; charset=utf-8',
        'Cache-Control': 'no-store',
      });
      res.end(
        `The omega-track UI is not built: ${file} is missing.\n` +
          'Build it with `npm run build` (or `node cli/scripts/buildUi.js`) in the omega-track repository.\n' +
          'The JSON API works without it: /api/experiments\n',
      );
      return;
    }
    const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
    if (token !== undefined && query.getAll('token').includes(token))
      headers['Set-Cookie'] =
        `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
    sendFile(res, file, head, headers);
  }

  async function apiRoute(
    req: IncomingMessage,
    res: ServerResponse,
    parts: string[],
    q: URLSearchParams,
    head: boolean,
  ): Promise<void> {
    let names: string[];
    try {
      names = parts.map((p) => decodeURIComponent(p));
    } catch {
      throw new HttpError(400, 'the path is not valid percent-encoding');
    }
    const [top, exp, what, runText, sub, key, ...rest] = names;
    if (top === 'live' && names.length === 1) {
      const experiment = q.get('experiment') || undefined;
      // a name no experiment can have is a 400; one that does not exist yet is watched (a page
      // may be opened before its run starts), at the price of one metadata read per round
      if (experiment !== undefined) validateExperimentName(experiment);
      return live.subscribe(req, res, experiment, head);
    }
    if (top !== 'experiments') throw new HttpError(404, `no API at /api/${parts.join('/')}`);
    let reply;
    if (names.length === 1) reply = await api.experiments(q);
    else if (names.length === 3 && what === 'runs') reply = await api.runs(exp, q);
    else if (names.length === 3 && what === 'keys') reply = await api.keys(exp);
    else if (names.length === 3 && what === 'series') reply = await api.series(exp, q);
    else if (what === 'runs' && names.length >= 5 && rest.length === 0) {
      const run = runParam(runText);
      if (names.length === 5 && sub === 'profile') reply = await api.profile(exp, run, q);
      else if (names.length === 5 && sub === 'events') reply = await api.events(exp, run, q);
      else if (names.length === 5 && sub === 'artifacts') reply = await api.artifacts(exp, run);
      else if (names.length === 6 && sub === 'artifacts') reply = await api.artifact(exp, run, key, q);
      // the key in the query: one that is '.' or '..' cannot be a path segment (URLs drop those)
      else if (names.length === 5 && sub === 'artifact') {
        const named = q.get('key');
        if (named === null) throw new HttpError(400, 'artifact takes ?key=');
        reply = await api.artifact(exp, run, named, q);
      }
    }
    if (!reply) throw new HttpError(404, `no API at /api/${parts.join('/')}`);
    await sendReply(res, reply, head);
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((error: unknown) => {
      const { status, message, fields } = describeError(error);
      if (status >= 500 && !(error instanceof TrackingError))
        log(`${req.method} ${redactUrls(req.url ?? '')}: ${redactUrls(message)}`);
      sendError(res, status, message, fields);
    });
  });
  // a client that never finishes sending its request headers holds no connection for long
  server.headersTimeout = 20_000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    if (ownOm) await om.close().catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new TrackingError(
        `port ${port} on ${host} is in use: pick another with --port (0 for any free one)`,
      );
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
      throw new TrackingError(`cannot listen on ${host}: no such address on this machine`);
    throw error;
  }
  const actual = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(host)}:${actual}/${token !== undefined ? `?token=${encodeURIComponent(token)}` : ''}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port: actual,
    host,
    ...(token !== undefined ? { token } : {}),
    close: () =>
      (closing ??= (async () => {
        live.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        if (ownOm) await om.close();
      })()),
  };
}
