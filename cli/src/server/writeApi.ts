/** The versioned API of `omega-track server` (`/api/v1`): see docs/http-api.md. */
import type { FastifyInstance } from 'fastify';
import type { Omega } from '@omega-track/core';

/** Limits of the write API. */
export interface WriteApiOptions {
  /** The largest event batch body, decoded (default 16 MiB). */
  maxBatchBytes?: number;
  /** The largest blob (default 1 GiB). */
  maxBlobBytes?: number;
}

/** Registers the `/api/v1` routes. */
export function registerWriteApi(app: FastifyInstance, om: Omega, opts: WriteApiOptions): void {
  void app;
  void om;
  void opts;
}
