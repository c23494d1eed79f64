import { StoreError } from '../../errors/StoreError';
import { TrackingInputError } from '../../errors/TrackingInputError';

/** How long one operation may wait for an answer from a selected server (ms), unless the URL says. */
export const DEFAULT_SOCKET_TIMEOUT_MS = 60_000;
/** How long an operation waits for a MongoDB server to answer, unless the URL says otherwise. */
export const DEFAULT_SERVER_SELECTION_TIMEOUT_MS = 5000;

/** The database used when the URL names none (`mongodb://host/` or `mongodb://host`). */
export const DEFAULT_DATABASE = 'omega';

/** What omega-track needs to know of a `mongodb://` / `mongodb+srv://` URL. */
export interface MongoUrl {
  /** The URL as given (with its password: only ever handed to the driver). */
  raw: string;
  /** The URL as it may be shown: password and secret options replaced by `***`. */
  display: string;
  /** The database the store lives in: the URL's path, else `omega`. */
  database: string;
  /** The option names the URL sets, lower-cased (URI options are case-insensitive). */
  options: ReadonlySet<string>;
  /** The password (as written and decoded) and other secrets: scrubbed from every message. */
  secrets: readonly string[];
}

const SCHEMES = ['mongodb://', 'mongodb+srv://'];

/** URI options whose values are secrets (matched on lower-cased names). */
const SECRET_OPTIONS = ['tlscertificatekeyfilepassword', 'sslpass', 'password'];

/** Characters a MongoDB database name may not hold (on any platform), and NUL. */
const BAD_DATABASE_CHARS = /[/\\. "$*<>:|?\0]/;

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/** Whether `url` names a MongoDB store. */
export function isMongoUrl(url: string): boolean {
  return SCHEMES.some((s) => url.startsWith(s));
}

/**
 * Splits a MongoDB URL into what the store shows and uses. The user info ends at the last `@`
 * before the options (host lists never hold one), so a password with an unescaped `/` or `:`
 * is still hidden; secret options (`tlsCertificateKeyFilePassword`, AWS session tokens) too.
 */
export function parseMongoUrl(url: string): MongoUrl {
  const scheme = SCHEMES.find((s) => url.startsWith(s));
  if (!scheme) throw new TrackingInputError('a MongoDB store URL starts with mongodb:// or mongodb+srv://');
  const rest = url.slice(scheme.length);
  const q = rest.indexOf('?');
  const head = q < 0 ? rest : rest.slice(0, q);
  const query = q < 0 ? '' : rest.slice(q + 1);
  const at = head.lastIndexOf('@');
  const userinfo = at < 0 ? '' : head.slice(0, at);
  const hostsAndPath = at < 0 ? head : head.slice(at + 1);
  const secrets: string[] = [];
  let shownUser = userinfo;
  const colon = userinfo.indexOf(':');
  if (colon >= 0) {
    const password = userinfo.slice(colon + 1);
    secrets.push(password, decode(password));
    shownUser = `${userinfo.slice(0, colon)}:***`;
  }
  const options = new Set<string>();
  const shownQuery = query
    .split('&')
    .filter((pair) => pair !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const name = decode(eq < 0 ? pair : pair.slice(0, eq));
      const value = eq < 0 ? '' : pair.slice(eq + 1);
      options.add(name.toLowerCase());
      if (SECRET_OPTIONS.includes(name.toLowerCase())) {
        secrets.push(value, decode(value));
        return `${pair.slice(0, eq)}=***`;
      }
      if (name.toLowerCase() === 'authmechanismproperties' && /AWS_SESSION_TOKEN/i.test(value)) {
        const token = /AWS_SESSION_TOKEN(?::|%3A)([^,&]*)/i.exec(value)?.[1];
        if (token) secrets.push(token, decode(token));
        return `${pair.slice(0, eq)}=***`;
      }
      return pair;
    })
    .join('&');
  let display = `${scheme}${at < 0 ? '' : `${shownUser}@`}${hostsAndPath}${q < 0 ? '' : `?${shownQuery}`}`;
  const lastAt = rest.lastIndexOf('@');
  if (at < 0 && lastAt >= 0) {
    // an '@' only after the first '?': a password holding an unescaped '?' (which the driver
    // refuses) or an option value holding '@'; either way everything before it is hidden
    const hidden = rest.slice(0, lastAt);
    if (hidden.includes(':')) secrets.push(hidden.slice(hidden.indexOf(':') + 1));
    display = `${scheme}***@${rest.slice(lastAt + 1).replace(/((?:tlsCertificateKeyFilePassword|sslPass|password)=)[^&]*/gi, '$1***')}`;
  }
  // The driver splits such a URL at the first '@' and would name the rest of the password as a
  // host in its connection errors, where no scrubbing knows it: refused before it gets there.
  if (userinfo.includes('@'))
    throw new StoreError(
      'invalid-url',
      display,
      `store URL '${display}': the user name or password holds an '@' that is not percent-encoded: write it as %40`,
    );
  const slash = hostsAndPath.indexOf('/');
  const hosts = slash < 0 ? hostsAndPath : hostsAndPath.slice(0, slash);
  if (hosts === '')
    throw new StoreError(
      'invalid-url',
      display,
      `store URL '${display}' names no host: use mongodb://host[:port]/database`,
    );
  const database =
    slash < 0 || slash === hostsAndPath.length - 1 ? DEFAULT_DATABASE : decode(hostsAndPath.slice(slash + 1));
  if (BAD_DATABASE_CHARS.test(database) || Buffer.byteLength(database) > 63)
    throw new StoreError(
      'invalid-url',
      display,
      `store URL '${display}': '${database}' is not a MongoDB database name (at most 63 bytes, none of / \\ . " $ * < > : | ?)`,
    );
  return { raw: url, display, database, options, secrets: secrets.filter((s) => s.length >= 4) };
}

