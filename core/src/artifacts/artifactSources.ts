import { TrackingInputError } from '../errors/TrackingInputError';

/**
 * An artifact given by what `data()` gave back: its whole row, or `{ value: row.value }`
 * (omega-ml's `restore_artifact(value=…)`: "use to retrieve an artifact from contents of
 * .data()"). Restored by its format, without a query; fields other than `value` are not read.
 */
export interface ArtifactSource {
  value: unknown;
  [field: string]: unknown;
}

/** Whether `arg` is an ArtifactSource: an object with a `value` field (never a query field). */
export function isArtifactSource(arg: unknown): arg is ArtifactSource {
  return typeof arg === 'object' && arg !== null && !Array.isArray(arg) && Object.hasOwn(arg, 'value');
}

/**
 * The logged values `restoreArtifacts(arg)` is given instead of a query: a list of rows of
 * `data()` (or `{ value }` objects), or one of them; undefined when `arg` is a query.
 */
export function artifactSourceValues(arg: unknown): unknown[] | undefined {
  if (isArtifactSource(arg)) return [arg.value];
  if (!Array.isArray(arg)) return undefined;
  return arg.map((item: unknown, i) => {
    if (!isArtifactSource(item))
      throw new TrackingInputError(
        `restoreArtifacts(list): item ${i} is not a row of data() or { value: row.value }`,
      );
    return item.value;
  });
}

/**
 * The source `restoreArtifact(name, query)` is given instead of a query — `restoreArtifact(row)`,
 * `restoreArtifact({ value })` or `restoreArtifact('X', { value })` — or undefined for a query.
 * A name given beside a value must be the value's own name: a wrong row is said, not restored.
 */
export function artifactSourceOf(name: unknown, query: unknown): ArtifactSource | undefined {
  if (isArtifactSource(name)) return name;
  if (!isArtifactSource(query)) return undefined;
  const own = (query.value as { name?: unknown } | null)?.name;
  if (typeof name === 'string' && typeof own === 'string' && own !== name)
    throw new TrackingInputError(
      `restoreArtifact('${name}', { value }) was given the value of artifact '${own}'`,
    );
  return query;
}
