/** Writes with an idempotency id (`WriteId`): a request sent again after a lost answer is stored once. */
import { createHash } from 'node:crypto';
import type { PendingEvent, Store, WriteId } from '@omega-track/core';

/** sha256 (hex) of bytes or text. */
export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JSON text with object keys sorted at every level: the same value, the same text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'number' && !Number.isFinite(value))
    return JSON.stringify({ '$omega.nonfinite': String(value) });
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'null';
  const record = value as Record<string, unknown>;
  return `{${Object.keys(record)
    .filter((k) => record[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`)
    .join(',')}}`;
}

/** Appends `events` once per `writeId`; tells whether it was a repeat (stored before). */
export async function appendOnce(
  store: Store,
  experiment: string,
  events: readonly PendingEvent[],
  writeId: WriteId,
): Promise<{ duplicate: boolean }> {
  const result = await store.appendEvents(experiment, events, writeId);
  return { duplicate: result?.duplicate === true };
}
