/**
 * The HTTP app of `omega-track ui` and `omega-track server`, on Fastify: the web UI and its read
 * API always; the versioned write API (`/api/v1`) for the server only. Who asks is settled first
 * for every request (Host check on loopback, token or the loopback `local`), then the route runs.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import Fastify from 'fastify';
import cors from '@fastify/cors';
import type { Omega } from '@omega-track/core';
import { TrackingError } from '@omega-track/core';
import { redactUrls } from '@omega-track/core/internal';
import type { ApiOptions } from '../ui/server/api';
import { UiApi } from '../ui/server/api';
import { LiveHub } from '../ui/server/live';
import { COMMON_HEADERS, DATA_CSP, describeError, HttpError, jsonText } from '../ui/server/respond';
import { ApiError, describeApiError } from './ApiError';
import type { Principal, TokenVerifier } from './auth';
import { forwarded, fromLoopback, fromOtherOrigin, LOCAL_PRINCIPAL, NOBODY, tokensOf } from './auth';
import { loopbackHost } from './loopback';
import { BROWSER_CLIENT_PATH, isViewWrite, registerUiRoutes } from './uiRoutes';
import { SavedViews } from '../ui/server/views';
import type { WriteApiOptions } from './writeApi';
import { registerWriteApi } from './writeApi';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who the request is (set before any route runs). */
    principal: Principal;
  }
}

/** The body limit of everything but event batches and blobs. */
export const DEFAULT_BODY_BYTES = 1024 * 1024;

/**
 * The providers the server reads experiments through as configured: those whose events are in
 * its store. Writers store configurations; any other provider (MLflow: a URL to call, a spool
 * file to create) is read from the store with the default reader.
 */
export const SERVER_READERS: ReadonlySet<string> = new Set(['default', 'simple', 'notrack', 'profiling']);

/** Options of `createApp`. */
export interface AppOptions extends ApiOptions, WriteApiOptions {
  /** The open Omega whose store is served. */
  om: Omega;
  /** `ui`: read-only (GET and HEAD only); `server`: also the write API. */
  mode: 'ui' | 'server';
  /**
   * Checks tokens. `ui` without one serves loopback without tokens; `server` always has one
   * (the store's token registry).
   */
  verifier: TokenVerifier | undefined;
  /** Whether the server listens on a loopback address only: then the Host must name loopback. */
  boundToLoopback: boolean;
  /** Where the built UI is (index.html, assets/). */
  uiDir: string;
  /** How often live updates compare the store's change marks while a page listens (default 500 ms). */
  liveIntervalMs?: number;
  /** Origins whose pages may call the API (CORS); none by default. */
  corsOrigins?: readonly string[];
  /** TLS: the certificate chain and key (PEM). */
  https?: { cert: Buffer; key: Buffer };
  /** Where the server says what went wrong unexpectedly (default: nowhere). */
  log?: (line: string) => void;
}

/** A built app: the Fastify instance and what must be stopped with it. */
export interface App {
  fastify: FastifyInstance;
  /** Ends live streams and stops the server (the store stays open: its owner closes it). */
  close(): Promise<void>;
}

/** Whether a path is under the versioned API, whose errors carry a `code`. */
function isV1(url: string | undefined): boolean {
  return url !== undefined && (url === '/api/v1' || url.startsWith('/api/v1/') || url.startsWith('/api/v1?'));
}

/** A URL as it may be logged: no token in it, no password. */
export function safePath(url: string | undefined): string {
  return redactUrls((url ?? '').replace(/([?&]token=)[^&]*/gi, '$1…'));
}

/** The status and body of an error of the UI's routes (their body: `{ error, ...fields }`). */
function describeUiError(error: unknown): { status: number; body: Record<string, unknown> } {
  if (!(error instanceof HttpError) && !(error instanceof TrackingError)) {
    const fw = error as Partial<FastifyError>;
    if (typeof fw.statusCode === 'number' && fw.statusCode >= 400 && fw.statusCode < 500)
      return { status: fw.statusCode, body: { error: fw.message ?? 'bad request' } };
  }
  const { status, message, fields } = describeError(error);
  return { status, body: { error: redactUrls(message), ...fields } };
}

