import type { UiServerHandle, UiServerOptions } from './server/UiServer';

/**
 * Starts the web UI and its read-only JSON API (what `omega-track ui` serves). The server's code
 * is loaded on this first call, so `import 'omega-track'` stays light for training scripts.
 */
export async function startUiServer(opts: UiServerOptions = {}): Promise<UiServerHandle> {
  const server = await import('./server/UiServer');
  return server.startUiServer(opts);
}
