import type * as Bullmq_ from 'bullmq';
import { describeValue, redactUrls } from '../../../diag/diag';
import { ProviderPackageNotInstalledError } from '../../../errors/ProviderPackageNotInstalledError';
import { TrackingInputError } from '../../../errors/TrackingInputError';

/** The BullMQ module (an optional peer). */
export type Bullmq = typeof Bullmq_;

/** Loads bullmq on first use of the Redis runtime; tells how to install it when it is missing. */
export function loadBullmq(): Bullmq {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('bullmq') as Bullmq;
  } catch (error) {
    if (
      (error as { code?: string }).code === 'MODULE_NOT_FOUND' &&
      String((error as Error).message).includes("'bullmq'")
    )
      throw new ProviderPackageNotInstalledError('The Redis runtime', 'bullmq');
    throw error;
  }
}

/** How long connecting to Redis may take before a caller is told it is unreachable (OMEGA_RUNTIME_CONNECT_TIMEOUT_MS). */
export function connectTimeoutMs(): number {
  const n = Number(process.env.OMEGA_RUNTIME_CONNECT_TIMEOUT_MS);
  return Number.isFinite(n) && n > 0 ? n : 3000;
}

/** ioredis connection options from a `redis://` / `rediss://` URL (user, password, db, TLS). */
export interface RedisConnectionOptions {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: Record<string, never>;
  connectTimeout: number;
  /** BullMQ workers need null: their blocking commands wait as long as they must. */
  maxRetriesPerRequest: null;
  retryStrategy: (times: number) => number;
}

/** Parses a runtime URL; a TrackingInputError (URL shown without password) when it is not one. */
export function redisConnection(url: string): RedisConnectionOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TrackingInputError(`runtime URL '${redactUrls(url)}' is not a valid redis:// URL`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:')
    throw new TrackingInputError(`runtime URL '${redactUrls(url)}' must start with redis:// or rediss://`);
  const db = parsed.pathname.length > 1 ? Number(parsed.pathname.slice(1)) : undefined;
  if (db !== undefined && !Number.isSafeInteger(db))
    throw new TrackingInputError(`runtime URL '${redactUrls(url)}': the database must be a number`);
  const options: RedisConnectionOptions = {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number(parsed.port) : 6379,
    connectTimeout: connectTimeoutMs(),
    maxRetriesPerRequest: null,
    // keep trying (a restarted Redis is picked up again) but never faster than every 2 s
    retryStrategy: (times) => Math.min(times * 200, 2000),
  };
  if (parsed.username) options.username = decodeURIComponent(parsed.username);
  if (parsed.password) options.password = decodeURIComponent(parsed.password);
  if (db !== undefined) options.db = db;
  if (parsed.protocol === 'rediss:') options.tls = {};
  return options;
}

/** The URL as it may be shown: without its password. */
export function displayUrl(url: string): string {
  return redactUrls(url);
}

/** Resolves `promise`, or rejects with `onTimeout()` after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(onTimeout()), ms);
      timer.unref();
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Refuses a URL whose database Redis does not have. ioredis selects the URL's database on
 * connecting, and when Redis refuses it (`ERR DB index is out of range`) it only emits an
 * 'error' and goes on in database 0, where the tasks would meet the workers of another store.
 * So the database is selected once more here, and a refusal is a TrackingInputError.
 */
export async function checkDatabase(client: object, url: string): Promise<void> {
  const db = redisConnection(url).db;
  if (!db) return; // 0 or none: what a connection starts in, nothing was selected
  // BullMQ types its client as its own interface; the client is ioredis's, which has select
  const { select } = client as { select?: (this: object, db: number) => Promise<unknown> };
  if (typeof select !== 'function') return;
  try {
    await select.call(client, db);
  } catch (error) {
    // only Redis's own answer is a refusal; a lost connection is the caller's to report
    if ((error as { name?: string }).name !== 'ReplyError') throw error;
    throw new TrackingInputError(
      `runtime URL '${redactUrls(url)}': Redis refuses database ${db} (${describeValue(error)}); its databases are numbered from 0 to the server's 'databases' setting minus 1`,
    );
  }
}
