import { createHash } from 'node:crypto';
import type { Bucket, MetadataEntry } from '@omega-track/core';
import { artifactBlobPrefix } from '@omega-track/core/internal';
import type { MlflowClient } from '@omega-track/providers/internal';
import type { ContentSource } from '../TransferSource';

/** Where one blob of an import is in MLflow: a run's artifact root and a file under it. */
interface ArtifactFile {
  artifactUri: string;
  path: string;
}

/**
 * The artifact files of imported MLflow runs as blobs: each file gets a key under the
 * experiment's artifact prefix, derived from the run id and the file's path (the same key on
 * every import, so a second import refers to the same blob), and is downloaded when the writer
 * asks for it — through the server's artifact proxy, or from a local artifact root that is on
 * this machine too.
 */
export class MlflowArtifactContent implements ContentSource {
  private readonly files = new Map<string, ArtifactFile>();

  constructor(private readonly client: MlflowClient) {}

  /** The blob key of a run's artifact file, remembered for getBlob. */
  add(experiment: string, runId: string, artifactUri: string, path: string): string {
    const id = createHash('sha256').update(`${runId}\u0000${path}`).digest('hex').slice(0, 32);
    const key = `${artifactBlobPrefix(experiment)}mlflow-${id}`;
    this.files.set(key, { artifactUri, path });
    return key;
  }

  clear(): void {
    this.files.clear();
  }

  async getEntry(_bucket: Bucket, _name: string): Promise<MetadataEntry | undefined> {
    // MLflow artifacts are plain files: no model or dataset entries
    return undefined;
  }

  async listBlobs(prefix: string): Promise<string[]> {
    return [...this.files.keys()].filter((k) => k.startsWith(prefix)).sort();
  }

  async getBlob(key: string): Promise<Uint8Array | undefined> {
    const file = this.files.get(key);
    if (!file) return undefined;
    return this.client.downloadArtifact(file.artifactUri, file.path);
  }
}
