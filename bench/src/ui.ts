/**
 * bench/ui: the web UI on big runs (issue 12). One experiment of 10 runs × 1,000,000 points of
 * `loss` (with spikes) in a SQLite store of its own, served by `startUiServer` in a process of its own:
 * 1. /series of one 1,000,000-point run downsampled to 2,000 points — the first (cold) request of
 *    a fresh server process (median of 5 processes) and the median of 10 warm ones — beside the
 *    baseline of reading the same series as rows with `data()` in this process;
 * 2. the same for the 10 runs in one request;
 * 3. the compare page of the 10 runs in headless Chromium: navigation start to the first chart
 *    drawn, served by a fresh server process (cold) and then again (warm).
 * And the targets of issue 24 (many runs, many metrics), each beside a baseline measured in the
 * same run:
 * 4. 200 runs × 20 metrics × 10,000 points: the compare page of the 200 runs, first chart cold
 *    (< 1.5 s; baseline: the same page of 1 run, and the /series of the 200 runs alone);
 * 5. a group band of 50 runs from /band (< 500 ms; baseline: /series of the same 50 runs, the
 *    points the band is computed from) — 'band endpoint missing' where the server has none;
 * 6. one run with 3,000 metric keys: its page (compare of the one run) interactive (< 1 s: first
 *    chart drawn and no long task after it) and the page's JS heap (< 300 MB, from the
 *    DevTools protocol); baseline: the same for a run with 20 keys.
 * OMEGA_BENCH_UI_MANY_POINTS (default 10000) scales section 4–5 down for a quick try.
 * "Cold" is the first /series of a server process just started (nothing decoded, cached or
 * compiled; only the experiment list asked for first, as the page does; the OS file cache is
 * warm, the store having just been written); for the page, also a browser with a new profile.
 *
 *   npm run build && node bench/dist/ui.js   (OMEGA_BENCH_STORE=postgres://… for the PostgreSQL store)
 */
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext } from 'playwright-core';
import { chromium } from 'playwright-core';
import { omega } from 'omega-track';

const RUNS = 10;
const POINTS = 1_000_000;
const DOWN = 2000;
const EXPERIMENT = 'ui-bench';
const API_TARGET_MS = 100;
const PAGE_TARGET_MS = 2000;
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const now = (): number => Number(process.hrtime.bigint()) / 1e6;
const ms = (t: number): string => `${t.toFixed(1)} ms`;
const medianOf = (times: readonly number[]): number => {
  const sorted = [...times].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};
const list = (times: readonly number[]): string => times.map((t) => t.toFixed(0)).join(', ');
const verdict = (value: number, target: number): string => (value <= target ? 'meets' : 'MISSES');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-bench-ui-'));
// OMEGA_BENCH_STORE measures another store (e.g. a scratch postgres:// database), the embedded one by default
const store = process.env.OMEGA_BENCH_STORE || `sqlite:${path.join(dir, 'omega.db')}`;

/** What has to be stopped at the end, whatever happened. */
const open: {
  child?: ChildProcess;
  browser?: BrowserContext;
} = {};

/**
 * Logs the store: each run one loop of logMetric calls, flushed every 100,000 (the queue's
 * default bound is 500,000 events). The curve decays with a ripple; every 99,991 steps a spike
 * of +1, the kind of point an evenly sampled chart would hide.
 */
async function prepare(): Promise<number> {
  const t0 = now();
  const om = omega({ store });
  const exp = om.runtime.experiment(EXPERIMENT);
  for (let r = 0; r < RUNS; r++) {
    await exp.start({ name: `run-${r + 1}` });
    exp.logParams({ lr: 0.001 * (r + 1) });
    for (let s = 0; s < POINTS; s++) {
      const spike = s % 99_991 === 0 && s > 0 ? 1 : 0;
      exp.logMetric('loss', Math.exp(-s / (POINTS / 3)) + 0.05 * Math.sin(s / 50) + spike + r * 0.05, s);
      if (s % 100_000 === 99_999) await exp.flush();
    }
    await exp.stop();
  }
  await om.close();
  return now() - t0;
}

/** GET `url` over plain node:http (no fetch: its lazy load would land in the cold figure); the body as text. */
function get(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(parts).toString() }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

