import { HttpSpool, defaultSpoolDir } from './HttpSpool';
import type { Spool } from './Spool';

/** What a store knows when it makes its spool. */
export interface SpoolPlace {
  /** The server's URL (no credentials) and its short name for file names. */
  url: string;
  slug: string;
  token: string | undefined;
  /** The `spoolDir` option, if given. */
  dir: string | undefined;
}

/**
 * The spool of a process's HTTP store: an SQLite file in `dir` (OMEGA_SPOOL_DIR, else the user's
 * cache folder). The browser build replaces this module with one that spools to IndexedDB.
 */
export function makeDefaultSpool(place: SpoolPlace): Spool {
  return HttpSpool.create(place.dir ?? defaultSpoolDir(), place.url, place.slug, place.token);
}
