/**
 * The event batch of `POST /api/v1/experiments/{exp}/events` (docs/http-api.md): compact columnar
 * JSON, decoded and checked row by row into the events a store appends. One bad row refuses the
 * whole batch, with a message naming it.
 */
import type { PendingEvent } from '@omega-track/core';
import { TrackingInputError } from '@omega-track/core';
import {
  BASE_FIELDS,
  encodeValue,
  MAX_DATE_MS,
  validateEventSize,
  validateKey,
  validateValue,
  validateValueLength,
} from '@omega-track/core/internal';
import { checkArtifactReference } from './artifactReferences';

/** The most rows one batch holds. */
export const MAX_BATCH_ROWS = 1_000_000;
/** What a batch id looks like: 1..128 of `[A-Za-z0-9._:-]`. */
export const BATCH_ID = /^[A-Za-z0-9._:-]{1,128}$/;
/** The longest node or userid text. */
const MAX_IDENTITY_LENGTH = 250;

/** A decoded batch. */
export interface DecodedBatch {
  /** The batch id (idempotency: unique per content). */
  id: string;
  events: PendingEvent[];
  /** The artifact entries (`.experiments/.artefacts/…`) its artifact events name. */
  artefacts: Set<string>;
}

function refuse(message: string): never {
  throw new TrackingInputError(message);
}

/** A plain JSON object (not an array, not null). */
function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Checks an event value (what a recording call checks): storable, within its caps. */
export function checkValue(event: string, key: string, value: unknown): void {
  // the common case (a metric) costs nothing more
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return;
  validateValue(value);
  if (typeof value === 'string') validateEventSize(value.length, `the value of ${event} '${key}'`, false);
  else if (typeof value === 'object' && value !== null)
    validateEventSize(encodeValue(value).length, `the value of ${event} '${key}'`, true);
  validateValueLength(event, key, value);
}

/**
 * The extra fields of an event, checked, with `writer` set to the server's word for who wrote it.
 * `stamp` is `{ writer }`, one object for the whole batch: events without extra fields share it,
 * so the store turns it into JSON once per batch, not once per event.
 */
export function checkExtra(extra: unknown, stamp: { writer: string }): Record<string, unknown> {
  // the common case, no extra fields, costs nothing more
  if (extra === null || extra === undefined) return stamp;
  const writer = stamp.writer;
  if (!isObject(extra))
    refuse(`extra must be a JSON object or null, got ${Array.isArray(extra) ? 'an array' : typeof extra}`);
  const fields = extra;
  for (const name of Object.keys(fields)) {
    validateKey(name, 'extra field name');
    if (BASE_FIELDS.has(name))
      refuse(`extra field '${name}' collides with the base event field of that name`);
  }
  validateValue(fields, 'extra');
  validateEventSize(encodeValue(fields).length, 'the extra fields', true);
  // the writer is the server's word: whatever the client sent under that name is replaced
  return { ...fields, writer };
}

/**
 * Checks a step: null, or an integer within the safe-integer range — what a recording call takes
 * (core's validateStep), so every event a client can log can also be shipped.
 */
export function checkStep(step: unknown): number | null {
  if (step === null) return null;
  if (typeof step !== 'number' || !Number.isSafeInteger(step))
    refuse(`step must be null or an integer, got ${typeof step === 'number' ? step : typeof step}`);
  return step;
}

/** Checks a time: finite epoch milliseconds within a Date's range. */
export function checkDt(dt: unknown): number {
  if (typeof dt !== 'number' || !Number.isFinite(dt) || Math.abs(dt) > MAX_DATE_MS)
    refuse(`dt must be epoch milliseconds (a finite number), got ${typeof dt === 'number' ? dt : typeof dt}`);
  return dt;
}

/** Checks a node or userid text. */
export function checkIdentity(text: unknown, what: string): string {
  if (typeof text !== 'string') refuse(`${what} must be a string, got ${typeof text}`);
  if (text.length > MAX_IDENTITY_LENGTH) refuse(`${what} is over ${MAX_IDENTITY_LENGTH} characters`);
  return text;
}

const COLUMNS = ['run', 'event', 'key', 'value', 'step', 'dt', 'node', 'userid'] as const;

