/**
 * The web UI's routes: the page, its assets, the read API (`/api/experiments/…`) and the live
 * view (`/api/live`), over the handlers of ui/server (api.ts, live.ts), which stay as they were.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { validateExperimentName } from '@omega-track/core/internal';
import type { UiApi } from '../ui/server/api';
import { runParam } from '../ui/server/api';
import type { LiveHub } from '../ui/server/live';
import type { Reply } from '../ui/server/respond';
import { COMMON_HEADERS, DATA_CSP, HttpError, PAGE_CSP } from '../ui/server/respond';
import type { SavedViews } from '../ui/server/views';
import { MAX_VIEW_STATE_BYTES } from '../ui/server/views';
import { requireExperiment, requireRole, seesExperiment, TOKEN_COOKIE } from './auth';
import { sendReply } from './sendReply';

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

/** The query of a request as the handlers take it. */
export function queryOf(req: FastifyRequest): URLSearchParams {
  const raw = req.raw.url ?? '/';
  const q = raw.indexOf('?');
  return new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));
}

/** The raw path segments of a request (still percent-encoded), after the leading slash. */
function rawSegments(req: FastifyRequest): string[] {
  const raw = req.raw.url ?? '/';
  const q = raw.indexOf('?');
  return (q < 0 ? raw : raw.slice(0, q)).split('/').slice(1);
}

/** Serves one static file. */
function sendFile(reply: FastifyReply, file: string, headers: Record<string, string> = {}): FastifyReply {
  const type = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  const size = fs.statSync(file).size;
  return reply
    .code(200)
    .headers({
      'Content-Security-Policy': type.startsWith('text/html') ? PAGE_CSP : DATA_CSP,
      'Content-Type': type,
      'Content-Length': String(size),
      // the assets have fixed names: the browser asks again (cheaply) rather than keep a stale build
      'Cache-Control': 'no-cache',
      ...headers,
    })
    .send(fs.createReadStream(file));
}

/** Where the server serves the browser client (`omega-track/browser`), to every origin and without a token. */
export const BROWSER_CLIENT_PATH = '/omega-track.browser.js';

/** The built browser client (cli/scripts/buildBrowser.js), from dist/server or, under ts-jest, src/server. */
const BROWSER_CLIENT_FILE = path.resolve(__dirname, '..', '..', 'dist', 'browser', 'omega-track.browser.mjs');

/** What the UI's routes are given. */
export interface UiRouteContext {
  api: UiApi;
  live: LiveHub;
  uiDir: string;
  /** The saved views of the store the UI reads. */
  views: SavedViews;
  /** Saving and deleting views needs a token with write (the team server); else any request let in may. */
  viewsNeedWrite?: boolean;
}

/** Whether a request is one of the UI API's writes: PUT or DELETE of a saved view. */
export function isViewWrite(method: string, url: string | undefined): boolean {
  if (method !== 'PUT' && method !== 'DELETE') return false;
  return /^\/api\/experiments\/[^/?]+\/views\/[^/?]+(?:\?|$)/.test(url ?? '');
}

