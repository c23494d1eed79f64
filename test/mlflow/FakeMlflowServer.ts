/**
 * An in-memory stand-in for an MLflow 2.17.2 tracking server (`mlflow server` with the SQL store and the
 * default `--serve-artifacts` proxy, or with a `--default-artifact-root` of its own: the `artifactRoot`
 * option), for tests of our MLflow client.
 *
 * Everything here follows /work/shared/reference/mlflow-rest.md (sections 1.1-1.5 and the recorded
 * responses): status codes, `{"error_code","message"}` bodies, message texts, limits and proto3-JSON shapes.
 * Where the reference is silent, the behaviour of MLflow's Python source (handlers.py, validation.py,
 * sqlalchemy_store.py) is copied, because a fake that is kinder than the real server hides client bugs.
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { randomBytes, randomInt } from 'node:crypto';
import fs from 'node:fs';
import nodePath from 'node:path';
import { fileURLToPath } from 'node:url';

// ---------------------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------------------

export interface FakeMlflowOptions {
  /** Port to listen on; 0 (default) picks a free one, which start() then reuses after stop(). */
  port?: number;
  /** When set, every route but /health needs `Authorization: Basic base64(username:password)`. */
  auth?: { username: string; password: string };
  /**
   * Default true: metrics/get-history pages like MLflow 3.x (section 1.4), including the upstream bug where a
   * request without max_results gets only `{"next_page_token": base64('{"offset": N}')}`. False: 2.17.2,
   * where max_results and page_token are ignored and the whole history comes back.
   */
  paginateHistory?: boolean;
  /**
   * The server's `--default-artifact-root`, as given: a bare path (`/srv/mlruns`), a `file:` URI or a
   * store (`s3://bucket/path`). Experiments then get `<root>/<id>` as their artifact location and runs
   * `<root>/<id>/<run id>/artifacts` as their artifact_uri (a bare path stays a bare path, as
   * MLflow 2.x answers it), and the proxy serves none of them: clients write such a location
   * themselves. `artifacts/list` and `/get-artifact` read a local root from this machine's file
   * system, as the real server reads its own. Default: none, experiments get `mlflow-artifacts:/<id>`.
   */
  artifactRoot?: string;
}

export interface RecordedRequest {
  method: string;
  /** The raw path as received (still percent-encoded), without the query string. */
  path: string;
  query: Record<string, string | string[]>;
  /** The parsed JSON body; the raw text if it was not JSON; undefined if empty or an artifact upload. */
  body: unknown;
  /** The HTTP status that was answered. */
  status: number;
  /** Size of the request body in bytes. */
  bytes: number;
}

export type RunStatus = 'RUNNING' | 'SCHEDULED' | 'FINISHED' | 'FAILED' | 'KILLED';
export type ViewType = 'ACTIVE_ONLY' | 'DELETED_ONLY' | 'ALL';
export type LifecycleStage = 'active' | 'deleted';
export type MetricValueJson = number | 'NaN' | 'Infinity' | '-Infinity';

export interface MetricJson {
  key: string;
  value: MetricValueJson;
  timestamp: number;
  step: number;
}
export interface ParamJson {
  key: string;
  value: string;
}
/** Run tags and experiment tags have the same shape as params. */
export type TagJson = ParamJson;

export interface ExperimentJson {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: LifecycleStage;
  last_update_time: number;
  creation_time: number;
  tags?: TagJson[];
}

export interface RunInfoJson {
  run_uuid: string;
  experiment_id: string;
  run_name: string;
  user_id: string;
  status: RunStatus;
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: LifecycleStage;
  run_id: string;
}

export interface RunDataJson {
  metrics?: MetricJson[];
  params?: ParamJson[];
  tags?: TagJson[];
}

export interface RunJson {
  info: RunInfoJson;
  data: RunDataJson;
  inputs?: { dataset_inputs?: unknown[] };
}

export interface FileInfoJson {
  path: string;
  is_dir: boolean;
  file_size?: number;
}

export interface MlflowErrorJson {
  error_code: string;
  message: string;
}

/** What runsOf() returns: unlike the REST shape, metrics are the full history and no array is omitted. */
export interface FakeRunState {
  info: RunInfoJson;
  data: { metrics: MetricJson[]; params: ParamJson[]; tags: TagJson[] };
}

// ---------------------------------------------------------------------------------------------------------
// Errors (mlflow/exceptions.py)
// ---------------------------------------------------------------------------------------------------------

const HTTP_STATUS_BY_ERROR_CODE = {
  INVALID_PARAMETER_VALUE: 400,
  RESOURCE_ALREADY_EXISTS: 400,
  BAD_REQUEST: 400,
  RESOURCE_DOES_NOT_EXIST: 404,
  NOT_FOUND: 404,
  ENDPOINT_NOT_FOUND: 404,
  PERMISSION_DENIED: 403,
  UNAUTHENTICATED: 401,
  CUSTOMER_UNAUTHORIZED: 401,
  ABORTED: 409,
  RESOURCE_CONFLICT: 409,
  ALREADY_EXISTS: 409,
  REQUEST_LIMIT_EXCEEDED: 429,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL_ERROR: 500,
  INVALID_STATE: 500,
  DATA_LOSS: 500,
  NOT_IMPLEMENTED: 501,
  TEMPORARILY_UNAVAILABLE: 503,
  DEADLINE_EXCEEDED: 504,
} as const;
type ErrorCode = keyof typeof HTTP_STATUS_BY_ERROR_CODE;

class MlflowError extends Error {
  constructor(
    readonly errorCode: ErrorCode,
    message: string,
  ) {
    super(message);
  }
  get status(): number {
    return HTTP_STATUS_BY_ERROR_CODE[this.errorCode];
  }
}

const invalidParameter = (message: string): MlflowError =>
  new MlflowError('INVALID_PARAMETER_VALUE', message);

// ---------------------------------------------------------------------------------------------------------
// Python look-alikes: MLflow's messages embed json.dumps(), repr() and str() of values, so tests that compare
// message texts need the same spelling.
// ---------------------------------------------------------------------------------------------------------

