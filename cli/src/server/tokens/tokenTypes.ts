/** What a server token is: its roles, its record in the store, and the checks of its parts. */
import { TrackingInputError } from '@omega-track/core';
import { MAX_NAME_LENGTH } from '@omega-track/core';
import { parseNamePattern } from '@omega-track/core/internal';
import type { NamePattern } from '@omega-track/core/internal';

/** What a token may do: `read` sees, `write` also logs, `admin` also deletes and manages tokens. */
export type TokenRole = 'read' | 'write' | 'admin';

/** The roles, weakest first: each may do what those before it may. */
export const TOKEN_ROLES: readonly TokenRole[] = ['read', 'write', 'admin'];

/** A token as listed: never its text, nor its digest. */
export interface TokenInfo {
  name: string;
  role: TokenRole;
  /** The experiments it reaches (a name pattern such as `demo/*`), or null for all. */
  experiments: string | null;
  created: Date;
}

/** Where tokens are kept: entries of bucket `system`, named `tokens/<name>`, of this kind. */
export const TOKEN_BUCKET = 'system';
export const TOKEN_PREFIX = 'tokens/';
export const TOKEN_KIND = 'server.token';

/** A token's text: this prefix, then 32 random bytes as base64url (43 characters). */
export const TOKEN_TEXT_PREFIX = 'omt_';
const TOKEN_TEXT = /^omt_[A-Za-z0-9_-]{43}$/;
const TOKEN_NAME = /^[A-Za-z0-9._-]{1,64}$/;

/** Whether `text` has the form of a token (not whether it is a valid one). */
export function looksLikeToken(text: unknown): text is string {
  return typeof text === 'string' && TOKEN_TEXT.test(text);
}

/** A token name, checked: 1 to 64 of A-Z a-z 0-9 . _ - (it appears in every event a token writes). */
export function validateTokenName(name: unknown): string {
  if (typeof name !== 'string' || !TOKEN_NAME.test(name))
    throw new TrackingInputError(
      `a token name is 1 to 64 characters of A-Z, a-z, 0-9, '.', '_' and '-', got ${typeof name === 'string' ? `'${name.slice(0, 80)}'` : typeof name}`,
    );
  // '.' and '..' would read as paths wherever the name is shown beside experiment names
  if (name === '.' || name === '..') throw new TrackingInputError(`'${name}' is no token name`);
  return name;
}

/** A role, checked. */
export function validateTokenRole(role: unknown): TokenRole {
  if (typeof role !== 'string' || !(TOKEN_ROLES as readonly string[]).includes(role))
    throw new TrackingInputError(
      `a token role is read, write or admin, got ${typeof role === 'string' ? `'${role}'` : typeof role}`,
    );
  return role as TokenRole;
}

/**
 * The experiments pattern of a token, checked: a name pattern as `om.runs.search` and
 * `om.models.list` take it (`*`, `?`, `[…]`; without a wildcard, one experiment's name).
 */
export function validateExperimentsPattern(pattern: unknown): string {
  if (typeof pattern !== 'string' || pattern.trim() === '')
    throw new TrackingInputError('an experiments pattern is a non-empty name pattern such as demo/*');
  if (pattern.length > MAX_NAME_LENGTH)
    throw new TrackingInputError(
      `an experiments pattern is at most ${MAX_NAME_LENGTH} characters long, got ${pattern.length}`,
    );
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(pattern))
    throw new TrackingInputError('an experiments pattern must not contain control characters');
  parseNamePattern(pattern);
  return pattern;
}

/** Parsed patterns by text: a server checks one on every request, and a store holds few tokens. */
const parsed = new Map<string, NamePattern>();
const MAX_PARSED = 1000;

/** Whether a token reaches experiment `experiment` (its pattern matches the whole name, or it has none). */
export function tokenAllows(info: Pick<TokenInfo, 'experiments'>, experiment: string): boolean {
  if (info.experiments === null) return true;
  let pattern = parsed.get(info.experiments);
  if (!pattern) {
    if (parsed.size >= MAX_PARSED) parsed.clear();
    pattern = parseNamePattern(info.experiments);
    parsed.set(info.experiments, pattern);
  }
  return pattern.matches(experiment);
}

/** Whether a token's role may do what `needed` may (`admin` may everything). */
export function roleAllows(info: Pick<TokenInfo, 'role'>, needed: TokenRole): boolean {
  return TOKEN_ROLES.indexOf(info.role) >= TOKEN_ROLES.indexOf(needed);
}
