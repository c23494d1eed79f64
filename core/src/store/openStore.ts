import { env } from '../process/env';
import { TrackingInputError } from '../errors/TrackingInputError';
import { redactUrls } from '../diag/diag';
import type { Store } from './Store';
import { SqliteStore } from './sqlite/SqliteStore';
import { MongoStore } from './mongodb/MongoStore';
import { isMongoUrl } from './mongodb/mongoUrl';
import { PostgresStore } from './postgres/PostgresStore';
import { isPostgresUrl } from './postgres/pgUrl';
import { HttpStore } from './http/HttpStore';
import type { HttpStoreOptions } from './http/HttpStore';
import { isHttpUrl } from './http/httpUrl';

/** The store used when neither an option nor OMEGA_STORE names one. */
export const DEFAULT_STORE_URL = 'sqlite:.omega/omega.db';

/** Options of `openStore`. */
export interface OpenStoreOptions {
  /**
   * Create the store when there is none (default `true`: writing code creates it). Reading code
   * (the CLI's read-only commands) passes `false`: a missing store is then a `StoreError` with
   * code `not-found`, and nothing is created.
   */
  create?: boolean;
  /** How long a write waits for another process's write lock; default OMEGA_LOCK_TIMEOUT_MS, else 30 s. */
  lockTimeoutMs?: number;
  /** The token of a team server (`http(s)://` stores); default OMEGA_TOKEN. */
  token?: string;
  /** More options of a team server's store (timeouts, spool): see HttpStoreOptions. */
  http?: Omit<HttpStoreOptions, 'token'>;
}

/** The store URL in use: the argument, else OMEGA_STORE, else the default. */
export function storeUrl(url?: string): string {
  return url || env().OMEGA_STORE || DEFAULT_STORE_URL;
}

/**
 * Opens a store by URL: `sqlite:<path>` (default `sqlite:.omega/omega.db`), `memory:`, or
 * `mongodb://…` / `mongodb+srv://…` (the MongoDB store, for many machines: it needs the
 * `mongodb` package, connects on first use and fails an operation within a few seconds when no
 * server answers), or `postgres://…` / `postgresql://…` (the PostgreSQL store, for a team's
 * machines: it needs the `pg` package; its tables live in the schema `omega` unless the URL says
 * `?schema=`; libpq's environment variables and `sslmode` work as pg reads them), or
 * `http://…` / `https://…` (a team server, `omega-track server`: local first, see HttpStore; its
 * token from `opts.token` or OMEGA_TOKEN).
 */
export function openStore(url?: string, opts: OpenStoreOptions = {}): Store {
  const u = storeUrl(url);
  if (u === 'memory:' || u === 'sqlite::memory:') return new SqliteStore(':memory:', 'memory:');
  const envTimeout = Number(env().OMEGA_LOCK_TIMEOUT_MS);
  const lockTimeoutMs = opts.lockTimeoutMs ?? (envTimeout > 0 ? envTimeout : undefined);
  if (u.startsWith('sqlite:')) {
    const file = u.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!file) throw new TrackingInputError(`store URL '${u}' names no file: use sqlite:<path>`);
    return new SqliteStore(file, u, { create: opts.create ?? true, lockTimeoutMs });
  }
  if (isMongoUrl(u)) return new MongoStore(u, { create: opts.create ?? true });
  if (isPostgresUrl(u)) return new PostgresStore(u, { create: opts.create ?? true, lockTimeoutMs });
  if (isHttpUrl(u)) return new HttpStore(u, { ...opts.http, token: opts.token });
  throw new TrackingInputError(
    `unknown store URL '${redactUrls(u)}': use sqlite:<path>, memory:, mongodb://host/database (mongodb+srv:// too), postgres://user@host/database or http(s)://host:port (a team server: omega-track server)`,
  );
}
