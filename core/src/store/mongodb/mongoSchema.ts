import crypto from 'node:crypto';

/**
 * Where the MongoDB store keeps what, in the URL's database. Every collection name starts with
 * `omega.`, so the store can share a database with other data. The events of experiment `<name>`
 * live in `omega..experiments/<name>`: omega-ml's dataset name `.experiments/<name>` under that
 * prefix (MongoDB refuses collection names that start with a dot).
 */
export const COLLECTIONS = {
  /** Metadata entries of the models and datasets stores (experiments are entries too). */
  entries: 'omega.entries',
  /** One document per experiment: `{ _id: <experiment>, run: <last run number given out> }`. */
  counters: 'omega.counters',
  /** Run aggregates for runs(): one document per experiment, run, event name and key. */
  stats: 'omega.runstats',
  /** Heartbeats: one document per experiment, run and process holding it. */
  heartbeats: 'omega.heartbeats',
  /** Write ids (see WriteId): one document per id, `_id` the id (unique by itself). */
  writeIds: 'omega.writeids',
} as const;

/** The GridFS bucket of blobs (artifacts, model weights): `omega.blobs.files` and `omega.blobs.chunks`. */
export const BLOB_BUCKET = 'omega.blobs';

/** What every events collection's name starts with. */
export const EVENTS_PREFIX = 'omega..experiments/';

/** Longest namespace (`<database>.<collection>`, in UTF-8 bytes) MongoDB 4.4 and later take. */
export const MAX_NAMESPACE_BYTES = 255;

/**
 * Escapes what a collection name may not hold: `$`, NUL, and `.system.` (reserved); `%` and `#` are
 * escaped too, so that the name stays one-to-one with the experiment's and `#` can mark a
 * shortened name.
 */
function escapeName(name: string): string {
  return name
    .replace(/[%$#\0]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
    .replace(/\.(?=system\.)/g, '%2E');
}

/**
 * The events collection of an experiment. A name too long for MongoDB's namespace limit is
 * shortened and followed by `#` and a hash of the whole name, which keeps names distinct.
 */
export function eventsCollectionName(database: string, experiment: string): string {
  const whole = EVENTS_PREFIX + escapeName(experiment);
  const budget = MAX_NAMESPACE_BYTES - Buffer.byteLength(database) - 1;
  if (Buffer.byteLength(whole) <= budget) return whole;
  const hash = crypto.createHash('sha256').update(experiment).digest('hex').slice(0, 32);
  const points = [...experiment];
  let keep = points.length;
  let name = '';
  do {
    name = `${EVENTS_PREFIX}${escapeName(points.slice(0, keep).join(''))}#${hash}`;
  } while (Buffer.byteLength(name) > budget && --keep >= 0);
  return name;
}

/** An index the store creates: its keys, name and options. */
export interface IndexSpec {
  key: Record<string, 1 | -1>;
  name: string;
  unique?: boolean;
  partialFilterExpression?: Record<string, unknown>;
}

/**
 * The indexes of an events collection: by run and time (data() of some runs, in order), by time
 * (every run, time windows), by event name and key (artifacts by name, lookups across runs),
 * the latest run (a partial index on start events only, as omega-ml keeps), and extra fields.
 */
export const EVENT_INDEXES: readonly IndexSpec[] = [
  { key: { run: 1, dt: 1, _id: 1 }, name: 'run_dt' },
  { key: { dt: 1, _id: 1 }, name: 'dt' },
  { key: { event: 1, key: 1, run: 1 }, name: 'event_key_run' },
  { key: { run: -1 }, name: 'latest_start', partialFilterExpression: { event: 'start' } },
  {
    key: { 'extra.k': 1, 'extra.v': 1 },
    name: 'extra',
    partialFilterExpression: { extra: { $exists: true } },
  },
];

/** The indexes of the shared collections (GridFS creates its own). */
export const SHARED_INDEXES: Readonly<Record<string, readonly IndexSpec[]>> = {
  [COLLECTIONS.entries]: [{ key: { bucket: 1, name: 1 }, name: 'bucket_name', unique: true }],
  [COLLECTIONS.stats]: [{ key: { experiment: 1, run: 1, event: 1, key: 1 }, name: 'run_key', unique: true }],
  [COLLECTIONS.heartbeats]: [{ key: { experiment: 1, run: 1, owner: 1 }, name: 'run_owner', unique: true }],
};
