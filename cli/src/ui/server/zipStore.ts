/**
 * A zip archive of a few files, stored without compression (method 0): what a download of several
 * files (a tfjs model's `model.json` and weights) needs, in ~80 lines instead of a dependency.
 * Weights barely compress, and every unzip tool and library reads stored entries.
 */
import { HttpError } from './respond';

/** One file of the archive: its path inside it and its bytes. */
export interface ZipFile {
  name: string;
  data: Uint8Array;
}

/** The most bytes one archive may hold without ZIP64 (not written here). */
const ZIP32_LIMIT = 0xffff_ffff;

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3, the zip one) of `data`. */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

/** MS-DOS date and time of `when` (local time, 2-second precision, from 1980). */
function dosTime(when: Date): { time: number; date: number } {
  const year = Math.min(2107, Math.max(1980, when.getFullYear()));
  return {
    time: (when.getHours() << 11) | (when.getMinutes() << 5) | (when.getSeconds() >> 1),
    date: ((year - 1980) << 9) | ((when.getMonth() + 1) << 5) | when.getDate(),
  };
}

/** The bytes of a zip archive holding `files` (stored, UTF-8 names), dated `when`. */
export function zipStore(files: readonly ZipFile[], when = new Date()): Buffer {
  const { time, date } = dosTime(when);
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const file of files) {
    const name = Buffer.from(file.name, 'utf8');
    const crc = crc32(file.data);
    const size = file.data.length;
    if (offset + size + 30 + name.length > ZIP32_LIMIT)
      throw new HttpError(413, 'this download is beyond the 4 GiB a zip without ZIP64 holds');
    // the fields the local header and the central directory entry share
    const common = Buffer.alloc(26);
    common.writeUInt16LE(20, 0); // version needed: 2.0
    common.writeUInt16LE(0x0800, 2); // flags: the name is UTF-8
    common.writeUInt16LE(0, 4); // method: stored
    common.writeUInt16LE(time, 6);
    common.writeUInt16LE(date, 8);
    common.writeUInt32LE(crc, 10);
    common.writeUInt32LE(size, 14); // compressed size
    common.writeUInt32LE(size, 18); // uncompressed size
    common.writeUInt16LE(name.length, 22);
    common.writeUInt16LE(0, 24); // extra field length
    const local = Buffer.concat([u32(0x04034b50), common, name]);
    locals.push(local, Buffer.from(file.data.buffer, file.data.byteOffset, file.data.byteLength));
    // comment length, disk number, internal (2) and external (4) attributes, the local header's offset
    const tail = Buffer.alloc(14);
    tail.writeUInt32LE(offset, 10);
    centrals.push(Buffer.concat([u32(0x02014b50), u16(20), common, tail, name]));
    offset += local.length + size;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8); // entries on this disk
  end.writeUInt16LE(files.length, 10); // entries in all
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n, 0);
  return b;
}