/** Registers the page, its assets, the UI's read API and its live view. */
export function registerUiRoutes(app: FastifyInstance, ctx: UiRouteContext): void {
  const { api, live, uiDir, views } = ctx;
  const assetsDir = path.join(uiDir, 'assets');
  const head = (req: FastifyRequest): boolean => req.method === 'HEAD';
  /** The experiment of a route, checked against what the request's token reaches. */
  const experiment = (req: FastifyRequest): string => {
    const name = (req.params as { exp: string }).exp;
    requireExperiment(req.principal, name);
    return name;
  };
  const run = (req: FastifyRequest): number => runParam((req.params as { run: string }).run);
  const answer =
    (handler: (req: FastifyRequest) => Promise<Reply>) => async (req: FastifyRequest, reply: FastifyReply) =>
      sendReply(reply, await handler(req), head(req));

  /** The page; opened with a valid `?token=`, it also sets the cookie that carries the token on. */
  const page = async (req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const file = path.join(uiDir, 'index.html');
    if (!fs.existsSync(file))
      return reply
        .code(503)
        .type('text/plain; charset=utf-8')
        .send(
          `The omega-track UI is not built: ${file} is missing.\n` +
            'Build it with `npm run build` (or `node cli/scripts/buildUi.js`) in the omega-track repository.\n' +
            'The JSON API works without it: /api/experiments\n',
        );
    const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
    const token = req.principal.token;
    if (token !== undefined && queryOf(req).getAll('token').includes(token))
      // served over TLS, the cookie never travels over plain HTTP
      headers['Set-Cookie'] =
        `${TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict` +
        (req.protocol === 'https' ? '; Secure' : '');
    return sendFile(reply, file, headers);
  };
  // public code: a page of any origin loads it as a module script (fetched in CORS mode)
  app.get(BROWSER_CLIENT_PATH, async (_req, reply) => {
    if (!fs.existsSync(BROWSER_CLIENT_FILE))
      throw new HttpError(503, `the browser client is not built (${BROWSER_CLIENT_FILE}): npm run build`);
    return sendFile(reply, BROWSER_CLIENT_FILE, {
      'Access-Control-Allow-Origin': '*',
      'Cross-Origin-Resource-Policy': 'cross-origin',
    });
  });
  app.get('/', page);
  app.get('/index.html', page);
  app.get('/assets/*', async (req, reply) => {
    const file = resolveAsset(assetsDir, rawSegments(req).slice(1));
    if (!file) throw new HttpError(404, 'no such file');
    return sendFile(reply, file);
  });

  app.get('/api/live', async (req, reply) => {
    const q = queryOf(req);
    const name = q.get('experiment') || undefined;
    // a name no experiment can have is a 400; one that does not exist yet is watched (a page
    // may be opened before its run starts), at the price of one metadata read per round
    if (name !== undefined) {
      validateExperimentName(name);
      requireExperiment(req.principal, name);
    }
    const principal = req.principal;
    // the stream is written by the hub: what Fastify would have added (CORS) goes on it first
    for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) reply.raw.setHeader(k, v);
    reply.hijack();
    try {
      await live.subscribe(req.raw, reply.raw, name, head(req), (n) => seesExperiment(principal, n));
    } catch (error) {
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { ...COMMON_HEADERS, 'Content-Type': 'text/plain; charset=utf-8' });
        reply.raw.end(`live updates failed: ${error instanceof Error ? error.message : String(error)}\n`);
      } else reply.raw.destroy();
    }
  });

  app.get(
    '/api/experiments',
    answer((req) => api.experiments(queryOf(req), (n) => seesExperiment(req.principal, n))),
  );
  app.get(
    '/api/experiments/:exp/runs',
    answer((req) => api.runs(experiment(req), queryOf(req))),
  );
  app.get(
    '/api/experiments/:exp/keys',
    answer((req) => api.keys(experiment(req))),
  );
  app.get(
    '/api/experiments/:exp/series',
    answer((req) => api.series(experiment(req), queryOf(req))),
  );
  app.get(
    '/api/experiments/:exp/runs/:run/profile',
    answer((req) => api.profile(experiment(req), run(req), queryOf(req))),
  );
  app.get(
    '/api/experiments/:exp/runs/:run/events',
    answer((req) => api.events(experiment(req), run(req), queryOf(req))),
  );
  app.get(
    '/api/experiments/:exp/runs/:run/artifacts',
    answer((req) => api.artifacts(experiment(req), run(req))),
  );
  app.get(
    '/api/experiments/:exp/runs/:run/artifacts/:key',
    answer((req) =>
      api.artifact(experiment(req), run(req), (req.params as { key: string }).key, queryOf(req)),
    ),
  );
  app.get(
    '/api/experiments/:exp/values',
    answer((req) => api.values(experiment(req), queryOf(req))),
  );
  app.get(
    '/api/experiments/:exp/band',
    answer((req) => api.band(experiment(req), queryOf(req))),
  );
  app.get(
    '/api/runs',
    answer((req) => api.allRuns(queryOf(req), (n) => seesExperiment(req.principal, n))),
  );
  // saved views: the UI API's only writes (see isViewWrite); on the team server they need write
  // on the experiment, from `omega-track ui` any request it lets in
  const viewName = (req: FastifyRequest): string => (req.params as { name: string }).name;
  const canSaveViews = (req: FastifyRequest): void => {
    if (ctx.viewsNeedWrite) requireRole(req.principal, 'write');
  };
  app.get(
    '/api/experiments/:exp/views',
    answer((req) => views.list(experiment(req))),
  );
  app.put(
    '/api/experiments/:exp/views/:name',
    { bodyLimit: 2 * MAX_VIEW_STATE_BYTES },
    answer(async (req) => {
      const name = experiment(req);
      canSaveViews(req);
      return views.put(name, viewName(req), req.body);
    }),
  );
  app.delete(
    '/api/experiments/:exp/views/:name',
    answer(async (req) => {
      const name = experiment(req);
      canSaveViews(req);
      return views.delete(name, viewName(req));
    }),
  );
  // the key in the query: one that is '.' or '..' cannot be a path segment (URLs drop those)
  app.get(
    '/api/experiments/:exp/runs/:run/artifact',
    answer(async (req) => {
      const name = experiment(req);
      const r = run(req);
      const q = queryOf(req);
      const key = q.get('key');
      if (key === null) throw new HttpError(400, 'artifact takes ?key=');
      return api.artifact(name, r, key, q);
    }),
  );
}
