import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Bucket, MetadataEntry, PendingEvent } from '@omega-track/core';
import { artifactReferences, decodeValue, encodeValue } from '@omega-track/core/internal';
import type { ContentSource } from '../TransferSource';
import { ExportFileError } from './ExportFileError';
import { reviveEntry } from './exportFormat';
import type { ManifestBlobFile, ManifestEntryFile } from './exportFormat';

/** Where artifact content goes, relative to the export directory. */
const ENTRIES_DIR = 'artifacts/entries';
const BLOBS_DIR = 'artifacts/blobs';

/** File names stay well below the 255 bytes most file systems allow. */
const MAX_NAME = 180;

/**
 * A name or key as one file name: percent-encoded so `/` and `..` cannot leave the folder (a dot
 * is encoded too), shortened with a hash when long.
 */
export function fileNameOf(name: string): string {
  const encoded = encodeURIComponent(name).replace(
    /[.!~*'()]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  if (encoded.length <= MAX_NAME) return encoded;
  return `${encoded.slice(0, MAX_NAME - 42)}~${createHash('sha256').update(name).digest('hex').slice(0, 40)}`;
}

/** Which store bucket an artifact entry lives in: models for `model`, datasets for `dataset`. */
function referencedContent(value: unknown): { bucket: Bucket; name: string } | { blob: string } | undefined {
  const refs = artifactReferences(value);
  if (refs.model !== undefined) return { bucket: 'models', name: refs.model };
  if (refs.dataset !== undefined) return { bucket: 'datasets', name: refs.dataset };
  if (refs.blob !== undefined) return { blob: refs.blob };
  return undefined;
}

/** True for the events whose value refers to artifact content (SPEC §4). */
function refersToContent(e: Pick<PendingEvent, 'event' | 'value'>): boolean {
  return (e.event === 'artifact' || e.event === 'data') && typeof e.value === 'object' && e.value !== null;
}

/** Writes the artifact content events refer to beside the tables, each entry and blob once. */
export class ContentWriter {
  readonly entries: ManifestEntryFile[] = [];
  readonly blobs: ManifestBlobFile[] = [];
  bytes = 0;
  private readonly written = new Set<string>();
  /** File names taken, lower-cased: on a case-insensitive file system `A` and `a` are one file. */
  private readonly taken = new Set<string>();

  constructor(private readonly dir: string) {}

  /**
   * Copies what `events` refer to from `content`; returns what it could not find (the event is
   * exported all the same, and the import says what is missing).
   */
  async write(
    events: Array<Pick<PendingEvent, 'event' | 'value'>>,
    content: ContentSource | undefined,
  ): Promise<string[]> {
    const missing: string[] = [];
    for (const e of events) {
      if (!refersToContent(e)) continue;
      const ref = referencedContent(e.value);
      if (!ref) continue;
      if (!content) {
        missing.push(describeRef(ref));
        continue;
      }
      if ('blob' in ref) {
        if (!(await this.blob(ref.blob, content))) missing.push(describeRef(ref));
        continue;
      }
      const id = `entry:${ref.bucket}:${ref.name}`;
      if (this.written.has(id)) continue;
      const entry = await content.getEntry(ref.bucket, ref.name);
      if (!entry) {
        missing.push(describeRef(ref));
        continue;
      }
      const file = this.claim(`${ENTRIES_DIR}/${ref.bucket}`, `${fileNameOf(ref.name)}.json`);
      await fs.promises.writeFile(path.join(this.dir, file), encodeValue(entry), { flag: 'wx' });
      this.entries.push({ bucket: ref.bucket, name: ref.name, file });
      this.written.add(id);
      if (entry.blob !== undefined)
        for (const key of await content.listBlobs(entry.blob))
          if (!(await this.blob(key, content))) missing.push(`blob '${key}' of ${describeRef(ref)}`);
    }
    return missing;
  }

  private async blob(key: string, content: ContentSource): Promise<boolean> {
    const id = `blob:${key}`;
    if (this.written.has(id)) return true;
    const bytes = await content.getBlob(key);
    if (!bytes) return false;
    const file = this.claim(BLOBS_DIR, fileNameOf(key));
    await fs.promises.writeFile(path.join(this.dir, file), bytes, { flag: 'wx' });
    this.blobs.push({ key, file, bytes: bytes.length });
    this.bytes += bytes.length;
    this.written.add(id);
    return true;
  }

  private claim(folder: string, name: string): string {
    let candidate = name;
    for (let n = 2; this.taken.has(`${folder}/${candidate}`.toLowerCase()); n++) candidate = `${name}~${n}`;
    this.taken.add(`${folder}/${candidate}`.toLowerCase());
    fs.mkdirSync(path.join(this.dir, folder), { recursive: true });
    return `${folder}/${candidate}`;
  }
}

function describeRef(ref: { bucket: Bucket; name: string } | { blob: string }): string {
  return 'blob' in ref ? `blob '${ref.blob}'` : `${ref.bucket} entry '${ref.name}'`;
}

/**
 * A file the manifest names, as a path inside the export directory: a manifest that points
 * elsewhere (`../x`, an absolute path) is refused.
 */
export function fileInExport(dir: string, file: unknown, what: string): string {
  const root = path.resolve(dir);
  if (typeof file !== 'string' || file === '' || path.isAbsolute(file) || file.split(/[\\/]/).includes('..'))
    throw new ExportFileError(
      `the manifest of ${dir} names ${what} as ${JSON.stringify(file)}, which is not a file inside the export`,
    );
  const full = path.resolve(root, file);
  if (!full.startsWith(root + path.sep))
    throw new ExportFileError(
      `the manifest of ${dir} names ${what} outside the export: ${JSON.stringify(file)}`,
    );
  return full;
}

/** The artifact content of an export directory, as the writer of an import reads it. */
export class ContentFilesSource implements ContentSource {
  private readonly entries = new Map<string, ManifestEntryFile>();
  private readonly blobs = new Map<string, ManifestBlobFile>();
  private readonly keys: string[];

  constructor(
    private readonly dir: string,
    entries: ManifestEntryFile[],
    blobs: ManifestBlobFile[],
  ) {
    for (const e of entries) this.entries.set(`${e.bucket}\u0000${e.name}`, e);
    for (const b of blobs) this.blobs.set(b.key, b);
    this.keys = [...this.blobs.keys()].sort();
  }

  async getEntry(bucket: Bucket, name: string): Promise<MetadataEntry | undefined> {
    const e = this.entries.get(`${bucket}\u0000${name}`);
    if (!e) return undefined;
    const text = await this.read(e.file, `${bucket} entry '${name}'`);
    let decoded: unknown;
    try {
      decoded = decodeValue(text.toString('utf8'));
    } catch (err) {
      throw new ExportFileError(`${e.file} in ${this.dir} is not JSON: ${(err as Error).message}`);
    }
    const entry = reviveEntry(decoded);
    if (!entry) throw new ExportFileError(`${e.file} in ${this.dir} is not a metadata entry`);
    return entry;
  }

  async listBlobs(prefix: string): Promise<string[]> {
    return this.keys.filter((k) => k.startsWith(prefix));
  }

  async getBlob(key: string): Promise<Uint8Array | undefined> {
    const b = this.blobs.get(key);
    if (!b) return undefined;
    const bytes = await this.read(b.file, `blob '${key}'`);
    if (bytes.length !== b.bytes)
      throw new ExportFileError(
        `${b.file} in ${this.dir} has ${bytes.length} bytes, not the ${b.bytes} the manifest says`,
      );
    return bytes;
  }

  private async read(file: string, what: string): Promise<Buffer> {
    const full = fileInExport(this.dir, file, what);
    try {
      return await fs.promises.readFile(full);
    } catch (err) {
      throw new ExportFileError(`${what} cannot be read from ${full}: ${(err as Error).message}`);
    }
  }
}
