/** The tokens of `omega-track server`, kept hashed in its store. */
import crypto from 'node:crypto';
import type { MetadataEntry, Store } from '@omega-track/core';
import { TrackingError } from '@omega-track/core';
import {
  TOKEN_BUCKET,
  TOKEN_KIND,
  TOKEN_PREFIX,
  TOKEN_TEXT_PREFIX,
  looksLikeToken,
  validateExperimentsPattern,
  validateTokenName,
  validateTokenRole,
} from './tokenTypes';
import type { TokenInfo, TokenRole } from './tokenTypes';

/** How long the list of tokens read from the store is used before it is read again. */
export const TOKEN_CACHE_MS = 1000;
/** How old the cached list must be before an unknown token makes it read again. */
const MISS_REREAD_MS = 100;

/** A token as kept: what is listed, and the sha256 of its text (never the text). */
interface StoredToken {
  info: TokenInfo;
  digest: Buffer;
}

/** The sha256 of a token's text, as bytes. */
function digestOf(token: string): Buffer {
  return crypto.createHash('sha256').update(token, 'utf8').digest();
}

/**
 * A token entry as read from the store, or undefined when it is not one this code can trust
 * (changed by hand: a role it does not know, a digest of the wrong length): such a token lets
 * nobody in and is not listed.
 */
function storedToken(entry: MetadataEntry): StoredToken | undefined {
  if (entry.kind !== TOKEN_KIND || !entry.name.startsWith(TOKEN_PREFIX)) return undefined;
  const a = entry.attributes;
  try {
    const name = validateTokenName(entry.name.slice(TOKEN_PREFIX.length));
    const role = validateTokenRole(a.role);
    const experiments = a.experiments === null ? null : validateExperimentsPattern(a.experiments);
    if (typeof a.digest !== 'string' || !/^[0-9a-f]{64}$/.test(a.digest)) return undefined;
    const created = typeof a.created === 'number' ? new Date(a.created) : entry.created;
    return { info: { name, role, experiments, created }, digest: Buffer.from(a.digest, 'hex') };
  } catch {
    return undefined;
  }
}

/**
 * The server's tokens: made (`create`: the text is returned once and only its sha256 is
 * stored), listed, revoked, and checked (`verify`) against every stored digest in constant
 * time. They live in the store as entries of bucket `system` named `tokens/<name>`, kind
 * `server.token`, so that `omega-track token …` on the server's store and the server itself
 * see the same ones. The list is read again at most once a second: a token revoked by another
 * process stops working within a second.
 */
export class TokenRegistry {
  #cache: { at: number; tokens: Promise<StoredToken[]> } | undefined;

  constructor(
    readonly store: Store,
    private readonly opts: { cacheMs?: number; now?: () => number } = {},
  ) {}

  #now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  /** The stored tokens, from the cache when it is younger than the cache time. */
  #tokens(): Promise<StoredToken[]> {
    const now = this.#now();
    if (this.#cache && now - this.#cache.at < (this.opts.cacheMs ?? TOKEN_CACHE_MS))
      return this.#cache.tokens;
    const tokens = this.store
      .listEntries(TOKEN_BUCKET, TOKEN_PREFIX)
      .then((entries) => entries.map(storedToken).filter((t): t is StoredToken => t !== undefined));
    const cache = { at: now, tokens };
    this.#cache = cache;
    // a failed read is not kept: the next call reads again
    tokens.catch(() => {
      if (this.#cache === cache) this.#cache = undefined;
    });
    return tokens;
  }

  /**
   * Makes a token named `name` with `role` (and, with `experiments`, reaching only the
   * experiments that pattern matches); returns its text, which is not kept anywhere: it cannot
   * be shown again. A name in use is refused (revoke it first).
   */
  async create(name: string, role: TokenRole, opts: { experiments?: string | null } = {}): Promise<string> {
    validateTokenName(name);
    validateTokenRole(role);
    const experiments =
      opts.experiments === undefined || opts.experiments === null
        ? null
        : validateExperimentsPattern(opts.experiments);
    // two creators of one name at once could both pass this check (the store has no
    // insert-if-absent): the later one's token is the one that works
    if (await this.store.getEntry(TOKEN_BUCKET, TOKEN_PREFIX + name))
      throw new TrackingError(
        `a token named '${name}' exists already: revoke it first (omega-track token revoke ${name})`,
      );
    const token = TOKEN_TEXT_PREFIX + crypto.randomBytes(32).toString('base64url');
    const now = new Date(this.#now());
    await this.store.putEntry(TOKEN_BUCKET, {
      name: TOKEN_PREFIX + name,
      kind: TOKEN_KIND,
      attributes: { role, experiments, digest: digestOf(token).toString('hex'), created: now.getTime() },
      created: now,
      modified: now,
    });
    this.#cache = undefined;
    return token;
  }

  /** The tokens, sorted by name: name, role, experiments, created — never a digest. */
  async list(): Promise<TokenInfo[]> {
    this.#cache = undefined;
    return (await this.#tokens()).map((t) => ({ ...t.info }));
  }

  /** Removes the token named `name`; false when there is none. */
  async revoke(name: string): Promise<boolean> {
    validateTokenName(name);
    const removed = await this.store.deleteEntry(TOKEN_BUCKET, TOKEN_PREFIX + name);
    this.#cache = undefined;
    return removed;
  }

  /**
   * The token whose text `token` is, or undefined. Its sha256 is compared with every stored
   * digest (timingSafeEqual on equal lengths), all of them whatever matched, so the time taken
   * tells nothing about how close a guess came nor which token it was.
   */
  async verify(token: unknown): Promise<TokenInfo | undefined> {
    // the form of a token is no secret: text of another form is refused without a look
    if (!looksLikeToken(token)) return undefined;
    const digest = digestOf(token);
    const find = (tokens: StoredToken[]): TokenInfo | undefined => {
      let found: TokenInfo | undefined;
      for (const t of tokens) if (crypto.timingSafeEqual(digest, t.digest) && !found) found = t.info;
      return found;
    };
    let found = find(await this.#tokens());
    // a token made a moment ago by `omega-track token create` (another process) is not in a list
    // read before it: an unknown token reads the list again, at most every MISS_REREAD_MS
    const cache = this.#cache;
    if (!found && cache && this.#now() - cache.at >= MISS_REREAD_MS) {
      this.#cache = undefined;
      found = find(await this.#tokens());
    }
    return found ? { ...found } : undefined;
  }
}
