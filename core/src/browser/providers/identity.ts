/**
 * The browser's identity (it replaces core/src/providers/identity.ts). A page has no host name
 * and no OS user: events are stamped with the browser's platform as their node, and the user
 * `browser`; the server records who logged them as the `writer` (its token's name).
 */
function platformName(): string {
  const nav = globalThis.navigator as (Navigator & { userAgentData?: { platform?: string } }) | undefined;
  const platform = nav?.userAgentData?.platform || nav?.platform || 'unknown';
  return `browser:${platform}`;
}

/** The node stamped on events: `browser:<platform>`. */
export const NODE_NAME = platformName();

/** The user id stamped on events. */
export function currentUserId(): string {
  return 'browser';
}
