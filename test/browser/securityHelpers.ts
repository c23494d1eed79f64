/**
 * For the security tests of pages: requests a page makes itself (the browser's fetch, so CORS
 * and the `Origin` header are the browser's), client calls whose typed error is read back, what
 * the server's store holds (read in Node, as an admin would), and an event batch as a raw client
 * would send it. A page's token is visible to its users: they can make any request with it, not
 * only those the client makes, so the tests try both.
 */
import type { Page } from 'playwright-core';
import { omega } from 'omega-track';
import { startBody as serverStartBody } from '../server/api';

/** What a request from the page got: an answer, or the browser's refusal to let it through. */
export interface PageAnswer {
  /** The HTTP status; 0 for an opaque (`no-cors`) answer; undefined when fetch itself failed. */
  status?: number;
  /** The server's error code (`forbidden`, `unauthorized`, …), when it sent one. */
  code?: string;
  /** The answer's text, when the page may read it. */
  text?: string;
  /** Why fetch failed (the browser blocked it: CORS, network). */
  blocked?: string;
}

/** A request made by the page's own `fetch`. */
export interface PageRequest {
  method?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** A JSON text body (Content-Type application/json unless `type` says). */
  body?: string;
  type?: string;
  mode?: 'cors' | 'no-cors';
}

/** Makes `req` from the page to `url`; resolves with what the page saw. */
export function pageFetch(page: Page, url: string, req: PageRequest = {}): Promise<PageAnswer> {
  return page.evaluate(
    async ({ url, req }) => {
      const headers: Record<string, string> = {};
      if (req.token) headers.authorization = `Bearer ${req.token}`;
      if (req.body !== undefined) headers['content-type'] = req.type ?? 'application/json';
      let res: Response;
      try {
        res = await fetch(url, { method: req.method ?? 'GET', headers, body: req.body, mode: req.mode });
      } catch (error) {
        return { blocked: String(error) };
      }
      if (res.type === 'opaque') return { status: res.status };
      const text = await res.text();
      let code: string | undefined;
      try {
        code = (JSON.parse(text) as { code?: string }).code;
      } catch {
        // not JSON
      }
      return { status: res.status, code, text };
    },
    { url, req },
  );
}

/** What a client call in the page gave: its value, or the error it threw, as the page sees it. */
export interface ClientOutcome {
  ok: boolean;
  value?: unknown;
  /** Whether the error is a TrackingError / StoreError of the client (instanceof, in the page). */
  tracking?: boolean;
  storeError?: boolean;
  /** `StoreError.code` (`forbidden`, `unauthorized`, `unreachable`, …). */
  code?: string;
  message?: string;
}

/**
 * Installs `window.outcome(promise)` in the page: resolves with a ClientOutcome of the promise
 * (the client module is `window.ot`, as the rig's pages load it).
 */
export async function installOutcome(page: Page): Promise<void> {
  await page.evaluate(() => {
    const g = globalThis as any;
    g.outcome = async (p: Promise<unknown>): Promise<unknown> => {
      try {
        return { ok: true, value: await p };
      } catch (e: any) {
        return {
          ok: false,
          tracking: e instanceof g.ot.TrackingError,
          storeError: e instanceof g.ot.StoreError,
          code: e?.code,
          message: String(e?.message ?? e),
        };
      }
    };
  });
}

/** What the server's store holds of some experiments. */
export interface StoreState {
  /** The experiments with a configuration. */
  experiments: string[];
  /** Per experiment asked: its events as `run:event:key=value` lines and their writers (`(none)`: written on the store directly). */
  events: Record<string, { lines: string[]; writers: string[] }>;
}

/** The writer the server stamped on an event; `(none)` for one written on the store directly. */
function writerOf(row: object): string {
  const writer = (row as { writer?: unknown }).writer;
  return typeof writer === 'string' ? writer : '(none)';
}

/** Reads the server's store directly (not through the server). */
export async function storeState(store: string, experiments: string[]): Promise<StoreState> {
  const om = omega({ store, create: false });
  try {
    const state: StoreState = { experiments: await om.experiments.list(), events: {} };
    for (const name of experiments) {
      const rows = await om.store.queryEvents(name, {});
      state.events[name] = {
        lines: rows.map((r) => `${r.run}:${r.event}:${r.key}=${JSON.stringify(r.value)}`),
        writers: [...new Set(rows.map((r) => writerOf(r)))].sort(),
      };
    }
    return state;
  } finally {
    await om.close();
  }
}

/** Logs a finished run into `experiment` directly on the store (as the tokenless admin would). */
export async function seedRun(store: string, experiment: string, metrics: number[]): Promise<void> {
  const om = omega({ store });
  try {
    await om.runtime.experiment(experiment).run((e) => {
      e.logParam('seeded', true);
      metrics.forEach((v, step) => e.logMetric('loss', v, step));
      e.logArtifact({ note: 'kept' }, 'notes');
      // content in the blob store: a refused delete must leave it too
      e.logArtifact(new Uint8Array([1, 2, 3]), 'bytes');
    });
  } finally {
    await om.close();
  }
}

/** A valid event batch of the v1 API (docs/http-api.md): metrics `loss` of `run`. */
export function metricBatch(batch: string, run: number, values: number[]): string {
  return JSON.stringify({
    batch,
    strings: ['metric', 'loss', 'page', 'mallory'],
    run: values.map(() => run),
    event: values.map(() => 0),
    key: values.map(() => 1),
    value: values,
    step: values.map((_, i) => i),
    dt: values.map(() => Date.now()),
    node: values.map(() => 2),
    userid: values.map(() => 3),
  });
}

/** The start of a run as `POST …/runs` takes it (the server's tests' start event, as text). */
export function startBody(): string {
  return JSON.stringify(serverStartBody());
}