/** repr(float) in Python 3: shortest round-trip digits, exponent form outside 1e-4 <= |x| < 1e16. */
function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(x.toExponential());
  if (!m) return String(x);
  const [, sign, first, frac = '', expText] = m;
  const digits = first + frac;
  const exp = Number(expText);
  if (exp >= -4 && exp < 16) {
    if (exp >= digits.length - 1) return `${sign}${digits}${'0'.repeat(exp - digits.length + 1)}.0`;
    if (exp >= 0) return `${sign}${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
    return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  const mantissa = frac ? `${first}.${frac}` : first;
  return `${sign}${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** JSON numbers that are integral were ints on the Python side. */
function pyNumberRepr(x: number): string {
  return Number.isInteger(x) && Math.abs(x) < 1e16 ? String(x) : pyFloatRepr(x);
}

/** repr() of str/int/float/bool/None/list/dict. */
function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return pyNumberRepr(v);
  if (typeof v === 'string') {
    const quote = v.includes("'") && !v.includes('"') ? '"' : "'";
    let out = quote;
    for (const ch of v) {
      const code = ch.codePointAt(0) ?? 0;
      if (ch === '\\') out += '\\\\';
      else if (ch === quote) out += `\\${quote}`;
      else if (ch === '\n') out += '\\n';
      else if (ch === '\r') out += '\\r';
      else if (ch === '\t') out += '\\t';
      else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
      else out += ch;
    }
    return out + quote;
  }
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (typeof v === 'object') {
    return `{${Object.entries(v)
      .map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`)
      .join(', ')}}`;
  }
  return typeof v === 'bigint' ? v.toString() : '';
}

/** json.dumps(v, sort_keys=True, separators=(",", ":")) with the default ensure_ascii=True. */
function pyJsonDumps(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return 'NaN';
    if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
    return pyNumberRepr(v);
  }
  if (typeof v === 'string') {
    let out = '"';
    for (let i = 0; i < v.length; i++) {
      const c = v.charCodeAt(i);
      const ch = v[i];
      if (ch === '"') out += '\\"';
      else if (ch === '\\') out += '\\\\';
      else if (ch === '\n') out += '\\n';
      else if (ch === '\r') out += '\\r';
      else if (ch === '\t') out += '\\t';
      else if (ch === '\b') out += '\\b';
      else if (ch === '\f') out += '\\f';
      else if (c < 0x20 || c > 0x7e) out += `\\u${c.toString(16).padStart(4, '0')}`;
      else out += ch;
    }
    return out + '"';
  }
  if (Array.isArray(v)) return `[${v.map(pyJsonDumps).join(',')}]`;
  if (typeof v === 'object') {
    const entries = Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${pyJsonDumps(k)}:${pyJsonDumps(x)}`).join(',')}}`;
  }
  return 'null';
}

/** type(value).__name__ of what Python's json module would have produced. */
function pyTypeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'string') return 'str';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

/** str() of a value that went through json.loads. */
function pyStr(v: unknown): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

/** Python's len() and slicing count code points, not UTF-16 units. */
const pyLen = (s: string): number => Array.from(s).length;
const pySlice = (s: string, end: number): string => Array.from(s).slice(0, end).join('');

/** posixpath.normpath. */
function posixNormpath(path: string): string {
  if (path === '') return '.';
  let initialSlashes = path.startsWith('/') ? 1 : 0;
  if (path.startsWith('//') && !path.startsWith('///')) initialSlashes = 2;
  const out: string[] = [];
  for (const comp of path.split('/')) {
    if (comp === '' || comp === '.') continue;
    if (comp !== '..' || (!initialSlashes && out.length === 0) || (out.length > 0 && out.at(-1) === '..')) {
      out.push(comp);
    } else if (out.length > 0) {
      out.pop();
    }
  }
  const joined = '/'.repeat(initialSlashes) + out.join('/');
  return joined || '.';
}

// ---------------------------------------------------------------------------------------------------------
// Request validation (mlflow/server/handlers.py schemas + mlflow/utils/validation.py)
// ---------------------------------------------------------------------------------------------------------

type Json = Record<string, unknown>;

const API_DOCS = ' See the API docs for more information about request parameters.';

function missingValue(path: string): MlflowError {
  return invalidParameter(`Missing value for required parameter '${path}'.${API_DOCS}`);
}

/** What `_validate_param_against_schema` says when a type assertion fails (note the two spaces). */
function wrongType(path: string, value: unknown): MlflowError {
  return invalidParameter(
    `Invalid value ${pyJsonDumps(value)} for parameter '${path}' supplied:  Hint: Value was of type '${pyTypeName(value)}'.${API_DOCS}`,
  );
}

/** validation.invalid_value(). */
function invalidValueMessage(path: string, value: unknown, message?: string): string {
  const formatted = pyJsonDumps(value);
  return message
    ? `Invalid value ${formatted} for parameter '${path}' supplied: ${message}`
    : `Invalid value ${formatted} for parameter '${path}' supplied.`;
}

const isAbsent = (v: unknown): boolean => v === undefined || v === null;
/** `_assert_required`: proto parsing turns absent strings into "", so "" counts as missing too. */
const isMissing = (v: unknown): boolean => isAbsent(v) || v === '';

function readString(body: Json, key: string, required: boolean, path = key): string | undefined {
  const v = body[key];
  if (required && isMissing(v)) throw missingValue(path);
  if (isAbsent(v)) return undefined;
  if (typeof v !== 'string') throw wrongType(path, v);
  return v;
}

/** int64 fields: JSON numbers or decimal strings, as google.protobuf.json_format accepts them. */
function readInt(body: Json, key: string, required: boolean, path = key): number | undefined {
  const v = body[key];
  if (required && isMissing(v)) throw missingValue(path);
  if (isAbsent(v)) return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^[+-]?\d+$/.test(v)) return Number(v);
  throw wrongType(path, v);
}

/** double fields: numbers, numeric strings and the proto3 spellings "NaN", "Infinity", "-Infinity". */
function readDouble(body: Json, key: string, required: boolean, path = key): number | undefined {
  const v = body[key];
  if (required && isMissing(v)) throw missingValue(path);
  if (isAbsent(v)) return undefined;
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v === 'NaN') return NaN;
    if (v === 'Infinity') return Infinity;
    if (v === '-Infinity') return -Infinity;
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) return Number(v);
  }
  throw wrongType(path, v);
}

/** Enum fields: the value name, or its proto number (1-based for MLflow's enums). */
function readEnum<T extends string>(body: Json, key: string, names: readonly T[], path = key): T | undefined {
  const v = body[key];
  if (isAbsent(v)) return undefined;
  if (typeof v === 'string' && (names as readonly string[]).includes(v)) return v as T;
  if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= names.length) return names[v - 1];
  throw wrongType(path, v);
}

function readArray(body: Json, key: string, path = key): unknown[] {
  const v = body[key];
  if (isAbsent(v)) return [];
  if (!Array.isArray(v)) throw wrongType(path, v);
  return v;
}

function readStringArray(body: Json, key: string, path = key): string[] {
  const arr = readArray(body, key, path);
  if (!arr.every((x) => typeof x === 'string')) throw wrongType(path, arr);
  return arr;
}

/**
 * MLflow's parse_dict() str()-ingifies experiment_id(s) before parsing, for pre-0.9 clients, so numeric ids
 * are accepted wherever an experiment id is expected.
 */
function stringifyExperimentIds(body: Json): void {
  if ('experiment_id' in body && !isAbsent(body.experiment_id))
    body.experiment_id = pyStr(body.experiment_id);
  if (Array.isArray(body.experiment_ids)) body.experiment_ids = body.experiment_ids.map(pyStr);
}

function asObject(v: unknown, path: string): Json {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw wrongType(path, v);
  return v as Json;
}

// --- names of metrics, params and tags ---

const KEY_CHARS = /^[/\p{L}\p{N}_.\- :]*$/u;
const BAD_CHARACTER_MESSAGE =
  'Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/).';
const MAX_ENTITY_KEY_LENGTH = 250;
const MAX_PARAM_VAL_LENGTH = 6000;
const MAX_TAG_VAL_LENGTH = 8000;
const MAX_EXPERIMENT_NAME_LENGTH = 500;
const MAX_EXPERIMENT_TAG_VAL_LENGTH = 5000;
const MAX_METRICS_PER_BATCH = 1000;
const MAX_PARAMS_TAGS_PER_BATCH = 100;
const MAX_ENTITIES_PER_BATCH = 1000;
const SEARCH_MAX_RESULTS_DEFAULT = 1000;
const SEARCH_MAX_RESULTS_THRESHOLD = 50000;
/** What the SQL store writes instead of +-Inf, which SQL cannot hold. */
const MAX_FLOAT = 1.7976931348623157e308;
const GET_HISTORY_BULK_MAX_RESULTS = 25000;
const GET_HISTORY_BULK_MAX_RUN_IDS = 100;

function pathNotUnique(name: string): boolean {
  const norm = posixNormpath(name);
  return norm !== name || norm === '.' || norm.startsWith('..') || norm.startsWith('/');
}

function validateName(name: string, path: string): void {
  if (!KEY_CHARS.test(name)) throw invalidParameter(invalidValueMessage(path, name, BAD_CHARACTER_MESSAGE));
  if (pathNotUnique(name)) {
    const resolved = pyRepr(posixNormpath(name));
    const message = `Names may be treated as files in certain cases, and must not resolve to other names when treated as such. This name would resolve to ${resolved}`;
    throw invalidParameter(invalidValueMessage(path, name, message));
  }
}

/** `_validate_length_limit` as of 2.17.2; with truncate=true (MLFLOW_TRUNCATE_LONG_VALUES) it cuts silently. */
function lengthLimit(entity: string, limit: number, value: string, truncate = false): string {
  const len = pyLen(value);
  if (len <= limit) return value;
  if (truncate) return pySlice(value, limit);
  throw invalidParameter(
    `${entity} '${pySlice(value, 250)}' had length ${len}, which exceeded length limit of ${limit}`,
  );
}

function validateExperimentName(name: string): void {
  if (pyLen(name) > MAX_EXPERIMENT_NAME_LENGTH) {
    throw invalidParameter(
      `Experiment name exceeds the maximum length of ${MAX_EXPERIMENT_NAME_LENGTH} characters`,
    );
  }
}

function validateExperimentTag(key: string, value: string): void {
  validateName(key, 'key');
  lengthLimit('Tag key', MAX_ENTITY_KEY_LENGTH, key);
  lengthLimit('Tag value', MAX_EXPERIMENT_TAG_VAL_LENGTH, value);
}

interface MetricInput {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}

/** `_validate_metric`; `prefix` is "" for log-metric and "metrics[i]" for log-batch. */
function validateMetric(m: MetricInput, prefix: string): void {
  const at = (field: string): string => (prefix ? `${prefix}.${field}` : field);
  validateName(m.key, at('name'));
  if (m.timestamp < 0) {
    throw invalidParameter(
      invalidValueMessage(
        at('timestamp'),
        m.timestamp,
        `metric '${m.key}' (value=${pyFloatRepr(m.value)}). Timestamp must be a nonnegative long (64-bit integer) `,
      ),
    );
  }
  lengthLimit('Metric name', MAX_ENTITY_KEY_LENGTH, m.key);
}

function validateParam(key: string, value: string, prefix: string): ParamJson {
  validateName(key, prefix ? `${prefix}.key` : 'key');
  return {
    key: lengthLimit('Param key', MAX_ENTITY_KEY_LENGTH, key),
    value: lengthLimit('Param value', MAX_PARAM_VAL_LENGTH, value, true),
  };
}

function validateRunTag(key: string, value: string, prefix: string): TagJson {
  validateName(key, prefix ? `${prefix}.key` : 'key');
  return {
    key: lengthLimit('Tag key', MAX_ENTITY_KEY_LENGTH, key),
    value: lengthLimit('Tag value', MAX_TAG_VAL_LENGTH, value, true),
  };
}

function batchLimit(entity: string, limit: number, length: number): void {
  if (length > limit) {
    throw invalidParameter(
      `A batch logging request can contain at most ${limit} ${entity}. Got ${length} ${entity}. Please split up ${entity} across multiple requests and try again.`,
    );
  }
}

// --- page tokens (SearchUtils.create_page_token / parse_start_offset_from_page_token) ---

/** Python's json.dumps puts a space after the colon, and clients see that inside the base64. */
const createPageToken = (offset: number): string => Buffer.from(`{"offset": ${offset}}`).toString('base64');

function parsePageToken(token: string | undefined): number {
  if (!token) return 0;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(token) || token.length % 4 !== 0) {
    throw invalidParameter('Invalid page token, could not base64-decode');
  }
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoded);
  } catch {
    throw invalidParameter(`Invalid page token, decoded value=b${pyRepr(decoded)}`);
  }
  const offset = typeof parsed === 'object' && parsed !== null ? (parsed as Json).offset : undefined;
  // Real MLflow also rejects a falsy offset; 0 is let through because 3.x itself hands out {"offset": 0}.
  if (isAbsent(offset) || offset === '' || offset === false) {
    throw invalidParameter(`Invalid page token, parsed value=${pyRepr(parsed)}`);
  }
  const n = typeof offset === 'number' ? offset : typeof offset === 'string' ? Number(offset) : NaN;
  if (!Number.isInteger(n) || n < 0)
    throw invalidParameter(`Invalid page token, not stringable ${pyStr(offset)}`);
  return n;
}

function validateMaxResults(value: number | undefined, fallback: number): number {
  const n = value ?? fallback;
  if (n < 1) {
    throw invalidParameter(
      `Invalid value ${n} for parameter 'max_results' supplied. It must be a positive integer`,
    );
  }
  if (n > SEARCH_MAX_RESULTS_THRESHOLD) {
    throw invalidParameter(
      `Invalid value ${n} for parameter 'max_results' supplied. It must be at most ${SEARCH_MAX_RESULTS_THRESHOLD}`,
    );
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------------
// Search filters and order_by (a subset of SearchUtils: conjunctions of simple comparisons)
// ---------------------------------------------------------------------------------------------------------

type EntityType = 'metric' | 'param' | 'tag' | 'attribute';

const RUN_ENTITY_ALIASES: Record<string, EntityType> = {
  metric: 'metric',
  metrics: 'metric',
  param: 'param',
  params: 'param',
  parameter: 'param',
  parameters: 'param',
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
  run: 'attribute',
};
const EXPERIMENT_ENTITY_ALIASES: Record<string, EntityType> = {
  tag: 'tag',
  tags: 'tag',
  attribute: 'attribute',
  attributes: 'attribute',
  attr: 'attribute',
};

type FilterValue =
  { kind: 'string'; v: string } | { kind: 'number'; v: number } | { kind: 'list'; v: string[] };

interface Clause {
  entity: EntityType;
  key: string;
  op: string;
  value: FilterValue;
  raw: string;
}

const IDENTIFIER = /^\s*(?:([A-Za-z_]\w*)\.)?(`[^`]+`|"[^"]+"|[\w.]+)/;
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function unquoteKey(key: string): string {
  return /^(`[^`]*`|"[^"]*")$/.test(key) ? key.slice(1, -1) : key;
}

function resolveEntity(name: string | undefined, aliases: Record<string, EntityType>): EntityType {
  if (name === undefined) return 'attribute';
  const entity = aliases[name.toLowerCase()];
  if (!entity) {
    const valid = [...new Set(Object.values(aliases))].map((e) => (e === 'param' ? 'parameter' : e));
    throw invalidParameter(`Invalid entity type '${name}'. Valid values are ${pyRepr(valid)}`);
  }
  return entity;
}

/** Splits on top-level AND, refusing OR: MLflow only supports conjunctions. */
function splitConjunction(filter: string): string[] {
  const parts: string[] = [];
  let quote: string | undefined;
  let start = 0;
  for (let i = 0; i < filter.length; i++) {
    const ch = filter[i];
    if (quote) {
      if (ch === quote) quote = undefined;
      continue;
    }
    if (ch === "'" || ch === '"' || ch === '`') {
      quote = ch;
      continue;
    }
    if (/\s/.test(ch)) {
      const m = /^\s+(and|or)\s+/i.exec(filter.slice(i));
      if (m) {
        if (m[1].toLowerCase() === 'or') throw invalidParameter(`Invalid clause(s) in filter string: 'OR'`);
        parts.push(filter.slice(start, i));
        i += m[0].length - 1;
        start = i + 1;
      }
    }
  }
  if (quote) throw invalidParameter(`Invalid filter '${filter}'. Could not be parsed.`);
  parts.push(filter.slice(start));
  return parts.map((p) => p.trim());
}

