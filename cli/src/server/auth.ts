/**
 * Who a request is: a bearer token checked against the server's tokens, or the built-in admin
 * `local` for a tokenless request from this machine — and what that one may reach.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { NamePattern } from '@omega-track/core/internal';
import { ARTEFACT_PREFIX, artifactBlobPrefix, parseNamePattern } from '@omega-track/core/internal';
import { ApiError } from './ApiError';
import { isLoopback } from './loopback';

/** What a token may do: `read` sees, `write` also logs, `admin` also deletes and manages tokens. */
export type Role = 'read' | 'write' | 'admin';

/** A token as the server knows it (never its text). */
export interface TokenInfo {
  name: string;
  role: Role;
  /** An fnmatch pattern of the experiment names the token reaches; null for all. */
  experiments: string | null;
}

/** Checks token texts: the token registry of the store, or the one token of `omega-track ui`. */
export interface TokenVerifier {
  verify(token: string): Promise<TokenInfo | undefined>;
}

/** Who a request is, as the handlers see it. */
export interface Principal extends TokenInfo {
  /** True for the tokenless loopback admin. */
  local: boolean;
  /** The token text that let the request in (to set the page's cookie); never logged. */
  token?: string;
}

/** The cookie that carries the access token once the page was opened with it. */
export const TOKEN_COOKIE = 'omega_ui_token';

/** The name a tokenless loopback request writes as. */
export const LOCAL_WRITER = 'local';

const RANK: Record<Role, number> = { read: 0, write: 1, admin: 2 };

/** The built-in admin of tokenless requests from this machine. */
export const LOCAL_PRINCIPAL: Principal = {
  name: LOCAL_WRITER,
  role: 'admin',
  experiments: null,
  local: true,
};

/** Who asks for a public file (the browser client): no rights to anything. */
export const NOBODY: Principal = { name: 'public', role: 'read', experiments: '', local: false };

/** A token as compared: a fixed-length digest, so the comparison takes the same time for any guess. */
function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The verifier of a single token (`omega-track ui --token`): it reads everything. */
export function singleTokenVerifier(token: string, name = 'ui'): TokenVerifier {
  const expected = digest(token);
  return {
    verify: (candidate) =>
      Promise.resolve(
        timingSafeEqual(digest(candidate), expected) ? { name, role: 'read', experiments: null } : undefined,
      ),
  };
}

/** Where a request may carry its token. */
export interface TokenSources {
  /** `?token=` (the UI's links). */
  query: boolean;
  /** The UI's cookie. */
  cookie: boolean;
}

/** The tokens a request carries: `Authorization: Bearer`, and `?token=` / the cookie where taken. */
export function tokensOf(req: IncomingMessage, query: URLSearchParams, sources: TokenSources): string[] {
  const found: string[] = [];
  // every token given is a candidate: ?token=old&token=new is let in by the right one
  if (sources.query) for (const q of query.getAll('token')) if (q) found.push(q);
  const auth = req.headers.authorization;
  const bearer = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth) : null;
  if (bearer) found.push(bearer[1]);
  if (sources.cookie)
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const eq = part.indexOf('=');
      if (eq > 0 && part.slice(0, eq).trim() === TOKEN_COOKIE) {
        try {
          found.push(decodeURIComponent(part.slice(eq + 1).trim()));
        } catch {
          // a cookie that is not valid percent-encoding is no token
        }
      }
    }
  return found;
}

/** Whether the request came through a proxy that says so (it may be anyone, anywhere). */
export function forwarded(req: IncomingMessage): boolean {
  return req.headers.forwarded !== undefined || req.headers['x-forwarded-for'] !== undefined;
}

/**
 * Whether a browser sent the request for a page of another origin than the server's own (its
 * `Origin` header names another, or `null`: a file, a sandbox). Such a request is never the
 * tokenless `local`: any site open in a browser on this machine can send requests to loopback.
 */
export function fromOtherOrigin(req: { headers: IncomingMessage['headers']; protocol: string }): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return false;
  return origin !== `${req.protocol}://${req.headers.host ?? ''}`;
}

