import { decodeValue } from '../events/valueCodec';
import type { MetadataEntry } from './Store';

/**
 * A metadata entry as the SQL stores keep it: attributes as JSON text, data in the value codec,
 * times as epoch milliseconds (a number from SQLite, a bigint's text from PostgreSQL).
 */
export interface EntryRow {
  name: string;
  kind: string;
  attributes: string;
  data: string | null;
  blob: string | null;
  created: number | string;
  modified: number | string;
}

/** The entry a row of an `entries` table holds. */
export function entryFromRow(r: EntryRow): MetadataEntry {
  const entry: MetadataEntry = {
    name: r.name,
    kind: r.kind,
    attributes: JSON.parse(r.attributes) as Record<string, unknown>,
    created: new Date(Number(r.created)),
    modified: new Date(Number(r.modified)),
  };
  if (r.data !== null) entry.data = decodeValue(r.data);
  if (r.blob !== null) entry.blob = r.blob;
  return entry;
}
