import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TrackingError, TrackingInputError } from '@omega-track/core';
import { MlflowArtifactsUnreachableError } from './MlflowErrors';
import type { MlflowFileInfo } from './MlflowTypes';

/**
 * Where a run's artifacts are, as its `artifact_uri` says, and how omega-track reaches them:
 * - `proxy`: through the tracking server's `mlflow-artifacts` proxy (`mlflow server`, which
 *   serves artifacts by default: `mlflow-artifacts:/<exp>/<run>/artifacts`);
 * - `local`: a folder on this machine. A server started with a local `--default-artifact-root`
 *   hands out bare paths (`/root/<exp>/<run>/artifacts`) or `file:` URIs and serves nothing: its
 *   clients write and read that folder themselves, as MLflow's own Python client does. That works
 *   where the folder is, the server's machine or a shared mount, so it is `local` only when the
 *   artifact root (the folder above the experiment's) exists here;
 * - `unreachable`: anything else (that folder elsewhere, `s3:`, `gs:`, …): omega-track speaks to
 *   MLflow's REST API only.
 */
export type ArtifactLocation =
  | { kind: 'proxy'; base: string; root: string }
  | { kind: 'local'; dir: string }
  | { kind: 'unreachable'; error: (subject?: string) => MlflowArtifactsUnreachableError };

const PROXY_PATH = '/api/2.0/mlflow-artifacts/artifacts';

/** `artifact_uri` is `<experiment location>/<run id>/artifacts`: the root it was made from. */
function artifactRootOf(uri: string): string {
  const parts = uri.replace(/\/+$/, '').split('/');
  return parts.length > 3 && parts[parts.length - 1] === 'artifacts' ? parts.slice(0, -3).join('/') : uri;
}

function unreachable(uri: string, elsewhere: boolean): ArtifactLocation {
  return {
    kind: 'unreachable',
    error: (subject) => new MlflowArtifactsUnreachableError(uri, artifactRootOf(uri), elsewhere, subject),
  };
}

/** A folder of this machine, if its artifact root exists here (see ArtifactLocation). */
function localFolder(dir: string, uri: string): ArtifactLocation {
  const root = path.dirname(path.dirname(path.dirname(dir)));
  try {
    if (fs.statSync(root).isDirectory()) return { kind: 'local', dir };
  } catch {
    // missing (the server's folder, on its own machine) or unreadable: not reachable from here
  }
  return unreachable(uri, true);
}

/** Where the artifacts at `artifactUri` are, for a client of the tracking server at `trackingBase`. */
export function resolveArtifactLocation(artifactUri: string, trackingBase: string): ArtifactLocation {
  // a bare path (a Windows one starts with a drive letter, which looks like a scheme)
  const scheme = /^[a-z]:[\\/]/i.test(artifactUri)
    ? undefined
    : /^([a-z][a-z0-9+.-]*):/i.exec(artifactUri)?.[1].toLowerCase();
  if (scheme === undefined) return localFolder(path.resolve(artifactUri), artifactUri);
  if (scheme === 'file') {
    try {
      return localFolder(fileURLToPath(artifactUri), artifactUri);
    } catch {
      // file://otherhost/…: a folder of another machine
      return unreachable(artifactUri, true);
    }
  }
  let url: URL;
  try {
    url = new URL(artifactUri);
  } catch {
    return unreachable(artifactUri, false);
  }
  if (scheme === 'mlflow-artifacts') {
    // mlflow-artifacts://host:port/path points at another server, spoken to with our scheme
    const base = url.host
      ? `${new URL(trackingBase).protocol}//${url.host}${PROXY_PATH}`
      : `${trackingBase}${PROXY_PATH}`;
    return { kind: 'proxy', base, root: url.pathname.replace(/^\/+/, '') };
  }
  if ((scheme === 'http' || scheme === 'https') && url.pathname.includes(PROXY_PATH)) {
    const [prefix, rest] = url.pathname.split(PROXY_PATH);
    return { kind: 'proxy', base: `${url.origin}${prefix}${PROXY_PATH}`, root: rest.replace(/^\/+/, '') };
  }
  return unreachable(artifactUri, false);
}

/** The segments of an artifact path relative to the run's root; `.` and `..` are refused. */
export function artifactSegments(relativePath: string): string[] {
  const rel = relativePath.split('/').filter(Boolean);
  if (rel.some((s) => s === '..' || s === '.'))
    throw new TrackingInputError(`artifact path '${relativePath}' must not contain . or ..`);
  return rel;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Writes an artifact file into a run's local folder. The file appears whole or not at all (it is
 * written aside, then renamed), so a reader never sees half an events file.
 */
export function writeLocalArtifact(dir: string, relativePath: string, data: Uint8Array): void {
  const file = path.join(dir, ...artifactSegments(relativePath));
  const aside = `${file}.${randomBytes(6).toString('hex')}.partial`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(aside, data);
    fs.renameSync(aside, file);
  } catch (error) {
    fs.rmSync(aside, { force: true });
    throw new TrackingError(`cannot write artifact file ${file} of the MLflow run: ${describe(error)}`);
  }
}

/** Reads an artifact file from a run's local folder. */
export function readLocalArtifact(dir: string, relativePath: string): Buffer {
  const file = path.join(dir, ...artifactSegments(relativePath));
  try {
    return fs.readFileSync(file);
  } catch (error) {
    throw new TrackingError(`cannot read artifact file ${file} of the MLflow run: ${describe(error)}`);
  }
}

/** The entries directly under `relativePath` of a run's local folder, as MLflow's artifacts/list gives them. */
export function listLocalArtifacts(dir: string, relativePath: string): MlflowFileInfo[] {
  const rel = artifactSegments(relativePath);
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(path.join(dir, ...rel), { withFileTypes: true });
  } catch (error) {
    // nothing logged there yet
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new TrackingError(`cannot list the artifacts of the MLflow run at ${dir}: ${describe(error)}`);
  }
  return entries
    .filter((e) => !e.name.endsWith('.partial'))
    .map((e) => {
      const at = [...rel, e.name].join('/');
      if (e.isDirectory()) return { path: at, is_dir: true };
      return { path: at, is_dir: false, file_size: fs.statSync(path.join(dir, ...rel, e.name)).size };
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
