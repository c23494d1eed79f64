/**
 * For the tests of `omega-track/browser`: a team server (a real `omega-track server` process on
 * an SQLite store), a page server of another origin on loopback that serves test pages and
 * tfjs's browser build, and headless Chromium (a fresh profile) opening a page that imported the
 * browser client from the team server — as a plain `<script type="module">`, no bundler, no
 * polyfill. The page keeps the client's module as `window.ot`.
 */
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { EventQuery, Omega } from 'omega-track';
import { omega } from 'omega-track';
import { cliBin } from '../cli/cliRunner';
import { startTeamServer } from '../helpers/teamServer';
import type { TeamServer } from '../helpers/teamServer';
import { tempDir } from '../helpers/tmp';
import { launchBrowser, REPO } from '../ui/browserHelpers';

/** The built browser client (npm run build). */
export const BROWSER_CLIENT = path.join(REPO, 'cli', 'dist', 'browser', 'omega-track.browser.mjs');
const TFJS = path.join(REPO, 'node_modules', '@tensorflow', 'tfjs', 'dist', 'tf.min.js');

/** A page server: `/tf.min.js`, `/omega-track.browser.js` (its own copy of the client), and pages by path. */
export interface PageServer {
  origin: string;
  /** Serves `html` at `pathname`. */
  page(pathname: string, html: string): void;
  close(): Promise<void>;
}

/** A static server of test pages on 127.0.0.1, a free port. */
export async function startPageServer(host = '127.0.0.1'): Promise<PageServer> {
  const pages = new Map<string, string>();
  const server = http.createServer((req, res) => {
    const pathname = (req.url ?? '/').split('?')[0];
    if (pathname === '/omega-track.browser.js') {
      // the client as an application serves it itself (bundled, or copied from the package)
      res.writeHead(200, { 'content-type': 'text/javascript' });
      fs.createReadStream(BROWSER_CLIENT).pipe(res);
      return;
    }
    if (pathname === '/tf.min.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      fs.createReadStream(TFJS).pipe(res);
      return;
    }
    const html = pages.get(pathname);
    if (html === undefined) {
      res.writeHead(404).end('no such page');
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://${host}:${port}`,
    page: (pathname, html) => void pages.set(pathname, html),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A page that loads tfjs (the global `tf`) and the client as `window.ot`: from the team server at
 * `serverUrl`, or from the page's own origin when `serverUrl` is '' (a page that must load while
 * the team server is down).
 */
export function clientPage(serverUrl: string, opts: { tfjs?: boolean } = {}): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>omega-track page</title>
${opts.tfjs === false ? '' : '<script src="/tf.min.js"></script>'}
<script type="module">
  import * as ot from '${serverUrl}/omega-track.browser.js';
  window.ot = ot;
  window.otReady = true;
</script></head><body><p>omega-track test page</p></body></html>`;
}

/** Makes a token on the server's store (`omega-track token create`), returns its text. */
export function createToken(store: string, name: string, role: string, more: string[] = []): string {
  const r = cliBin(['token', 'create', name, '--role', role, ...more, '--store', store]);
  if (r.code !== 0) throw new Error(`token create failed: ${r.err}`);
  return r.out.trim();
}

/** Everything a browser test uses, started; `close()` stops it all. */
export interface BrowserRig {
  dir: string;
  /** The server's store (SQLite), for reading what reached it. */
  store: string;
  server: TeamServer;
  pages: PageServer;
  page: Page;
  /**
   * Reads the server's store in this process (read-only, closed again): `use` gets its `om`.
   * What a page logged, as the team's Node processes see it.
   */
  readStore<T>(use: (om: Omega) => Promise<T>): Promise<T>;
  /** The rows of `experiment` in the server's store that match `query`. */
  serverData(experiment: string, query?: EventQuery): Promise<any[]>;
  /**
   * Reloads the page (the page that was goes, as a user's reload makes it go) and opens a store
   * of the team server in the new one, as `window.om`: the new page adopts what the old one left.
   */
  reloadAndOpenStore(token: string): Promise<void>;
  /** Opens `pathname` of the page server and waits until the client module loaded. */
  open(pathname: string, html?: string): Promise<void>;
  close(): Promise<void>;
}

/** Starts a team server (CORS for the page server's origin unless `cors` says others), a page server and Chromium. */
export async function startBrowserRig(
  opts: {
    cors?: (pageOrigin: string) => string[];
    serverArgs?: string[];
    /**
     * The host name pages are served under (default 127.0.0.1). Another name resolves to
     * 127.0.0.1 in Chromium, and a page of it is no secure context (no Web Locks, no randomUUID).
     */
    pageHost?: string;
  } = {},
): Promise<BrowserRig> {
  const tmp = tempDir('omega-browser-');
  const store = `sqlite:${path.join(tmp.dir, 'server.db')}`;
  const pages = await startPageServer(opts.pageHost);
  const origins = opts.cors ? opts.cors(pages.origin) : [pages.origin];
  const server = await startTeamServer({
    store,
    args: [...origins.flatMap((o) => ['--cors-origin', o]), ...(opts.serverArgs ?? [])],
  });
  const browser = await launchBrowser(
    opts.pageHost ? [`--host-resolver-rules=MAP ${opts.pageHost} 127.0.0.1`] : [],
  );
  const page = browser.page;
  return {
    dir: tmp.dir,
    store,
    server,
    pages,
    page,
    readStore: async (use) => {
      const om = omega({ store, create: false });
      try {
        return await use(om);
      } finally {
        await om.close();
      }
    },
    serverData: async (experiment, query = {}) => {
      const om = omega({ store, create: false });
      try {
        return (await om.runtime.experiment(experiment).data(query)) as any[];
      } finally {
        await om.close();
      }
    },
    reloadAndOpenStore: async (token) => {
      await page.reload();
      await page.waitForFunction(() => (globalThis as { otReady?: boolean }).otReady === true);
      await page.evaluate(
        ({ url, token }) => {
          const g = globalThis as any;
          g.om = g.ot.omega({ store: url, token });
        },
        { url: server.url, token },
      );
    },
    open: async (pathname, html) => {
      pages.page(pathname, html ?? clientPage(server.url));
      await page.goto(`${pages.origin}${pathname}`);
      await page.waitForFunction(() => (globalThis as { otReady?: boolean }).otReady === true, undefined, {
        timeout: 20_000,
      });
    },
    close: async () => {
      await browser.close();
      await server.close().catch(() => undefined);
      await pages.close();
      tmp.cleanup();
    },
  };
}

/**
 * The rig of a test file: started before its tests, closed after them. The handle is usable as
 * soon as the tests run (it forwards to the rig started in beforeAll).
 */
export function suiteRig(opts: Parameters<typeof startBrowserRig>[0] = {}): BrowserRig {
  let started: BrowserRig | undefined;
  beforeAll(async () => {
    started = await startBrowserRig(opts);
  });
  afterAll(async () => {
    await started?.close();
  });
  return new Proxy({} as BrowserRig, {
    get: (_target, key) => {
      if (!started) throw new Error('the browser rig starts in beforeAll');
      return Reflect.get(started, key) as unknown;
    },
  });
}