function parseFilter(filter: string | undefined, aliases: Record<string, EntityType>): Clause[] {
  if (!filter || !filter.trim()) return [];
  return splitConjunction(filter.trim()).map((raw) => {
    const id = IDENTIFIER.exec(raw);
    if (!id) throw invalidParameter(`Invalid filter '${filter}'. Could not be parsed.`);
    const entity = resolveEntity(id[1], aliases);
    const key = unquoteKey(id[2]);
    const rest = raw.slice(id[0].length);
    const op =
      /^\s*(!=|<>|>=|<=|=|<|>)/.exec(rest) ??
      /^\s+(NOT\s+IN|IN|ILIKE|LIKE)(?=[\s(])/i.exec(rest) ??
      undefined;
    if (!op) throw invalidParameter(`Invalid filter '${filter}'. Could not be parsed.`);
    const valueText = rest.slice(op[0].length).trim();
    let value: FilterValue;
    const quoted = /^'([^']*)'$/.exec(valueText) ?? /^"([^"]*)"$/.exec(valueText);
    const list = /^\((.*)\)$/s.exec(valueText);
    if (quoted) value = { kind: 'string', v: quoted[1] };
    else if (NUMBER.test(valueText)) value = { kind: 'number', v: Number(valueText) };
    else if (list) {
      const items = list[1].split(',').map((s) => s.trim());
      const strings = items.map((s) => /^'([^']*)'$/.exec(s)?.[1] ?? /^"([^"]*)"$/.exec(s)?.[1]);
      if (strings.some((s) => s === undefined)) {
        throw invalidParameter(`While parsing a list in the query, expected string value but got ${list[1]}`);
      }
      value = { kind: 'list', v: strings as string[] };
    } else {
      throw invalidParameter(`Invalid filter '${filter}'. Could not be parsed.`);
    }
    const comparator = op[1].toUpperCase().replace(/\s+/g, ' ');
    // sqlparse only makes `x IN (...)` a comparison when a parenthesised list follows, and a list only there
    if ((comparator === 'IN' || comparator === 'NOT IN') !== (value.kind === 'list'))
      throw invalidParameter(`Invalid filter '${filter}'. Could not be parsed.`);
    return { entity, key, op: comparator, value, raw };
  });
}

const NUMERIC_OPS = ['>', '>=', '!=', '=', '<', '<='];
const STRING_OPS = ['=', '!=', 'LIKE', 'ILIKE'];
const STRING_ATTRIBUTE_OPS = ['=', '!=', 'LIKE', 'ILIKE', 'IN', 'NOT IN'];

function requireOp(op: string, valid: string[]): void {
  if (!valid.includes(op)) throw invalidParameter(`Invalid comparator '${op}' not one of '${pyRepr(valid)}'`);
}

function requireNumber(c: Clause, what: string): number {
  if (c.value.kind !== 'number') {
    throw invalidParameter(
      `Expected numeric value type for ${what}. Found ${c.raw.slice(c.raw.search(/\S+$/))}`,
    );
  }
  return c.value.v;
}

function requireString(c: Clause, what: string): FilterValue {
  if (c.value.kind === 'number') {
    throw invalidParameter(
      `${what} value is either not quoted or unidentified quote types used for string value ${c.value.v}. Use either single or double quotes.`,
    );
  }
  return c.value;
}

function likeToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  let src = '';
  for (const ch of pattern) {
    if (ch === '%') src += '[\\s\\S]*';
    else if (ch === '_') src += '[\\s\\S]';
    else src += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${src}$`, caseInsensitive ? 'iu' : 'u');
}

function compareNumber(actual: number, op: string, expected: number): boolean {
  switch (op) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case '<':
      return actual < expected;
    case '<=':
      return actual <= expected;
    case '>':
      return actual > expected;
    case '>=':
      return actual >= expected;
    default:
      return false;
  }
}

function compareString(actual: string, op: string, value: FilterValue): boolean {
  const expected = value.kind === 'string' ? value.v : '';
  switch (op) {
    case '=':
      return actual === expected;
    case '!=':
      return actual !== expected;
    case 'LIKE':
      return likeToRegExp(expected, false).test(actual);
    case 'ILIKE':
      return likeToRegExp(expected, true).test(actual);
    case 'IN':
      return value.kind === 'list' && value.v.includes(actual);
    case 'NOT IN':
      return value.kind === 'list' && !value.v.includes(actual);
    default:
      return false;
  }
}

/** The value of a clause as the message of a refused filter shows it (the token's text). */
const valueToken = (c: Clause): string => c.raw.slice(c.raw.search(/\S+$/));

/** The attribute names runs/search also takes for others (SearchUtils.translate_key_alias). */
const RUN_ATTRIBUTE_ALIASES: Record<string, string> = { created: 'start_time', Created: 'start_time' };

/**
 * Checks a runs/search clause as SearchUtils does while it parses the filter, before any run is
 * looked at (so an empty experiment refuses a bad filter too): the attribute must exist, the
 * value must be of the entity's type (numbers for metrics and start_time/end_time, quoted text
 * for the rest; a list only for attributes.run_id), and the comparator one the entity takes.
 */
function validateRunClause(c: Clause): void {
  switch (c.entity) {
    case 'metric':
      if (c.value.kind !== 'number')
        throw invalidParameter(`Expected numeric value type for metric. Found ${valueToken(c)}`);
      requireOp(c.op, NUMERIC_OPS);
      return;
    case 'param':
    case 'tag':
      if (c.value.kind !== 'string')
        throw invalidParameter(
          `Expected a quoted string value for ${c.entity === 'param' ? 'parameter' : 'tag'} (e.g. 'my-value'). Got value ${valueToken(c)}`,
        );
      requireOp(c.op, STRING_OPS);
      return;
    default: {
      c.key = RUN_ATTRIBUTE_ALIASES[c.key] ?? c.key;
      if (RUN_NUMERIC_ATTRIBUTES.includes(c.key)) {
        if (c.value.kind !== 'number')
          throw invalidParameter(
            `Expected numeric value type for numeric attribute: ${c.key}. Found ${valueToken(c)}`,
          );
        requireOp(c.op, NUMERIC_OPS);
        return;
      }
      if (!RUN_STRING_ATTRIBUTES.includes(c.key))
        throw invalidParameter(
          `Invalid attribute key '${c.key}' specified. Valid keys are '${pyRepr([...RUN_STRING_ATTRIBUTES, ...RUN_NUMERIC_ATTRIBUTES])}'`,
        );
      if (c.value.kind === 'list' && c.key !== 'run_id')
        throw invalidParameter(
          "Only the 'run_id' attribute supports comparison with a list of quoted string values.",
        );
      if (c.value.kind === 'number')
        throw invalidParameter(`Expected a quoted string value for attributes. Got value ${valueToken(c)}`);
      requireOp(c.op, STRING_ATTRIBUTE_OPS);
    }
  }
}

interface OrderSpec {
  entity: EntityType;
  key: string;
  ascending: boolean;
}

function parseOrderBy(
  clauses: string[],
  aliases: Record<string, EntityType>,
  attributes: string[],
): OrderSpec[] {
  return clauses.map((clause) => {
    const m = /^\s*(?:([A-Za-z_]\w*)\.)?(`[^`]+`|"[^"]+"|[\w.]+)(?:\s+(ASC|DESC))?\s*$/i.exec(clause);
    if (!m) throw invalidParameter(`Invalid order_by clause '${clause}'. Could not be parsed.`);
    const entity = resolveEntity(m[1], aliases);
    const key = unquoteKey(m[2]);
    if (entity === 'attribute' && !attributes.includes(key)) {
      throw invalidParameter(
        `Invalid order by key '${key}' specified. Valid keys are '${pyRepr(attributes)}'`,
      );
    }
    return { entity, key, ascending: (m[3] ?? 'ASC').toUpperCase() === 'ASC' };
  });
}

/** Missing values sort last whatever the direction, as in the SQL store's `CASE ... IS NULL` clauses. */
interface SortValue {
  rank: number;
  v: number | string;
}

function compareSortValues(a: SortValue, b: SortValue, ascending: boolean): number {
  if (a.rank !== b.rank) return a.rank - b.rank;
  if (a.v === b.v) return 0;
  const less = a.v < b.v ? -1 : 1;
  return ascending ? less : -less;
}

// ---------------------------------------------------------------------------------------------------------
// In-memory state
// ---------------------------------------------------------------------------------------------------------

interface ExperimentRecord {
  id: string;
  name: string;
  artifactLocation: string;
  lifecycle: LifecycleStage;
  creationTime: number;
  lastUpdateTime: number;
  tags: Map<string, string>;
}

interface StoredMetric {
  key: string;
  /** NaN is kept as NaN (the SQL store's is_nan column); +-Inf never gets here, it is clamped. */
  value: number;
  timestamp: number;
  step: number;
}

interface RunRecord {
  runId: string;
  experimentId: string;
  name: string;
  userId: string;
  status: RunStatus;
  startTime: number;
  endTime?: number;
  artifactUri: string;
  lifecycle: LifecycleStage;
  history: StoredMetric[];
  historyByKey: Map<string, StoredMetric[]>;
  /** The metric points already stored, to drop exact duplicates like the SQL primary key does. */
  points: Set<string>;
  latest: Map<string, StoredMetric>;
  params: Map<string, string>;
  tags: Map<string, string>;
}

