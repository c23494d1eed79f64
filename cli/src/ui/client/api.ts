/**
 * The client of the UI server's read-only JSON API (GET only). The access token, when the page
 * was opened with `?token=…`, goes along with every request: as a Bearer header on fetches and as
 * a query parameter on links and the event stream (which cannot carry headers); the server's
 * cookie covers the rest.
 */

export interface ExperimentJson {
  name: string;
  provider: string;
  runs: number;
  lastActivity: string | null;
}

/** A number as the server sends it: non-finite values come as "NaN", "Infinity", "-Infinity". */
export type JsonNumber = number | string;

export interface MetricJson {
  last: JsonNumber;
  step: number | null;
  min: JsonNumber;
  max: JsonNumber;
  count: number;
}

export interface RunJson {
  run: number;
  status: string;
  started?: string | null;
  stopped?: string | null;
  duration?: number | null;
  node?: string | null;
  userid?: string | null;
  parent?: number;
  error?: string;
  name?: string;
  tags?: Record<string, unknown>;
  note?: string;
  params?: Record<string, unknown>;
  metrics?: Record<string, MetricJson>;
}

export interface KeysJson {
  metrics: string[];
  params: string[];
  tags: string[];
  /** How many keys of each kind the lists leave out (the server bounds them). */
  hidden?: { metrics: number; params: number; tags: number };
  /** Per kind, how many runs have each key. */
  counts?: { metrics: Record<string, number>; params: Record<string, number>; tags: Record<string, number> };
}

export type XMode = 'step' | 'time' | 'relative';

export interface SeriesJson {
  run: number;
  x: number[];
  y: number[];
  total: number;
  shown: number;
  nonFinite: { x: number; value: string }[];
}

export interface SeriesResponse {
  key: string;
  x: XMode;
  series: SeriesJson[];
}

export interface ProfileResponse {
  series: Record<string, { x: number[]; y: number[] }>;
}

export interface EventJson {
  run: number;
  event: string;
  key: string;
  value: unknown;
  step: number | null;
  dt: string;
  node?: string;
  userid?: string;
  [extra: string]: unknown;
}

export interface ArtifactJson {
  key: string;
  index: number;
  format: string;
  dt: string;
  step: number | null;
  size?: number;
  model?: unknown;
}

/** A refused request: the HTTP status, the server's message and, for a bad filter, where. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly position?: number,
    /** The query parameter the server refused, when it says (`orderBy`). */
    readonly param?: string,
  ) {
    super(message);
  }
}

export type Query = Record<string, string | number | undefined | null>;

/** The token the page was opened with, if any. */
export const token: string | null = new URLSearchParams(location.search).get('token');

/** `/api/experiments/<exp>` with the name encoded. */
export function experimentPath(experiment: string): string {
  return `/api/experiments/${encodeURIComponent(experiment)}`;
}

/** An API URL with its query (empty values left out) and the token, for links and the stream. */
export function apiUrl(path: string, query: Query = {}, withToken = true): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query))
    if (value !== undefined && value !== null && value !== '') params.set(name, String(value));
  if (withToken && token) params.set('token', token);
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** GETs JSON; a non-2xx answer becomes an ApiError with the server's `{ error, position }`. */
export async function getJson<T>(path: string, query: Query = {}, signal?: AbortSignal): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(apiUrl(path, query, false), { headers, signal, credentials: 'same-origin' });
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok) {
    const error =
      body && typeof body === 'object'
        ? (body as { error?: unknown; position?: unknown; param?: unknown })
        : {};
    throw new ApiError(
      response.status,
      typeof error.error === 'string' ? error.error : `${response.status} ${response.statusText}`,
      typeof error.position === 'number' ? error.position : undefined,
      typeof error.param === 'string' ? error.param : undefined,
    );
  }
  return body as T;
}

/** Fetches a response as it is (artifact content that may or may not be JSON). */
export async function getRaw(path: string, query: Query = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  const response = await fetch(apiUrl(path, query, false), { headers, credentials: 'same-origin' });
  if (!response.ok) {
    const body = (await response.json().catch(() => ({}))) as { error?: unknown };
    throw new ApiError(
      response.status,
      typeof body.error === 'string' ? body.error : `${response.status} ${response.statusText}`,
    );
  }
  return response;
}

/** A number from the JSON API (with its non-finite spellings) as a number. */
export function toNumber(value: JsonNumber | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'number') return value;
  if (value === 'NaN') return NaN;
  if (value === 'Infinity') return Infinity;
  if (value === '-Infinity') return -Infinity;
  const n = Number(value);
  return Number.isNaN(n) ? undefined : n;
}
