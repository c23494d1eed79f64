import { StoreError } from '../../errors/StoreError';

/** The schema the store's tables live in when the URL names none (`?schema=`). */
export const DEFAULT_SCHEMA = 'omega';

/** How long connecting waits for the server, unless the URL says (`connect_timeout`, seconds). */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000;

/** What omega-track needs to know of a `postgres://` / `postgresql://` URL. */
export interface PgUrl {
  /** The connection string handed to pg: the URL without omega-track's own `schema` option. */
  connectionString: string;
  /** The URL as it may be shown: password (in the user info or `password=`) replaced by `***`. */
  display: string;
  /** The schema of the store's tables. */
  schema: string;
  /** How long connecting waits (ms). */
  connectTimeoutMs: number;
  /** The password and other secrets as written and decoded: scrubbed from every message. */
  secrets: readonly string[];
}

const SCHEMES = ['postgres://', 'postgresql://'];

/** Query options whose values are secrets (lower-cased names). */
const SECRET_OPTIONS = ['password', 'sslpassword', 'sslkey'];

/** A schema name the store quotes as it is: unquoted-identifier characters, at most 63 bytes. */
const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function decode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/** Whether `url` names a PostgreSQL store. */
export function isPostgresUrl(url: string): boolean {
  return SCHEMES.some((s) => url.startsWith(s));
}

/**
 * Splits a PostgreSQL URL into what the store shows and what it hands to pg. The user info ends
 * at the last `@` before the path, so a password with an unescaped `:` or `/` is still hidden.
 * Everything else (host, port, database, `sslmode`, libpq's environment variables for what the
 * URL leaves out) is pg's to read.
 */
export function parsePgUrl(url: string): PgUrl {
  const scheme = SCHEMES.find((s) => url.startsWith(s));
  if (!scheme)
    throw new StoreError(
      'invalid-url',
      url,
      'a PostgreSQL store URL starts with postgres:// or postgresql://',
    );
  const rest = url.slice(scheme.length);
  const q = rest.indexOf('?');
  const head = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? '' : rest.slice(q + 1);
  const slash = head.indexOf('/', head.lastIndexOf('@') + 1);
  const authority = slash < 0 ? head : head.slice(0, slash);
  const at = authority.lastIndexOf('@');
  const userinfo = at < 0 ? '' : authority.slice(0, at);
  const secrets: string[] = [];
  let shownHead = head;
  const colon = userinfo.indexOf(':');
  if (colon >= 0) {
    const password = userinfo.slice(colon + 1);
    if (password) secrets.push(password, decode(password));
    shownHead = `${userinfo.slice(0, colon)}:***${head.slice(at)}`;
  }
  let schema = DEFAULT_SCHEMA;
  let connectTimeoutMs = DEFAULT_CONNECT_TIMEOUT_MS;
  const kept: string[] = [];
  const shown: string[] = [];
  for (const pair of query.split('&').filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    const name = decode(eq < 0 ? pair : pair.slice(0, eq)).toLowerCase();
    const value = eq < 0 ? '' : pair.slice(eq + 1);
    if (name === 'schema') {
      schema = decode(value);
      continue;
    }
    if (name === 'connect_timeout' && Number(decode(value)) > 0)
      connectTimeoutMs = Number(decode(value)) * 1000;
    kept.push(pair);
    if (SECRET_OPTIONS.includes(name)) {
      if (value) secrets.push(value, decode(value));
      shown.push(`${pair.slice(0, eq)}=***`);
    } else shown.push(pair);
  }
  const display = `${scheme}${shownHead}${shown.length ? `?${shown.join('&')}` : ''}`;
  if (!SCHEMA_NAME.test(schema))
    throw new StoreError(
      'invalid-url',
      display,
      `store URL '${display}': schema '${schema}' must be letters, digits and _ (not starting with a digit), at most 63`,
    );
  return {
    connectionString: `${scheme}${head}${kept.length ? `?${kept.join('&')}` : ''}`,
    display,
    schema,
    connectTimeoutMs,
    secrets: secrets.filter((s) => s.length >= 3),
  };
}

/** `text` with the URL's secrets replaced by `***` (pg's own messages may quote them). */
export function scrubPgSecrets(text: string, url: Pick<PgUrl, 'secrets'>): string {
  let out = text;
  for (const secret of [...url.secrets].sort((a, b) => b.length - a.length))
    out = out.split(secret).join('***');
  return out;
}
