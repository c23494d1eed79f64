import fs from 'node:fs';
import path from 'node:path';
import { TrackingInputError } from '@omega-track/core';
import type { TransferLog } from '../TransferSource';

/** A TensorBoard run: a directory holding event files. */
export interface EventRunDir {
  /** The directory, absolute. */
  dir: string;
  /** The directory relative to the log directory, with '/' between parts; '.' for the log directory itself. */
  rel: string;
  /** Its event files, absolute, in name order (which is time order: the name starts with the time). */
  files: string[];
}

/** Whether a file name is an event file's, as TensorBoard tells them (`*tfevents*`). */
export function isEventFileName(name: string): boolean {
  return name.includes('tfevents');
}

/**
 * The host that wrote an event file, from its name `events.out.tfevents.<secs>.<hostname>`
 * with `.<pid>.<n>` (TF 2, PyTorch) and `.v2` (TF 2) after it when they are there; '' when the
 * name says none. A host name may hold dots (`gpu1.example.com`).
 */
export function eventFileHost(fileName: string): string {
  const m = /tfevents\.\d+(?:\.\d+)?\.(.+?)(?:\.\d+\.\d+)?(?:\.v2)?$/.exec(fileName);
  return m?.[1] ?? '';
}

/**
 * Every directory under `root` (itself included) that holds event files, sorted by their path
 * relative to `root`: TensorBoard's runs (`logs/train`, `logs/validation` are two runs). Links
 * to directories are not followed (a link back up would never end); a directory that cannot be
 * read is said in `log.skipped`. No event file at all is a `TrackingInputError`.
 */
export async function findEventRuns(root: string, log: TransferLog): Promise<EventRunDir[]> {
  const stat = await fs.promises.stat(root).catch((e: NodeJS.ErrnoException) => {
    throw new TrackingInputError(
      e.code === 'ENOENT' ? `${root} does not exist` : `${root} cannot be read: ${e.message}`,
    );
  });
  if (!stat.isDirectory())
    throw new TrackingInputError(`${root} is not a directory: give the TensorBoard log directory`);
  const runs: EventRunDir[] = [];
  const pending = [root];
  while (pending.length > 0) {
    const dir = pending.pop() as string;
    let entries: fs.Dirent[];
    try {
      entries = await fs.promises.readdir(dir, { withFileTypes: true });
    } catch (e) {
      if (dir === root) throw new TrackingInputError(`${root} cannot be read: ${(e as Error).message}`);
      log.skipped(dir, `the directory cannot be read: ${(e as Error).message}`);
      continue;
    }
    const files: string[] = [];
    for (const entry of entries) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else if (isEventFileName(entry.name) && (entry.isFile() || (await isLinkToFile(full))))
        files.push(full);
    }
    if (files.length > 0) {
      files.sort(byCodePoint);
      const rel = path.relative(root, dir);
      runs.push({ dir, rel: rel === '' ? '.' : rel.split(path.sep).join('/'), files });
    }
  }
  if (runs.length === 0)
    throw new TrackingInputError(`no TensorBoard event files (events.out.tfevents.*) under ${root}`);
  // the log directory's own run first, then the others by path
  return runs.sort((a, b) => (a.rel === '.' ? -1 : b.rel === '.' ? 1 : byCodePoint(a.rel, b.rel)));
}

async function isLinkToFile(file: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(file)).isFile();
  } catch {
    return false;
  }
}

function byCodePoint(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