/**
 * Decodes and checks a batch (already parsed, non-finite numbers decoded) for `experiment`, whose
 * latest run is `latestRun`; every event gets `extra.writer` = `writer`. Throws
 * TrackingInputError naming the first bad row.
 */
export function decodeEventBatch(
  body: unknown,
  experiment: string,
  latestRun: number | undefined,
  writer: string,
): DecodedBatch {
  if (!isObject(body)) refuse('an event batch is a JSON object');
  const id = body.batch;
  if (typeof id !== 'string' || !BATCH_ID.test(id))
    refuse('batch must be an id of 1 to 128 characters [A-Za-z0-9._:-]');
  const strings = body.strings;
  if (!Array.isArray(strings) || strings.some((s) => typeof s !== 'string'))
    refuse('strings must be an array of strings');
  const columns: Record<string, unknown[]> = {};
  for (const name of COLUMNS) {
    const column = body[name];
    if (!Array.isArray(column)) refuse(`the column ${name} must be an array`);
    columns[name] = column;
  }
  const rows = columns.run.length;
  if (rows > MAX_BATCH_ROWS) refuse(`a batch holds at most ${MAX_BATCH_ROWS} rows, got ${rows}`);
  const extra = body.extra;
  if (extra !== undefined && extra !== null && !Array.isArray(extra))
    refuse('the column extra must be an array (or left out)');
  for (const name of COLUMNS)
    if (columns[name].length !== rows)
      refuse(`every column has as many rows: run has ${rows}, ${name} has ${columns[name].length}`);
  if (Array.isArray(extra) && extra.length !== rows)
    refuse(`every column has as many rows: run has ${rows}, extra has ${extra.length}`);

  const index = (column: string, i: number): number => {
    const at = columns[column][i];
    if (typeof at !== 'number' || !Number.isInteger(at) || at < 0 || at >= strings.length)
      refuse(`${column} is not an index into strings (0 to ${strings.length - 1}): ${String(at)}`);
    return at;
  };
  // the same few strings are named on every row: each is checked once per use, by its index
  const checked = {
    event: new Array<string | undefined>(strings.length),
    key: new Array<string | undefined>(strings.length),
    node: new Array<string | undefined>(strings.length),
    userid: new Array<string | undefined>(strings.length),
  };
  const name = (what: 'event' | 'key', i: number): string => {
    const at = index(what, i);
    let ok = checked[what][at];
    if (ok === undefined) {
      ok = validateKey(strings[at] as string, what);
      if (what === 'event' && ok === 'start') refuse("an event 'start' is written by POST …/runs only");
      checked[what][at] = ok;
    }
    return ok;
  };
  const identity = (what: 'node' | 'userid', i: number): string => {
    const at = index(what, i);
    return (checked[what][at] ??= checkIdentity(strings[at], what));
  };
  const events: PendingEvent[] = new Array<PendingEvent>(rows);
  const stamp = { writer };
  const artefacts = new Set<string>();
  for (let i = 0; i < rows; i++) {
    try {
      const run = columns.run[i];
      if (
        typeof run !== 'number' ||
        !Number.isInteger(run) ||
        run < 1 ||
        latestRun === undefined ||
        run > latestRun
      )
        refuse(
          `run ${String(run)} is not a started run of this experiment (${latestRun === undefined ? 'it has none' : `1 to ${latestRun}`}): start runs with POST …/runs`,
        );
      const event = name('event', i);
      const key = name('key', i);
      const value = columns.value[i];
      checkValue(event, key, value);
      const artefact = checkArtifactReference(event, value, experiment);
      if (artefact !== undefined) artefacts.add(artefact);
      events[i] = {
        run,
        event,
        key,
        value,
        step: checkStep(columns.step[i]),
        dt: checkDt(columns.dt[i]),
        node: identity('node', i),
        userid: identity('userid', i),
        extra: checkExtra(Array.isArray(extra) ? extra[i] : null, stamp),
      };
    } catch (error) {
      if (error instanceof TrackingInputError) refuse(`row ${i}: ${error.message}`);
      throw error;
    }
  }
  return { id, events, artefacts };
}
