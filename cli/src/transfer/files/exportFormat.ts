/**
 * The export files' format (the README's "The export format" describes it for people): the manifest,
 * the columns of the events and runs tables, and how one event becomes one row and back.
 */
import { TrackingInputError } from '@omega-track/core';
import type { Bucket, MetadataEntry, PendingEvent, RunInfo } from '@omega-track/core';
import { decodeValue, encodeValue } from '@omega-track/core/internal';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { ExportFileError } from './ExportFileError';

/** What `manifest.json`'s `format` says. */
export const EXPORT_FORMAT = 'omega-track-export';

/** The schema version this code writes and the newest it reads. */
export const EXPORT_SCHEMA_VERSION = 1;

/** The manifest's file name; written last, so an export without it is incomplete. */
export const MANIFEST_FILE = 'manifest.json';

/** The formats the tables are written in. */
export type ExportTableFormat = 'parquet' | 'jsonl';

/** A column's type: Parquet's physical/logical type, and how JSONL writes it (README: "The export format"). */
export type ColumnType = 'string' | 'int64' | 'double' | 'bool' | 'timestamp';

/** One column of a table. */
export interface ColumnSpec {
  name: string;
  type: ColumnType;
  /** Never null. */
  required: boolean;
  /** Parquet min/max statistics are written: for the columns a query selects on, not for free text. */
  statistics: boolean;
}

/** One cell as the tables hold it in memory: timestamps and int64 as numbers (ms, integers). */
export type Cell = string | number | boolean | null;

/** One row of a table: its cells in the order of the table's columns. */
export type Row = Cell[];

const column = (name: string, type: ColumnType, required = false, statistics = true): ColumnSpec => ({
  name,
  type,
  required,
  statistics,
});

/** The events table: one row per event, in each run's logging order, runs one after another. */
export const EVENT_COLUMNS: readonly ColumnSpec[] = [
  column('experiment', 'string', true),
  column('run', 'int64', true),
  column('event', 'string', true),
  column('key', 'string', true),
  column('float_value', 'double'),
  column('string_value', 'string', false, false),
  column('bool_value', 'bool'),
  column('json_value', 'string', false, false),
  column('step', 'int64'),
  column('timestamp', 'timestamp', true),
  column('node', 'string', true, false),
  column('userid', 'string', true, false),
  column('extras', 'string', false, false),
];

/** The runs table: one row per run, as `runs()` listed it in the source (informational). */
export const RUN_COLUMNS: readonly ColumnSpec[] = [
  column('experiment', 'string', true),
  column('run', 'int64', true),
  column('name', 'string'),
  column('status', 'string'),
  column('tags', 'string', false, false),
  column('note', 'string'),
  column('parent', 'int64'),
  column('started', 'timestamp'),
  column('stopped', 'timestamp'),
  column('error', 'string'),
];

/** An event as the manifest keeps it (a run's start event). */
export type ManifestEvent = Omit<PendingEvent, 'run'>;

/** One exported run: where its rows are in the events file, and its start event. */
export interface ManifestRun {
  run: number;
  /** Rows of the run in the events file, its start event included. */
  events: number;
  /** The run's rows in the events file: `[first, end)` (row numbers from 0). */
  rows: [number, number];
  /** JSONL only: the run's lines as a byte range `[first, end)` of the events file. */
  bytes?: [number, number];
  /** The start event (also the first of the run's rows). */
  start: ManifestEvent;
}

/** One exported experiment. */
export interface ManifestExperiment {
  name: string;
  /** Its `experiments/<name>` entry in the source (dates as ISO text), when it had one. */
  entry?: unknown;
  runs: ManifestRun[];
}

/** One file of artifact content: an entry (`artifacts/entries/…`) or a blob (`artifacts/blobs/…`). */
export interface ManifestEntryFile {
  bucket: Bucket;
  name: string;
  file: string;
}

/** One blob of artifact content, raw bytes. */
export interface ManifestBlobFile {
  key: string;
  file: string;
  bytes: number;
}

/** `manifest.json` (written through the value codec: NaN and ±Infinity keep their tags). */
export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  schemaVersion: number;
  created: string;
  writer: string;
  eventsFile: string;
  /** SHA-256 of the events file (hex): a changed or damaged file is refused before a row is imported. */
  eventsSha256?: string;
  runsFile: string;
  experiments: ManifestExperiment[];
  counts: { runs: number; events: number; blobs: number; entries: number };
  content: { entries: ManifestEntryFile[]; blobs: ManifestBlobFile[] };
  /** What the export left out, and why. */
  skipped: Array<{ what: string; why: string }>;
}

/** Int64 holds what a step can be only within ±2^63 (a JS integer can be 1e300). */
const INT64_LIMIT = 2 ** 63;

/** Where each column of the events table is in a row. */
const col = (name: string): number => EVENT_COLUMNS.findIndex((c) => c.name === name);
const EXPERIMENT = col('experiment');
const RUN = col('run');
const EVENT = col('event');
const KEY = col('key');
const FLOAT = col('float_value');
const STRING = col('string_value');
const BOOL = col('bool_value');
const JSON_VALUE = col('json_value');
const STEP = col('step');
const TIMESTAMP = col('timestamp');
const NODE = col('node');
const USERID = col('userid');
const EXTRAS = col('extras');

const EMPTY_EVENT_ROW: Row = EVENT_COLUMNS.map(() => null);

