import { decodeEvent } from './eventProto';
import { TfRecordReader } from './tfrecord';

/**
 * The earliest and latest wall time (seconds) of the events in `files`, undefined when they
 * hold none: a quick pass that frames records without checking them (the reading that imports
 * checks every CRC and says what is wrong; here a damaged file just ends the pass over it).
 */
export async function scanWallTimes(files: string[]): Promise<{ first: number; last: number } | undefined> {
  let first = Infinity;
  let last = -Infinity;
  for (const file of files) {
    const reader = new TfRecordReader(file, { verify: false });
    try {
      for await (const chunk of reader.chunks()) {
        for (let i = 0; i < chunk.length; i++) {
          const t = wallTimeOf(chunk.bytes, chunk.starts[i], chunk.ends[i]);
          if (!Number.isFinite(t)) continue;
          if (t < first) first = t;
          if (t > last) last = t;
        }
      }
    } catch {
      // the import's own reading of this file says what is wrong with it
    }
  }
  return first <= last ? { first, last } : undefined;
}

/** An Event's wall_time: writers put it first (field 1, a double: tag byte 0x09), else the event is decoded. */
function wallTimeOf(bytes: Uint8Array, start: number, end: number): number {
  if (end - start >= 9 && bytes[start] === 0x09) {
    for (let k = 0; k < 8; k++) scratch[k] = bytes[start + 1 + k];
    return scratchView.getFloat64(0, true);
  }
  try {
    return decodeEvent(bytes, start, end).wallTime;
  } catch {
    return NaN;
  }
}

const scratch = new Uint8Array(8);
const scratchView = new DataView(scratch.buffer);
