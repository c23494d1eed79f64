import { windowRows } from '../../events/query';
import type { ResolvedQuery, TrackingEvent } from '../../events/types';
import {
  MAX_SPLIT_WRITE,
  countIfOrderable,
  decodeChunk,
  orderTime,
  rowFilter,
  sortByTime,
} from './EventChunk';
import { unpackChunk } from './chunkPayload';

/** What a store's chunk index says of one chunk, enough to merge chunks by time. */
export interface ChunkMeta {
  id: number;
  run: number;
  min_dt: number;
  max_dt: number;
  /**
   * The lowest id of the chunks selected of this chunk's write and run, where the store knows it
   * (PostgreSQL: per batch and run, whose ids another writer may take turns with). The chunks of
   * a write split by key rank as one by it, as eventsOfChunks places them (at the first of them
   * in id order); without it, by the first of them read (their ids lie together where one writer
   * holds the store's lock, as in SQLite).
   */
  first?: number;
}

/** The kept events of the chunks of one split write, with their positions in the write. */
interface SplitRows {
  /** Per chunk of the write read, its kept events and their positions (each list in order). */
  chunks: Array<{ rows: TrackingEvent[]; positions: number[] }>;
}

/**
 * The events of chunks (in the order they were written) selected by run in the store's query
 * (chunks hold one run each), the rest of `query` tested row by row, sorted by time (ties in
 * logging order: the chunks' order, and within a write split by key, each event's position in
 * it) and windowed: what `queryEvents` answers on every store that keeps the chunk layout.
 */
export function eventsOfChunks(
  experiment: string,
  query: ResolvedQuery,
  chunks: Iterable<readonly [run: number, payload: Buffer]>,
): TrackingEvent[] {
  const filter = rowFilter(query, { runsSelected: true });
  // runs of whole chunks, and the split writes, each where its first chunk was
  const parts: Array<TrackingEvent[] | SplitRows> = [];
  const splits = new Map<string, SplitRows>();
  let plain: TrackingEvent[] | undefined;
  for (const [run, payload] of chunks) {
    const p = unpackChunk(payload);
    if (p.group === undefined) {
      if (!plain) parts.push((plain = []));
      decodeChunk(experiment, run, p, filter, plain);
      continue;
    }
    // a write's group is random: with the run beside it, two writes never meet by chance
    const group = `${run}:${p.group}`;
    let split = splits.get(group);
    if (!split) {
      splits.set(group, (split = { chunks: [] }));
      parts.push(split);
      plain = undefined;
    }
    const chunk = { rows: [] as TrackingEvent[], positions: [] as number[] };
    decodeChunk(experiment, run, p, filter, chunk.rows, chunk.positions);
    split.chunks.push(chunk);
  }
  let rows: TrackingEvent[];
  if (parts.length === 1 && Array.isArray(parts[0])) rows = parts[0];
  else {
    // pushed one by one: flatMap over 100,000 rows is several times slower
    rows = [];
    for (const part of parts) for (const row of inLoggingOrder(part)) rows.push(row);
  }
  sortByTime(rows);
  return windowRows(rows, query);
}

/**
 * A part's rows in logging order: a split write's merged from its chunks by position (each
 * chunk's rows are in order already: a merge of a few lists, no sort).
 */
function inLoggingOrder(part: TrackingEvent[] | SplitRows): TrackingEvent[] {
  if (Array.isArray(part)) return part;
  const lists = part.chunks.filter((c) => c.rows.length > 0);
  if (lists.length === 1) return lists[0].rows;
  const out: TrackingEvent[] = [];
  const at = new Array<number>(lists.length).fill(0);
  // the position at the head of list k, Infinity once it is used up (no read past an end: V8
  // makes such reads slow)
  const head = (k: number): number =>
    at[k] < lists[k].positions.length ? lists[k].positions[at[k]] : Infinity;
  for (;;) {
    let best = -1;
    let bestPosition = Infinity;
    let next = Infinity;
    for (let k = 0; k < lists.length; k++) {
      const position = head(k);
      if (position < bestPosition) {
        next = bestPosition;
        bestPosition = position;
        best = k;
      } else if (position < next) next = position;
    }
    if (best < 0) return out;
    // this list's rows before the next list's head go at once
    const { rows, positions } = lists[best];
    let i = at[best];
    while (i < rows.length && positions[i] < next) out.push(rows[i++]);
    at[best] = i;
  }
}

