import path from 'node:path';
import type { Omega } from 'omega-track';
import { omega } from 'omega-track';
import { tempDir } from '../helpers/tmp';

/** A fresh embedded SQLite store in a temp dir: its URL, `om` on it, and how to open more clients. */
export interface ParityStore {
  url: string;
  om: Omega;
  /** Another `om` on the same file (another client, or a runtime worker). */
  open(): Omega;
  /** Closes every `om` opened here and removes the directory. */
  close(): Promise<void>;
}

export function parityStore(): ParityStore {
  const tmp = tempDir('omega-parity-');
  const url = `sqlite:${path.join(tmp.dir, 'omega.db')}`;
  const opened: Omega[] = [];
  const open = (): Omega => {
    const om = omega({ store: url });
    opened.push(om);
    return om;
  };
  const om = open();
  return {
    url,
    om,
    open,
    close: async () => {
      for (const o of opened) await o.close();
      tmp.cleanup();
    },
  };
}
