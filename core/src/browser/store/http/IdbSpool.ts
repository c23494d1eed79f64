import { StoreError } from '../../../errors/StoreError';
import { randomUUID } from '../../../process/randomId';
import { SpoolItemGone } from '../../../store/http/HttpShipper';
import type { SpoolBody, SpoolItem } from '../../../store/http/HttpShipper';
import { batchId, withBatchId } from '../../../store/http/httpProtocol';
import type { Spool, SpoolBatch } from '../../../store/http/Spool';
import { SpoolCounts } from '../../../store/http/SpoolCounts';
import { tokenHint } from '../../../store/http/tokenHint';

/** The database every spool of this origin lives in. */
export const SPOOL_DB = 'omega-track-spool';
const DB_VERSION = 1;

/** How often a live spool renews its lease where there are no Web Locks, and when a lease is stale. */
const LEASE_RENEW_MS = 5_000;
const LEASE_STALE_MS = 180_000;

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
}

/** An item's content: a batch's columns (JSON text) or a blob's bytes. */
interface BodyRecord {
  spool: string;
  seq: number;
  body: string | null;
  /** A blob's content as a Blob: IndexedDB keeps it aside, and neither writing nor sending it copies it on the page's thread. */
  data: Blob | null;
}

/** Items with their content, as they are written. */
type SpoolRecords = Array<{ item: ItemRecord; body: BodyRecord }>;

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

/** Where a page's last batches wait in localStorage: `<TAIL><spool>:<seq>` → [url, item, columns]. */
const TAIL = 'omega-track-spool-tail:';

/** The batches kept in localStorage (of spool `id`, or of all spools). */
function localTails(id?: string): Array<{ key: string; url: string; item: ItemRecord; body: string }> {
  const out: Array<{ key: string; url: string; item: ItemRecord; body: string }> = [];
  try {
    const storage = globalThis.localStorage;
    for (let i = 0; i < storage.length; i++) {
      const key = storage.key(i);
      if (!key?.startsWith(id === undefined ? TAIL : `${TAIL}${id}:`)) continue;
      const [url, item, body] = JSON.parse(storage.getItem(key) ?? '[]') as [string, ItemRecord, string];
      out.push({ key, url, item, body });
    }
  } catch {
    // no localStorage here, or a value not ours
  }
  return out;
}

/** localStorage, where the page may use it (not in some private modes and sandboxes). */
function readLocal(key: string): string | null {
  try {
    return globalThis.localStorage?.getItem(key) ?? null;
  } catch {
    return null;
  }
}

/** Whether the value was written (localStorage may be missing, or full). */
function writeLocal(key: string, value: string): boolean {
  try {
    globalThis.localStorage.setItem(key, value);
    return true;
  } catch {
    return false;
  }
}

