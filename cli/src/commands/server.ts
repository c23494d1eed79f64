/** `omega-track server`: the team server (web UI, read API, write API) over a store. */
import { TrackingInputError } from '@omega-track/core';
import { redactUrls } from '@omega-track/core/internal';
import { isLoopback } from '../server/loopback';
import type { Command } from './command';
import { REQUIRE_HELP } from './command';
import { stringOption } from './options';
import { safeLine } from './output';
import { untilStopped } from './ui';

/** The port of `omega-track server` unless told otherwise (as server/TeamServer's). */
const DEFAULT_SERVER_PORT = 5124;

/** A size option in MiB as bytes. */
function mebibytes(values: Record<string, unknown>, name: string): number | undefined {
  const text = stringOption(values as never, name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || !(n > 0) || n > 1024 * 1024)
    throw new TrackingInputError(`--${name} takes a size in MiB (a number above 0), got '${text}'`);
  return Math.floor(n * 1024 * 1024);
}

/** Serves the web UI, its read API and the write API that machines and pages log through. */
export const serverCommand: Command = {
  usage:
    'omega-track server [--host 127.0.0.1] [--port 5124] [--cors-origin ORIGIN …] [--tls-cert FILE --tls-key FILE] [--max-batch-mb 16] [--max-blob-mb 1024]',
  args: '',
  summary: 'the team server: machines and pages log into it (tokens), people browse it (the web UI)',
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'cors-origin': { type: 'string', multiple: true },
    'tls-cert': { type: 'string' },
    'tls-key': { type: 'string' },
    'max-batch-mb': { type: 'string' },
    'max-blob-mb': { type: 'string' },
  },
  help: [
    `  --port N               the port (default ${DEFAULT_SERVER_PORT}; 0 for any free one)`,
    '  --host H               the address to listen on (default 127.0.0.1, this machine only);',
    '                         beyond loopback every request needs a token (omega-track token create)',
    '  --cors-origin ORIGIN   let pages of this origin call the API (repeatable; default: none)',
    '  --tls-cert FILE        serve HTTPS with this certificate chain (PEM) …',
    '  --tls-key FILE         … and this key (PEM)',
    '  --max-batch-mb N       the largest event batch (default 16)',
    '  --max-blob-mb N        the largest artifact or model blob (default 1024)',
    ...REQUIRE_HELP,
  ],
  store: 'write',
  async run({ values, io, omega }) {
    const portText = stringOption(values, 'port');
    const port = portText === undefined ? DEFAULT_SERVER_PORT : Number(portText);
    if (portText !== undefined && (!/^\d+$/.test(portText) || port > 65535))
      throw new TrackingInputError(`--port takes a number from 0 to 65535, got '${portText}'`);
    const host = stringOption(values, 'host') ?? '127.0.0.1';
    const origins = values['cors-origin'];
    const corsOrigins = Array.isArray(origins) ? origins : typeof origins === 'string' ? [origins] : [];
    const maxBatchBytes = mebibytes(values, 'max-batch-mb');
    const maxBlobBytes = mebibytes(values, 'max-blob-mb');
    const om = await omega();
    // the server's code (Fastify) is loaded when a server runs, not by every command
    const { startTeamServer } = await import('../server/TeamServer');
    const { openTokenVerifier } = await import('../server/tokenVerifier');
    const server = await startTeamServer({
      om,
      verifier: openTokenVerifier(om),
      host,
      port,
      corsOrigins,
      tlsCert: stringOption(values, 'tls-cert'),
      tlsKey: stringOption(values, 'tls-key'),
      maxBatchBytes,
      maxBlobBytes,
      log: (line) => io.stderr(`omega-track server: ${safeLine(line)}\n`),
    });
    if (!isLoopback(host))
      await io.stderr(
        `omega-track server: listening on ${host}: every request needs a token (omega-track token create NAME --role …)` +
          `${server.url.startsWith('https:') ? '' : '; without --tls-cert/--tls-key, tokens cross the network in clear text: put it behind TLS'}\n`,
      );
    await io.stdout(`omega-track server: serving ${server.url} (store ${redactUrls(om.store.url)})\n`);
    await untilStopped();
    await server.close();
    return 0;
  },
};
