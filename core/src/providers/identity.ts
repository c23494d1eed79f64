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
