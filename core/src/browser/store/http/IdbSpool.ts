import { StoreError } from '../../../errors/StoreError';
import { randomUUID } from '../../../process/randomId';
import type { SpoolBody, SpoolItem } from '../../../store/http/HttpShipper';
import { batchId, withBatchId } from '../../../store/http/httpProtocol';
import type { Spool, SpoolBatch } from '../../../store/http/Spool';
import { SpoolCounts } from '../../../store/http/SpoolCounts';

/** The database every spool of this origin lives in. */
export const SPOOL_DB = 'omega-track-spool';
const DB_VERSION = 1;

/** How often a live spool renews its lease where there are no Web Locks, and when a lease is stale. */
const LEASE_RENEW_MS = 5_000;
const LEASE_STALE_MS = 30_000;

/** A spool as recorded: which server it ships to, and its owner's last sign of life. */
interface SpoolRecord {
  id: string;
  url: string;
  tokenHint: string;
  created: number;
  /** The last lease renewal of the page that owns it (used where there are no Web Locks). */
  beat: number;
}

/** An item's description as stored (keyed by [spool, seq]); its content is in `bodies` under the same key. */
interface ItemRecord {
  spool: string;
  seq: number;
  kind: 'events' | 'blob';
  experiment: string;
  key: string | null;
  batch: string | null;
  count: number;
  runs: Record<string, number> | null;
  bytes: number;
  grp: string | null;
}

/** An item's content: a batch's columns (JSON text) or a blob's bytes. */
interface BodyRecord {
  spool: string;
  seq: number;
  body: string | null;
  data: Uint8Array | null;
}

interface DeadRecord extends ItemRecord {
  body: string | null;
  data: Uint8Array | null;
  reason: string;
  failed: number;
}

let database: Promise<IDBDatabase> | undefined;

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** The spool database of this origin, opened once per page. */
function openDatabase(): Promise<IDBDatabase> {
  return (database ??= new Promise<IDBDatabase>((resolve, reject) => {
    if (typeof indexedDB === 'undefined') {
      reject(new Error('this page has no IndexedDB (a private window of some browsers)'));
      return;
    }
    const open = indexedDB.open(SPOOL_DB, DB_VERSION);
    open.onupgradeneeded = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('spools')) db.createObjectStore('spools', { keyPath: 'id' });
      if (!db.objectStoreNames.contains('items'))
        db.createObjectStore('items', { keyPath: ['spool', 'seq'] });
      if (!db.objectStoreNames.contains('bodies'))
        db.createObjectStore('bodies', { keyPath: ['spool', 'seq'] });
      if (!db.objectStoreNames.contains('dead')) db.createObjectStore('dead', { keyPath: ['spool', 'seq'] });
    };
    open.onsuccess = () => {
      const db = open.result;
      // another page upgrading the database (a newer omega-track) takes over
      db.onversionchange = () => db.close();
      resolve(db);
    };
    open.onerror = () => reject(open.error ?? new Error('cannot open IndexedDB'));
    open.onblocked = () => reject(new Error('IndexedDB is blocked by another page of this origin'));
  }).catch((error: unknown) => {
    database = undefined;
    throw new StoreError(
      'cannot-open',
      `indexeddb:${SPOOL_DB}`,
      `cannot open the spool in IndexedDB: ${error instanceof Error ? error.message : String(error)}`,
      error,
    );
  }));
}

function spoolRange(id: string): IDBKeyRange {
  return IDBKeyRange.bound([id, 0], [id, Number.MAX_SAFE_INTEGER]);
}

function lockName(id: string): string {
  return `omega-track-spool:${id}`;
}

/** The Web Locks of this page, where there are (secure contexts: https, localhost). */
function webLocks(): LockManager | undefined {
  return (globalThis.navigator as Navigator | undefined)?.locks;
}

/** The localStorage key where a page that goes gives up its spool's lease (see IdbSpool.#giveUpLease). */
function goneKey(id: string): string {
  return `omega-track-spool-gone:${id}`;
}

