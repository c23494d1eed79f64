import { TrackingInputError } from '../errors/TrackingInputError';
import { redactUrls } from '../diag/diag';
import type { Store } from './Store';
import { SqliteStore } from './sqlite/SqliteStore';

/** The store used when neither an option nor OMEGA_STORE names one. */
export const DEFAULT_STORE_URL = 'sqlite:.omega/omega.db';

/** Opens a store by URL: `sqlite:<path>` (default `sqlite:.omega/omega.db`) or `memory:`. */
export function openStore(url: string = process.env.OMEGA_STORE || DEFAULT_STORE_URL): Store {
  if (url === 'memory:' || url === 'sqlite::memory:') return new SqliteStore(':memory:', 'memory:');
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length).replace(/^\/\/(?=\/)/, '');
    if (!file) throw new TrackingInputError(`store URL '${url}' names no file: use sqlite:<path>`);
    return new SqliteStore(file, url);
  }
  throw new TrackingInputError(
    `unknown store URL '${redactUrls(url)}': use sqlite:<path> or memory: (mongodb:// comes with the MongoDB store)`,
  );
}
