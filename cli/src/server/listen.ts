/** Starts an app listening, with errors that say what to do. */
import type { AddressInfo } from 'node:net';
import { TrackingError } from '@omega-track/core';
import type { App } from './createApp';
import { urlHost } from './loopback';

/** Where an app listens. */
export interface Listening {
  port: number;
  /** `http(s)://host:port`, without a trailing slash. */
  base: string;
}

/** Listens on `host`:`port` (0: a free one); closes the app when it cannot. */
export async function listen(app: App, host: string, port: number, tls = false): Promise<Listening> {
  try {
    await app.fastify.listen({ host, port });
  } catch (error) {
    await app.close().catch(() => undefined);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new TrackingError(
        `port ${port} on ${host} is in use: pick another with --port (0 for any free one)`,
      );
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND')
      throw new TrackingError(`cannot listen on ${host}: no such address on this machine`);
    throw error;
  }
  const actual = (app.fastify.server.address() as AddressInfo).port;
  return { port: actual, base: `${tls ? 'https' : 'http'}://${urlHost(host)}:${actual}` };
}
