#!/usr/bin/env node
/**
 * The static server of the browser example: the page (index.html, app.js), a config.js made from
 * the command line (which team server, which token), and tfjs's browser build from node_modules,
 * so the page needs no bundler and no CDN: everything it loads comes from this machine.
 *
 *   node examples/browser/serve.mjs --server http://127.0.0.1:5124 --token omt_… [--port 8080]
 *
 * The team server must let this page's origin call it: `omega-track server --cors-origin
 * http://127.0.0.1:8080` (the origin this script prints).
 */
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const USAGE =
  'usage: node examples/browser/serve.mjs --server URL --token TOKEN [--experiment demo/two-moons] [--epochs 20] [--port 8080] [--host 127.0.0.1]';

function fail(message) {
  process.stderr.write(`serve.mjs: ${message}\n${USAGE}\n`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      server: { type: 'string', default: process.env.OMEGA_SERVER ?? 'http://127.0.0.1:5124' },
      token: { type: 'string', default: process.env.OMEGA_TOKEN },
      experiment: { type: 'string', default: 'demo/two-moons' },
      epochs: { type: 'string', default: '20' },
      port: { type: 'string', default: '8080' },
      host: { type: 'string', default: '127.0.0.1' },
    },
  }));
} catch (error) {
  fail(error.message);
}
if (!values.token)
  fail('--token is required (omega-track token create … --role write --experiments "demo/*")');
const epochs = Number(values.epochs);
if (!Number.isInteger(epochs) || epochs < 1)
  fail(`--epochs takes a whole number ≥ 1, got '${values.epochs}'`);
const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`--port takes 0…65535, got '${values.port}'`);
let server;
try {
  // the client module is imported from `${server}/omega-track.browser.js`: no trailing slash
  server = new URL(values.server).origin;
} catch {
  fail(`--server takes the team server's URL, got '${values.server}'`);
}

// tfjs's UMD build (the global `tf`), from the repository's node_modules
const TFJS = createRequire(import.meta.url).resolve('@tensorflow/tfjs/dist/tf.min.js');
const config = { server, token: values.token, experiment: values.experiment, epochs };
const files = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/index.html': ['index.html', 'text/html; charset=utf-8'],
  '/app.js': ['app.js', 'text/javascript; charset=utf-8'],
  '/tf.min.js': [TFJS, 'text/javascript; charset=utf-8'],
};

const httpServer = http.createServer((req, res) => {
  const pathname = (req.url ?? '/').split('?')[0];
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  if (pathname === '/config.js') {
    res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' });
    res.end(`export const config = ${JSON.stringify(config)};\n`);
    return;
  }
  const file = files[pathname];
  if (!file) {
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    return;
  }
  res.writeHead(200, { 'content-type': file[1], 'cache-control': 'no-store' });
  fs.createReadStream(path.resolve(HERE, file[0])).pipe(res);
});

httpServer.listen(port, values.host, () => {
  const { port: bound } = httpServer.address();
  const host = values.host.includes(':') ? `[${values.host}]` : values.host;
  const origin = `http://${host}:${bound}`;
  process.stdout.write(`serve.mjs: serving ${origin}/ (the team server needs --cors-origin ${origin})\n`);
});
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => {
    httpServer.closeAllConnections();
    httpServer.close(() => process.exit(0));
  });