/** localStorage, where the page may use it (not in some private modes and sandboxes). */
function readLocal(key: string): string | null {
  try {
    return globalThis.localStorage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

function writeLocal(key: string, value: string): void {
  try {
    globalThis.localStorage?.setItem(key, value);
  } catch {
    // without localStorage the lease goes stale by itself
  }
}

function removeLocal(key: string): void {
  try {
    globalThis.localStorage?.removeItem(key);
  } catch {
    // nothing to remove
  }
}

/** A hint of which token was used, safe to keep: its first characters and its last four. */
function tokenHint(token: string | undefined): string {
  if (!token) return '';
  return token.length <= 12 ? '…' : `${token.slice(0, 4)}…${token.slice(-4)}`;
}

/**
 * The HTTP store's spool in a web page: every batch of events and every blob waits in IndexedDB
 * until the server took it, in order, so that a reload, a closed tab, a browser going offline or
 * a server restart loses nothing. Each page's spool is its own, held by the page through a Web
 * Lock (where the page has none — plain http from another host — through a lease it renews):
 * when the page goes, the lock goes with it, and the next page of the origin that opens a store
 * of the same server adopts the spool and ships what it holds (`adoptOrphans`). Batches ship
 * under ids the server keeps, so a batch shipped twice (by a page that went mid-send, then by
 * the page that adopted its spool) is stored once.
 *
 * Writes are asynchronous (IndexedDB has no other kind): an item counts (`waiting`, `lastSeq`)
 * once its transaction completed. The counts are kept in memory, so that the store's reads of
 * them stay synchronous.
 */
export class IdbSpool implements Spool {
  readonly id: string;
  readonly url: string;
  readonly file: string;
  readonly exitHook = false;
  readonly resumeHint: string;
  #seq = 0;
  #durableSeq = 0;
  readonly #counts = new SpoolCounts();
  #dead = 0;
  #reserved = 0;
  /** Appends under way slice by slice: their seqs and counts, counted once committed. */
  readonly #groups = new Map<string, { experiment: string; seqs: number[]; slices: SpoolBatch[] }>();
  /**
   * The items waiting, oldest first, as described (never their content): the page that holds the
   * spool is the only one that changes it, so the shipper reads what is next from here and only
   * the content it sends from IndexedDB (a read of a whole record costs the main thread a copy).
   */
  readonly #queue: ItemRecord[] = [];
  #closed = false;
  #release: (() => void) | undefined;
  #lease: ReturnType<typeof setInterval> | undefined;
  readonly #ready: Promise<IDBDatabase>;
  /** The spool's record as this page last wrote it (where there are no Web Locks: its lease). */
  #record: SpoolRecord | undefined;

  /** A new spool for this page, shipping to `url`. */
  static create(url: string, token: string | undefined): IdbSpool {
    return new IdbSpool(randomUUID().replace(/-/g, '').slice(0, 20), url, token);
  }

  /**
   * The spools of `url` whose pages are gone, each now held by this page (adopted): their
   * unfinished appends dropped, their counts read. Errors leave a spool where it is.
   */
  static async adoptOrphans(url: string): Promise<IdbSpool[]> {
    const db = await openDatabase();
    const tx = db.transaction('spools', 'readonly');
    const records = (await request(tx.objectStore('spools').getAll())) as SpoolRecord[];
    const adopted: IdbSpool[] = [];
    for (const r of records) {
      if (r.url !== url) continue;
      const spool = await IdbSpool.#adopt(r);
      if (spool) adopted.push(spool);
    }
    return adopted;
  }

  static async #adopt(listed: SpoolRecord): Promise<IdbSpool | undefined> {
    let record = listed;
    const locks = webLocks();
    let release: (() => void) | undefined;
    if (locks) {
      // the lock of a live page is held: that spool is not an orphan
      const held = await new Promise<boolean>((resolve) => {
        void locks
          .request(lockName(record.id), { ifAvailable: true }, (lock) => {
            if (!lock) {
              resolve(false);
              return undefined;
            }
            resolve(true);
            return new Promise<void>((r) => (release = r));
          })
          .catch(() => resolve(false));
      });
      if (!held) return undefined;
    } else {
      const claimed = await IdbSpool.#claim(record.id);
      if (!claimed) return undefined;
      record = claimed;
    }
    const spool = new IdbSpool(record.id, record.url, undefined, record, release);
    try {
      await spool.#load();
    } catch {
      spool.#drop();
      return undefined;
    }
    return spool;
  }

  private constructor(
    id: string,
    url: string,
    token: string | undefined,
    adopted?: SpoolRecord,
    release?: () => void,
  ) {
    this.id = id;
    this.url = url;
    this.file = `indexeddb:${SPOOL_DB}/${id}`;
    this.resumeHint = `they ship when a page of this origin opens a store of ${url} again`;
    this.#release = release;
    this.#ready = openDatabase();
    if (adopted) {
      // an adopted spool's lease is renewed by its new page from now on
      this.#record = adopted;
      this.#renewLease();
      return;
    }
    const locks = webLocks();
    if (locks)
      void locks
        .request(lockName(id), () => new Promise<void>((r) => (this.#release = r)))
        .catch(() => undefined);
    const record: SpoolRecord = {
      id,
      url,
      tokenHint: tokenHint(token),
      created: Date.now(),
      beat: Date.now(),
    };
    this.#record = record;
    // the record is written before any item: an item never exists without its spool
    this.#ready = this.#ready.then(async (db) => {
      const tx = db.transaction('spools', 'readwrite');
      tx.objectStore('spools').put(record);
      await done(tx);
      return db;
    });
    this.#renewLease();
  }

  /**
   * Where there are no Web Locks: takes the spool `id` when its lease is stale (its page stopped
   * renewing it) or was given up (its page went: see #giveUpLease), in one transaction, so that
   * two pages never both take it. Resolves with the spool's record as now held, or undefined.
   */
  static async #claim(id: string): Promise<SpoolRecord | undefined> {
    const db = await openDatabase();
    const tx = db.transaction('spools', 'readwrite');
    const store = tx.objectStore('spools');
    const r = (await request(store.get(id))) as SpoolRecord | undefined;
    if (!r) return undefined;
    // given up: the page wrote, as it went, the last beat it had recorded; a claim records a
    // new beat, so a second claimer finds the mark no longer matching
    const givenUp = readLocal(goneKey(id)) === String(r.beat);
    if (!givenUp && Date.now() - r.beat < LEASE_STALE_MS) return undefined;
    const held = { ...r, beat: Date.now() };
    store.put(held);
    await done(tx);
    removeLocal(goneKey(id));
    return held;
  }

  /** Records a renewal of the lease. */
  #setBeat(beat: number): void {
    const record = this.#record;
    if (!record) return;
    void this.#ready
      .then((db) => {
        const tx = db.transaction('spools', 'readwrite');
        tx.objectStore('spools').put({ ...record, beat });
        return done(tx);
      })
      .then(() => {
        if (this.#record === record) this.#record = { ...record, beat };
      })
      .catch(() => undefined);
  }

  /**
   * Where there are no Web Locks, the page says it still holds the spool every few seconds, and
   * gives it up as it goes (pagehide), so that the next page adopts it at once.
   */
  #renewLease(): void {
    if (webLocks()) return;
    this.#lease = setInterval(() => this.#setBeat(Date.now()), LEASE_RENEW_MS);
    if (typeof addEventListener === 'function') addEventListener('pagehide', this.#giveUpLease);
  }

  /**
   * The lease is given up in localStorage, whose writes are synchronous: an IndexedDB write
   * begun as a page goes may never be done.
   */
  readonly #giveUpLease = (): void => {
    if (this.#lease === undefined || !this.#record) return;
    writeLocal(goneKey(this.id), String(this.#record.beat));
  };

  /** Reads an adopted spool's items, dropping the appends its page did not finish. */
  async #load(): Promise<void> {
    const db = await this.#ready;
    const tx = db.transaction(['items', 'bodies', 'dead'], 'readwrite');
    const items = tx.objectStore('items');
    const bodies = tx.objectStore('bodies');
    const deadCount = request(tx.objectStore('dead').count(spoolRange(this.id)));
    const records = (await request(items.getAll(spoolRange(this.id)))) as ItemRecord[];
    for (const r of records) {
      this.#seq = Math.max(this.#seq, r.seq);
      if (r.grp !== null) {
        items.delete([this.id, r.seq]);
        bodies.delete([this.id, r.seq]);
      } else {
        this.#queue.push(r);
        this.#count(r, 1);
      }
    }
    this.#dead = await deadCount;
    await done(tx);
    this.#durableSeq = this.#seq;
  }

  #count(r: ItemRecord, sign: 1 | -1): void {
    this.#counts.count(r.experiment, r.count, r.bytes, r.runs, sign);
  }

  get bytes(): number {
    return this.#counts.bytes + this.#reserved;
  }

  get waiting(): number {
    return this.#counts.items;
  }

  pending(): { items: number; events: number; bytes: number; dead: number } {
    const { items, events, bytes } = this.#counts;
    return { items, events, bytes, dead: this.#dead };
  }

  pendingByRun(experiment: string): Map<number, number> {
    return this.#counts.byRun(experiment);
  }

  lastSeq(): number {
    return this.#durableSeq;
  }

  #check(): void {
    if (this.#closed) throw new StoreError('io', this.file, `the spool ${this.file} is closed`);
  }

  /** Writes items and their content in one transaction; resolves once durable. */
  async #put(records: ReadonlyArray<{ item: ItemRecord; body: BodyRecord }>): Promise<void> {
    const db = await this.#ready;
    const tx = db.transaction(['items', 'bodies'], 'readwrite');
    const items = tx.objectStore('items');
    const bodies = tx.objectStore('bodies');
    for (const r of records) {
      items.put(r.item);
      bodies.put(r.body);
    }
    try {
      await done(tx);
    } catch (error) {
      const full = (error as { name?: string } | null)?.name === 'QuotaExceededError';
      throw new StoreError(
        full ? 'disk-full' : 'io',
        this.file,
        `cannot spool to IndexedDB (${this.file}): ${error instanceof Error ? error.message : String(error)}`,
        error,
      );
    }
  }

  /** Items now durable and whole: they count, and wait their turn. */
  #arrived(items: readonly ItemRecord[]): void {
    for (const r of items) {
      this.#queue.push(r);
      this.#count(r, 1);
      this.#durableSeq = Math.max(this.#durableSeq, r.seq);
    }
  }

  async appendEvents(experiment: string, batches: readonly SpoolBatch[], group?: string): Promise<number> {
    this.#check();
    // seqs are taken now, in call order; IndexedDB runs write transactions in the order they began
    const records = batches.map((b) => {
      const seq = ++this.#seq;
      const item: ItemRecord = {
        spool: this.id,
        seq,
        kind: 'events',
        experiment,
        key: null,
        batch: b.batch ?? null,
        count: b.count,
        runs: Object.fromEntries(b.runs),
        bytes: b.columns.length,
        grp: group ?? null,
      };
      return { item, body: { spool: this.id, seq, body: b.columns, data: null } };
    });
    if (group !== undefined) {
      let g = this.#groups.get(group);
      if (!g) this.#groups.set(group, (g = { experiment, seqs: [], slices: [] }));
      for (const b of batches) this.#reserved += b.columns.length;
      g.slices.push(...batches);
      await this.#put(records);
      g.seqs.push(...records.map((r) => r.item.seq));
      return records[records.length - 1]?.item.seq ?? this.#durableSeq;
    }
    await this.#put(records);
    this.#arrived(records.map((r) => r.item));
    return this.#durableSeq;
  }

  async commit(group: string): Promise<void> {
    const g = this.#groups.get(group);
    if (!g) return;
    const db = await this.#ready;
    const tx = db.transaction('items', 'readwrite');
    const store = tx.objectStore('items');
    const records = (await request(store.getAll(spoolRange(this.id)))) as ItemRecord[];
    const whole = records.filter((r) => r.grp === group).map((r) => ({ ...r, grp: null }));
    for (const r of whole) store.put(r);
    await done(tx);
    this.#groups.delete(group);
    for (const b of g.slices) this.#reserved -= b.columns.length;
    this.#arrived(whole);
  }

  async abort(group: string): Promise<void> {
    const g = this.#groups.get(group);
    if (!g) return;
    this.#groups.delete(group);
    for (const b of g.slices) this.#reserved -= b.columns.length;
    const db = await this.#ready;
    const tx = db.transaction(['items', 'bodies'], 'readwrite');
    for (const seq of g.seqs) {
      tx.objectStore('items').delete([this.id, seq]);
      tx.objectStore('bodies').delete([this.id, seq]);
    }
    await done(tx).catch(() => undefined);
  }

  async putBlob(key: string, data: Uint8Array): Promise<void> {
    this.#check();
    const seq = ++this.#seq;
    const item: ItemRecord = {
      spool: this.id,
      seq,
      kind: 'blob',
      experiment: '',
      key,
      batch: null,
      count: 0,
      runs: null,
      bytes: data.byteLength,
      grp: null,
    };
    // a copy: the caller may change its array once this resolved
    await this.#put([{ item, body: { spool: this.id, seq, body: null, data: data.slice() } }]);
    this.#arrived([item]);
  }

  next(): SpoolItem | undefined {
    if (this.#closed) return undefined;
    const r = this.#queue[0];
    if (!r) return undefined;
    return { seq: r.seq, kind: r.kind, experiment: r.experiment, key: r.key, count: r.count, bytes: r.bytes };
  }

  async body(item: SpoolItem): Promise<SpoolBody> {
    const db = await this.#ready;
    const tx = db.transaction('bodies', 'readonly');
    const b = (await request(tx.objectStore('bodies').get([this.id, item.seq]))) as BodyRecord | undefined;
    if (!b) throw new Error(`spool item ${item.seq} is gone`);
    const r = this.#queue.find((q) => q.seq === item.seq);
    if (item.kind === 'events') return withBatchId(b.body ?? '{}', r?.batch ?? batchId(this.id, item.seq));
    return b.data ?? new Uint8Array(0);
  }

  /** Takes `item` off the front of the queue (it was shipped or buried). */
  #leave(item: SpoolItem): ItemRecord | undefined {
    const at = this.#queue.findIndex((q) => q.seq === item.seq);
    if (at < 0) return undefined;
    const [r] = this.#queue.splice(at, 1);
    this.#count(r, -1);
    return r;
  }

  async remove(item: SpoolItem): Promise<void> {
    const db = await this.#ready;
    const tx = db.transaction(['items', 'bodies'], 'readwrite');
    tx.objectStore('items').delete([this.id, item.seq]);
    tx.objectStore('bodies').delete([this.id, item.seq]);
    await done(tx);
    this.#leave(item);
  }

  async bury(item: SpoolItem, reason: string): Promise<void> {
    const r = this.#queue.find((q) => q.seq === item.seq);
    if (!r) return;
    const db = await this.#ready;
    const tx = db.transaction(['items', 'bodies', 'dead'], 'readwrite');
    const bodies = tx.objectStore('bodies');
    const b = (await request(bodies.get([this.id, item.seq]))) as BodyRecord | undefined;
    const dead: DeadRecord = {
      ...r,
      body: b?.body ?? null,
      data: b?.data ?? null,
      reason,
      failed: Date.now(),
    };
    tx.objectStore('dead').put(dead);
    tx.objectStore('items').delete([this.id, item.seq]);
    bodies.delete([this.id, item.seq]);
    await done(tx);
    this.#dead++;
    this.#leave(item);
  }

  /** Stops using the spool; one that holds nothing (no item, no dead letter) is removed. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const empty = this.#counts.items === 0 && this.#dead === 0 && this.#groups.size === 0;
    if (!empty) {
      this.#drop();
      return;
    }
    void this.#ready
      .then(async (db) => {
        const tx = db.transaction(['spools', 'items', 'bodies'], 'readwrite');
        tx.objectStore('items').delete(spoolRange(this.id));
        tx.objectStore('bodies').delete(spoolRange(this.id));
        tx.objectStore('spools').delete(this.id);
        await done(tx);
      })
      .catch(() => undefined)
      .finally(() => this.#drop());
  }

  /** Lets go of the spool: another page may adopt what it holds. */
  #drop(): void {
    if (this.#lease !== undefined) {
      clearInterval(this.#lease);
      this.#lease = undefined;
      if (!this.#closed || this.#counts.items > 0) this.#giveUpLease();
      if (typeof removeEventListener === 'function') removeEventListener('pagehide', this.#giveUpLease);
    }
    this.#release?.();
    this.#release = undefined;
  }
}