interface SeriesReply {
  series: { run: number; x: number[]; y: number[]; total: number; shown: number }[];
}

/** One /series request, timed from sending to the last byte; checked for what it must hold. */
async function timedSeries(base: string, runs: readonly number[]): Promise<number> {
  const url = `${base}api/experiments/${encodeURIComponent(EXPERIMENT)}/series?key=loss&runs=${runs.join(',')}&points=${DOWN}`;
  const t0 = now();
  const { status, body } = await get(url);
  const t = now() - t0;
  if (status !== 200) throw new Error(`/series answered ${status}: ${body.slice(0, 200)}`);
  const reply = JSON.parse(body) as SeriesReply;
  if (reply.series.length !== runs.length) throw new Error(`/series sent ${reply.series.length} series`);
  for (const s of reply.series) {
    if (s.total !== POINTS) throw new Error(`run ${s.run}: total ${s.total}, not ${POINTS}`);
    if (s.shown > DOWN) throw new Error(`run ${s.run}: ${s.shown} points sent, more than ${DOWN}`);
    // the spikes (+1 over the curve) must survive downsampling
    if (Math.max(...s.y) < 1 + 0.05 * (s.run - 1)) throw new Error(`run ${s.run}: the spikes were lost`);
  }
  return t;
}

/** `runs` read as rows with data(), one run after another; the time of the whole pass. */
async function rowsBaseline(runs: readonly number[]): Promise<number> {
  const om = omega({ store, create: false });
  const exp = om.runtime.experiment(EXPERIMENT);
  try {
    const t0 = now();
    for (const run of runs) {
      const rows = await exp.data({ run, key: 'loss' });
      if (rows.length !== POINTS) throw new Error(`data() read ${rows.length} rows of run ${run}`);
    }
    return now() - t0;
  } finally {
    await om.close();
  }
}

interface ApiFigures {
  /** Median of the cold samples. */
  cold: number;
  coldAll: number[];
  warm: number;
  warmAll: number[];
}

/** Cold samples: each the first /series of a server process just started. */
const COLD_SAMPLES = 5;

/**
 * /series of `runs`: cold, the first request of a fresh server process (nothing decoded, cached
 * or compiled yet; the page's first requests, the experiment list, made before it) — the median
 * of COLD_SAMPLES such processes — and warm, the median of 10 more requests to the last one.
 */
async function apiLatency(runs: readonly number[]): Promise<ApiFigures> {
  const coldAll: number[] = [];
  const warmAll: number[] = [];
  for (let sample = 0; sample < COLD_SAMPLES; sample++) {
    const base = await serverProcess();
    try {
      await get(`${base}api/experiments`);
      coldAll.push(await timedSeries(base, runs));
      if (sample === COLD_SAMPLES - 1)
        for (let i = 0; i < 10; i++) warmAll.push(await timedSeries(base, runs));
    } finally {
      await stopChild();
    }
  }
  return { cold: medianOf(coldAll), coldAll, warm: medianOf(warmAll), warmAll };
}

/**
 * A server in a process of its own, started for the page (a fresh process: nothing decoded,
 * nothing compiled); it stops on SIGTERM.
 */