function removeLocal(key: string): void {
  try {
    globalThis.localStorage?.removeItem(key);
  } catch {
    // nothing to remove
  }
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
  /** Appends under way slice by slice (a big append): held here until whole, then written at once. */
  readonly #groups = new Map<string, { experiment: string; slices: SpoolBatch[] }>();
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
  /** The database once open (and, for a new spool, its record written). */
  #db: IDBDatabase | undefined;
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
    // a page that went before its spool's record was written left its last batches only
    for (const t of localTails())
      if (!records.some((r) => r.id === t.item.spool))
        records.push({ id: t.item.spool, url: t.url, tokenHint: '', created: 0, beat: 0 });
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
      void this.#ready.then((db) => (this.#db = db)).catch(() => undefined);
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
      return (this.#db = db);
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

  /** Reads an adopted spool's items, with the last batches its page kept in localStorage. */
  async #load(): Promise<void> {
    const db = await this.#ready;
    const tx = db.transaction(['items', 'bodies'], 'readwrite');
    const items = tx.objectStore('items');
    const bodies = tx.objectStore('bodies');
    const records = (await request(items.getAll(spoolRange(this.id)))) as ItemRecord[];
    // the last batches of its page, kept in localStorage where IndexedDB never got them
    const tails = localTails(this.id);
    for (const t of tails)
      if (!records.some((r) => r.seq === t.item.seq)) {
        items.put(t.item);
        bodies.put({ spool: this.id, seq: t.item.seq, body: t.body, data: null });
        records.push(t.item);
      }
    records.sort((x, y) => x.seq - y.seq);
    for (const r of records) {
      this.#seq = Math.max(this.#seq, r.seq);
      this.#queue.push(r);
      this.#count(r, 1);
    }
    await done(tx);
    for (const t of tails) removeLocal(t.key);
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
  #put(records: ReadonlyArray<{ item: ItemRecord; body: BodyRecord }>): Promise<void> {
    // once the database is open the write begins in this very call: the last write of a page
    // that goes (pagehide) gets no later turn to begin it
    const db = this.#db;
    return db ? this.#write(db, records) : this.#ready.then((open) => this.#write(open, records));
  }

  async #write(
    db: IDBDatabase,
    records: ReadonlyArray<{ item: ItemRecord; body: BodyRecord }>,
  ): Promise<void> {
    const tx = db.transaction(['items', 'bodies'], 'readwrite');
    const items = tx.objectStore('items');
    const bodies = tx.objectStore('bodies');
    for (const r of records) {
      items.put(r.item);
      bodies.put(r.body);
    }
    // nothing more comes: the browser may commit at once rather than when the task ends
    tx.commit?.();
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

  /** The records of `batches`, their seqs taken now, in call order (IndexedDB runs write transactions in the order they began). */
  #records(experiment: string, batches: readonly SpoolBatch[]): SpoolRecords {
    return batches.map((b) => {
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
      };
      return { item, body: { spool: this.id, seq, body: b.columns, data: null } };
    });
  }

  async appendEvents(experiment: string, batches: readonly SpoolBatch[], group?: string): Promise<number> {
    this.#check();
    if (group !== undefined) {
      // a slice of a big append: kept until the last is in, then all are written in one go
      let g = this.#groups.get(group);
      if (!g) this.#groups.set(group, (g = { experiment, slices: [] }));
      for (const b of batches) this.#reserved += b.columns.length;
      g.slices.push(...batches);
      return this.#durableSeq;
    }
    const records = this.#records(experiment, batches);
    await this.#put(records);
    this.#arrived(records.map((r) => r.item));
    return this.#durableSeq;
  }

  /**
   * The last write of a page that goes (pagehide): a browser may drop an IndexedDB write begun
   * then, so the batches are also kept in localStorage, whose writes are synchronous, until
   * IndexedDB has them; the page that adopts the spool takes them from there (#load).
   */
  appendEventsNow(experiment: string, batches: readonly SpoolBatch[]): Promise<void> {
    this.#check();
    const records = this.#records(experiment, batches);
    const kept = records
      .map((r) => `${TAIL}${this.id}:${r.item.seq}`)
      .filter((key, i) => writeLocal(key, JSON.stringify([this.url, records[i].item, records[i].body.body])));
    // an IndexedDB write that fails leaves the batches in localStorage, for the next page
    return this.#put(records).then(
      () => {
        this.#arrived(records.map((r) => r.item));
        for (const key of kept) removeLocal(key);
      },
      () => undefined,
    );
  }

  async commit(group: string): Promise<void> {
    const g = this.#take(group);
    if (g) await this.appendEvents(g.experiment, g.slices);
  }

  async abort(group: string): Promise<void> {
    this.#take(group);
  }

  #take(group: string): { experiment: string; slices: SpoolBatch[] } | undefined {
    const g = this.#groups.get(group);
    this.#groups.delete(group);
    for (const b of g?.slices ?? []) this.#reserved -= b.columns.length;
    return g;
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
    };
    // a Blob of it (a copy: the caller may change its array once this resolved)
    const blob = new Blob([data as Uint8Array<ArrayBuffer>]);
    await this.#put([{ item, body: { spool: this.id, seq, body: null, data: blob } }]);
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
    if (!b) {
      // another page shipped it (it adopted this spool while this page slept): it is done
      this.#leave(item);
      throw new SpoolItemGone(`spool item ${item.seq} left the spool`);
    }
    const r = this.#queue.find((q) => q.seq === item.seq);
    if (item.kind === 'events') return withBatchId(b.body ?? '{}', r?.batch ?? batchId(this.id, item.seq));
    return b.data ?? new Blob();
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

  /**
   * The server refused `item` for good: it leaves the spool, counted (the shipper said why). A
   * page has nobody to hand dead letters to later, so their content is not kept.
   */
  async bury(item: SpoolItem): Promise<void> {
    await this.remove(item);
    this.#dead++;
  }

  /**
   * Stops using the spool. One that holds nothing is removed — its record only, and only if no
   * item is left in it in IndexedDB: a page that still uses a spool adopted by mistake (a lease
   * that went stale while the page slept) loses nothing.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#counts.items > 0 || this.#groups.size > 0) {
      this.#drop();
      return;
    }
    void this.#ready
      .then(async (db) => {
        const tx = db.transaction(['spools', 'items'], 'readwrite');
        if ((await request(tx.objectStore('items').count(spoolRange(this.id)))) === 0)
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
