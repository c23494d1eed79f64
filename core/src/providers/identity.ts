import type { PendingEvent } from '../events/types';
import os from 'node:os';

let cachedUser: string | undefined;

/**
 * The node stamped on events: OMEGA_NODE (a runtime worker's own name, so that two workers on one
 * host tell apart), else the host name.
 */
export const NODE_NAME = process.env.OMEGA_NODE || process.env.HOSTNAME || os.hostname();

/** The user id stamped on events: OMEGA_USERID, else the OS user (SPEC §1). */
export function currentUserId(): string {
  if (process.env.OMEGA_USERID) return process.env.OMEGA_USERID;
  if (cachedUser === undefined) {
    try {
      cachedUser = os.userInfo().username;
    } catch {
      // no passwd entry (some containers): the uid still identifies the user
      cachedUser = String(process.getuid?.() ?? 'unknown');
    }
  }
  return cachedUser;
}

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
