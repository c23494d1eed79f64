import { BASE_FIELDS } from './types';
import type { PendingEvent, TrackingEvent } from './types';

/**
 * An event as read back, in the shape it was written in: `dt` in epoch milliseconds and the
 * extra fields apart (what a copy writes again, what a server sends back).
 */
export function pendingEventOf(e: TrackingEvent): PendingEvent {
  let extra: Record<string, unknown> | undefined;
  for (const name in e) if (!BASE_FIELDS.has(name)) (extra ??= {})[name] = e[name];
  return {
    run: e.run,
    event: e.event,
    key: e.key,
    value: e.value,
    step: e.step,
    dt: e.dt instanceof Date ? e.dt.getTime() : Number(e.dt),
    node: e.node,
    userid: e.userid,
    extra,
  };
}
