/**
 * bench/browser: `omega-track/browser` in headless Chromium logging into a real `omega-track
 * server`, against its baselines in the same run (issue 23).
 *
 * 1. The cost of one `logMetric` call in a page: N calls in a loop with the `default` provider
 *    (queued, spooled to IndexedDB, shipped) against the `notrack` provider (the call alone).
 * 2. Whether recording blocks the page: a page logs 1,000 metrics every 20 ms (50,000/s) for a few
 *    seconds while a 4 ms timer measures how late it fires (the main thread's longest stall) and
 *    the Long Tasks API counts tasks over 50 ms — against the same page logging nothing.
 * 3. The time from the last call to every event stored by the server.
 *
 *   npm run build && node bench/dist/browser.js [--metrics N] [--seconds S]
 */
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Page } from 'playwright-core';
import { omega } from 'omega-track';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const METRICS = arg('--metrics', 200_000);
const SECONDS = arg('--seconds', 4);
const ROOT = path.join(__dirname, '..', '..');
const BIN = path.join(ROOT, 'cli', 'dist', 'bin.js');
const CLIENT = path.join(ROOT, 'cli', 'dist', 'browser', 'omega-track.browser.mjs');
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US');

async function startServer(store: string, cors: string): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [BIN, 'server', '--port', '0', '--host', '127.0.0.1', '--store', store, '--cors-origin', cors],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /serving (https?:\/\/\S+)/.exec(out);
      if (m) resolve(m[1].replace(/\/$/, ''));
    });
    child.once('exit', (code) => reject(new Error(`the server exited (${code}): ${out}`)));
  });
  return { url, child };
}

/** A page origin of its own that serves the client and an empty page. */
async function startPages(): Promise<{ origin: string; close(): void }> {
  const server = http.createServer((req, res) => {
    if (req.url === '/omega-track.browser.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' });
      fs.createReadStream(CLIENT).pipe(res);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(
      '<!doctype html><script type="module">import * as ot from "/omega-track.browser.js"; window.ot = ot;</script>',
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** Logs N metrics in a loop; returns calls per second. */
function callRate(
  page: Page,
  url: string,
  token: string,
  provider: string,
  n: number,
  experiment: string,
): Promise<number> {
  return page.evaluate(
    async ({ url, token, provider, n, experiment }) => {
      const g = globalThis as any;
      const om = g.ot.omega({ store: url, token });
      const exp = om.runtime.experiment(experiment, { provider });
      await exp.start();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) exp.logMetric('x', i, i);
      const rate = n / ((performance.now() - t0) / 1000);
      g.pending = { om, exp };
      return rate;
    },
    { url, token, provider, n, experiment },
  );
}

/** Logs (or not) 1,000 metrics every 20 ms for `seconds`; the longest stall of a 4 ms timer and long tasks. */
function stalls(
  page: Page,
  url: string,
  token: string,
  log: boolean,
  seconds: number,
  experiment: string,
): Promise<{ maxLateMs: number; longTasks: number; longestTaskMs: number; logged: number }> {
  return page.evaluate(
    async ({ url, token, log, seconds, experiment }) => {
      const g = globalThis as any;
      const long: number[] = [];
      const observer = new PerformanceObserver((list) => {
        for (const e of list.getEntries()) long.push(e.duration);
      });
      observer.observe({ type: 'longtask' as never });
      const om = g.ot.omega({ store: url, token });
      const exp = om.runtime.experiment(experiment);
      await exp.start();
      let maxLate = 0;
      let logged = 0;
      const end = performance.now() + seconds * 1000;
      await new Promise<void>((resolve) => {
        let expected = performance.now() + 4;
        const probe = (): void => {
          const now = performance.now();
          maxLate = Math.max(maxLate, now - expected);
          expected = now + 4;
          if (now < end) setTimeout(probe, 4);
          else resolve();
        };
        setTimeout(probe, 4);
        const work = (): void => {
          if (performance.now() >= end) return;
          if (log) for (let i = 0; i < 1000; i++) exp.logMetric('y', logged++, logged);
          setTimeout(work, 20);
        };
        work();
      });
      observer.disconnect();
      await exp.stop();
      await om.close();
      return { maxLateMs: maxLate, longTasks: long.length, longestTaskMs: Math.max(0, ...long), logged };
    },
    { url, token, log, seconds, experiment },
  );
}

async function storedCount(store: string, experiment: string): Promise<number> {
  const om = omega({ store, create: false });
  try {
    return (await om.runtime.experiment(experiment).data({ event: 'metric' })).length;
  } finally {
    await om.close();
  }
}

async function main(): Promise<void> {
  if (!fs.existsSync(CLIENT)) throw new Error(`${CLIENT} is missing: npm run build`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-bench-browser-'));
  const store = `sqlite:${path.join(dir, 'server.db')}`;
  const made = spawnSync(
    process.execPath,
    [BIN, 'token', 'create', 'bench-page', '--role', 'write', '--store', store],
    {
      encoding: 'utf8',
    },
  );
  if (made.status !== 0) throw new Error(`token create failed: ${made.stderr}`);
  const token = made.stdout.trim();
  const pages = await startPages();
  const server = await startServer(store, pages.origin);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-bench-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(pages.origin);
    await page.waitForFunction(() => (globalThis as any).ot !== undefined);
    console.log(`bench/browser: Chromium ${context.browser()?.version() ?? ''}, ${os.cpus().length} cores`);

    const idle = await callRate(page, server.url, token, 'notrack', METRICS, 'bench/notrack');
    const rate = await callRate(page, server.url, token, 'default', METRICS, 'bench/calls');
    const t0 = performance.now();
    await page.evaluate(async () => {
      const g = globalThis as any;
      await g.pending.exp.stop();
      await g.pending.om.close();
    });
    while ((await storedCount(store, 'bench/calls')) < METRICS) await new Promise((r) => setTimeout(r, 100));
    const toServer = performance.now() - t0;
    console.log(
      `1. logMetric in a page: ${fmt(rate)} calls/s (default provider: queued, spooled to IndexedDB, shipped) vs ${fmt(idle)} calls/s (notrack: the call alone), ${METRICS.toLocaleString('en-US')} calls`,
    );
    console.log(
      `3. from the last call to all ${METRICS.toLocaleString('en-US')} stored by the server: ${fmt(toServer)} ms (stop + close + shipping)`,
    );

    const quiet = await stalls(page, server.url, token, false, SECONDS, 'bench/quiet');
    const busy = await stalls(page, server.url, token, true, SECONDS, 'bench/steady');
    console.log(
      `2. a page logging ${fmt(busy.logged / SECONDS)} metrics/s for ${SECONDS} s: longest main-thread stall ${busy.maxLateMs.toFixed(1)} ms, ${busy.longTasks} long task(s) > 50 ms (longest ${busy.longestTaskMs.toFixed(0)} ms)` +
        ` vs the same page logging nothing: ${quiet.maxLateMs.toFixed(1)} ms, ${quiet.longTasks} long task(s)`,
    );
  } finally {
    await context.close();
    server.child.kill('SIGTERM');
    pages.close();
    fs.rmSync(profile, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
