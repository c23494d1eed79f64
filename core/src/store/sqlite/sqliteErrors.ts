import fs from 'node:fs';
import path from 'node:path';
import { StoreError } from '../../errors/StoreError';
import type { StoreErrorCode } from '../../errors/StoreError';

/** The parts of an error from better-sqlite3 (or fs) that say what happened. */
interface CodedError {
  code?: unknown;
  message?: unknown;
}

/** What a SQLite (or file system) error code means for the user, by its family. */
export function storeErrorCode(code: string): StoreErrorCode {
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'locked';
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'disk-full';
  if (code === 'SQLITE_TOOBIG') return 'too-big';
  if (code.startsWith('SQLITE_NOTADB') || code.startsWith('SQLITE_CORRUPT')) return 'not-a-database';
  if (code.startsWith('SQLITE_READONLY') || code === 'EROFS') return 'read-only';
  if (
    code.startsWith('SQLITE_CANTOPEN') ||
    code.startsWith('SQLITE_PERM') ||
    code === 'EACCES' ||
    code === 'EPERM'
  )
    return 'cannot-open';
  if (code === 'ENOTDIR' || code === 'EISDIR' || code === 'ENOENT' || code === 'EEXIST') return 'cannot-open';
  return 'io';
}

/** Whether an error is the write lock being held by someone else (worth waiting for). */
export function isLocked(error: unknown): boolean {
  return error instanceof StoreError ? error.code === 'locked' : storeErrorCode(codeOf(error)) === 'locked';
}

/**
 * What better-sqlite3 throws (a RangeError, without a code) for a value past SQLite's length limit,
 * and what V8 throws for a text or buffer too long to make while packing one.
 */
const TOO_BIG =
  /^The bound string, buffer, or bigint is too big$|^Invalid string length$|^Invalid typed array length/;

function codeOf(error: unknown): string {
  const e = error as CodedError | undefined;
  const code = e?.code;
  if (typeof code === 'string' && code !== '') return code;
  // no code of its own: the writer thread sends such errors back with an empty one
  return typeof e?.message === 'string' && TOO_BIG.test(e.message) ? 'SQLITE_TOOBIG' : '';
}

/**
 * The processes (other than this one) that have the store file open, as far as this system
 * lets us see: Linux lists them under /proc; elsewhere nothing is known.
 */
export function fileHolders(file: string, maxProcesses = 4096): string[] {
  if (process.platform !== 'linux') return [];
  const targets = new Set([file, `${file}-wal`, `${file}-shm`]);
  const found: string[] = [];
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d) && Number(d) !== process.pid);
  } catch {
    return [];
  }
  for (const pid of pids.slice(0, maxProcesses)) {
    let fds: string[];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to look at
    }
    const holds = fds.some((fd) => {
      try {
        return targets.has(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      } catch {
        return false;
      }
    });
    if (!holds) continue;
    let command = '';
    try {
      command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean).join(' ');
    } catch {
      // the process ended meanwhile
    }
    found.push(`pid ${pid}${command ? ` (${command.slice(0, 120)})` : ''}`);
  }
  return found;
}

/** What the user can do about each kind of trouble. */
function advice(code: StoreErrorCode, file: string): string {
  switch (code) {
    case 'cannot-open':
      return 'check that its folder exists and is writable, or point OMEGA_STORE / --store elsewhere';
    case 'not-a-database':
      return 'it is not an omega-track store (not an SQLite database, or corrupt): point OMEGA_STORE / --store at the store file, or move this file away';
    case 'read-only':
      return 'the file or its folder is read-only: make it writable, or point OMEGA_STORE / --store elsewhere';
    case 'disk-full':
      return `free space on the file system of ${path.dirname(file)}; queued events are kept and written once there is room`;
    case 'locked':
      return 'another process holds its write lock';
    case 'too-big':
      // nothing is wrong with the file: the write itself is larger than SQLite takes
      return 'the write holds more than SQLite takes in one value (1 GB): retrying cannot help, it is not retried';
    default:
      // the reason is in the message itself, in parentheses: read by people and HTTP clients alike
      return 'check the disk and the file (damaged, or moved or replaced while open); the reason is in parentheses';
  }
}

/** A store error from whatever better-sqlite3 or fs threw, naming the file and what to do. */
export function toStoreError(error: unknown, file: string, doing: string): StoreError {
  if (error instanceof StoreError) return error;
  const code = storeErrorCode(codeOf(error));
  const raw = (error as CodedError | undefined)?.message;
  const reason = typeof raw === 'string' ? raw : String(error);
  return new StoreError(
    code,
    file,
    `store ${file}: ${doing} failed (${reason}): ${advice(code, file)}`,
    error,
  );
}

/**
 * The error of a write that waited `waitedMs` for the write lock in vain; it names the processes
 * that have the file open, where the system lets us see them.
 */
export function lockedError(file: string, waitedMs: number, doing: string): StoreError {
  const holders = fileHolders(file);
  const seconds = waitedMs < 10_000 ? (waitedMs / 1000).toFixed(1) : String(Math.round(waitedMs / 1000));
  const held = waitedMs > 0 ? `has held its write lock for more than ${seconds} s` : 'holds its write lock';
  const who = holders.length ? `held open by ${holders.join(', ')}` : 'by which process could not be told';
  return new StoreError(
    'locked',
    file,
    `store ${file} is locked: another process ${held} (${who}); ${doing} gave up waiting. Wait for that process, or raise lockTimeoutMs`,
  );
}

/** A store error rebuilt from what the writer thread sent back. */
export function storeErrorFromReply(code: string, message: string, file: string, doing: string): StoreError {
  // the store's own refusal (a write id used for other content) comes back as it was made
  if (code === 'conflict') return new StoreError('conflict', file, message);
  return toStoreError(Object.assign(new Error(message), { code }), file, doing);
}
