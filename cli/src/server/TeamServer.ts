/** `omega-track server`: the web UI, its read API and the write API over one store, in one process. */
import fs from 'node:fs';
import type { Omega } from '@omega-track/core';
import { TrackingError, TrackingInputError } from '@omega-track/core';
import { defaultUiDir } from '../ui/server/UiServer';
import type { TokenVerifier } from './auth';
import { createApp } from './createApp';
import { listen } from './listen';
import { isLoopback } from './loopback';
import { DEFAULT_BATCH_BYTES, DEFAULT_BLOB_BYTES } from './writeApi';

/** The port `omega-track server` listens on unless told otherwise. */
export const DEFAULT_SERVER_PORT = 5124;

/** Options of `startTeamServer`. */
export interface TeamServerOptions {
  /** The open Omega whose store is served (its owner closes it). */
  om: Omega;
  /** The tokens the server accepts (the store's token registry). */
  verifier: TokenVerifier;
  /** The address to bind (default 127.0.0.1). Beyond loopback every request needs a token. */
  host?: string;
  /** The port (default 5124; 0 picks a free one). */
  port?: number;
  /** Origins whose pages may call the API (CORS); none by default. */
  corsOrigins?: readonly string[];
  /** TLS certificate chain and key files (PEM), both or neither. */
  tlsCert?: string;
  tlsKey?: string;
  /** Body limits in bytes (defaults: batches 16 MiB, blobs 1 GiB). */
  maxBatchBytes?: number;
  maxBlobBytes?: number;
  /** Where the built UI is (default cli/dist/ui). */
  uiDir?: string;
  /** How often live updates compare change marks while a page listens (default 500 ms). */
  liveIntervalMs?: number;
  /** Where unexpected failures are said (never a token). */
  log?: (line: string) => void;
}

/** A running team server. */
export interface TeamServerHandle {
  /** `http(s)://host:port` (no trailing slash). */
  url: string;
  port: number;
  host: string;
  /** Stops serving: ends live streams and connections (the store stays open). */
  close(): Promise<void>;
}

/** Reads a PEM file named by an option, with an error that names it. */
function readPem(file: string, option: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new TrackingInputError(`${option} ${file} cannot be read: ${(error as Error).message}`);
  }
}

/** Starts the team server; resolves once it listens. */
export async function startTeamServer(opts: TeamServerOptions): Promise<TeamServerHandle> {
  const host = opts.host ?? '127.0.0.1';
  const port = opts.port ?? DEFAULT_SERVER_PORT;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new TrackingInputError(`port takes a number from 0 to 65535, got ${String(port)}`);
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined))
    throw new TrackingInputError('TLS takes both --tls-cert and --tls-key');
  for (const origin of opts.corsOrigins ?? [])
    if (origin === '*' || !/^https?:\/\/[^/\s]+$/.test(origin))
      throw new TrackingInputError(
        `--cors-origin takes an origin such as https://app.example:8443 (scheme, host, port; no path, no '*'), got '${origin}'`,
      );
  const https =
    opts.tlsCert !== undefined && opts.tlsKey !== undefined
      ? { cert: readPem(opts.tlsCert, '--tls-cert'), key: readPem(opts.tlsKey, '--tls-key') }
      : undefined;
  let app;
  try {
    app = await createApp({
      om: opts.om,
      mode: 'server',
      verifier: opts.verifier,
      boundToLoopback: isLoopback(host),
      uiDir: opts.uiDir ?? defaultUiDir(),
      liveIntervalMs: opts.liveIntervalMs,
      corsOrigins: opts.corsOrigins,
      https,
      maxBatchBytes: opts.maxBatchBytes ?? DEFAULT_BATCH_BYTES,
      maxBlobBytes: opts.maxBlobBytes ?? DEFAULT_BLOB_BYTES,
      log: opts.log,
    });
  } catch (error) {
    if (error instanceof Error && /certificate|key|PEM/i.test(error.message) && https)
      throw new TrackingError(`TLS cannot start with --tls-cert/--tls-key: ${error.message}`);
    throw error;
  }
  const listening = await listen(app, host, port, https !== undefined);
  const running = app;
  return {
    url: listening.base,
    port: listening.port,
    host,
    close: () => running.close(),
  };
}
