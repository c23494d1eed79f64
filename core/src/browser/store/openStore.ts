import { TrackingInputError } from '../../errors/TrackingInputError';
import { redactUrls } from '../../diag/diag';
import type { Store } from '../../store/Store';
import type { OpenStoreOptions } from '../../store/openStore';

// the same options as Node's openStore (a page uses `token` and `http`)
export type { OpenStoreOptions };
import { HttpStore } from '../../store/http/HttpStore';
import { isHttpUrl } from '../../store/http/httpUrl';
import { shipOrphans } from './http/shipOrphans';

/**
 * The browser's openStore (it replaces core/src/store/openStore.ts): a page logs to a team
 * server (`omega-track server`), its events kept in IndexedDB until the server stored them, and
 * ships what closed pages of its origin left for that server; the embedded, PostgreSQL and
 * MongoDB stores need Node.
 */
export const DEFAULT_STORE_URL = '';

/** The store URL in use: the argument (a page has no environment to fall back on). */
export function storeUrl(url?: string): string {
  return url ?? '';
}

/** Opens the team server at `url` (`http(s)://host:port`). */
export function openStore(url?: string, opts: OpenStoreOptions = {}): Store {
  const u = storeUrl(url);
  if (isHttpUrl(u)) {
    const store = new HttpStore(u, { ...opts.http, token: opts.token });
    // what closed pages of this origin left for this server ships now, from this page
    shipOrphans(store.url, opts.token, opts.http?.onError);
    return store;
  }
  throw new TrackingInputError(
    `${u ? `store '${redactUrls(u)}' is not for a page` : 'no store given'}: a page logs to a team server (omega-track server), omega({ store: 'https://host:port', token })`,
  );
}