/**
 * Removes a URL's secrets from a text: the URL as written and every password in it (a driver
 * message may quote the URL, or a password alone). Secrets under 4 characters are not searched
 * for (they would blank out ordinary words); the URL's own structure hides them.
 */
export function scrubSecrets(text: string, url: MongoUrl): string {
  let out = text.split(url.raw).join(url.display);
  for (const secret of url.secrets) out = out.split(secret).join('***');
  return out;
}

/** The driver options omega-track sets, each only where the URL does not set it itself. */
export function mongoClientOptions(url: MongoUrl): Record<string, unknown> {
  const options: Record<string, unknown> = {
    // the driver never stores undefined as null: documents are built without such fields anyway
    ignoreUndefined: true,
  };
  // a server that does not answer must fail an operation within seconds, not the driver's 30 s
  if (!url.options.has('serverselectiontimeoutms'))
    options.serverSelectionTimeoutMS = DEFAULT_SERVER_SELECTION_TIMEOUT_MS;
  // nor hang on one that was selected and then stops answering (the driver's default is none)
  if (!url.options.has('sockettimeoutms') && !url.options.has('timeoutms'))
    options.socketTimeoutMS = DEFAULT_SOCKET_TIMEOUT_MS;
  if (!url.options.has('appname')) options.appName = 'omega-track';
  return options;
}

/** The server selection timeout in effect (ms): the URL's, else ours. */
export function serverSelectionTimeoutMs(url: MongoUrl): number {
  const q = url.raw.indexOf('?');
  if (q < 0) return DEFAULT_SERVER_SELECTION_TIMEOUT_MS;
  const pair = url.raw
    .slice(q + 1)
    .split('&')
    .find((p) => p.toLowerCase().startsWith('serverselectiontimeoutms='));
  const n = pair ? Number(pair.slice(pair.indexOf('=') + 1)) : NaN;
  return Number.isFinite(n) && n >= 0 ? n : DEFAULT_SERVER_SELECTION_TIMEOUT_MS;
}