const RUN_STATUSES: readonly RunStatus[] = ['RUNNING', 'SCHEDULED', 'FINISHED', 'FAILED', 'KILLED'];
const VIEW_TYPES: readonly ViewType[] = ['ACTIVE_ONLY', 'DELETED_ONLY', 'ALL'];
const RUN_NAME_TAG = 'mlflow.runName';
const RUN_STRING_ATTRIBUTES = ['run_id', 'run_name', 'status', 'user_id', 'artifact_uri'];
const RUN_NUMERIC_ATTRIBUTES = ['start_time', 'end_time'];
const EXPERIMENT_NUMERIC_ATTRIBUTES = ['creation_time', 'last_update_time'];

const inView = (stage: LifecycleStage, view: ViewType): boolean =>
  view === 'ALL' || (view === 'ACTIVE_ONLY' ? stage === 'active' : stage === 'deleted');

const pairs = (m: Map<string, string>): ParamJson[] => [...m].map(([key, value]) => ({ key, value }));

const metricJson = (m: StoredMetric): MetricJson => ({
  key: m.key,
  value: Number.isNaN(m.value) ? 'NaN' : m.value,
  timestamp: m.timestamp,
  step: m.step,
});

/** The SQL store writes NaN as value 0 with is_nan set, and compares "latest" on that 0. */
const comparableValue = (v: number): number => (Number.isNaN(v) ? 0 : v);

function isNewer(a: StoredMetric, b: StoredMetric): boolean {
  if (a.step !== b.step) return a.step > b.step;
  if (a.timestamp !== b.timestamp) return a.timestamp > b.timestamp;
  return comparableValue(a.value) > comparableValue(b.value);
}

// prettier-ignore
const PREDICATES = [
  'able', 'adaptable', 'bemused', 'bold', 'brawny', 'bustling', 'calm', 'capable', 'carefree', 'casual',
  'clean', 'defiant', 'delicate', 'enchanting', 'gentle', 'grandiose', 'judicious', 'languid', 'learned',
  'legendary', 'luminous', 'merciful', 'nebulous', 'overjoyed', 'rare', 'redolent', 'resilient', 'rogue',
  'salty', 'secretive', 'sedate', 'smiling', 'spiffy', 'stately', 'suave', 'thundering', 'upbeat', 'wise',
];
// prettier-ignore
const NOUNS = [
  'ant', 'ape', 'bass', 'bat', 'bear', 'boar', 'carp', 'cat', 'colt', 'crab', 'crane', 'cub', 'deer', 'doe',
  'dove', 'eel', 'elk', 'finch', 'fox', 'frog', 'gnu', 'goat', 'gull', 'hare', 'hawk', 'hen', 'jay', 'koi',
  'lark', 'lynx', 'mole', 'moth', 'newt', 'owl', 'ox', 'panda', 'ram', 'ray', 'seal', 'shad', 'shrew', 'slug',
  'squid', 'stag', 'swan', 'toad', 'trout', 'wasp', 'whale', 'wolf', 'wren', 'yak',
];

/** Same shape as MLflow's `_generate_random_name()`, e.g. `rare-shad-995`. */
const randomRunName = (): string =>
  `${PREDICATES[randomInt(PREDICATES.length)]}-${NOUNS[randomInt(NOUNS.length)]}-${randomInt(1000)}`;

// ---------------------------------------------------------------------------------------------------------
// HTTP plumbing
// ---------------------------------------------------------------------------------------------------------

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

interface ApiRequest {
  method: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  raw: Buffer;
}

type Handler = (req: ApiRequest, subpath: string) => Reply;

const jsonReply = (value: unknown, status = 200, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'Content-Type': 'application/json', ...headers },
  body: Buffer.from(JSON.stringify(value)),
});

const errorReply = (e: MlflowError, headers: Record<string, string> = {}): Reply =>
  jsonReply({ error_code: e.errorCode, message: e.message }, e.status, headers);

const textReply = (text: string, status = 200, contentType = 'text/plain; charset=utf-8'): Reply => ({
  status,
  headers: { 'Content-Type': contentType },
  body: Buffer.from(text),
});

/** Werkzeug's pages: clients must not expect JSON from a route MLflow does not have. */
const NOT_FOUND_HTML =
  '<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n';
const METHOD_NOT_ALLOWED_HTML =
  '<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n';
const UNAUTHENTICATED_TEXT =
  'You are not authenticated. Please see https://www.mlflow.org/docs/latest/auth/index.html#authenticating-to-mlflow on how to authenticate.';

const API_PREFIXES = ['/api/2.0/mlflow/', '/ajax-api/2.0/mlflow/'];
const ARTIFACT_PREFIXES = ['/api/2.0/mlflow-artifacts/', '/ajax-api/2.0/mlflow-artifacts/'];
const ARTIFACT_STORE_ROOT = '/mlartifacts';

interface Route {
  methods: Partial<Record<string, Handler>>;
  ajaxOnly?: boolean;
}

function queryRecord(query: URLSearchParams): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const key of new Set(query.keys())) {
    const all = query.getAll(key);
    out[key] = all.length === 1 ? all[0] : all;
  }
  return out;
}

function decodePath(p: string): string {
  try {
    return decodeURIComponent(p);
  } catch {
    return p;
  }
}

/** `validate_path_is_safe`: the path is unquoted until stable first, so `..%2F` is caught too. */
function validateArtifactPath(path: string): string {
  let decoded = path;
  for (let i = 0; i < 10; i++) {
    const next = decodePath(decoded);
    if (next === decoded) break;
    decoded = next;
  }
  const invalid = (): MlflowError => invalidParameter('Invalid path');
  if (decoded.includes('#')) throw invalid();
  if (decoded.split('/').includes('..')) throw invalid();
  if (decoded.startsWith('/') || /^[A-Za-z]:[\\/]/.test(decoded) || decoded.startsWith('\\\\'))
    throw invalid();
  return decoded;
}

/** How the local artifact repository lands a path on disk: empty and "." segments vanish. */
const normalizeArtifactPath = (p: string): string =>
  p
    .split('/')
    .filter((s) => s !== '' && s !== '.')
    .join('/');

// prettier-ignore
const TEXT_EXTENSIONS = new Set([
  'txt', 'log', 'err', 'cfg', 'conf', 'cnf', 'cf', 'ini', 'properties', 'prop', 'hocon', 'toml', 'yaml', 'yml',
  'xml', 'json', 'js', 'py', 'py3', 'csv', 'tsv', 'md', 'rst', 'MLmodel', 'mlproject',
]);
const MIME_TYPES: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  svg: 'image/svg+xml',
  bmp: 'image/bmp',
  html: 'text/html',
  htm: 'text/html',
  pdf: 'application/pdf',
  zip: 'application/zip',
  tar: 'application/x-tar',
  wav: 'audio/x-wav',
  mp4: 'video/mp4',
};

/** handlers._guess_mime_type: MLflow serves its known text formats (JSON included) as text/plain. */
function guessMimeType(filename: string): string {
  const dot = filename.lastIndexOf('.');
  const ext = dot > 0 ? filename.slice(dot + 1) : filename;
  if (TEXT_EXTENSIONS.has(ext)) return 'text/plain';
  return MIME_TYPES[ext.toLowerCase()] ?? 'application/octet-stream';
}

