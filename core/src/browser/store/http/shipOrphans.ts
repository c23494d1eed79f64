import type { ErrorHandler } from '../../../diag/diag';
import { HttpStore } from '../../../store/http/HttpStore';
import { IdbSpool } from './IdbSpool';

/** How long an adopted spool keeps trying to ship while this page lives. */
const ORPHAN_SHIP_MS = 24 * 3600_000;
/** Looks for orphans again this soon (the lock of a page that just went may take a moment) and then this often. */
const FIRST_SWEEPS_MS = [1_000, 3_000];
const SWEEP_EVERY_MS = 10_000;

const watched = new Set<string>();

/**
 * Ships what pages of this origin that are gone (closed, reloaded, crashed) left in their spools
 * for the server at `url`: each such spool is adopted by this page and shipped in order with
 * this page's token, then removed. Looked for now, again shortly, then every 10 s while the page
 * lives (a tab closed meanwhile leaves one too). Once per page and server.
 */
export function shipOrphans(url: string, token: string | undefined, onError?: ErrorHandler): void {
  if (watched.has(url)) return;
  watched.add(url);
  const sweep = (): void => {
    void IdbSpool.adoptOrphans(url)
      .then((spools) => {
        for (const spool of spools) {
          const store = new HttpStore(url, { token, spool, shipTimeoutMs: ORPHAN_SHIP_MS, onError });
          // close() ships the spool, then removes it when empty (or leaves it for a later page)
          void store.close();
        }
      })
      .catch(() => undefined);
  };
  sweep();
  for (const ms of FIRST_SWEEPS_MS) setTimeout(sweep, ms);
  setInterval(sweep, SWEEP_EVERY_MS);
}
