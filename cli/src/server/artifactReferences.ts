/**
 * What an artifact event written through the server may refer to. Readers and deleters follow an
 * artifact's references without asking who wrote them — the UI downloads the blob or model it
 * names, `delete-run` and `drop` delete what it names — so a client that could write any
 * reference could read or delete content beyond its token's reach (another experiment's
 * weights, a model of `om.models`, every blob under a prefix). Only references that point where
 * the client's own artifact writes put content are taken.
 */
import { TrackingInputError } from '@omega-track/core';
import { ARTEFACT_PREFIX, artifactBlobPrefix } from '@omega-track/core/internal';

/** The events whose values readers and deleters take as artifacts. */
const ARTIFACT_EVENTS: ReadonlySet<string> = new Set(['artifact', 'data']);

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Checks the value of an event of `experiment`: an artifact of format `binary` or `serialized`
 * names a blob under the experiment's own artifact prefix; one of format `model` or `dataset`
 * names an artifact entry (`.experiments/.artefacts/…`) or holds no reference (an object).
 * Returns the artifact entry named, if any (a scoped token must own it: see writeApi).
 */
export function checkArtifactReference(
  event: string,
  value: unknown,
  experiment: string,
): string | undefined {
  if (!ARTIFACT_EVENTS.has(event) || !isObject(value)) return undefined;
  const { format, data } = value;
  if (format === 'binary' || format === 'serialized') {
    const prefix = artifactBlobPrefix(experiment);
    const blob = isObject(data) ? data.blob : undefined;
    if (typeof blob !== 'string' || !blob.startsWith(prefix) || blob.length === prefix.length)
      throw new TrackingInputError(
        `a ${format} artifact of '${experiment}' refers to a blob under '${prefix}', got ${JSON.stringify(blob) ?? 'none'}`,
      );
    return undefined;
  }
  if (format === 'model' || format === 'dataset') {
    if (isObject(data)) return undefined;
    if (
      typeof data !== 'string' ||
      !data.startsWith(ARTEFACT_PREFIX) ||
      data.length === ARTEFACT_PREFIX.length
    )
      throw new TrackingInputError(
        `a ${format} artifact refers to an artifact entry '${ARTEFACT_PREFIX}…', got ${JSON.stringify(data) ?? 'none'}`,
      );
    return data;
  }
  return undefined;
}