/** One event as one row of the events table. */
export function eventRow(experiment: string, run: number, e: Omit<PendingEvent, 'run'>): Row {
  const v = e.value;
  if (e.step !== null && !(Math.abs(e.step) < INT64_LIMIT))
    throw new TrackingInputError(
      `step ${e.step} of '${e.key}' in run ${run} of '${experiment}' is beyond what the export's int64 step column holds`,
    );
  // a copy of a packed array of nulls: quicker to fill and read than a new Array(n)
  const row: Row = EMPTY_EVENT_ROW.slice();
  row[EXPERIMENT] = experiment;
  row[RUN] = run;
  row[EVENT] = e.event;
  row[KEY] = e.key;
  if (typeof v === 'number') row[FLOAT] = v;
  else if (typeof v === 'string') row[STRING] = v;
  else if (typeof v === 'boolean') row[BOOL] = v;
  else row[JSON_VALUE] = encodeValue(v);
  row[STEP] = e.step;
  row[TIMESTAMP] = e.dt;
  row[NODE] = e.node;
  row[USERID] = e.userid;
  if (e.extra && Object.keys(e.extra).length > 0) row[EXTRAS] = encodeValue(e.extra);
  return row;
}

/** Whether a row of the events table is of run `run` of `experiment`; else which run it names. */
export function rowOwner(row: Row, experiment: string, run: number): string | undefined {
  if (row[EXPERIMENT] === experiment && row[RUN] === run) return undefined;
  return `run ${String(row[RUN])} of '${String(row[EXPERIMENT])}'`;
}

/** The columns that may hold an event's value; exactly one is set. */
const VALUE_COLUMNS = [FLOAT, STRING, BOOL, JSON_VALUE];

/** Thrown inside `rowEvent` and given its place there (the happy path builds no message). */
class BadRow extends Error {}

/** A row of the events table back as an event of `run`; `where` names it in the error a bad row gets. */
export function rowEvent(row: Row, run: number, where: () => string): PendingEvent {
  try {
    return decodeRow(row, run);
  } catch (err) {
    if (err instanceof BadRow) throw new ExportFileError(`${where()} does not decode: ${err.message}`);
    throw err;
  }
}

function decodeRow(row: Row, run: number): PendingEvent {
  let set = 0;
  for (const c of VALUE_COLUMNS) if (row[c] !== null && row[c] !== undefined) set++;
  if (set !== 1) throw new BadRow(`it has ${set} value columns set (exactly one must be)`);
  let value: unknown;
  if (row[FLOAT] !== null && row[FLOAT] !== undefined) {
    if (typeof row[FLOAT] !== 'number') throw new BadRow(`'float_value' is ${describe(row[FLOAT])}`);
    value = row[FLOAT];
  } else if (row[STRING] !== null && row[STRING] !== undefined) value = text(row, STRING);
  else if (row[BOOL] !== null && row[BOOL] !== undefined) {
    if (typeof row[BOOL] !== 'boolean') throw new BadRow(`'bool_value' is ${describe(row[BOOL])}`);
    value = row[BOOL];
  } else value = json(text(row, JSON_VALUE), 'json_value');
  const step = row[STEP] ?? null;
  if (step !== null && (typeof step !== 'number' || !Number.isInteger(step)))
    throw new BadRow(`'step' is ${describe(step)}, not an integer`);
  const dt = row[TIMESTAMP];
  if (typeof dt !== 'number' || !Number.isInteger(dt)) throw new BadRow(`'timestamp' is ${describe(dt)}`);
  let extra: Record<string, unknown> | undefined;
  if (row[EXTRAS] !== null && row[EXTRAS] !== undefined) {
    const decoded = json(text(row, EXTRAS), 'extras');
    if (typeof decoded !== 'object' || decoded === null || Array.isArray(decoded))
      throw new BadRow(`'extras' is not an object of fields`);
    extra = decoded as Record<string, unknown>;
  }
  return {
    run,
    event: text(row, EVENT),
    key: text(row, KEY),
    value,
    step,
    dt,
    node: text(row, NODE),
    userid: text(row, USERID),
    extra,
  };
}

function text(row: Row, index: number): string {
  const v = row[index];
  if (typeof v !== 'string') throw new BadRow(`'${EVENT_COLUMNS[index].name}' is ${describe(v)}, not text`);
  return v;
}

function json(textValue: string, name: string): unknown {
  try {
    return decodeValue(textValue);
  } catch (err) {
    throw new BadRow(`'${name}' is not JSON (${(err as Error).message})`);
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  const shown = typeof v === 'bigint' ? v.toString() : (JSON.stringify(v) ?? typeof v);
  return `${typeof v} ${shown.slice(0, 40)}`;
}

/** One run as one row of the runs table. */
export function runRow(experiment: string, run: number, info: RunInfo | undefined): Row {
  // in the order of RUN_COLUMNS
  return [
    experiment,
    run,
    info?.name ?? null,
    info?.status ?? null,
    info?.tags ? encodeValue(info.tags) : null,
    info?.note ?? null,
    info?.parent ?? null,
    info?.started ? info.started.getTime() : null,
    info?.stopped ? info.stopped.getTime() : null,
    info?.error ?? null,
  ];
}

/**
 * A metadata entry as JSON keeps it (dates as ISO text) back as a MetadataEntry; undefined when
 * it is none (no object, or dates that do not parse).
 */
export function reviveEntry(entry: unknown): MetadataEntry | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined;
  const e = entry as Omit<MetadataEntry, 'created' | 'modified'> & { created: unknown; modified: unknown };
  const created = new Date(e.created as string);
  const modified = new Date(e.modified as string);
  if (typeof e.name !== 'string' || Number.isNaN(created.getTime()) || Number.isNaN(modified.getTime()))
    return undefined;
  return { ...e, created, modified };
}

/** The SHA-256 of a file (hex), read as a stream. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
