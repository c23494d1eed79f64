import { windowRows } from '../../events/query';
import type { ResolvedQuery, TrackingEvent } from '../../events/types';
import { CHUNK_SIZE, countIfOrderable, decodeChunk, orderTime, rowFilter, sortByTime } from './EventChunk';

/** What a store's chunk index says of one chunk, enough to merge chunks by time. */
export interface ChunkMeta {
  id: number;
  run: number;
  min_dt: number;
  max_dt: number;
}

/**
 * The events of chunks selected by run in the store's query (chunks hold one run each), the
 * rest of `query` tested row by row, sorted by time (ties in the chunks' order) and windowed:
 * what `queryEvents` answers on every store that keeps the chunk layout.
 */
export function eventsOfChunks(
  experiment: string,
  query: ResolvedQuery,
  chunks: Iterable<readonly [run: number, payload: Buffer]>,
): TrackingEvent[] {
  const filter = rowFilter(query, { runsSelected: true });
  const rows: TrackingEvent[] = [];
  for (const [run, payload] of chunks) decodeChunk(experiment, run, payload, filter, rows);
  sortByTime(rows);
  return windowRows(rows, query);
}

/**
 * The events of chunks in batches, sorted by time (ties in insertion order: chunk id, then
 * position in the chunk), windowed by the query's offset and limit, with one chunk's payload in
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
  // ties in time keep insertion order, as in queryEvents: chunk id, then position in the chunk
  const order = new Map<TrackingEvent, number>();
  // an invalid stored time orders last (orderTime), as in queryEvents
  const byTimeThenInsertion = (a: TrackingEvent, b: TrackingEvent): number =>
    orderTime(a) - orderTime(b) || order.get(a)! - order.get(b)!;
  for (let i = 0; i < metas.length && remaining > 0; i++) {
    const payload = await payloadOf(metas[i].id);
    // A page far in (the UI's events table): a chunk wholly before it is counted, not decoded
    // into rows — when every event of it is wanted, nothing held waits to go out before it,
    // and nothing later can sort among its events (the next chunk starts after it, or at its
    // last time and was written later: ties keep insertion order).
    const next = metas[i + 1];
    if (
      payload &&
      filter === undefined &&
      pending.length === 0 &&
      skip > 0 &&
      (next === undefined ||
        metas[i].max_dt < next.min_dt ||
        (metas[i].max_dt === next.min_dt && next.id > metas[i].id))
    ) {
      const whole = countIfOrderable(payload);
      if (whole !== undefined && whole <= skip) {
        skip -= whole;
        continue;
      }
    }
    const rows = payload ? decodeChunk(experiment, metas[i].run, payload, filter) : [];
    rows.forEach((row, k) => order.set(row, metas[i].id * CHUNK_SIZE + k));
    pending = pending.concat(rows).sort(byTimeThenInsertion);
    const horizon = i + 1 < metas.length ? metas[i + 1].min_dt : Infinity;
    let ready = 0;
    while (ready < pending.length && (horizon === Infinity || orderTime(pending[ready]) < horizon)) ready++;
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
