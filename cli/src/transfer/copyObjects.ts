/** The objects of a store beside its experiments: `om.models` and `om.datasets`, for `copy`. */
import type { Bucket, Store } from '@omega-track/core';
import { ARTEFACT_PREFIX, EXPERIMENT_PREFIX, encodeValue } from '@omega-track/core/internal';
import type { TransferLog } from './TransferSource';

/** What `copyObjects` wrote. */
export interface ObjectsCopied {
  entries: number;
  blobs: number;
  bytes: number;
}

/**
 * Copies every entry of `om.models` and `om.datasets` with the blobs under its prefix, except
 * experiments' settings and run artifacts (the runs bring those). Entries are written as they
 * are (dates, attributes, content). An entry the target has already is left as it is, and
 * said when it is another one than the source's.
 */
export async function copyObjects(source: Store, target: Store, log: TransferLog): Promise<ObjectsCopied> {
  const copied: ObjectsCopied = { entries: 0, blobs: 0, bytes: 0 };
  for (const bucket of ['models', 'datasets'] as Bucket[])
    for (const entry of await source.listEntries(bucket)) {
      if (entry.name.startsWith(EXPERIMENT_PREFIX) || entry.name.startsWith(ARTEFACT_PREFIX)) continue;
      const there = await target.getEntry(bucket, entry.name);
      if (there) {
        // the same entry (copied before) is left as it is; another one of that name is the target's own
        if (encodeValue(there) !== encodeValue(entry))
          log.skipped(
            `${bucket} entry '${entry.name}'`,
            'the target has another entry of that name: left as it is',
          );
        continue;
      }
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
