#!/usr/bin/env node
/**
 * Builds the web UI's client (cli/src/ui/client) into cli/dist/ui: the TypeScript is type-checked
 * with its own tsconfig (lib dom), then bundled with uPlot and minified by esbuild into
 * assets/app.js and assets/app.css, and index.html is copied next to them. Everything the page
 * needs ships in the package: the UI works offline, no CDN.
 *
 * Usage: node cli/scripts/buildUi.js [--no-check]   (run by the root `npm run build` after tsc)
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const cliDir = path.resolve(__dirname, '..');
const clientDir = path.join(cliDir, 'src', 'ui', 'client');
const outDir = path.join(cliDir, 'dist', 'ui');
const assetsDir = path.join(outDir, 'assets');

function typeCheck() {
  const tsc = require.resolve('typescript/bin/tsc');
  const result = spawnSync(process.execPath, [tsc, '--noEmit', '-p', clientDir], { stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('buildUi: the client does not type-check');
    process.exit(result.status ?? 1);
  }
}

async function bundle() {
  const esbuild = require('esbuild');
  fs.mkdirSync(assetsDir, { recursive: true });
  const result = await esbuild.build({
    entryPoints: { app: path.join(clientDir, 'main.ts') },
    outdir: assetsDir,
    bundle: true,
    // OMEGA_UI_NO_MINIFY=1 keeps the names (a CPU profile of the page that reads)
    minify: !process.env.OMEGA_UI_NO_MINIFY,
    format: 'iife',
    target: 'es2020',
    sourcemap: false,
    legalComments: 'eof',
    logLevel: 'warning',
    metafile: true,
  });
  fs.copyFileSync(path.join(clientDir, 'index.html'), path.join(outDir, 'index.html'));
  const sizes = Object.entries(result.metafile.outputs)
    .map(([file, info]) => `${path.relative(cliDir, file)} ${(info.bytes / 1024).toFixed(1)} kB`)
    .join(', ');
  console.log(`buildUi: ${sizes}, dist/ui/index.html`);
}

if (!process.argv.includes('--no-check')) typeCheck();
bundle().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
