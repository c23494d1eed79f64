import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temporary directory, removed by `cleanup()`. */
export function tempDir(prefix = 'omega-track-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Collects diagnostic lines instead of printing them. */
export function collectDiag(setDiagWriter: (w: (line: string) => void) => (line: string) => void): {
  lines: string[];
  restore: () => void;
} {
  const lines: string[] = [];
  const previous = setDiagWriter((line) => lines.push(line));
  return { lines, restore: () => setDiagWriter(previous) };
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
