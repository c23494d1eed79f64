import { StoreError } from '../errors/StoreError';
import { TrackingInputError } from '../errors/TrackingInputError';
import type { WriteId } from './Store';

/** What a write id was recorded for: an append of events, or the start of a run. */
export type WriteKind = 'append' | 'start';

/** A write id as a store records it, beside the write it names. */
export interface RecordedWrite {
  experiment: string;
  kind: WriteKind;
  digest: string;
  /** The run a start got; null for appends. */
  run: number | null;
}

/** Longest write id and digest a store takes (a server's batch ids are at most 128 characters). */
export const MAX_WRITE_ID_LENGTH = 512;

/** Refuses a write id that is no pair of non-empty strings (TrackingInputError); returns it. */
export function checkWriteId(writeId: WriteId | undefined): WriteId | undefined {
  if (writeId === undefined) return undefined;
  const { id, digest } = (writeId ?? {}) as Partial<WriteId>;
  for (const [name, value] of [
    ['id', id],
    ['digest', digest],
  ] as const)
    if (typeof value !== 'string' || value === '' || value.length > MAX_WRITE_ID_LENGTH)
      throw new TrackingInputError(
        `writeId.${name} must be a non-empty string of at most ${MAX_WRITE_ID_LENGTH} characters, got ${typeof value === 'string' ? `${value.length} characters` : typeof value}`,
      );
  return { id: id!, digest: digest! };
}

/**
 * Whether a recorded write is this one again: the same experiment, the same kind of write and
 * the same digest. An id met again under another experiment or kind is as much a conflict as
 * one with other content: answering "duplicate" there would drop a write that was never stored.
 */
export function isSameWrite(
  recorded: RecordedWrite,
  experiment: string,
  kind: WriteKind,
  digest: string,
): boolean {
  return recorded.experiment === experiment && recorded.kind === kind && recorded.digest === digest;
}

/**
 * The error of a write id used before for another write: nothing of this one is stored. It does
 * not name what the id was used for (another experiment's name would reach a server's client).
 */
export function writeIdConflict(location: string, id: string): StoreError {
  return new StoreError(
    'conflict',
    location,
    `store ${location}: write id '${id}' was used before for other content; nothing of this write was stored: give each write an id of its own`,
  );
}
