import { StoreError } from '../../errors/StoreError';

/** What the HTTP store needs to know of an `http://` / `https://` store URL. */
export interface HttpUrl {
  /** The server's base URL without credentials, query or trailing slash (`https://host:8080/prefix`). */
  base: string;
  /** The URL as it may be shown: a password in the user info replaced by `***`. */
  display: string;
  /** `host_port` as a file name may hold it: names the spool of a process logging into this server. */
  slug: string;
}

/** Whether `url` names a team server (`omega-track server`). */
export function isHttpUrl(url: string): boolean {
  return /^https?:\/\//i.test(url);
}

/**
 * Parses a server URL. A token never belongs in the URL (it would be shown and logged): it comes
 * from the `token` option or OMEGA_TOKEN; user info in the URL is refused so that no secret is
 * taken for a path.
 */
export function parseHttpUrl(url: string): HttpUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StoreError(
      'invalid-url',
      url.replace(/\/\/[^/@]*@/, '//***@'),
      `store URL '${url}' is no valid URL`,
    );
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new StoreError(
      'invalid-url',
      url,
      `a server store URL starts with http:// or https://, got '${url}'`,
    );
  if (u.username || u.password) {
    const shown = `${u.protocol}//***@${u.host}${u.pathname}`;
    throw new StoreError(
      'invalid-url',
      shown,
      `store URL '${shown}' holds credentials: give the server's token with the token option or OMEGA_TOKEN instead`,
    );
  }
  const base = `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
  const port = u.port || (u.protocol === 'https:' ? '443' : '80');
  return { base, display: base, slug: `${u.hostname}_${port}`.replace(/[^A-Za-z0-9._-]/g, '_') };
}
