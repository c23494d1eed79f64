#!/usr/bin/env node
/**
 * Takes the README's screenshot of the compare page from the real page: logs three runs of a
 * small made-up training into a temporary store, serves it with the built UI server
 * (cli/dist), opens the compare page in headless Chromium and saves a 1200×800 PNG.
 *
 * Usage: npm run build && node cli/scripts/screenshot.js [out.png]   (default docs/compare.png)
 * Needs Debian's chromium (/usr/bin/chromium, or CHROMIUM=path) and playwright-core.
 */
'use strict';
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const repo = path.resolve(__dirname, '..', '..');
const out = path.resolve(process.argv[2] ?? path.join(repo, 'docs', 'compare.png'));
const { omega, startUiServer } = require(path.join(repo, 'cli', 'dist', 'index.js'));
const { chromium } = require('playwright-core');

/** A deterministic pseudo-random sequence, so the picture is the same on every run. */
function random(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

async function logRuns(store) {
  const om = omega({ store });
  const exp = om.runtime.experiment('cifar10-resnet');
  const configs = [
    { name: 'baseline', lr: 0.1, warmup: 0, decay: 0.9 },
    { name: 'lower lr', lr: 0.03, warmup: 500, decay: 0.9 },
    { name: 'cosine', lr: 0.1, warmup: 500, decay: 0.5 },
  ];
  const steps = 3000;
  for (const [i, c] of configs.entries()) {
    const rnd = random(i + 7);
    await exp.run(
      (e) => {
        e.logParams({
          lr: c.lr,
          batch_size: 128,
          optimizer: 'sgd',
          momentum: 0.9,
          warmup_steps: c.warmup,
          decay: c.decay,
        });
        for (let step = 0; step < steps; step++) {
          const p = step / steps;
          const speed = c.name === 'lower lr' ? 0.7 : c.name === 'cosine' ? 1.15 : 1;
          const base = 2.3 * Math.exp(-4 * speed * p) + 0.15 + 0.05 * i;
          const noise = (rnd() - 0.5) * 0.25 * (1 - 0.6 * p);
          const spike = step === 1200 + i * 300 ? 0.9 : 0;
          const lr =
            step < c.warmup
              ? (c.lr * step) / c.warmup
              : c.lr *
                (c.name === 'cosine' ? 0.5 * (1 + Math.cos(Math.PI * p)) : c.decay ** Math.floor(p * 4));
          e.logMetrics({ loss: base + noise + spike, lr }, step);
          if (step % 100 === 0)
            e.logMetrics(
              {
                val_loss: base + 0.1 + (rnd() - 0.5) * 0.05,
                val_accuracy: Math.min(
                  0.99,
                  0.95 - 0.8 * Math.exp(-4.5 * speed * p) - 0.02 * i + (rnd() - 0.5) * 0.01,
                ),
              },
              step,
            );
        }
      },
      { name: c.name, tags: { dataset: 'cifar10' } },
    );
  }
  await om.close();
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-ui-shot-'));
  const store = `sqlite:${path.join(dir, 'omega.db')}`;
  await logRuns(store);
  const server = await startUiServer({ store, port: 0 });
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'omega-ui-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1200, height: 800 },
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${server.url}#/e/cifar10-resnet/compare?runs=1,2,3&smooth=0.6`);
    for (const key of ['loss', 'lr', 'val_accuracy', 'val_loss'])
      await page.locator(`section.chart-card[data-key="${key}"][data-state="drawn"]`).waitFor();
    // the cursor over the loss chart shows the hover values in its legend
    const over = await page.locator('section.chart-card[data-key="loss"] .u-over').boundingBox();
    if (over) await page.mouse.move(over.x + over.width * 0.42, over.y + over.height * 0.5);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await page.screenshot({ path: out });
    console.log(
      `screenshot: ${path.relative(process.cwd(), out)} (${(fs.statSync(out).size / 1024).toFixed(0)} kB)`,
    );
  } finally {
    await context.close();
    await server.close();
    fs.rmSync(profile, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
