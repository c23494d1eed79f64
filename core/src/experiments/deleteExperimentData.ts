import type { ArtifactStores } from '../artifacts/ArtifactCodec';
import { artifactBlobPrefix, artifactReferences } from '../artifacts/ArtifactCodec';

/**
 * Deletes an experiment's events and everything its artifacts stored: model and dataset
 * entries and blobs (omega-ml left those behind). Returns how many events were deleted.
 */
export async function deleteExperimentData(experiment: string, stores: ArtifactStores): Promise<number> {
  const objects = await stores.store.queryEvents(experiment, { events: ['artifact', 'data'] });
  // the events first: a delete the store refuses (a token that may not delete) loses nothing
  const deleted = await stores.store.deleteEvents(experiment);
  for (const e of objects) {
    const refs = artifactReferences(e.value);
    if (refs.model) await stores.models.drop(refs.model);
    if (refs.dataset) await stores.datasets.drop(refs.dataset);
  }
  await stores.store.deleteBlobs(artifactBlobPrefix(experiment));
  return deleted;
}
