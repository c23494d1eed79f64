import type { SpoolPlace } from '../../../store/http/defaultSpool';
import type { Spool } from '../../../store/http/Spool';
import { IdbSpool } from './IdbSpool';

export type { SpoolPlace };

/**
 * The spool of a page's HTTP store (it replaces core/src/store/http/defaultSpool.ts): IndexedDB,
 * one spool per page and server.
 */
export function makeDefaultSpool(place: SpoolPlace): Spool {
  return IdbSpool.create(place.url, place.token);
}
