import type { PendingEvent } from '../events/types';
import { NODE_NAME, currentUserId } from './identity';

/** The `start` event of a new run (the store adds the run number when it allocates one). */
export function startEvent(dt = Date.now()): Omit<PendingEvent, 'run'> {
  return {
    event: 'start',
    key: 'start',
    value: null,
    step: null,
    dt,
    node: NODE_NAME,
    userid: currentUserId(),
    extra: undefined,
  };
}