/**
 * The events of chunks in batches, sorted by time (ties in insertion order: chunk id, then
 * position in the chunk; the chunks of a write split by key rank as one, by position in the
 * write), windowed by the query's offset and limit, with one chunk's payload in
 * memory at a time: `metas` come in order of their earliest event, and whatever is older than
 * the next chunk's earliest event goes out. `payloadOf` reads one payload (undefined: the chunk
 * was deleted since). Shared by every store that keeps the chunk layout (`iterateEvents`).
 */
export async function* mergeChunksByTime(
  experiment: string,
  query: ResolvedQuery,
  batchSize: number,
  metas: readonly ChunkMeta[],
  payloadOf: (id: number) => Buffer | undefined | Promise<Buffer | undefined>,
): AsyncIterable<TrackingEvent[]> {
  // chunks hold one run each and are selected by run by the store
  const filter = rowFilter(query, { runsSelected: true });
  let skip = query.offset ?? 0;
  let remaining = query.limit ?? Infinity;
  let pending: TrackingEvent[] = [];
  let batch: TrackingEvent[] = [];
  // ties in time keep insertion order, as in queryEvents: chunk id, then position in the chunk.
  // The chunks of a split write take the id of the first of them read (their ids lie together,
  // apart from every other write's), then each event's position in the write: rank = id ×
  // MAX_SPLIT_WRITE + position, exact below 2^53 (ids below 2^33).
  const order = new Map<TrackingEvent, number>();
  const splitIds = new Map<string, number>();
  // an invalid stored time orders last (orderTime), as in queryEvents
  const byTimeThenInsertion = (a: TrackingEvent, b: TrackingEvent): number =>
    orderTime(a) - orderTime(b) || order.get(a)! - order.get(b)!;
  for (let i = 0; i < metas.length && remaining > 0; i++) {
    const payload = await payloadOf(metas[i].id);
    const p = payload && unpackChunk(payload);
    // A page far in (the UI's events table): a chunk wholly before it is counted, not decoded
    // into rows — when every event of it is wanted, nothing held waits to go out before it,
    // and nothing later can sort among its events (the next chunk starts after it, or at its
    // last time and was written later: ties keep insertion order — unless this chunk is part of
    // a split write, whose other chunks may interleave with it at that time).
    const next = metas[i + 1];
    if (
      p &&
      filter === undefined &&
      pending.length === 0 &&
      skip > 0 &&
      (next === undefined ||
        metas[i].max_dt < next.min_dt ||
        (metas[i].max_dt === next.min_dt && next.id > metas[i].id && p.group === undefined))
    ) {
      const whole = countIfOrderable(p);
      if (whole !== undefined && whole <= skip) {
        skip -= whole;
        continue;
      }
    }
    const positions: number[] = [];
    const rows = p ? decodeChunk(experiment, metas[i].run, p, filter, [], positions) : [];
    let id = metas[i].id;
    if (p?.group !== undefined) {
      const group = `${metas[i].run}:${p.group}`;
      const first = metas[i].first ?? splitIds.get(group);
      if (first === undefined) splitIds.set(group, id);
      else id = first;
    }
    rows.forEach((row, k) => order.set(row, id * MAX_SPLIT_WRITE + positions[k]));
    pending = pending.concat(rows).sort(byTimeThenInsertion);
    // after the last chunk everything goes out; before it, what is older than the next chunk's
    // earliest event (a chunk whose events all have invalid times has an infinite earliest)
    const last = i + 1 === metas.length;
    const horizon = last ? Infinity : metas[i + 1].min_dt;
    let ready = 0;
    while (ready < pending.length && (last || orderTime(pending[ready]) < horizon)) ready++;
    for (let j = 0; j < ready && remaining > 0; j++) {
      if (skip > 0) {
        skip--;
        continue;
      }
      batch.push(pending[j]);
      remaining--;
      if (batch.length === batchSize) {
        yield batch;
        batch = [];
      }
    }
    for (let j = 0; j < ready; j++) order.delete(pending[j]);
    pending = pending.slice(ready);
  }
  if (batch.length) yield batch;
}