/** Whether the request's peer is this machine. */
export function fromLoopback(req: IncomingMessage): boolean {
  const peer = req.socket.remoteAddress;
  return peer !== undefined && isLoopback(peer);
}

/** Throws a 403 unless `principal` has at least `role`. */
export function requireRole(principal: Principal, role: Role): void {
  if (RANK[principal.role] < RANK[role])
    throw new ApiError(
      403,
      `the token '${principal.name}' has the role ${principal.role}; this needs ${role}`,
      'forbidden',
    );
}

const patterns = new Map<string, NamePattern>();

/** Whether `principal` reaches the experiment `name`. */
export function seesExperiment(principal: Principal, name: string): boolean {
  if (principal.experiments === null) return true;
  let pattern = patterns.get(principal.experiments);
  if (!pattern) {
    pattern = parseNamePattern(principal.experiments);
    if (patterns.size > 1000) patterns.clear();
    patterns.set(principal.experiments, pattern);
  }
  return pattern.matches(name);
}

/** Throws a 403 unless `principal` reaches the experiment `name`. */
export function requireExperiment(principal: Principal, name: string): void {
  if (!seesExperiment(principal, name))
    throw new ApiError(
      403,
      `the token '${principal.name}' reaches experiments ${principal.experiments}, not '${name}'`,
      'forbidden',
    );
}

/** The experiment whose configuration the entry `name` of bucket `models` is, if any. */
function experimentOfEntry(bucket: string, name: string): string | undefined {
  if (bucket === 'views') return experimentOfView(name);
  return bucket === 'models' && name.startsWith('experiments/')
    ? name.slice('experiments/'.length)
    : undefined;
}

/** The experiment of a saved view's entry (its name is `["<experiment>","<view>"]`: ui/server/views.ts). */
function experimentOfView(name: string): string | undefined {
  try {
    const parsed = JSON.parse(name) as unknown;
    return Array.isArray(parsed) && parsed.length === 2 && typeof parsed[0] === 'string'
      ? parsed[0]
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Throws a 403 unless `principal` reaches the entry `name` of `bucket`. A scoped token reaches its
 * experiments' configuration, and the artifact entries (`.experiments/.artefacts/…`: a model or
 * dataset logged as an artifact) of its experiments: `owners` are the experiments the entry
 * belongs to (`attributes.experiment` of the stored entry and of the one being written), each of
 * which must be the token's.
 */
export function requireEntry(
  principal: Principal,
  bucket: string,
  name: string,
  owners: ReadonlyArray<unknown> = [],
): void {
  if (principal.experiments === null) return;
  if ((bucket === 'models' || bucket === 'datasets') && name.startsWith(ARTEFACT_PREFIX)) {
    const own =
      owners.length > 0 && owners.every((o) => typeof o === 'string' && seesExperiment(principal, o));
    if (own) return;
  }
  const experiment = experimentOfEntry(bucket, name);
  if (experiment === undefined || !seesExperiment(principal, experiment))
    throw new ApiError(
      403,
      `the token '${principal.name}' reaches experiments ${principal.experiments} only, not the entry '${name}'`,
      'forbidden',
    );
}

/** The experiment whose artifact blobs `key` (a key or prefix) lies under, if any. */
export function experimentOfBlob(key: string): string | undefined {
  const m = /^\.experiments\/([^/]+)\//.exec(key);
  if (!m) return undefined;
  try {
    const name = decodeURIComponent(m[1]);
    return artifactBlobPrefix(name) === `.experiments/${m[1]}/` ? name : undefined;
  } catch {
    return undefined;
  }
}

/** Throws a 403 unless `principal` reaches the blob `key` (scoped: only its experiments' artifacts). */
export function requireBlob(principal: Principal, key: string): void {
  if (principal.experiments === null) return;
  const experiment = experimentOfBlob(key);
  if (experiment === undefined || !seesExperiment(principal, experiment))
    throw new ApiError(
      403,
      `the token '${principal.name}' reaches the artifacts of experiments ${principal.experiments} only`,
      'forbidden',
    );
}
