import type { PendingEvent } from '@omega-track/core';

/**
 * The events of several streams (each in its own order) as one stream in time order: the
 * earliest head event comes next, and of heads with the same time the one of the earlier
 * stream (file order). Only each stream's current batch is held. One stream passes through.
 * When the merge ends early (an error, the consumer stops), every stream is closed.
 */
export async function* mergeByTime(
  streams: Array<AsyncGenerator<PendingEvent[]>>,
  batchSize: number,
): AsyncGenerator<PendingEvent[]> {
  if (streams.length === 1) {
    yield* streams[0];
    return;
  }
  const heads: Array<PendingEvent[] | undefined> = [];
  const at: number[] = [];
  try {
    for (const s of streams) {
      heads.push(await nextBatch(s));
      at.push(0);
    }
    let out: PendingEvent[] = [];
    for (;;) {
      let pick = -1;
      let dt = Infinity;
      for (let i = 0; i < heads.length; i++) {
        const h = heads[i];
        if (h !== undefined && h[at[i]].dt < dt) {
          dt = h[at[i]].dt;
          pick = i;
        }
      }
      if (pick < 0) break; // every stream has ended (times are finite: the streams check them)
      const batch = heads[pick]!;
      out.push(batch[at[pick]++]);
      if (at[pick] >= batch.length) {
        heads[pick] = await nextBatch(streams[pick]);
        at[pick] = 0;
      }
      if (out.length >= batchSize) {
        yield out;
        out = [];
      }
    }
    if (out.length > 0) yield out;
  } finally {
    for (const s of streams) await s.return(undefined);
  }
}

/** The stream's next batch that holds an event; undefined when it has ended. */
async function nextBatch(stream: AsyncGenerator<PendingEvent[]>): Promise<PendingEvent[] | undefined> {
  for (;;) {
    const r = await stream.next();
    if (r.done) return undefined;
    if (r.value.length > 0) return r.value;
  }
}
