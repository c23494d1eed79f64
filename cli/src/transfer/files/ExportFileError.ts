import { TrackingInputError } from '@omega-track/core';

/**
 * An export directory that cannot be read as it should: no manifest, a schema version newer than
 * this reader, a missing or corrupt events file, a row that does not decode. Nothing of a run
 * whose rows fail is imported.
 */
export class ExportFileError extends TrackingInputError {
  static override readonly errorName: string = 'ExportFileError';
}
