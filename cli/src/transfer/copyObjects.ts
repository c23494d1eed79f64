/** The objects of a store beside its experiments: `om.models` and `om.datasets`, for `copy`. */
import type { Bucket, Store } from '@omega-track/core';
import { ARTEFACT_PREFIX, EXPERIMENT_PREFIX } from '@omega-track/core/internal';

/** What `copyObjects` wrote. */
export interface ObjectsCopied {
  entries: number;
  blobs: number;
  bytes: number;
}

/**
 * Copies every entry of `om.models` and `om.datasets` with the blobs under its prefix, except
 * experiments' settings and run artifacts (the runs bring those). Entries are written as they
 * are (dates, attributes, content), so a copy run again writes the same once more.
 */
export async function copyObjects(source: Store, target: Store): Promise<ObjectsCopied> {
  const copied: ObjectsCopied = { entries: 0, blobs: 0, bytes: 0 };
  for (const bucket of ['models', 'datasets'] as Bucket[])
    for (const entry of await source.listEntries(bucket)) {
      if (entry.name.startsWith(EXPERIMENT_PREFIX) || entry.name.startsWith(ARTEFACT_PREFIX)) continue;
      // the content first: an entry never points at blobs that are not there yet
      if (entry.blob)
        for (const key of await source.listBlobs(entry.blob)) {
          const data = await source.getBlob(key);
          if (!data) continue; // deleted meanwhile: the entry goes without it, as in the source
          await target.putBlob(key, data);
          copied.blobs++;
          copied.bytes += data.byteLength;
        }
      await target.putEntry(bucket, entry);
      copied.entries++;
    }
  return copied;
}