async function serverProcess(): Promise<string> {
  const script = `const { startUiServer } = require(process.argv[1]);
    startUiServer({ store: process.argv[2], port: 0, host: '127.0.0.1' }).then((s) => {
      process.stdout.write(JSON.stringify({ url: s.url }) + '\\n');
      process.once('SIGTERM', () => s.close().then(() => process.exit(0)));
    }, (e) => { console.error(e); process.exit(1); });`;
  const child = spawn(process.execPath, ['-e', script, require.resolve('omega-track'), store], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  open.child = child;
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n')) resolve((JSON.parse(line) as { url: string }).url);
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the server process exited (${code})`)));
  });
}

async function stopChild(): Promise<void> {
  const child = open.child;
  open.child = undefined;
  if (!child || child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** What the page's document is asked for. */
interface PageDocument {
  querySelector(selector: string): { dataset: Record<string, string | undefined> } | null;
}

interface PageLoad {
  /** Navigation start to the first chart's draw (the client's `omega:first-chart` mark). */
  firstChart: number;
  /** The page's /series request: its duration as the browser saw it. */
  series: number;
  /** The points per run the page asked for (about two per pixel of the chart's width). */
  asked: string;
  points: string;
  total: string;
}

/**
 * The compare page of every run, time to first chart. The client marks the moment uPlot first
 * drew a chart (`performance.mark('omega:first-chart')` in its draw hook) and sets the chart
 * card's data-state to "drawn"; the figure is that mark's time since navigation start.
 */
async function pageTimes(): Promise<{ cold: PageLoad; warm: PageLoad[] }> {
  const base = await serverProcess();
  const { page, errors } = await freshBrowser();
  const compare = `${base}#/e/${encodeURIComponent(EXPERIMENT)}/compare?runs=${Array.from({ length: RUNS }, (_, i) => i + 1).join(',')}`;
  const load = async (): Promise<PageLoad> => {
    // a new document each time: its own performance timeline, its own navigation start
    await page.goto('about:blank');
    await page.goto(compare);
    await page.locator('section.chart-card[data-state="drawn"]').first().waitFor({ timeout: 60_000 });
    const measured = await page.evaluate(() => {
      const mark = performance.getEntriesByName('omega:first-chart')[0];
      const series = performance.getEntriesByType('resource').find((e) => e.name.includes('/series'));
      // the bench compiles without the DOM's types: the one element read, typed by hand
      const doc = (globalThis as unknown as { document: PageDocument }).document;
      const card = doc.querySelector('section.chart-card[data-state="drawn"]');
      return {
        firstChart: mark ? mark.startTime : NaN,
        series: series ? series.duration : NaN,
        asked: series ? (new URL(series.name).searchParams.get('points') ?? '?') : '?',
        points: card?.dataset.points ?? '?',
        total: card?.dataset.total ?? '?',
      };
    });
    if (errors.length) throw new Error(`the page failed: ${errors.join('; ')}`);
    return measured;
  };
  try {
    const cold = await load();
    const warm: PageLoad[] = [];
    for (let i = 0; i < 5; i++) warm.push(await load());
    return { cold, warm };
  } finally {
    await closeBrowser();
    await stopChild();
  }
}

const MANY_EXPERIMENT = 'ui-bench-many';
const KEYS_EXPERIMENT = 'ui-bench-keys';
const MANY_RUNS = 200;
const MANY_METRICS = 20;
const MANY_POINTS = Number(process.env.OMEGA_BENCH_UI_MANY_POINTS) || 10_000;
const WIDE_KEYS = 3000;
const MANY_PAGE_TARGET_MS = 1500;
const BAND_TARGET_MS = 500;
const KEYS_PAGE_TARGET_MS = 1000;
const KEYS_MEMORY_TARGET_MB = 300;

/** 200 runs × 20 metrics (m00…m19) with lr in 4 values (groups of 50); one run of 3,000 keys. */
async function prepareMany(): Promise<number> {
  const t0 = now();
  const om = omega({ store });
  const exp = om.runtime.experiment(MANY_EXPERIMENT);
  for (let r = 0; r < MANY_RUNS; r++) {
    await exp.start({ name: `trial-${r + 1}` });
    exp.logParams({ lr: [0.1, 0.01, 0.001, 0.0001][r % 4] });
    for (let s = 0; s < MANY_POINTS; s++)
      for (let m = 0; m < MANY_METRICS; m++)
        exp.logMetric(`m${String(m).padStart(2, '0')}`, Math.exp(-s / MANY_POINTS) + 0.01 * r + 0.001 * m, s);
    await exp.stop();
  }
  const wide = om.runtime.experiment(KEYS_EXPERIMENT);
  await wide.run((e) => {
    for (let k = 0; k < WIDE_KEYS; k++) {
      const key = `${['train', 'val', 'system'][k % 3]}/k${String(k).padStart(4, '0')}`;
      for (let s = 0; s < 10; s++) e.logMetric(key, k + s, s);
    }
  });
  await om.close();
  return now() - t0;
}

type BenchPage = Awaited<ReturnType<BrowserContext['newPage']>>;

/** A browser with a new profile (cold); `closeBrowser()` closes it. */
async function freshBrowser(): Promise<{ page: BenchPage; errors: string[] }> {
  const profile = fs.mkdtempSync(path.join(dir, 'chromium-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: CHROMIUM_ARGS,
    viewport: { width: 1200, height: 800 },
    // the bench's own signal handlers stop everything (playwright's would exit first)
    handleSIGINT: false,
    handleSIGTERM: false,
  });
  open.browser = browser;
  const page = browser.pages()[0] ?? (await browser.newPage());
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

async function closeBrowser(): Promise<void> {
  const browser = open.browser;
  open.browser = undefined;
  await browser?.close();
}

/** Navigation start to the first chart drawn of `hash`, on a fresh server process and browser. */
async function firstChartCold(hash: string): Promise<number> {
  const base = await serverProcess();
  try {
    const { page, errors } = await freshBrowser();
    await page.goto(`${base}${hash}`);
    await page.locator('section.chart-card[data-state="drawn"]').first().waitFor({ timeout: 120_000 });
    const t = await page.evaluate(
      () => performance.getEntriesByName('omega:first-chart')[0]?.startTime ?? NaN,
    );
    if (errors.length) throw new Error(`the page failed: ${errors.join('; ')}`);
    return t;
  } finally {
    await closeBrowser();
    await stopChild();
  }
}

/** A GET timed to the last byte; its status and time. */
async function timedGet(url: string): Promise<{ status: number; ms: number }> {
  const t0 = now();
  const { status } = await get(url);
  return { status, ms: now() - t0 };
}

/**
 * A run page (compare of one run) on a fresh server and browser: navigation start to the first
 * chart drawn, then to the main thread answering a task posted after it (interactive), and the
 * page's JS heap (DevTools protocol, after a garbage collection).
 */
async function runPage(
  experiment: string,
): Promise<{ firstChart: number; interactive: number; heapMB: number }> {
  const base = await serverProcess();
  try {
    const { page, errors } = await freshBrowser();
    await page.goto(`${base}#/e/${encodeURIComponent(experiment)}/compare?runs=1`);
    await page.locator('section.chart-card[data-state="drawn"]').first().waitFor({ timeout: 60_000 });
    // interactive: the first chart drawn and no long task (≥ 50 ms of main thread) after it —
    // the end of the last long task when one ran later
    const times = await page.evaluate(
      () =>
        new Promise<{ firstChart: number; interactive: number }>((resolve) => {
          const firstChart = performance.getEntriesByName('omega:first-chart')[0]?.startTime ?? NaN;
          let end = firstChart;
          const observer = new PerformanceObserver((list) => {
            for (const e of list.getEntries()) end = Math.max(end, e.startTime + e.duration);
          });
          // the bench compiles without the DOM's types, whose EntryType lists no 'longtask'
          observer.observe({ type: 'longtask' as never, buffered: true });
          setTimeout(() => {
            observer.disconnect();
            resolve({ firstChart, interactive: end });
          }, 300);
        }),
    );
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('Performance.enable');
    const { metrics } = await cdp.send('Performance.getMetrics');
    const heap = metrics.find((m) => m.name === 'JSHeapUsedSize')?.value ?? NaN;
    if (errors.length) throw new Error(`the page failed: ${errors.join('; ')}`);
    return { ...times, heapMB: heap / 1024 / 1024 };
  } finally {
    await closeBrowser();
    await stopChild();
  }
}

/** Sections 4–6: the figures of issue 24. */
async function manyFigures(): Promise<void> {
  const prepared = await prepareMany();
  console.log(
    `\nstore: ${MANY_RUNS} runs × ${MANY_METRICS} metrics × ${MANY_POINTS.toLocaleString('en-US')} points, and 1 run × ${WIDE_KEYS.toLocaleString('en-US')} keys, logged in ${(prepared / 1000).toFixed(1)} s`,
  );
  const runs = Array.from({ length: MANY_RUNS }, (_, i) => i + 1);
  const exp = encodeURIComponent(MANY_EXPERIMENT);
  const page200 = await firstChartCold(`#/e/${exp}/compare?runs=${runs.join(',')}`);
  const page1 = await firstChartCold(`#/e/${exp}/compare?runs=1`);
  let base = await serverProcess();
  await get(`${base}api/experiments`);
  // the server reads at most 100 runs per /series: the 200 in two requests at once, as the page asks
  const t200 = now();
  const halves = await Promise.all(
    [runs.slice(0, 100), runs.slice(100)].map((part) =>
      get(`${base}api/experiments/${exp}/series?key=m00&runs=${part.join(',')}&points=1000`),
    ),
  );
  const series200 = { status: Math.max(...halves.map((h) => h.status)), ms: now() - t200 };
  if (series200.status !== 200) throw new Error(`/series answered ${series200.status}`);
  await stopChild();
  console.log(`\n-- compare page of ${MANY_RUNS} runs × ${MANY_METRICS} metrics, first chart, cold --`);
  console.log(
    `  ${MANY_RUNS} runs                            ${ms(page200).padStart(10)}   target < ${MANY_PAGE_TARGET_MS} ms (${verdict(page200, MANY_PAGE_TARGET_MS)})`,
  );
  console.log(`  baseline: the page of 1 run          ${ms(page1).padStart(10)}`);
  console.log(
    `  baseline: /series of the ${MANY_RUNS} runs     ${ms(series200.ms).padStart(10)}   (cold server, 1,000 points each)`,
  );

  const fifty = runs.filter((r) => r % 4 === 1).slice(0, 50);
  base = await serverProcess();
  await get(`${base}api/experiments`);
  const bandUrl = `${base}api/experiments/${exp}/band?key=m00&runs=${fifty.join(',')}&x=step&points=1000&band=std`;
  const bandCold = await timedGet(bandUrl);
  const bandWarm = await timedGet(bandUrl);
  const series50 = await timedGet(
    `${base}api/experiments/${exp}/series?key=m01&runs=${fifty.join(',')}&points=1000`,
  );
  await stopChild();
  console.log(`\n-- group band of 50 runs (/band, mean ± std on a shared grid) --`);
  if (bandCold.status === 404) console.log('  band endpoint missing');
  else if (bandCold.status !== 200) console.log(`  /band answered ${bandCold.status}`);
  else {
    console.log(
      `  cold                                ${ms(bandCold.ms).padStart(10)}   target < ${BAND_TARGET_MS} ms (${verdict(bandCold.ms, BAND_TARGET_MS)})`,
    );
    console.log(`  warm                                ${ms(bandWarm.ms).padStart(10)}`);
  }
  console.log(`  baseline: /series of the 50 runs    ${ms(series50.ms).padStart(10)}   (another key, cold)`);

  const wide = await runPage(KEYS_EXPERIMENT);
  const narrow = await runPage(MANY_EXPERIMENT);
  console.log(`\n-- run page of a run with ${WIDE_KEYS.toLocaleString('en-US')} metric keys --`);
  console.log(
    `  interactive                         ${ms(wide.interactive).padStart(10)}   target < ${KEYS_PAGE_TARGET_MS} ms (${verdict(wide.interactive, KEYS_PAGE_TARGET_MS)}; first chart ${ms(wide.firstChart)})`,
  );
  console.log(
    `  JS heap                             ${`${wide.heapMB.toFixed(1)} MB`.padStart(10)}   target < ${KEYS_MEMORY_TARGET_MB} MB (${verdict(wide.heapMB, KEYS_MEMORY_TARGET_MB)})`,
  );
  console.log(
    `  baseline: a run with ${MANY_METRICS} keys         ${ms(narrow.interactive).padStart(10)}   (heap ${narrow.heapMB.toFixed(1)} MB)`,
  );
  console.log(
    `\nmany200PageMs=${page200.toFixed(0)} many1PageMs=${page1.toFixed(0)} band50Ms=${bandCold.status === 200 ? bandCold.ms.toFixed(0) : 'missing'} keys3000InteractiveMs=${wide.interactive.toFixed(0)} keys3000HeapMB=${wide.heapMB.toFixed(0)}`,
  );
}

async function cleanup(): Promise<void> {
  await open.browser?.close().catch(() => undefined);
  await stopChild().catch(() => undefined);
  fs.rmSync(dir, { recursive: true, force: true });
}

async function main(): Promise<void> {
  console.log(`bench/ui — Node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}`);
  const uiBuilt = path.join(path.dirname(require.resolve('omega-track')), 'ui', 'assets', 'app.js');
  if (!fs.existsSync(uiBuilt)) throw new Error(`the UI is not built (${uiBuilt}): run npm run build`);
  if (process.env.OMEGA_BENCH_UI_ONLY_MANY) {
    await manyFigures();
    return;
  }
  const prepared = await prepare();
  console.log(
    `store: ${RUNS} runs × ${POINTS.toLocaleString('en-US')} points of loss, logged and flushed in ${(prepared / 1000).toFixed(1)} s\n`,
  );

  const all = Array.from({ length: RUNS }, (_, i) => i + 1);
  const one = await apiLatency([1]);
  const rowTimes: number[] = [];
  for (let i = 0; i < 3; i++) rowTimes.push(await rowsBaseline([1]));
  const rows = medianOf(rowTimes);
  console.log(`-- /series, 1 run of 1,000,000 points → ${DOWN.toLocaleString('en-US')} --`);
  console.log(
    `  cold (fresh server process, median) ${ms(one.cold).padStart(10)}   target ≤ ${API_TARGET_MS} ms (${verdict(one.cold, API_TARGET_MS)}; ${list(one.coldAll)})`,
  );
  console.log(
    `  warm (median of 10)                 ${ms(one.warm).padStart(10)}   target ≤ ${API_TARGET_MS} ms (${verdict(one.warm, API_TARGET_MS)}; ${list(one.warmAll)})`,
  );
  console.log(
    `  baseline: data({ run: 1, key })     ${ms(rows).padStart(10)}   (1,000,000 rows, median of 3: ${list(rowTimes)}; cold /series is ${(rows / one.cold).toFixed(1)}× faster)`,
  );

  const ten = await apiLatency(all);
  const rowsAll = await rowsBaseline(all);
  console.log(
    `\n-- /series, ${RUNS} runs of 1,000,000 points → ${DOWN.toLocaleString('en-US')} each, one request --`,
  );
  console.log(`  cold (fresh server process, median) ${ms(ten.cold).padStart(10)}   (${list(ten.coldAll)})`);
  console.log(`  warm (median of 10)                 ${ms(ten.warm).padStart(10)}   (${list(ten.warmAll)})`);
  console.log(
    `  baseline: data() of each run        ${ms(rowsAll).padStart(10)}   (10 × 1,000,000 rows, one pass; cold /series is ${(rowsAll / ten.cold).toFixed(1)}× faster)`,
  );

  const pageFigures = await pageTimes();
  const warmFirst = medianOf(pageFigures.warm.map((p) => p.firstChart));
  const warmSeries = medianOf(pageFigures.warm.map((p) => p.series));
  const { cold } = pageFigures;
  console.log(
    `\n-- compare page of ${RUNS} runs × 1,000,000 points, headless Chromium, time to first chart --`,
  );
  console.log(
    `  cold (fresh server process)         ${ms(cold.firstChart).padStart(10)}   target < ${PAGE_TARGET_MS} ms (${verdict(cold.firstChart, PAGE_TARGET_MS)}; its /series took ${ms(cold.series)}; ${cold.points} of ${cold.total} points drawn, ${cold.asked} per run asked)`,
  );
  console.log(
    `  warm (median of 5 reloads)          ${ms(warmFirst).padStart(10)}   target < ${PAGE_TARGET_MS} ms (${verdict(warmFirst, PAGE_TARGET_MS)}; ${list(pageFigures.warm.map((p) => p.firstChart))}; /series ${ms(warmSeries)})`,
  );

  await manyFigures();

  console.log(
    `\napi1ColdMs=${one.cold.toFixed(1)} api1WarmMs=${one.warm.toFixed(1)} rows1Ms=${rows.toFixed(1)} api10ColdMs=${ten.cold.toFixed(1)} api10WarmMs=${ten.warm.toFixed(1)} rows10Ms=${rowsAll.toFixed(1)} pageColdMs=${cold.firstChart.toFixed(0)} pageWarmMs=${warmFirst.toFixed(0)}`,
  );
}

// `on`, not `once`: the provider's exit hook re-raises a signal that no listener is left for,
// which would kill the process before the cleanup ran; a second signal ends it at once
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, () => {
    if (stopping) process.exit(130);
    stopping = true;
    void cleanup().finally(() => process.exit(130));
  });
// whatever way the process ends: no server process and no temp dir left behind
process.once('exit', () => {
  open.child?.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

main()
  .catch((error: unknown) => {
    // stopped by a signal: what broke then is the stopping, not the bench
    if (stopping) return;
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanup());