/** Builds the app (not listening yet). */
export async function createApp(opts: AppOptions): Promise<App> {
  const { om, mode, verifier, boundToLoopback } = opts;
  const log = opts.log ?? (() => undefined);
  const api = new UiApi(om, mode === 'server' ? { ...opts, readers: SERVER_READERS } : opts);
  const live = new LiveHub(
    { experiments: () => om.experiments.list(), mark: (name) => api.mark(name) },
    { intervalMs: opts.liveIntervalMs, onError: (e) => log(`live updates: ${redactUrls(String(e))}`) },
  );

  const sendError = (req: FastifyRequest, reply: FastifyReply, error: unknown): FastifyReply | undefined => {
    if (reply.sent || reply.raw.headersSent) {
      // an answer already under way can only be cut short
      reply.raw.destroy();
      return undefined;
    }
    const v1 = isV1(req.raw.url);
    let status: number;
    let body: Record<string, unknown>;
    if (v1) {
      const d = describeApiError(error);
      status = d.status;
      body = d.body;
    } else ({ status, body } = describeUiError(error));
    if (status >= 500 && !(error instanceof TrackingError))
      log(`${req.method} ${safePath(req.raw.url)}: ${String(body.error)}`);
    if (error instanceof ApiError) reply.headers(error.headers);
    if (status === 401) reply.header('WWW-Authenticate', 'Bearer');
    return reply
      .code(status)
      .headers({ 'Content-Security-Policy': DATA_CSP, 'Cache-Control': 'no-store' })
      .type('application/json; charset=utf-8')
      .send(jsonText(body));
  };

  const fastify = Fastify({
    logger: false,
    // experiment names are up to 250 characters, percent-encoded three times as long
    routerOptions: { maxParamLength: 4096 },
    // bodies are taken as sent: no coercion of types, no fields dropped silently
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allowUnionTypes: true } },
    bodyLimit: DEFAULT_BODY_BYTES,
    forceCloseConnections: true,
    return503OnClosing: true,
    ...(opts.https ? { https: { cert: opts.https.cert, key: opts.https.key } } : {}),
    frameworkErrors: (error, req, reply) => {
      reply.headers({ ...COMMON_HEADERS });
      sendError(req, reply, error);
    },
  });
  // a client that never finishes sending its request headers holds no connection for long
  fastify.server.headersTimeout = 20_000;
  fastify.decorateRequest('principal', null as unknown as Principal);

  if (opts.corsOrigins && opts.corsOrigins.length > 0)
    await fastify.register(cors, {
      origin: [...opts.corsOrigins],
      methods: ['GET', 'HEAD', 'POST', 'PUT', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', 'Content-Encoding'],
      credentials: false,
      maxAge: 600,
    });

  /** Whether a tokenless request is the loopback `local`. */
  const localAllowed = (req: FastifyRequest): boolean =>
    mode === 'ui'
      ? verifier === undefined
      : // a reverse proxy on this machine must not make every request local, and neither may a
        // web page of another origin open in a browser here (any site could reach loopback):
        // pages log with a token of their own
        boundToLoopback && fromLoopback(req.raw) && !forwarded(req.raw) && !fromOtherOrigin(req);
  const localPrincipal: Principal = mode === 'ui' ? { ...LOCAL_PRINCIPAL, role: 'read' } : LOCAL_PRINCIPAL;

  fastify.addHook('onRequest', async (req, reply) => {
    reply.headers({ ...COMMON_HEADERS, 'Content-Security-Policy': DATA_CSP, 'Cache-Control': 'no-store' });
    const v1 = mode === 'server' && isV1(req.raw.url);
    if (!v1 && req.method !== 'GET' && req.method !== 'HEAD' && !isViewWrite(req.method, req.raw.url))
      throw new ApiError(
        405,
        `${req.method} is not served: ${mode === 'ui' ? 'this server only reads' : 'the UI only reads; the API is under /api/v1'}`,
        'method-not-allowed',
        {},
        { Allow: 'GET, HEAD' },
      );
    // Bound to loopback, only pages of this machine may ask: a site that points its own name at
    // 127.0.0.1 (DNS rebinding) sends its own name as the Host. A token does not lift this: a
    // page that got hold of it (a shared link, a cookie sent along) must still not reach the
    // server under a name of its own. Off loopback, clients name the machine as they know it.
    if (boundToLoopback && !loopbackHost(req.headers.host))
      throw new ApiError(403, 'this server answers requests for localhost / 127.0.0.1 only', 'forbidden');
    // the browser client is public code: no token asked
    req.principal = req.raw.url?.split('?')[0] === BROWSER_CLIENT_PATH ? NOBODY : await authenticate(req, v1);
    // a path that is not valid percent-encoding names nothing
    const raw = req.raw.url ?? '/';
    const q = raw.indexOf('?');
    try {
      decodeURIComponent(q < 0 ? raw : raw.slice(0, q));
    } catch {
      throw new ApiError(400, 'the path is not valid percent-encoding', 'bad-request');
    }
  });

  const authenticate = async (req: FastifyRequest, v1: boolean): Promise<Principal> => {
    if (mode === 'ui' && verifier === undefined) return localPrincipal;
    const raw = req.raw.url ?? '/';
    const q = raw.indexOf('?');
    const query = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
    // the versioned API takes the Bearer header only; the page's links and cookie carry it for the UI
    const candidates = tokensOf(req.raw, query, { query: !v1, cookie: !v1 });
    if (candidates.length > 0 && verifier) {
      for (const token of candidates) {
        const info = await verifier.verify(token);
        if (info)
          return { name: info.name, role: info.role, experiments: info.experiments, local: false, token };
      }
      throw new ApiError(401, 'the token given is not valid here (wrong, or revoked)', 'unauthorized');
    }
    if (localAllowed(req)) return localPrincipal;
    throw new ApiError(
      401,
      mode === 'ui'
        ? 'this server needs its access token: open the URL it printed (…/?token=…), or send Authorization: Bearer <token>'
        : 'this server needs a token beyond loopback: send Authorization: Bearer <token> (omega-track token create)',
      'unauthorized',
    );
  };

  fastify.setErrorHandler((error, req, reply) => sendError(req, reply, error));
  fastify.setNotFoundHandler((req, reply) => {
    const url = req.raw.url ?? '/';
    const path = url.split('?')[0];
    sendError(
      req,
      reply,
      new ApiError(404, path.startsWith('/api/') ? `no API at ${path}` : `nothing at ${path}`),
    );
  });

  registerUiRoutes(fastify, {
    api,
    live,
    uiDir: opts.uiDir,
    views: new SavedViews(om),
    viewsNeedWrite: mode === 'server',
  });
  if (mode === 'server')
    await fastify.register((scope, _o, done) => {
      registerWriteApi(scope, om, { ...opts, onWrite: () => live.poke() });
      done();
    });

  let closing: Promise<void> | undefined;
  return {
    fastify,
    close: () =>
      (closing ??= (async () => {
        live.close();
        await fastify.close();
      })()),
  };
}
