/** The states of the writer thread, in slot 0 of the shared state (see sqliteWriterWorker). */
export const IDLE = 0;
export const BUSY = 1;
export const STOPPED = 2;
/** Where the ring of committed request numbers starts in the shared state, and its length. */
export const RING = 1;
export const RING_SIZE = 8192;

/** What the writer thread is started with. */
export interface WriterConfig {
  file: string;
  busyTimeoutMs: number;
  shared: SharedArrayBuffer;
}

/** One write sent to the writer thread. */
export interface WriterRequest {
  seq: number;
  write: unknown;
}

/** The writer thread's answer to one request. */
export type WriterReply =
  { seq: number; ok: true; result: unknown } | { seq: number; ok: false; code: string; message: string };
