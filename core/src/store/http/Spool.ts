import type { ShipperSpool } from './HttpShipper';

/** A batch of events as it is spooled: its columns' JSON text (encodeBatchColumns), counts, and the caller's batch id. */
export interface SpoolBatch {
  columns: string;
  count: number;
  runs: Map<number, number>;
  batch?: string;
}

/**
 * Where the HTTP store keeps what the server has not stored yet, in order: in Node an SQLite file
 * per process (HttpSpool), in a page IndexedDB (IdbSpool, browser build). Appends may resolve
 * later (IndexedDB) or at once (SQLite): either way, an item counts as spooled (`lastSeq`,
 * `waiting`) only once it is durable.
 */
export interface Spool extends ShipperSpool {
  /** Where it is, for messages: a file path, or `indexeddb:…`. */
  readonly file: string;
  /** Bytes waiting, with those of appends under way: the spool's bound counts these. */
  readonly bytes: number;
  /** Items waiting. */
  readonly waiting: number;
  /**
   * Whether the process's exit hooks close it and say what stays (a Node spool file, shipped
   * later by `omega-track sync`). A page's spool needs no hook: it stays for the next page.
   */
  readonly exitHook: boolean;
  /** How what stays in it gets shipped, said when a store closes with items left. */
  readonly resumeHint: string;
  pending(): { items: number; events: number; bytes: number; dead: number };
  /** Events of `experiment` waiting, per run. */
  pendingByRun(experiment: string): Map<number, number>;
  /** The seq of the last item durably spooled (0 when none ever was). */
  lastSeq(): number;
  /**
   * Appends batches of events in one transaction, all or none. With `group`, they are part of a
   * bigger append written slice by slice: held back (with everything after them) until
   * `commit(group)`, removed by `abort(group)`. Resolves with the last seq once durable.
   */
  appendEvents(experiment: string, batches: readonly SpoolBatch[], group?: string): number | Promise<number>;
  /**
   * The last write of a process or page (it cannot wait): kept at once where the next process
   * or page finds it; resolves once the items wait in the spool like any other (a page that goes
   * on, restored from the back-forward cache, ships them). A spool without it takes
   * `appendEvents`, begun and not waited for.
   */
  appendEventsNow?(experiment: string, batches: readonly SpoolBatch[]): Promise<void>;
  commit(group: string): void | Promise<void>;
  abort(group: string): void | Promise<void>;
  /** Spools a blob's content (a copy: the caller may change `data` afterwards); resolves once durable. */
  putBlob(key: string, data: Uint8Array): Promise<void>;
  close(): void;
}
