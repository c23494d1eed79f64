import type { MetadataEntry } from '../store/Store';

/**
 * A metadata entry of the models or datasets store, as handed to users. Logging one as an
 * artifact stores it with format `metadata`.
 */
export class Metadata implements MetadataEntry {
  name: string;
  kind: string;
  attributes: Record<string, unknown>;
  data?: unknown;
  blob?: string;
  created: Date;
  modified: Date;

  constructor(entry: MetadataEntry) {
    this.name = entry.name;
    this.kind = entry.kind;
    this.attributes = entry.attributes;
    if (entry.data !== undefined) this.data = entry.data;
    if (entry.blob !== undefined) this.blob = entry.blob;
    this.created = new Date(entry.created);
    this.modified = new Date(entry.modified);
  }

  /** The JSON form stored in `metadata` artifacts (inline content left out). */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      kind: this.kind,
      attributes: this.attributes,
      created: this.created.toISOString(),
      modified: this.modified.toISOString(),
    };
  }

  /** Rebuilds a Metadata from its JSON form. */
  static fromJSON(json: Record<string, unknown>): Metadata {
    return new Metadata({
      name: String(json.name),
      kind: String(json.kind),
      attributes: (json.attributes as Record<string, unknown>) ?? {},
      created: new Date(String(json.created)),
      modified: new Date(String(json.modified)),
    });
  }
}
