import { TrackingError } from '@omega-track/core';

/**
 * A TensorBoard event file that cannot be read past some point: a record whose CRC does not
 * match, a record length no writer would write, or a record that is not an `Event` protobuf.
 * `file` and `offset` (the byte where the bad record starts) say where.
 */
export class TensorboardFormatError extends TrackingError {
  static override readonly errorName: string = 'TensorboardFormatError';

  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`${file}: the record at byte ${offset} is corrupt: ${reason}`);
  }
}

/** A protobuf message that does not follow the wire format (bytes run out, an unknown wire type). */
export class ProtobufFormatError extends TrackingError {
  static override readonly errorName: string = 'ProtobufFormatError';
}