/** Werkzeug's send_file(as_attachment=True) header, with its quoting and RFC 5987 fallback. */
function contentDisposition(filename: string): string {
  const headerValue = (v: string): string =>
    /^[\w!#$%&'*+\-.^`|~]+$/.test(v) ? v : `"${v.replace(/[\\"]/g, '\\$&')}"`;
  if (/^[\x20-\x7e]*$/.test(filename)) return `attachment; filename=${headerValue(filename)}`;
  const simple = filename.normalize('NFKD').replace(/[^\x20-\x7e]/g, '');
  const quoted = encodeURIComponent(filename).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename=${headerValue(simple)}; filename*=UTF-8''${quoted}`;
}

// ---------------------------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------------------------

export class FakeMlflowServer {
  /** Every request answered, in order (including /health, injected failures and auth refusals). */
  readonly requests: RecordedRequest[] = [];

  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private port: number;
  private listening = false;
  private readonly auth: { username: string; password: string } | undefined;
  private readonly paginateHistory: boolean;
  private readonly artifactRoot: string | undefined;
  private failures = { remaining: 0, status: 503, retryAfterSeconds: undefined as number | undefined };

  private readonly experiments = new Map<string, ExperimentRecord>();
  private readonly runs = new Map<string, RunRecord>();
  private readonly artifacts = new Map<string, Buffer>();
  private nextExperimentId = 1;
  private readonly routes = new Map<string, Route>();
  private readonly artifactRoutes = new Map<string, Partial<Record<string, Handler>>>();

  constructor(opts: FakeMlflowOptions = {}) {
    this.port = opts.port ?? 0;
    this.auth = opts.auth;
    this.paginateHistory = opts.paginateHistory ?? true;
    this.artifactRoot = opts.artifactRoot?.replace(/\/+$/, '');
    const now = Date.now();
    // Every MLflow database starts with the Default experiment, id "0".
    this.experiments.set('0', {
      id: '0',
      name: 'Default',
      artifactLocation: this.defaultArtifactLocation('0'),
      lifecycle: 'active',
      creationTime: now,
      lastUpdateTime: now,
      tags: new Map(),
    });
    this.registerRoutes();
  }

  // --- lifecycle ---

  async start(): Promise<void> {
    if (this.listening) return;
    const server = createServer((req, res) => this.onRequest(req, res));
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    this.listening = true;
  }

  /** An outage: the port stops answering (ECONNREFUSED), keep-alive sockets die, the data stays. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server || !this.listening) return;
    this.listening = false;
    this.server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await closed;
    // Give in-process clients one turn of the event loop to see their pooled sockets close; otherwise
    // their next request may be written to a dead keep-alive socket and fail with a reset instead.
    await new Promise((resolve) => setTimeout(resolve, 10));
  }

  get url(): string {
    if (this.port === 0) throw new Error('FakeMlflowServer: start() it first, the port is not known yet');
    return `http://127.0.0.1:${this.port}`;
  }

  /**
   * The next `count` requests other than /health get `status` (503 by default) with MLflow's error body and,
   * when given, a Retry-After header.
   */
  failNext(count: number, status = 503, retryAfterSeconds?: number): void {
    this.failures = { remaining: count, status, retryAfterSeconds };
  }

  // --- inspection helpers ---

  experimentByName(name: string): ExperimentJson | undefined {
    const e = [...this.experiments.values()].find((x) => x.name === name);
    return e && this.experimentJson(e);
  }

  runsOf(experimentId: string): FakeRunState[] {
    return [...this.runs.values()]
      .filter((r) => r.experimentId === experimentId)
      .map((r) => ({
        info: this.runInfoJson(r),
        data: { metrics: r.history.map(metricJson), params: pairs(r.params), tags: pairs(r.tags) },
      }));
  }

  metricHistory(runId: string, key: string): MetricJson[] {
    return (this.runs.get(runId)?.historyByKey.get(key) ?? []).map(metricJson);
  }

  artifactFiles(): Map<string, Buffer> {
    return new Map(this.artifacts);
  }

  // --- request handling ---

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('error', () => res.destroy());
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://fake');
      const method = (req.method ?? 'GET').toUpperCase();
      let reply: Reply;
      try {
        reply = this.dispatch(method, url, req.headers, raw);
      } catch (e) {
        reply =
          e instanceof MlflowError
            ? errorReply(e)
            : errorReply(new MlflowError('INTERNAL_ERROR', `FakeMlflowServer bug: ${String(e)}`));
      }
      this.requests.push({
        method,
        path: url.pathname,
        query: queryRecord(url.searchParams),
        body: this.recordedBody(url.pathname, raw),
        status: reply.status,
        bytes: raw.length,
      });
      res.writeHead(reply.status, { ...reply.headers, 'Content-Length': String(reply.body.length) });
      res.end(method === 'HEAD' ? undefined : reply.body);
    });
  }

  private recordedBody(pathname: string, raw: Buffer): unknown {
    if (raw.length === 0 || ARTIFACT_PREFIXES.some((p) => pathname.startsWith(p))) return undefined;
    const text = raw.toString('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return text;
    }
  }

  private dispatch(method: string, url: URL, headers: IncomingHttpHeaders, raw: Buffer): Reply {
    const pathname = url.pathname;
    const getLike = method === 'GET' || method === 'HEAD';
    if (pathname === '/health') return getLike ? textReply('OK') : this.methodNotAllowed(['GET', 'HEAD']);

    if (this.failures.remaining > 0) {
      this.failures.remaining--;
      return this.injectedFailure();
    }
    // The basic-auth app checks credentials before routing, so even unknown routes answer 401.
    if (this.auth && !this.authorized(headers.authorization)) {
      return {
        status: 401,
        headers: { 'Content-Type': 'text/plain; charset=utf-8', 'WWW-Authenticate': 'Basic realm="mlflow"' },
        body: Buffer.from(UNAUTHENTICATED_TEXT),
      };
    }
    if (pathname === '/version')
      return getLike ? textReply('2.17.2') : this.methodNotAllowed(['GET', 'HEAD']);

    const request: ApiRequest = { method: getLike ? 'GET' : method, query: url.searchParams, headers, raw };
    for (const prefix of API_PREFIXES) {
      if (!pathname.startsWith(prefix)) continue;
      const route = this.routes.get(pathname.slice(prefix.length));
      if (!route || (route.ajaxOnly && !prefix.startsWith('/ajax-api'))) break;
      return this.invoke(route.methods, request, '');
    }
    for (const prefix of ARTIFACT_PREFIXES) {
      if (!pathname.startsWith(prefix)) continue;
      const rest = pathname.slice(prefix.length);
      if (rest === 'artifacts') return this.invoke(this.artifactRoutes.get('list') ?? {}, request, '');
      for (const kind of ['artifacts', 'mpu/create', 'mpu/complete', 'mpu/abort']) {
        if (rest.startsWith(`${kind}/`) && rest.length > kind.length + 1) {
          // Werkzeug decodes the path (so %2F becomes /) before the handler sees it.
          return this.invoke(
            this.artifactRoutes.get(kind) ?? {},
            request,
            decodePath(rest.slice(kind.length + 1)),
          );
        }
      }
      break;
    }
    if (pathname === '/get-artifact') return this.invoke({ GET: (r) => this.getArtifactUi(r) }, request, '');
    return textReply(NOT_FOUND_HTML, 404, 'text/html; charset=utf-8');
  }

  private invoke(methods: Partial<Record<string, Handler>>, req: ApiRequest, subpath: string): Reply {
    const handler = methods[req.method];
    if (!handler) {
      const allowed = Object.keys(methods);
      if (allowed.includes('GET')) allowed.push('HEAD');
      if (req.method === 'OPTIONS') {
        return { status: 200, headers: { Allow: [...allowed, 'OPTIONS'].join(', ') }, body: Buffer.alloc(0) };
      }
      return this.methodNotAllowed(allowed);
    }
    try {
      return handler(req, subpath);
    } catch (e) {
      if (e instanceof MlflowError) return errorReply(e);
      throw e;
    }
  }

  private methodNotAllowed(allowed: string[]): Reply {
    const reply = textReply(METHOD_NOT_ALLOWED_HTML, 405, 'text/html; charset=utf-8');
    reply.headers.Allow = [...allowed, 'OPTIONS'].join(', ');
    return reply;
  }

  private injectedFailure(): Reply {
    const { status, retryAfterSeconds } = this.failures;
    // Keep error_code and HTTP status consistent with MLflow's table where the status has a code of its own.
    const code: ErrorCode =
      status === 429
        ? 'REQUEST_LIMIT_EXCEEDED'
        : status === 500
          ? 'INTERNAL_ERROR'
          : status === 504
            ? 'DEADLINE_EXCEEDED'
            : 'TEMPORARILY_UNAVAILABLE';
    const headers: Record<string, string> = {};
    if (retryAfterSeconds !== undefined) headers['Retry-After'] = String(retryAfterSeconds);
    return jsonReply(
      { error_code: code, message: `Injected failure (FakeMlflowServer.failNext): HTTP ${status}` },
      status,
      headers,
    );
  }

  private authorized(header: string | undefined): boolean {
    const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
    if (!m || !this.auth) return false;
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return (
      colon >= 0 &&
      decoded.slice(0, colon) === this.auth.username &&
      decoded.slice(colon + 1) === this.auth.password
    );
  }

  /** `_get_request_json` for POST/PUT: strict Content-Type, then a forgiving parse (garbage reads as {}). */
  private postBody(req: ApiRequest): Json {
    const contentType = req.headers['content-type'];
    if (contentType === undefined || contentType.split(';')[0] !== 'application/json') {
      throw invalidParameter("Bad Request. Content-Type must be one of ['application/json'].");
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(req.raw.toString('utf8'));
      // Older clients double-encode the JSON as a string; MLflow decodes it a second time.
      if (typeof parsed === 'string') parsed = JSON.parse(parsed);
    } catch {
      parsed = undefined;
    }
    const body =
      typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Json) : {};
    stringifyExperimentIds(body);
    return body;
  }

  /** GET parameters: repeated keys become lists, single ones stay strings. */
  private queryBody(req: ApiRequest): Json {
    const body: Json = queryRecord(req.query);
    stringifyExperimentIds(body);
    return body;
  }

  private body(req: ApiRequest): Json {
    return req.method === 'GET' ? this.queryBody(req) : this.postBody(req);
  }

  // --- routes ---

  private registerRoutes(): void {
    const api = (path: string, methods: Partial<Record<string, Handler>>, ajaxOnly = false): void => {
      this.routes.set(path, { methods, ajaxOnly });
    };
    api('experiments/create', { POST: (r) => this.createExperiment(r) });
    api('experiments/get-by-name', { GET: (r) => this.getExperimentByName(r) });
    api('experiments/get', { GET: (r) => this.getExperiment(r) });
    const search = (r: ApiRequest): Reply => this.searchExperiments(r);
    api('experiments/search', { POST: search, GET: search });
    api('experiments/delete', { POST: (r) => this.setExperimentLifecycle(r, 'deleted') });
    api('experiments/restore', { POST: (r) => this.setExperimentLifecycle(r, 'active') });
    api('experiments/update', { POST: (r) => this.renameExperiment(r) });
    api('experiments/set-experiment-tag', { POST: (r) => this.setExperimentTag(r) });
    api('runs/create', { POST: (r) => this.createRun(r) });
    api('runs/update', { POST: (r) => this.updateRun(r) });
    api('runs/get', { GET: (r) => this.getRun(r) });
    api('runs/search', { POST: (r) => this.searchRuns(r) });
    api('runs/delete', { POST: (r) => this.setRunLifecycle(r, 'deleted') });
    api('runs/restore', { POST: (r) => this.setRunLifecycle(r, 'active') });
    api('runs/log-metric', { POST: (r) => this.logMetric(r) });
    api('runs/log-parameter', { POST: (r) => this.logParam(r) });
    api('runs/set-tag', { POST: (r) => this.setTag(r) });
    api('runs/delete-tag', { POST: (r) => this.deleteTag(r) });
    api('runs/log-batch', { POST: (r) => this.logBatch(r) });
    api('metrics/get-history', { GET: (r) => this.getMetricHistory(r) });
    api('metrics/get-history-bulk', { GET: (r) => this.getMetricHistoryBulk(r) }, true);
    api('artifacts/list', { GET: (r) => this.listRunArtifacts(r) });

    this.artifactRoutes.set('list', { GET: (r) => this.proxyList(r) });
    this.artifactRoutes.set('artifacts', {
      GET: (r, p) => this.proxyDownload(p),
      PUT: (r, p) => this.proxyUpload(r, p),
      DELETE: (r, p) => this.proxyDelete(p),
    });
    // A local --artifacts-destination has no multipart support; the Python client then falls back to PUT.
    const noMultipart: Handler = () => {
      throw new MlflowError(
        'NOT_IMPLEMENTED',
        'Multipart upload is not supported for the current artifact repository',
      );
    };
    for (const kind of ['mpu/create', 'mpu/complete', 'mpu/abort'])
      this.artifactRoutes.set(kind, { POST: noMultipart });
  }

  // --- experiments ---

  private experimentJson(e: ExperimentRecord): ExperimentJson {
    const out: ExperimentJson = {
      experiment_id: e.id,
      name: e.name,
      artifact_location: e.artifactLocation,
      lifecycle_stage: e.lifecycle,
      last_update_time: e.lastUpdateTime,
      creation_time: e.creationTime,
    };
    if (e.tags.size > 0) out.tags = pairs(e.tags);
    return out;
  }

  private experimentOr404(id: string, view: ViewType = 'ALL'): ExperimentRecord {
    const e = this.experiments.get(id);
    if (!e || !inView(e.lifecycle, view)) {
      throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No Experiment with id=${id} exists`);
    }
    return e;
  }

  private requireActiveExperiment(e: ExperimentRecord): void {
    if (e.lifecycle !== 'active') {
      throw invalidParameter(
        `The experiment ${e.id} must be in the 'active' state. Current state is ${e.lifecycle}.`,
      );
    }
  }

  private readTagList(body: Json, key: string): Array<{ key: string; value: string }> {
    return readArray(body, key).map((item, i) => {
      const tag = asObject(item, `${key}[${i}]`);
      return {
        key: readString(tag, 'key', false, `${key}[${i}].key`) ?? '',
        value: readString(tag, 'value', false, `${key}[${i}].value`) ?? '',
      };
    });
  }

  private createExperiment(req: ApiRequest): Reply {
    const body = this.postBody(req);
    const name = readString(body, 'name', true) as string;
    const artifactLocation = readString(body, 'artifact_location', false);
    const tags = this.readTagList(body, 'tags');
    validateExperimentName(name);
    for (const t of tags) validateExperimentTag(t.key, t.value);
    if (artifactLocation?.startsWith('runs:')) {
      throw invalidParameter(`Artifact location cannot be a runs:/ URI. Given: '${artifactLocation}'`);
    }
    // The name is UNIQUE in the database whatever the lifecycle stage, so deleted experiments keep theirs.
    if ([...this.experiments.values()].some((e) => e.name === name)) {
      throw new MlflowError(
        'RESOURCE_ALREADY_EXISTS',
        `Experiment(name=${name}) already exists. Error: (sqlite3.IntegrityError) UNIQUE constraint failed: experiments.name`,
      );
    }
    const id = String(this.nextExperimentId++);
    const now = Date.now();
    this.experiments.set(id, {
      id,
      name,
      artifactLocation: artifactLocation || this.defaultArtifactLocation(id),
      lifecycle: 'active',
      creationTime: now,
      lastUpdateTime: now,
      tags: new Map(tags.map((t) => [t.key, t.value])),
    });
    return jsonReply({ experiment_id: id });
  }

  private getExperimentByName(req: ApiRequest): Reply {
    const name = readString(this.queryBody(req), 'experiment_name', true) as string;
    const e = [...this.experiments.values()].find((x) => x.name === name);
    if (!e) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Could not find experiment with name '${name}'`);
    return jsonReply({ experiment: this.experimentJson(e) });
  }

  private getExperiment(req: ApiRequest): Reply {
    const id = readString(this.queryBody(req), 'experiment_id', true) as string;
    return jsonReply({ experiment: this.experimentJson(this.experimentOr404(id)) });
  }

  private searchExperiments(req: ApiRequest): Reply {
    const body = this.body(req);
    const maxResults = validateMaxResults(readInt(body, 'max_results', false), SEARCH_MAX_RESULTS_DEFAULT);
    const pageToken = readString(body, 'page_token', false);
    const filter = readString(body, 'filter', false);
    // A single GET parameter arrives as a plain string; a JSON body must send a list.
    const orderBy =
      req.method === 'GET' && typeof body.order_by === 'string'
        ? [body.order_by]
        : readStringArray(body, 'order_by');
    const view = readEnum(body, 'view_type', VIEW_TYPES) ?? 'ACTIVE_ONLY';

    const clauses = parseFilter(filter, EXPERIMENT_ENTITY_ALIASES);
    const attributes = ['name', 'experiment_id', ...EXPERIMENT_NUMERIC_ATTRIBUTES];
    const order = parseOrderBy(
      orderBy.length > 0 ? orderBy : ['creation_time DESC', 'experiment_id ASC'],
      EXPERIMENT_ENTITY_ALIASES,
      attributes,
    );
    const tagOrder = order.find((o) => o.entity !== 'attribute');
    if (tagOrder) throw invalidParameter(`Invalid order_by entity: ${tagOrder.entity}`);
    if (!order.some((o) => o.key === 'experiment_id')) {
      order.push({ entity: 'attribute', key: 'experiment_id', ascending: true });
    }
    const offset = parsePageToken(pageToken);

    const matches = [...this.experiments.values()].filter(
      (e) => inView(e.lifecycle, view) && clauses.every((c) => this.experimentMatches(e, c)),
    );
    const sortValue = (e: ExperimentRecord, key: string): SortValue => {
      if (key === 'experiment_id') return { rank: 0, v: Number(e.id) };
      if (key === 'name') return { rank: 0, v: e.name };
      return { rank: 0, v: key === 'creation_time' ? e.creationTime : e.lastUpdateTime };
    };
    matches.sort((a, b) => {
      for (const o of order) {
        const c = compareSortValues(sortValue(a, o.key), sortValue(b, o.key), o.ascending);
        if (c !== 0) return c;
      }
      return 0;
    });
    const page = matches.slice(offset, offset + maxResults);
    const out: { experiments?: ExperimentJson[]; next_page_token?: string } = {};
    if (page.length > 0) out.experiments = page.map((e) => this.experimentJson(e));
    // search_experiments fetches max_results + 1 rows, so it only hands out a token when more remain.
    if (matches.length > offset + maxResults) out.next_page_token = createPageToken(offset + maxResults);
    return jsonReply(out);
  }

  private experimentMatches(e: ExperimentRecord, c: Clause): boolean {
    if (c.entity === 'tag') {
      requireOp(c.op, STRING_OPS);
      const value = requireString(c, 'Tag');
      const actual = e.tags.get(c.key);
      return actual !== undefined && compareString(actual, c.op, value);
    }
    if (c.key === 'name') {
      requireOp(c.op, STRING_OPS);
      return compareString(e.name, c.op, requireString(c, 'Name'));
    }
    if (EXPERIMENT_NUMERIC_ATTRIBUTES.includes(c.key)) {
      requireOp(c.op, NUMERIC_OPS);
      const expected = requireNumber(c, c.key);
      return compareNumber(c.key === 'creation_time' ? e.creationTime : e.lastUpdateTime, c.op, expected);
    }
    throw invalidParameter(
      `Invalid attribute key '${c.key}' specified. Valid keys are '${pyRepr(['name', ...EXPERIMENT_NUMERIC_ATTRIBUTES])}'`,
    );
  }

  private setExperimentLifecycle(req: ApiRequest, target: LifecycleStage): Reply {
    const id = readString(this.postBody(req), 'experiment_id', true) as string;
    const e = this.experimentOr404(id, target === 'deleted' ? 'ACTIVE_ONLY' : 'DELETED_ONLY');
    e.lifecycle = target;
    e.lastUpdateTime = Date.now();
    // The SQL store cascades: deleting (restoring) an experiment deletes (restores) all of its runs.
    for (const r of this.runs.values()) if (r.experimentId === id) r.lifecycle = target;
    return jsonReply({});
  }

  private renameExperiment(req: ApiRequest): Reply {
    const body = this.postBody(req);
    const id = readString(body, 'experiment_id', true) as string;
    const newName = readString(body, 'new_name', true) as string;
    validateExperimentName(newName);
    const e = this.experimentOr404(id);
    if (e.lifecycle !== 'active')
      throw new MlflowError('INVALID_STATE', 'Cannot rename a non-active experiment.');
    if ([...this.experiments.values()].some((x) => x.name === newName && x !== e)) {
      throw new MlflowError('RESOURCE_ALREADY_EXISTS', `Experiment(name=${newName}) already exists.`);
    }
    e.name = newName;
    e.lastUpdateTime = Date.now();
    return jsonReply({});
  }

  private setExperimentTag(req: ApiRequest): Reply {
    const body = this.postBody(req);
    const id = readString(body, 'experiment_id', true) as string;
    const key = readString(body, 'key', true) as string;
    const value = readString(body, 'value', false) ?? '';
    validateExperimentTag(key, value);
    const e = this.experimentOr404(id);
    this.requireActiveExperiment(e);
    e.tags.set(key, value);
    return jsonReply({});
  }

  // --- runs ---

  private runInfoJson(r: RunRecord): RunInfoJson {
    // Key order as recorded from the real server, so snapshot-style comparisons line up.
    const info: RunInfoJson = {
      run_uuid: r.runId,
      experiment_id: r.experimentId,
      run_name: r.name,
      user_id: r.userId,
      status: r.status,
      start_time: r.startTime,
      artifact_uri: r.artifactUri,
      lifecycle_stage: r.lifecycle,
      run_id: r.runId,
    };
    if (r.endTime === undefined) return info;
    const { artifact_uri, lifecycle_stage, run_id, ...head } = info;
    return { ...head, end_time: r.endTime, artifact_uri, lifecycle_stage, run_id };
  }

  private runDataJson(r: RunRecord): RunDataJson {
    const data: RunDataJson = {};
    if (r.latest.size > 0) data.metrics = [...r.latest.values()].map(metricJson);
    if (r.params.size > 0) data.params = pairs(r.params);
    if (r.tags.size > 0) data.tags = pairs(r.tags);
    return data;
  }

  private runJson(r: RunRecord): RunJson {
    return { info: this.runInfoJson(r), data: this.runDataJson(r), inputs: {} };
  }

  private runOr404(runId: string): RunRecord {
    const r = this.runs.get(runId);
    if (!r) throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `Run with id=${runId} not found`);
    return r;
  }

  private requireActiveRun(r: RunRecord): void {
    if (r.lifecycle !== 'active') {
      throw invalidParameter(
        `The run ${r.runId} must be in the 'active' state. Current state is ${r.lifecycle}.`,
      );
    }
  }

  /** Handlers read `run_id` and fall back to the deprecated `run_uuid`. */
  private readRunId(body: Json): string {
    const value = isAbsent(body.run_id) && !isAbsent(body.run_uuid) ? body.run_uuid : body.run_id;
    return readString({ run_id: value }, 'run_id', true) as string;
  }

  private createRun(req: ApiRequest): Reply {
    const body = this.postBody(req);
    const experimentId = readString(body, 'experiment_id', false) || '0';
    const userId = readString(body, 'user_id', false) ?? '';
    const startTime = readInt(body, 'start_time', false) ?? 0;
    const runNameArg = readString(body, 'run_name', false) ?? '';
    const tags = this.readTagList(body, 'tags').map((t, i) => validateRunTag(t.key, t.value, `tags[${i}]`));

    const experiment = this.experimentOr404(experimentId);
    this.requireActiveExperiment(experiment);
    const nameTag = tags.find((t) => t.key === RUN_NAME_TAG)?.value;
    if (runNameArg && nameTag && runNameArg !== nameTag) {
      throw invalidParameter(
        `Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values (run_name='${runNameArg}', mlflow.runName='${nameTag}').`,
      );
    }
    const name = runNameArg || nameTag || randomRunName();
    if (!nameTag) tags.push({ key: RUN_NAME_TAG, value: name });

    const runId = randomBytes(16).toString('hex');
    const run: RunRecord = {
      runId,
      experimentId,
      name,
      userId,
      status: 'RUNNING',
      startTime,
      artifactUri: `${experiment.artifactLocation.replace(/\/+$/, '')}/${runId}/artifacts`,
      lifecycle: 'active',
      history: [],
      historyByKey: new Map(),
      points: new Set(),
      latest: new Map(),
      params: new Map(),
      tags: new Map(tags.map((t) => [t.key, t.value])),
    };
    this.runs.set(runId, run);
    // The recorded create response has no "inputs" key, unlike runs/get.
    return jsonReply({ run: { info: this.runInfoJson(run), data: this.runDataJson(run) } });
  }

  private updateRun(req: ApiRequest): Reply {
    const body = this.postBody(req);
    const runId = this.readRunId(body);
    const status = readEnum(body, 'status', RUN_STATUSES);
    const endTime = readInt(body, 'end_time', false);
    const runName = readString(body, 'run_name', false);
    const run = this.runOr404(runId);
    this.requireActiveRun(run);
    if (status !== undefined) run.status = status;
    if (endTime !== undefined) run.endTime = endTime;
    if (runName) {
      run.name = runName;
      run.tags.set(RUN_NAME_TAG, runName);
    }
    return jsonReply({ run_info: this.runInfoJson(run) });
  }

  private getRun(req: ApiRequest): Reply {
    const runId = this.readRunId(this.queryBody(req));
    return jsonReply({ run: this.runJson(this.runOr404(runId)) });
  }

  private setRunLifecycle(req: ApiRequest, target: LifecycleStage): Reply {
    const run = this.runOr404(this.readRunId(this.postBody(req)));
    run.lifecycle = target;
    return jsonReply({});
  }

  private searchRuns(req: ApiRequest): Reply {
    const body = this.postBody(req);
    const experimentIds = readStringArray(body, 'experiment_ids');
    const filter = readString(body, 'filter', false);
    const view = readEnum(body, 'run_view_type', VIEW_TYPES) ?? 'ACTIVE_ONLY';
    const maxResults = validateMaxResults(readInt(body, 'max_results', false), SEARCH_MAX_RESULTS_DEFAULT);
    const orderBy = readStringArray(body, 'order_by');
    const pageToken = readString(body, 'page_token', false);

    const clauses = parseFilter(filter, RUN_ENTITY_ALIASES);
    for (const c of clauses) validateRunClause(c);
    const attributes = [...RUN_STRING_ATTRIBUTES, ...RUN_NUMERIC_ATTRIBUTES];
    const order = parseOrderBy(orderBy, RUN_ENTITY_ALIASES, [...attributes, 'created']).map((o) =>
      o.entity === 'attribute' ? { ...o, key: RUN_ATTRIBUTE_ALIASES[o.key] ?? o.key } : o,
    );
    // The SQL store's tie-breakers: newest first, then run id.
    if (!order.some((o) => o.entity === 'attribute' && o.key === 'start_time')) {
      order.push({ entity: 'attribute', key: 'start_time', ascending: false });
    }
    order.push({ entity: 'attribute', key: 'run_id', ascending: true });
    const offset = parsePageToken(pageToken);

    const matches = [...this.runs.values()].filter(
      (r) =>
        experimentIds.includes(r.experimentId) &&
        inView(r.lifecycle, view) &&
        clauses.every((c) => this.runMatches(r, c)),
    );
    matches.sort((a, b) => {
      for (const o of order) {
        const c = compareSortValues(this.runSortValue(a, o), this.runSortValue(b, o), o.ascending);
        if (c !== 0) return c;
      }
      return 0;
    });
    const page = matches.slice(offset, offset + maxResults);
    const out: { runs?: RunJson[]; next_page_token?: string } = {};
    if (page.length > 0) out.runs = page.map((r) => this.runJson(r));
    // _search_runs hands out a token whenever the page is full, even if nothing is left: clients must cope
    // with a last page that is just `{}`.
    if (page.length === maxResults) out.next_page_token = createPageToken(offset + maxResults);
    return jsonReply(out);
  }

  private runAttribute(r: RunRecord, key: string): string | number | undefined {
    switch (key) {
      case 'run_id':
        return r.runId;
      case 'run_name':
        return r.name;
      case 'status':
        return r.status;
      case 'user_id':
        return r.userId;
      case 'artifact_uri':
        return r.artifactUri;
      case 'start_time':
        return r.startTime;
      case 'end_time':
        return r.endTime;
      default:
        return undefined;
    }
  }

  /** Whether run `r` satisfies clause `c` (checked by validateRunClause). A run lacking the key never does. */
  private runMatches(r: RunRecord, c: Clause): boolean {
    switch (c.entity) {
      case 'metric': {
        const latest = r.latest.get(c.key);
        return (
          latest !== undefined && compareNumber(comparableValue(latest.value), c.op, c.value.v as number)
        );
      }
      case 'param':
      case 'tag': {
        const actual = (c.entity === 'param' ? r.params : r.tags).get(c.key);
        return actual !== undefined && compareString(actual, c.op, c.value);
      }
      default: {
        const actual = this.runAttribute(r, c.key);
        if (RUN_NUMERIC_ATTRIBUTES.includes(c.key))
          return typeof actual === 'number' && compareNumber(actual, c.op, c.value.v as number);
        return actual !== undefined && compareString(String(actual), c.op, c.value);
      }
    }
  }

  private runSortValue(r: RunRecord, o: OrderSpec): SortValue {
    if (o.entity === 'metric') {
      const m = r.latest.get(o.key);
      if (!m) return { rank: 2, v: 0 };
      return Number.isNaN(m.value) ? { rank: 1, v: 0 } : { rank: 0, v: m.value };
    }
    const v =
      o.entity === 'attribute'
        ? this.runAttribute(r, o.key)
        : (o.entity === 'param' ? r.params : r.tags).get(o.key);
    return v === undefined ? { rank: 2, v: 0 } : { rank: 0, v };
  }

  // --- logging ---

  /** Stores one metric point, unless the identical point (key, value, timestamp, step) is already there. */
  private storeMetric(run: RunRecord, m: MetricInput): void {
    // SQL cannot hold infinities, so the SQL store writes the largest finite doubles instead.
    const value = m.value === Infinity ? MAX_FLOAT : m.value === -Infinity ? -MAX_FLOAT : m.value;
    const point: StoredMetric = { key: m.key, value, timestamp: m.timestamp, step: m.step };
    const id = JSON.stringify([m.key, m.timestamp, m.step, Number.isNaN(value) ? 'nan' : value]);
    if (run.points.has(id)) return;
    run.points.add(id);
    run.history.push(point);
    const perKey = run.historyByKey.get(m.key);
    if (perKey) perKey.push(point);
    else run.historyByKey.set(m.key, [point]);
    const latest = run.latest.get(m.key);
    if (!latest || isNewer(point, latest)) run.latest.set(m.key, point);
  }

  private storeTag(run: RunRecord, tag: TagJson): void {
    run.tags.set(tag.key, tag.value);
    // The mlflow.runName tag and run_name are one and the same in the SQL store.
    if (tag.key === RUN_NAME_TAG) run.name = tag.value;
  }

  private logMetric(req: ApiRequest): Reply {
    const body = this.postBody(req);
    const runId = this.readRunId(body);
    const key = readString(body, 'key', true) as string;
    const value = readDouble(body, 'value', true) as number;
    const timestamp = readInt(body, 'timestamp', true) as number;
    const step = readInt(body, 'step', false) ?? 0;
    const metric = { key, value, timestamp, step };
    validateMetric(metric, '');
    const run = this.runOr404(runId);
    this.requireActiveRun(run);
    this.storeMetric(run, metric);
    return jsonReply({});
  }

  private logParam(req: ApiRequest): Reply {
    const body = this.postBody(req);
    const runId = this.readRunId(body);
    const key = readString(body, 'key', true) as string;
    const value = readString(body, 'value', false) ?? '';
    const param = validateParam(key, value, '');
    const run = this.runOr404(runId);
    this.requireActiveRun(run);
    const old = run.params.get(param.key);
    if (old !== undefined && old !== param.value) {
      throw invalidParameter(
        `Changing param values is not allowed. Param with key='${param.key}' was already logged with value='${old}' for run ID='${runId}'. Attempted logging new value '${param.value}'.`,
      );
    }
    run.params.set(param.key, param.value);
    return jsonReply({});
  }

  private setTag(req: ApiRequest): Reply {
    const body = this.postBody(req);
    const runId = this.readRunId(body);
    const key = readString(body, 'key', true) as string;
    const value = readString(body, 'value', false) ?? '';
    const tag = validateRunTag(key, value, '');
    const run = this.runOr404(runId);
    this.requireActiveRun(run);
    this.storeTag(run, tag);
    return jsonReply({});
  }

  private deleteTag(req: ApiRequest): Reply {
    const body = this.postBody(req);
    const runId = this.readRunId(body);
    const key = readString(body, 'key', true) as string;
    const run = this.runOr404(runId);
    this.requireActiveRun(run);
    if (!run.tags.has(key)) {
      throw new MlflowError('RESOURCE_DOES_NOT_EXIST', `No tag with name: ${key} in run with id ${runId}`);
    }
    run.tags.delete(key);
    return jsonReply({});
  }

  private logBatch(req: ApiRequest): Reply {
    const body = this.postBody(req);
    const runId = this.readRunId(body);
    const rawMetrics = readArray(body, 'metrics');
    const rawParams = readArray(body, 'params');
    const rawTags = readArray(body, 'tags');

    // 1. The handler's schema: presence of the required fields of every element.
    rawMetrics.forEach((item, i) => {
      const m = asObject(item, `metrics[${i}]`);
      for (const field of ['key', 'value', 'timestamp']) {
        if (isMissing(m[field])) throw missingValue(`metrics[${i}].${field}`);
      }
    });
    for (const [name, list] of [
      ['params', rawParams],
      ['tags', rawTags],
    ] as const) {
      list.forEach((item, i) => {
        if (isMissing(asObject(item, `${name}[${i}]`).key)) throw missingValue(`${name}[${i}].key`);
      });
    }
    // 2. Proto parsing of the elements.
    const metrics: MetricInput[] = rawMetrics.map((item, i) => {
      const m = item as Json;
      const at = `metrics[${i}]`;
      return {
        key: readString(m, 'key', true, `${at}.key`) as string,
        value: readDouble(m, 'value', true, `${at}.value`) as number,
        timestamp: readInt(m, 'timestamp', true, `${at}.timestamp`) as number,
        step: readInt(m, 'step', false, `${at}.step`) ?? 0,
      };
    });
    const readPair = (item: unknown, at: string): ParamJson => ({
      key: readString(item as Json, 'key', true, `${at}.key`) as string,
      value: readString(item as Json, 'value', false, `${at}.value`) ?? '',
    });
    // 3. The store's checks, in SqlAlchemyStore.log_batch order: data, limits, unique keys, run, active.
    metrics.forEach((m, i) => validateMetric(m, `metrics[${i}]`));
    const params = rawParams
      .map((p, i) => readPair(p, `params[${i}]`))
      .map((p, i) => validateParam(p.key, p.value, `params[${i}]`));
    const tags = rawTags
      .map((t, i) => readPair(t, `tags[${i}]`))
      .map((t, i) => validateRunTag(t.key, t.value, `tags[${i}]`));
    batchLimit('metrics', MAX_METRICS_PER_BATCH, metrics.length);
    batchLimit('params', MAX_PARAMS_TAGS_PER_BATCH, params.length);
    batchLimit('tags', MAX_PARAMS_TAGS_PER_BATCH, tags.length);
    batchLimit(
      'metrics, params, and tags',
      MAX_ENTITIES_PER_BATCH,
      metrics.length + params.length + tags.length,
    );
    const seen = new Set<string>();
    const dupes: string[] = [];
    for (const p of params) {
      if (seen.has(p.key)) dupes.push(p.key);
      seen.add(p.key);
    }
    if (dupes.length > 0) {
      throw invalidParameter(
        `Duplicate parameter keys have been submitted: ${pyRepr(dupes)}. Please ensure the request contains only one param value per param key.`,
      );
    }
    const run = this.runOr404(runId);
    this.requireActiveRun(run);
    // Params go first and a conflict aborts the whole batch before anything is written.
    const changed = params
      .filter((p) => run.params.has(p.key) && run.params.get(p.key) !== p.value)
      .map((p) => ({ key: p.key, old_value: run.params.get(p.key), new_value: p.value }));
    if (changed.length > 0) {
      throw invalidParameter(
        `Changing param values is not allowed. Params were already logged='${pyRepr(changed)}' for run ID='${runId}'.`,
      );
    }
    for (const p of params) run.params.set(p.key, p.value);
    for (const m of metrics) this.storeMetric(run, m);
    for (const t of tags) this.storeTag(run, t);
    return jsonReply({});
  }

  // --- metric history ---

  private getMetricHistory(req: ApiRequest): Reply {
    const body = this.queryBody(req);
    const runId = this.readRunId(body);
    const key = readString(body, 'metric_key', true) as string;
    const maxResults = readInt(body, 'max_results', false);
    const pageToken = readString(body, 'page_token', false);
    // Like the SQL store, an unknown run simply has no history.
    const all = this.runs.get(runId)?.historyByKey.get(key) ?? [];
    if (!this.paginateHistory) return jsonReply(all.length > 0 ? { metrics: all.map(metricJson) } : {});

    if (maxResults !== undefined && maxResults < 0) throw wrongType('max_results', body.max_results);
    const offset = parsePageToken(pageToken);
    if (!maxResults) {
      // MLflow 3.x bug (mlflow/mlflow#23916): without max_results the page is empty and the token points at the
      // same offset, so a client that does not send max_results loops forever or sees no data.
      return jsonReply({ next_page_token: createPageToken(offset) });
    }
    const page = all.slice(offset, offset + maxResults);
    const out: { metrics?: MetricJson[]; next_page_token?: string } = {};
    if (page.length > 0) out.metrics = page.map(metricJson);
    if (all.length > offset + maxResults) out.next_page_token = createPageToken(offset + maxResults);
    return jsonReply(out);
  }

  private getMetricHistoryBulk(req: ApiRequest): Reply {
    const runIds = req.query.getAll('run_id');
    if (runIds.length === 0)
      throw invalidParameter('GetMetricHistoryBulk request must specify at least one run_id.');
    if (runIds.length > GET_HISTORY_BULK_MAX_RUN_IDS) {
      throw invalidParameter(
        `GetMetricHistoryBulk request cannot specify more than ${GET_HISTORY_BULK_MAX_RUN_IDS} run_ids. Received ${runIds.length} run_ids.`,
      );
    }
    const key = req.query.get('metric_key');
    if (key === null) throw invalidParameter('GetMetricHistoryBulk request must specify a metric_key.');
    const requested = Number(req.query.get('max_results') ?? GET_HISTORY_BULK_MAX_RESULTS);
    const maxResults = Math.min(
      Number.isInteger(requested) ? requested : GET_HISTORY_BULK_MAX_RESULTS,
      GET_HISTORY_BULK_MAX_RESULTS,
    );
    const metrics = [...runIds]
      .sort()
      .flatMap((runId) =>
        [...(this.runs.get(runId)?.historyByKey.get(key) ?? [])]
          .sort(
            (a, b) =>
              a.timestamp - b.timestamp ||
              a.step - b.step ||
              comparableValue(a.value) - comparableValue(b.value),
          )
          .map((m) => ({ ...metricJson(m), run_id: runId })),
      );
    return jsonReply({ metrics: metrics.slice(0, Math.max(0, maxResults)) });
  }

  // --- artifacts ---

  /** An experiment's artifact location when its creator names none (append_to_uri_path). */
  private defaultArtifactLocation(id: string): string {
    return this.artifactRoot === undefined ? `mlflow-artifacts:/${id}` : `${this.artifactRoot}/${id}`;
  }

  /** The folder of this machine a run's artifact_uri names, when it is a bare path or a file: URI. */
  private localRunFolder(run: RunRecord): string | undefined {
    const uri = run.artifactUri;
    if (uri.startsWith('/')) return uri;
    if (uri.startsWith('file:')) return fileURLToPath(uri);
    return undefined;
  }

  /** A local artifact repository's listing: entries directly under `relative`, paths from the run's root. */
  private listLocalFolder(folder: string, relative: string): FileInfoJson[] {
    const dir = nodePath.join(folder, relative);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return [];
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .map((e) => {
        const path = relative ? `${relative.replace(/\/+$/, '')}/${e.name}` : e.name;
        return e.isDirectory()
          ? { path, is_dir: true }
          : { path, is_dir: false, file_size: fs.statSync(nodePath.join(dir, e.name)).size };
      })
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private listArtifactDir(dir: string): FileInfoJson[] {
    const base = normalizeArtifactPath(dir);
    const prefix = base ? `${base}/` : '';
    const entries = new Map<string, FileInfoJson>();
    for (const [file, data] of this.artifacts) {
      if (!file.startsWith(prefix)) continue;
      const rest = file.slice(prefix.length);
      const slash = rest.indexOf('/');
      if (slash < 0) entries.set(rest, { path: rest, is_dir: false, file_size: data.length });
      else entries.set(rest.slice(0, slash), { path: rest.slice(0, slash), is_dir: true });
    }
    return [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }

  private isArtifactDir(path: string): boolean {
    const prefix = `${path}/`;
    return [...this.artifacts.keys()].some((k) => k.startsWith(prefix));
  }

  private proxyList(req: ApiRequest): Reply {
    const path = req.query.get('path');
    const files = this.listArtifactDir(path === null ? '' : validateArtifactPath(path));
    return jsonReply(files.length > 0 ? { files } : {});
  }

  private proxyUpload(req: ApiRequest, rawPath: string): Reply {
    const path = normalizeArtifactPath(validateArtifactPath(rawPath));
    // The real store is a file system: a file cannot replace a directory, nor live below another file.
    if (this.isArtifactDir(path)) {
      throw new MlflowError('INTERNAL_ERROR', `[Errno 21] Is a directory: '${ARTIFACT_STORE_ROOT}/${path}'`);
    }
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join('/');
      if (this.artifacts.has(parent)) {
        throw new MlflowError(
          'INTERNAL_ERROR',
          `[Errno 20] Not a directory: '${ARTIFACT_STORE_ROOT}/${parent}'`,
        );
      }
    }
    this.artifacts.set(path, Buffer.from(req.raw));
    return jsonReply({});
  }

  private sendArtifact(path: string): Reply {
    const data = this.artifacts.get(path);
    if (!data) {
      // The local repository reports a missing file as a generic MlflowException, i.e. 500 INTERNAL_ERROR.
      const failures = pyRepr({ [path]: "FileNotFoundError(2, 'No such file or directory')" });
      throw new MlflowError(
        'INTERNAL_ERROR',
        `The following failures occurred while downloading one or more artifacts from ${ARTIFACT_STORE_ROOT}: ${failures}`,
      );
    }
    const filename = path.slice(path.lastIndexOf('/') + 1);
    return {
      status: 200,
      headers: {
        'Content-Type': guessMimeType(filename),
        'Content-Disposition': contentDisposition(filename),
        'X-Content-Type-Options': 'nosniff',
      },
      body: data,
    };
  }

  private proxyDownload(rawPath: string): Reply {
    return this.sendArtifact(normalizeArtifactPath(validateArtifactPath(rawPath)));
  }

  private proxyDelete(rawPath: string): Reply {
    const path = normalizeArtifactPath(validateArtifactPath(rawPath));
    // Deletes a file or a whole directory; a missing path is not an error.
    for (const key of [...this.artifacts.keys()]) {
      if (key === path || key.startsWith(`${path}/`)) this.artifacts.delete(key);
    }
    return jsonReply({});
  }

  /** The proxy-store path of a run's artifact root, or undefined if the run is not served by the proxy. */
  private runArtifactRoot(run: RunRecord): string | undefined {
    const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/*(.*)$/.exec(run.artifactUri);
    return m ? normalizeArtifactPath(m[1]) : undefined;
  }

  private listRunArtifacts(req: ApiRequest): Reply {
    const body = this.queryBody(req);
    const runId = this.readRunId(body);
    const rawPath = readString(body, 'path', false);
    const relative = rawPath ? validateArtifactPath(rawPath) : '';
    const run = this.runOr404(runId);
    const root = this.runArtifactRoot(run);
    const out: { root_uri: string; files?: FileInfoJson[] } = { root_uri: run.artifactUri };
    if (root === undefined) {
      // a local --default-artifact-root: the server lists its own folder
      const folder = this.localRunFolder(run);
      const files = folder === undefined ? [] : this.listLocalFolder(folder, relative);
      if (files.length > 0) out.files = files;
      return jsonReply(out);
    }
    const files = this.listArtifactDir(relative ? `${root}/${relative}` : root).map((f) => ({
      ...f,
      path: relative ? `${relative.replace(/\/+$/, '')}/${f.path}` : f.path,
    }));
    if (files.length > 0) out.files = files;
    return jsonReply(out);
  }

  private getArtifactUi(req: ApiRequest): Reply {
    const runId = req.query.get('run_id') ?? req.query.get('run_uuid') ?? '';
    const path = validateArtifactPath(req.query.get('path') ?? '');
    const run = this.runOr404(runId);
    const root = this.runArtifactRoot(run);
    const folder = this.localRunFolder(run);
    if (root === undefined && folder !== undefined) {
      // a local --default-artifact-root: the server reads its own folder
      const file = nodePath.join(folder, path);
      if (!fs.existsSync(file))
        throw new MlflowError('INTERNAL_ERROR', `No such file or directory: '${file}'`);
      return { status: 200, headers: { 'Content-Type': guessMimeType(file) }, body: fs.readFileSync(file) };
    }
    if (root === undefined)
      throw new MlflowError('INTERNAL_ERROR', `Run ${runId} is not served by the artifact proxy`);
    return this.sendArtifact(normalizeArtifactPath(`${root}/${path}`));
  }
}
