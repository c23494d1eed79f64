#!/usr/bin/env node
/**
 * Builds `omega-track/browser` (cli/src/browser/index.ts) into one ES module for web pages,
 * cli/dist/browser/omega-track.browser.mjs, which the package exports and `omega-track server`
 * serves as /omega-track.browser.js.
 *
 * The sources are the packages' own TypeScript (core, providers, adapters). A module that needs
 * Node has a browser twin at the same path under its package's `src/browser/` folder
 * (core/src/store/openStore.ts → core/src/browser/store/openStore.ts): the bundle takes the twin.
 * The twins are type-checked first with DOM types (each src/browser folder has a tsconfig).
 * A Node built-in or a Node-only package that is still reached after tree-shaking fails the build,
 * naming the module that reaches it; the gzipped size is printed beside its 40 kB budget.
 *
 * Usage: node cli/scripts/buildBrowser.js [--no-check] [--out FILE]   (run by the root `npm run build`)
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const { builtinModules } = require('node:module');
const path = require('node:path');
const zlib = require('node:zlib');

const root = path.resolve(__dirname, '..', '..');
const entry = path.join(root, 'cli', 'src', 'browser', 'index.ts');
const outFile = path.join(root, 'cli', 'dist', 'browser', 'omega-track.browser.mjs');
const BUDGET_GZIP_BYTES = 40 * 1024;

/** The workspace packages bundled from source: import name → package folder. */
const PACKAGES = {
  '@omega-track/core': 'core',
  '@omega-track/providers': 'providers',
  '@omega-track/adapters': 'adapters',
};
/** Packages that only run in Node (they may be imported by modules the bundle drops). */
const NODE_ONLY = new Set([
  'better-sqlite3',
  'bullmq',
  'ioredis',
  'mongodb',
  'pg',
  'systeminformation',
  '@tensorflow/tfjs-node',
]);

function typeCheck() {
  const tsc = require.resolve('typescript/bin/tsc');
  for (const pkg of Object.values(PACKAGES)) {
    const project = path.join(root, pkg, 'src', 'browser');
    if (!fs.existsSync(path.join(project, 'tsconfig.json'))) continue;
    const result = spawnSync(process.execPath, [tsc, '--noEmit', '-p', project], { stdio: 'inherit' });
    if (result.status !== 0) {
      console.error(`buildBrowser: ${path.relative(root, project)} does not type-check`);
      process.exit(result.status ?? 1);
    }
  }
}

/** `<pkg>/src/X.ts` → `<pkg>/src/browser/X.ts` when that twin exists. */
function twinOf(file) {
  for (const pkg of Object.values(PACKAGES)) {
    const src = path.join(root, pkg, 'src') + path.sep;
    if (!file.startsWith(src)) continue;
    const rel = file.slice(src.length);
    if (rel.startsWith('browser' + path.sep)) return undefined;
    const twin = path.join(src, 'browser', rel);
    return fs.existsSync(twin) ? twin : undefined;
  }
  return undefined;
}

function resolveTs(base) {
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')])
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  return undefined;
}

const browserSources = {
  name: 'browser-sources',
  setup(build) {
    // the workspace packages from their TypeScript sources
    build.onResolve({ filter: /^@omega-track\// }, (args) => {
      const [scope, name, sub] = args.path.split('/');
      const pkg = PACKAGES[`${scope}/${name}`];
      if (!pkg) return undefined;
      const file = path.join(root, pkg, 'src', sub === 'internal' ? 'internal.ts' : 'index.ts');
      return { path: twinOf(file) ?? file, sideEffects: false };
    });
    // relative imports inside them, each replaced by its browser twin if it has one
    build.onResolve({ filter: /^\.\.?\// }, (args) => {
      const file = resolveTs(path.resolve(args.resolveDir, args.path));
      if (!file) return undefined;
      // our modules only declare at their top level (none is imported for its effect): one the
      // bundle does not use is dropped whole, with the Node modules it imports
      return { path: twinOf(file) ?? file, sideEffects: false };
    });
    // Node built-ins and Node-only packages: an empty module, dropped when nothing uses it;
    // one that stays in the bundle fails the build below
    build.onResolve({ filter: /.*/ }, (args) => {
      const bare = args.path.replace(/^node:/, '');
      const top = args.path.startsWith('@')
        ? args.path.split('/').slice(0, 2).join('/')
        : args.path.split('/')[0];
      if (!args.path.startsWith('node:') && !builtinModules.includes(bare) && !NODE_ONLY.has(top))
        return undefined;
      return {
        path: `${args.path} (imported by ${path.relative(root, args.importer)})`,
        namespace: 'node-only',
        sideEffects: false,
      };
    });
    build.onLoad({ filter: /.*/, namespace: 'node-only' }, () => ({
      contents: 'module.exports = {};',
      loader: 'js',
    }));
  },
};

/**
 * Bundles `entryFile` into `outFile`. Resolves with the sizes and with what Node-only code the
 * bundle still reaches (built-ins and Node-only packages, each with the module that imports it):
 * none for a bundle a page can load.
 */
async function buildBrowserBundle(entryFile = entry, out = outFile) {
  const esbuild = require('esbuild');
  const result = await esbuild.build({
    entryPoints: [entryFile],
    outfile: out,
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    // tfjs is the page's own (omega({ tf }), useTfjs(tf) or its global): never bundled
    external: ['@tensorflow/tfjs'],
    legalComments: 'eof',
    logLevel: 'warning',
    metafile: true,
    plugins: [browserSources],
  });
  const output = Object.values(result.metafile.outputs)[0];
  const reached = Object.entries(output.inputs)
    .filter(([input, info]) => input.startsWith('node-only:') && info.bytesInOutput > 0)
    .map(([input]) => input.slice('node-only:'.length));
  const imports = output.imports.map((i) => i.path);
  const gzip = zlib.gzipSync(fs.readFileSync(out), { level: 9 }).length;
  return { bytes: output.bytes, gzip, nodeOnly: [...reached, ...imports] };
}

async function main() {
  const args = process.argv.slice(2);
  const at = args.indexOf('--out');
  const out = at >= 0 ? path.resolve(args[at + 1]) : outFile;
  if (!args.includes('--no-check')) typeCheck();
  const { bytes, gzip, nodeOnly } = await buildBrowserBundle(entry, out);
  if (nodeOnly.length) {
    fs.rmSync(out, { force: true });
    console.error(
      `buildBrowser: the browser bundle reaches Node-only code; give these modules a twin under src/browser/:\n  ${nodeOnly.join('\n  ')}`,
    );
    process.exit(1);
  }
  const kb = (n) => `${(n / 1024).toFixed(1)} kB`;
  console.log(
    `buildBrowser: ${path.relative(root, out)} ${kb(bytes)}, ${kb(gzip)} gzipped (budget ${kb(BUDGET_GZIP_BYTES)})`,
  );
  if (gzip > BUDGET_GZIP_BYTES) {
    console.error(`buildBrowser: the bundle is over its budget of ${kb(BUDGET_GZIP_BYTES)} gzipped`);
    process.exit(1);
  }
}

if (require.main === module)
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });

module.exports = { browserSources, buildBrowserBundle, entry, BUDGET_GZIP_BYTES };
