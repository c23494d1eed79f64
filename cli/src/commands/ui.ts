/** `omega-track ui`: the web UI over a store, served until the process is told to stop. */
import { spawn } from 'node:child_process';
import { TrackingInputError } from '@omega-track/core';
import { redactUrls } from '@omega-track/core/internal';
import { isLoopback } from '../server/loopback';
import { startUiServer } from '../ui/startUiServer';
import type { Command } from './command';
import { REQUIRE_HELP } from './command';
import { stringOption } from './options';
import { safeLine } from './output';

/** Opens `url` in the desktop's browser; nothing happens where there is none. */
function openBrowser(url: string): void {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true });
    // no browser to open (a server, a container): the printed URL is the way in
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // as above
  }
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** The port `omega-track ui` listens on unless told otherwise (as ui/server/UiServer's). */
const DEFAULT_UI_PORT = 5123;

/** Serves the web UI and its read-only JSON API. */
export const uiCommand: Command = {
  usage: 'omega-track ui [--port 5123] [--host 127.0.0.1] [--token T] [--open]',
  args: '',
  summary: 'browse experiments, compare runs on charts and watch runs live in a web browser',
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    token: { type: 'string' },
    open: { type: 'boolean' },
  },
  help: [
    `  --port N     the port (default ${DEFAULT_UI_PORT}; 0 for any free one)`,
    '  --host H     the address to listen on (default 127.0.0.1, this machine only); any other',
    '               address needs an access token, generated and printed in the URL',
    '  --token T    the access token to require (default: generated off 127.0.0.1, else none)',
    '  --open       open the URL in the browser',
    ...REQUIRE_HELP,
  ],
  store: 'read',
  async run({ values, io, omega }) {
    const portText = stringOption(values, 'port');
    const port = portText === undefined ? DEFAULT_UI_PORT : Number(portText);
    if (portText !== undefined && (!/^\d+$/.test(portText) || port > 65535))
      throw new TrackingInputError(`--port takes a number from 0 to 65535, got '${portText}'`);
    const host = stringOption(values, 'host') ?? '127.0.0.1';
    const token = stringOption(values, 'token');
    if (token === '') throw new TrackingInputError('--token takes the token text');
    const om = await omega();
    const server = await startUiServer({
      om,
      port,
      host,
      token,
      log: (line) => io.stderr(`omega-track ui: ${safeLine(line)}\n`),
    });
    const where = isLoopback(host) ? '' : ` (listening on ${host}: anyone who can reach it needs the token)`;
    await io.stdout(
      `omega-track ui: ${redactUrls(om.store.url)}${where}\n` +
        `  ${server.url}\n` +
        'Press Ctrl+C to stop.\n',
    );
    if (values.open) openBrowser(server.url);
    await untilStopped();
    await server.close();
    return 0;
  },
};
